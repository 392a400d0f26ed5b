"""MFK603: the code package handed to a remote task as a path on the submitting machine."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import env_names_written
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name, per_module
from mfkit_lint.model.values import UNKNOWN, Assigned, Binding, Bound, Param, values_of

_LOCAL_PREFIXES = ("/tmp/", "/var/tmp/", "file:///tmp/")
_PACKAGE_WORDS = ("code_package_url", "package_url", "code_package_path", "package_path")
_MAX_DEPTH = 4
_PACKAGE_OPTION = "--code-package-url"
_MAX_START_DEPTH = 8
# Expressions that make a list, tuple, set, dict or generator: never a string.
_DISPLAYS = (
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
# Calls that make a temp path whatever module they come from.
_TEMP_CALLS = ("mkstemp", "mkdtemp", "gettempdir", "NamedTemporaryFile")


def _temp_producer(node: ast.AST) -> bool:
    """``tempfile.mkstemp()``, ``tempfile.NamedTemporaryFile().name``, ``gettempdir()``."""
    if isinstance(node, ast.Attribute) and node.attr == "name":
        node = node.value
    if isinstance(node, ast.Subscript):  # mkstemp()[1]
        node = node.value
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func) or ""
    return name.startswith("tempfile.") or call_name(node) in _TEMP_CALLS


@per_module
def _attribute_values(module: ModuleModel, attr: str) -> list[ast.expr]:
    """Values assigned to ``<anything>.attr`` in the module (``self.x``, ``cls.x``, ``C.x``)
    and to ``attr`` in class bodies."""
    out = []
    for node in module.nodes_of(ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == attr:
                out.append(node.value)
    return out


def _may_name_a_temp_path(module: ModuleModel) -> bool:
    """Whether ``local_path`` can succeed for some node of this module: a necessary condition,
    read from the module's own nodes. Followed from a node of the module, ``local_path`` only
    ever reaches nodes of the module (its assignments, its attributes' assignments, the first
    argument of a path join, the first field of an f-string), and ends at a temp-file call or at
    a string whose value starts with a temp prefix: a literal (its own value), or an f-string or
    ``+`` chain the value model folds (see ``_may_start_a_temp_path``)."""
    if any(module.calls_by_name.get(name) for name in _TEMP_CALLS) or _calls_tempfile(module):
        return True  # a temp-file call (see ``_temp_producer``)
    for constant in module.nodes_of(ast.Constant):
        if isinstance(constant.value, str) and constant.value.startswith(_LOCAL_PREFIXES):
            return True
    return any(
        _may_start_a_temp_path(module, node)
        for node in [*module.nodes_of(ast.JoinedStr), *module.nodes_of(ast.BinOp)]
        if not isinstance(node, ast.BinOp) or isinstance(node.op, ast.Add)
    )


def _calls_tempfile(module: ModuleModel) -> bool:
    """Some call's function is ``tempfile.<...>``: found from the names ``tempfile`` (an
    attribute chain on one ends in the call) instead of testing every call."""
    for name in module.nodes_of(ast.Name):
        if name.id != "tempfile":
            continue
        chain, parent = name, module.parent(name)
        while isinstance(parent, ast.Attribute) and parent.value is chain:
            chain, parent = parent, module.parent(parent)
        if chain is not name and isinstance(parent, ast.Call) and parent.func is chain:
            return True
    return False


def _may_start_a_temp_path(module: ModuleModel, node: ast.AST, depth: int = 0) -> bool:
    """Whether the constant ``Values.const`` folds ``node`` into can start with a temp prefix.
    A folded f-string or ``+`` chain starts with its leftmost piece: a literal that starts with
    a prefix or could be completed into one (``"/"``, ``"/tmp"``, ``""``); a name whose every
    assignment may (a parameter or an import: its value comes from elsewhere; any other binding
    folds to nothing); the pieces ``const`` may fold from elsewhere (``self.x``, ``module.X``,
    ``TABLE[k]``, ``str(x)``, a path join). A non-string constant never renders as a path, nor
    a ``+`` with one or a display on its right (``n + 1``, ``args + [x]``: never folded), and
    whatever else ``const`` does not fold."""
    if depth > _MAX_START_DEPTH:
        return True
    while True:  # the leftmost piece
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if _never_text(node.right):
                return False  # ``const`` folds a ``+`` only when both sides fold to strings
            node = node.left
        elif isinstance(node, ast.JoinedStr):
            if not node.values:
                return True  # an empty f-string: the next piece starts the value
            node = node.values[0]
        elif isinstance(node, ast.FormattedValue):
            node = node.value
        else:
            break
    if isinstance(node, ast.Constant):
        text = node.value
        return isinstance(text, str) and any(
            text.startswith(prefix) or prefix.startswith(text) for prefix in _LOCAL_PREFIXES
        )
    if isinstance(node, ast.Name):
        _, bindings = values_of(module).lookup(node.id, node)
        if len(bindings) == 1 and isinstance(bindings[0], Param):
            return True
        if len(bindings) == 1 and isinstance(bindings[0], Bound):
            return isinstance(bindings[0].node, (ast.Import, ast.ImportFrom))
        return all(isinstance(b, Assigned) for b in bindings) and any(
            _may_start_a_temp_path(module, b.value, depth + 1) for b in bindings
        )
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return isinstance(node.value, ast.Name)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in ("str", "int")
        return (  # ``<anything>.path.join(...)``, as the value model reads it
            isinstance(func, ast.Attribute)
            and func.attr == "join"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "path"
        )
    return False


def _never_text(node: ast.AST) -> bool:
    """A piece that ``Values.const`` never folds into a string: a constant of another type (its
    own value) or a display (not folded at all), e.g. ``width + 2``, ``args + ["--x"]``."""
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, str)
    return isinstance(node, _DISPLAYS)


def local_path(module: ModuleModel, node: ast.AST, depth: int = 0) -> Optional[ast.AST]:
    """The node that makes ``node`` a path on this machine's temp space, if it certainly is:
    a temp-file call, a ``/tmp/...`` text, ``os.path.join`` on one, or a variable or attribute
    every assignment of which is one."""
    if depth > _MAX_DEPTH:
        return None
    if _temp_producer(node):
        return node
    if isinstance(node, ast.Call) and (dotted_name(node.func) or "").endswith("path.join"):
        return local_path(module, node.args[0], depth + 1) if node.args else None
    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)):
        value = values_of(module).const(node)
        if value is UNKNOWN and isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            value = first.value if isinstance(first, ast.Constant) else UNKNOWN
            if isinstance(first, ast.FormattedValue):
                return local_path(module, first.value, depth + 1)
        if isinstance(value, str) and value.startswith(_LOCAL_PREFIXES):
            return node
        return None
    if isinstance(node, ast.Name):
        _, bindings = values_of(module).lookup(node.id, node)
        values = [_bound_value(module, b) for b in bindings]
        if not values or not all(values):
            return None
        found = [local_path(module, v, depth + 1) for v in values]
        return found[0] if all(found) else None
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
        values = [v for v in _attribute_values(module, node.attr) if not _is_none(v)]
        if not values:
            return None
        found = [local_path(module, v, depth + 1) for v in values]
        return found[0] if all(found) else None
    return None


def _bound_value(module: ModuleModel, binding: Binding) -> Optional[ast.AST]:
    """What a binding assigns: the value, or for ``_, path = tempfile.mkstemp()`` the call."""
    if isinstance(binding, Assigned):
        return binding.value
    if not isinstance(binding, Bound):
        return None
    target = binding.node
    parent = module.parent(target) if isinstance(target, ast.Name) else None
    holder = module.parent(parent) if isinstance(parent, ast.Tuple) else None
    if isinstance(holder, ast.Assign) and _temp_producer(holder.value):
        return holder.value
    return None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _sinks(module: ModuleModel) -> Iterator[tuple[ast.AST, str]]:
    """Values the remote task downloads its code from, with what they are called."""
    for node in module.nodes_of(ast.Call):
        for keyword in node.keywords:
            if keyword.arg in _PACKAGE_WORDS:
                yield keyword.value, keyword.arg
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and (dotted_name(func.value) or "").endswith("cli_args.command_args")
            and node.args
        ):
            yield node.args[0], "an argument of the backend's step command"
    for command in commands_of(module):
        option = command.option(_PACKAGE_OPTION)
        if option is not None and option.value is not None and option.value.expr is not None:
            yield option.value.expr, _PACKAGE_OPTION
    for _, where in env_names_written(module, {"METAFLOW_CODE_URL"}):
        parent = module.parent(where) if isinstance(where, ast.AST) else None
        if isinstance(parent, ast.Dict):
            index = next(i for i, k in enumerate(parent.keys) if k is where)
            yield parent.values[index], "METAFLOW_CODE_URL"
        elif isinstance(parent, ast.Call) and len(parent.args) >= 2:
            yield parent.args[1], "METAFLOW_CODE_URL"


class CodePackageLocality(Rule):
    """The remote task is told to fetch its code package from a temp path of the submitter.

    A remote task downloads the flow's code package from the datastore
    (``MetaflowPackage.package_url()``, e.g. ``s3://.../data/ab/abcd...``) and checks it
    against the sha. A path under the submitting machine's temp directory (a
    ``tempfile.mkstemp()`` result, ``/tmp/pkg.tgz``) does not exist in the container: the
    bootstrap's download fails (``No such file or directory``) before the step starts, on
    every attempt.
    """

    code = "MFK603"
    name = "code-package-locality"
    summary = "code package passed to the remote task as a local temp path"
    capability = Cap.DATASTORE
    triggers = (b"package", b"METAFLOW_CODE_URL")

    VALID = (
        Valid("""
        from metaflow.decorators import StepDecorator
        from metaflow.package import MetaflowPackage

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            package_url = None
            package_sha = None

            @classmethod
            def _save_package_once(cls, flow_datastore, package):
                if cls.package_url is None:
                    cls.package_url = package.package_url()
                    cls.package_sha = package.package_sha()

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
                cli_args.command_args.append(self.package_sha)
                cli_args.command_args.append(self.package_url)
        """),
        Valid("""
        import tempfile

        def upload(package, client):
            with tempfile.NamedTemporaryFile(suffix=".tgz") as local:
                local.write(package.blob)
                local.flush()
                url = client.upload(local.name)
            return {"METAFLOW_CODE_URL": url}
        """),
    )
    INVALID = (
        Invalid(
            """
        import tempfile

        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            package_url = None

            def runtime_init(self, flow, graph, package, run_id):
                _, path = tempfile.mkstemp(suffix=".tgz")
                with open(path, "wb") as f:
                    f.write(package.blob)
                self.package_url = path

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
                cli_args.command_args.append(self.package_url)
        """,
            line=18,
            column=38,
        ),
        Invalid(
            """
        import os
        import tempfile

        def job_env(package):
            local = os.path.join(tempfile.gettempdir(), "code.tgz")
            return {"METAFLOW_CODE_URL": local, "METAFLOW_CODE_SHA": package.sha}
        """,
            line=7,
            column=34,
        ),
        Invalid(
            """
        def submit(client, step_name, run_id):
            client.run_job(step_name, run_id, code_package_url=f"/tmp/{run_id}/job.tar")
        """,
            line=3,
            column=56,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        # A finding is reported at a value of this module, which is a temp path only if the
        # module can name one: otherwise neither the command model nor the environment writes
        # (the costly sinks) need to be asked.
        if not _may_name_a_temp_path(module):
            return
        seen: set[int] = set()
        for value, what in _sinks(module):
            if id(value) in seen or not module.owns(value):
                continue  # another module's word of a command is that module's to report
            seen.add(id(value))
            origin = local_path(module, value)
            if origin is None:
                continue
            yield Finding(
                value,
                f"{what} is a temp path on the submitting machine: the remote task cannot "
                "download its code package from there (No such file or directory); pass the "
                "datastore URL from package.package_url()",
            )
