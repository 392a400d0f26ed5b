"""Rules on the environment an extension gives its step processes (MFK2xx)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Optional, Union

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.backends import plugin_name
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.shell import split_commands
from mfkit_lint.model.templates import HOLE, Template, is_stringish, template_of
from mfkit_lint.rules.commands import COMMAND_TRIGGERS

SYSROOT_LOCAL = "METAFLOW_DATASTORE_SYSROOT_LOCAL"
SYSROOT_PREFIX = "METAFLOW_DATASTORE_SYSROOT_"
DATASTORE_DIR = ".metaflow"


@dataclass
class EnvAssignment:
    """``NAME = value`` in a step environment: where the value is and how it is written."""

    key_is_local: bool  # the key is exactly ..._LOCAL (else ..._<TYPE> formatted at run time)
    value: Optional[ast.expr]  # the Python expression, when there is one
    literal: Optional[str] = None  # the value's text, when it sits in a shell template
    span: Optional[Span] = None  # where that text is
    exact: bool = False  # the span covers exactly the value's characters (no shell quoting)


def _sysroot_key(name: str) -> bool:
    """The exact ..._LOCAL key, or a ..._<TYPE> key formatted at run time."""
    return name == SYSROOT_LOCAL or (name.startswith(SYSROOT_PREFIX) and name.endswith(HOLE))


def env_assignments(module: ModuleModel) -> Iterator[EnvAssignment]:
    """Every place a sysroot variable is given a value: dicts, subscripts, setdefault, dict(),
    and ``NAME=value`` words in shell templates."""
    for write in env_writes(module, _sysroot_key, SYSROOT_LOCAL):
        if write.shell and (
            write.name != SYSROOT_LOCAL or isinstance(write.template.node, ast.Call)
        ):
            continue  # shell text: only the literal ..._LOCAL name, in literals and % / f-strings
        yield EnvAssignment(
            write.name == SYSROOT_LOCAL, write.value, write.literal, write.value_span, write.exact
        )


# -- environment writes, for any variable ----------------------------------------------------


@dataclass
class EnvWrite:
    """``NAME = value`` given to a process environment: a dict entry, ``env[NAME] = v``,
    ``setdefault``/``putenv``, a ``NAME=v`` keyword, or a ``NAME=v`` word in a shell template.

    ``name`` is the key's text with HOLE for parts computed at run time.
    """

    name: str
    where: Union[ast.AST, Span]  # the key (or keyword, or shell word) to report
    value: Optional[ast.expr] = None  # the Python expression of the value, when there is one
    key: Optional[ast.expr] = None  # the key expression (Python forms)
    shell: bool = False
    literal: Optional[str] = None  # shell: the value's text when it is not one hole
    value_span: Optional[Span] = None  # shell: where that text is
    exact: bool = False  # shell: the span covers exactly the value's characters
    name_span: Optional[Span] = None  # where the name's characters are, when known
    template: Optional[Template] = None  # the string the key or word belongs to
    name_start: int = 0  # index of the name's first character in ``template.text``


def env_writes(
    module: ModuleModel,
    wanted: Callable[[str], bool],
    needle: str,
    extended: bool = False,
) -> Iterator[EnvWrite]:
    """Writes of environment variables whose name ``wanted`` accepts. ``needle`` is a text
    every such name contains (a cheap filter for shell templates). ``extended`` adds the forms
    the newer rules read: dict comprehension keys, Kubernetes-style ``{"name": N, "value": V}``
    entries and ``V1EnvVar(name=N, value=V)``, and skips prose (docstrings, help texts,
    messages) when reading shell words."""
    prose = prose_nodes(module) if extended else set()
    for node in module.nodes:
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                write = _python_write(module, key, value, wanted)
                if write is not None:
                    yield write
            if extended:
                write = _name_value_entry(module, node, wanted)
                if write is not None:
                    yield write
        elif extended and isinstance(node, ast.DictComp):
            write = _python_write(module, node.key, node.value, wanted)
            if write is not None:
                yield write
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    write = _python_write(module, _subscript_key(target), node.value, wanted)
                    if write is not None:
                        yield write
        if isinstance(node, ast.Call):
            yield from _call_writes(module, node, wanted, extended)
        if (
            isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call))
            and is_stringish(node)
            and not is_stringish(module.parent(node))
            and id(node) not in prose
        ):
            yield from _shell_writes(module, node, wanted, needle)


def _python_write(
    module: ModuleModel, key: Optional[ast.AST], value: ast.expr, wanted: Callable[[str], bool]
) -> Optional[EnvWrite]:
    if key is None or not is_stringish(key):
        return None
    template = template_of(module, key)
    if template is None or not wanted(template.text):
        return None
    return EnvWrite(
        template.text,
        key,
        value,
        key,
        name_span=template.span(module, 0, len(template.text)),
        template=template,
    )


def _subscript_key(target: ast.Subscript) -> ast.AST:
    key = target.slice
    return key.value if type(key).__name__ == "Index" else key  # Python 3.8 wraps it


def _call_writes(
    module: ModuleModel, call: ast.Call, wanted: Callable[[str], bool], extended: bool
) -> Iterator[EnvWrite]:
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in ("setdefault", "putenv")
        and len(call.args) == 2
    ):
        write = _python_write(module, call.args[0], call.args[1], wanted)
        if write is not None:
            yield write
    if extended and call_name(call) in ("V1EnvVar", "EnvVar", "KeyValuePair"):
        names = {k.arg: k.value for k in call.keywords}
        if "name" in names and "value" in names:
            write = _python_write(module, names["name"], names["value"], wanted)
            if write is not None:
                yield write
        return
    for kw in call.keywords:
        if kw.arg is not None and wanted(kw.arg):
            yield EnvWrite(kw.arg, kw, kw.value)


def _name_value_entry(
    module: ModuleModel, node: ast.Dict, wanted: Callable[[str], bool]
) -> Optional[EnvWrite]:
    """``{"name": "X", "value": v}``: an entry of a container's ``env`` list."""
    entries = {
        k.value: v
        for k, v in zip(node.keys, node.values)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }
    if set(entries) != {"name", "value"}:
        return None
    return _python_write(module, entries["name"], entries["value"], wanted)


_NAME_WORD = re.compile("([A-Za-z_" + HOLE + "][A-Za-z0-9_" + HOLE + "]*)=")


def _shell_writes(
    module: ModuleModel, node: ast.expr, wanted: Callable[[str], bool], needle: str
) -> Iterator[EnvWrite]:
    if not any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and needle in n.value
        for n in ast.walk(node)
    ):
        return
    template = template_of(module, node)
    if template is None or needle not in template.text or "=" not in template.text:
        return
    for words in split_commands(template.text):
        for position, word in enumerate(words):
            match = _NAME_WORD.match(word.text)
            if match is None or not wanted(match.group(1)):
                continue
            if not all(_is_assignment_prefix(w.text) for w in words[:position]):
                continue  # prose such as help text, not a shell assignment
            name = match.group(1)
            unquoted = template.text[word.start : word.end] == word.text
            raw_name = template.text[word.start : word.start + len(name)] == name
            name_span = template.span(module, word.start, word.start + len(name))
            write = EnvWrite(
                name,
                name_span or module.span(node),
                shell=True,
                name_span=name_span if raw_name else None,
                template=template,
                name_start=word.start,
            )
            value = word.text[len(name) + 1 :]
            if value == HOLE:
                write.value = template.hole_expr(template.text.find(HOLE, word.start + len(name)))
            else:
                write.literal = value
                if HOLE not in value and template.offsets is not None:
                    start = word.end - len(value) if unquoted else word.start
                    write.value_span = template.span(module, start, word.end)
                    write.exact = unquoted
            yield write


def _is_assignment_prefix(word: str) -> bool:
    """Words that may precede ``NAME=value`` in a shell command: export, env, other NAME=x."""
    return word in ("export", "env", "declare", "-x") or bool(_ENV_WORD.match(word))


_ENV_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def prose_nodes(module: ModuleModel) -> set[int]:
    """Strings that are prose, not scripts: docstrings, ``help=``/``description=`` texts, and
    messages handed to print, logging, warnings or exceptions."""
    cache = module.__dict__.get("_mfk_prose")
    if cache is not None:
        return cache
    out: set[int] = set()
    for node in module.nodes:
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
        elif isinstance(node, ast.keyword) and node.arg in ("help", "description", "msg"):
            out.add(id(node.value))
        elif isinstance(node, ast.Call):
            name = call_name(node) or ""
            if name in _MESSAGE_CALLS or name.endswith(("Error", "Exception", "Warning")):
                out.update(id(a) for a in node.args)
    module.__dict__["_mfk_prose"] = out
    return out


_MESSAGE_CALLS = frozenset(
    {"print", "echo", "secho", "warn", "info", "debug", "warning", "error", "exception", "fail"}
)


def _ends_in_datastore_dir(path: str) -> bool:
    return path.rstrip("/").endswith("/" + DATASTORE_DIR) or path.rstrip("/") == DATASTORE_DIR


def _suffix_form(module: ModuleModel, expr: ast.expr) -> Optional[ast.expr]:
    """For ``x + "/.metaflow"``, ``os.path.join(x, ".metaflow")`` or ``f"{x}/.metaflow"``: x."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        tail = module.values.const(expr.right)
        if isinstance(tail, str) and tail.strip("/") == DATASTORE_DIR:
            return expr.left
    if (
        isinstance(expr, ast.Call)
        and dotted_name(expr.func) in ("os.path.join", "path.join")
        and len(expr.args) == 2
        and module.values.const(expr.args[1]) == DATASTORE_DIR
    ):
        return expr.args[0]
    if isinstance(expr, ast.JoinedStr) and len(expr.values) == 2:
        head, tail = expr.values
        if (
            isinstance(head, ast.FormattedValue)
            and isinstance(tail, ast.Constant)
            and str(tail.value).strip("/") == DATASTORE_DIR
            and head.format_spec is None
        ):
            return head.value
    return None


def _is_flow_datastore_root(expr: ast.expr) -> bool:
    """``flow_datastore.datastore_root`` (or a getattr of it): Metaflow's full root."""
    if isinstance(expr, ast.Attribute) and expr.attr == "datastore_root":
        owner = dotted_name(expr.value) or ""
        return "datastore" in owner.rsplit(".", 1)[-1]
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "getattr"
        and len(expr.args) >= 2
        and isinstance(expr.args[1], ast.Constant)
        and expr.args[1].value == "datastore_root"
    ):
        owner = dotted_name(expr.args[0]) or ""
        return "datastore" in owner.rsplit(".", 1)[-1]
    return False


class SysrootVsDatastoreRoot(Rule):
    """``METAFLOW_DATASTORE_SYSROOT_LOCAL`` is given the datastore root instead of its parent.

    For the local datastore Metaflow computes the root as ``<sysroot>/.metaflow``, while
    ``--datastore-root`` (and ``flow_datastore.datastore_root``) is that full root. Giving the
    sysroot a value ending in ``.metaflow``, or the same value as ``--datastore-root``, makes
    readers look in ``.../.metaflow/.metaflow``: the Client reports
    ``Flow('MyFlow') does not exist`` and the deployer waits forever for a run it cannot see.
    """

    code = "MFK202"
    name = "sysroot-vs-datastore-root"
    summary = "METAFLOW_DATASTORE_SYSROOT_LOCAL set to the datastore root (ends in .metaflow)"
    capability = Cap.DATASTORE
    triggers = (SYSROOT_PREFIX.encode(),)
    fix = FixSpec(
        Applicability.SAFE,
        "Drop the trailing /.metaflow: the sysroot is the directory that holds .metaflow",
        "sysroot:StripDatastoreDir",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for assignment in env_assignments(module):
            if assignment.value is None:
                literal = assignment.literal or ""
                if assignment.span is not None and _ends_in_datastore_dir(literal):
                    yield Finding(
                        assignment.span,
                        self._message(f"is {literal!r}, which ends in {DATASTORE_DIR}"),
                        {"shell": True} if assignment.exact else None,
                    )
                continue
            finding = self._check_value(module, assignment)
            if finding is not None:
                yield finding

    def _check_value(self, module: ModuleModel, assignment: EnvAssignment) -> Optional[Finding]:
        value = assignment.value
        resolved = _follow(module, value)
        if assignment.key_is_local:
            literal = module.values.const(value)
            if isinstance(literal, str) and _ends_in_datastore_dir(literal):
                fixable = isinstance(value, ast.Constant) or _suffix_form(module, value) is not None
                return Finding(
                    value,
                    self._message(f"is {literal!r}, which ends in {DATASTORE_DIR}"),
                    {} if fixable else None,
                )
            if _suffix_form(module, resolved) is not None:
                return Finding(
                    value,
                    self._message(f"has {DATASTORE_DIR} appended"),
                    {} if _suffix_form(module, value) is not None else None,
                )
            if _same_as_datastore_root_option(module, value):
                return Finding(
                    value,
                    f"{SYSROOT_LOCAL} is the same value as --datastore-root: the option is the "
                    "full root (<sysroot>/.metaflow), so steps write to X/<Flow> while the Client "
                    "reads X/.metaflow/<Flow>; give the sysroot the parent directory",
                )
        if _is_flow_datastore_root(resolved) and not _only_for_remote_datastores(module, value):
            detail = "is flow_datastore.datastore_root, which already ends in .metaflow"
            if not assignment.key_is_local:
                detail += " (for the local datastore)"
            return Finding(value, self._message(detail))
        return None

    @staticmethod
    def _message(detail: str) -> str:
        return (
            f"{SYSROOT_LOCAL} {detail}: Metaflow appends .metaflow to the sysroot, so steps and "
            "the Client look in .metaflow/.metaflow; give it the parent directory"
        )


def _only_for_remote_datastores(module: ModuleModel, node: ast.AST) -> bool:
    """The assignment sits under an ``if`` that tells the local datastore apart (its test
    mentions "local"): there the sysroot of S3/GS/Azure really is the root."""
    for anc in module.ancestors(node):
        if isinstance(anc, (ast.If, ast.IfExp)) and any(
            isinstance(n, ast.Constant) and n.value == "local" for n in ast.walk(anc.test)
        ):
            return True
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
    return False


def _follow(module: ModuleModel, expr: ast.expr) -> ast.expr:
    """A name's single assigned expression (one step), else the expression itself."""
    if isinstance(expr, ast.Name):
        _, bindings = module.values.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0][0] == "assign":
            return bindings[0][1]
    return expr


def _same_as_datastore_root_option(module: ModuleModel, value: ast.expr) -> bool:
    """A command of the same function (or, for ``self.x``, of the same class) passes the same
    expression as --datastore-root."""
    function = module.enclosing_function(value)
    wanted = ast.dump(value)
    owner = _class_of(module, function) if _is_self_attribute(value) else None
    for command in module.commands:
        same_scope = command.function is function or (
            owner is not None and _class_of(module, command.function) is owner
        )
        if not same_scope:
            continue
        option = command.option("--datastore-root")
        if option is None or option.value is None or option.value.expr is None:
            continue
        if ast.dump(option.value.expr) == wanted:
            return True
    return False


def _is_self_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _class_of(module: ModuleModel, function: Optional[ast.AST]) -> Optional[ast.ClassDef]:
    if function is None:
        return None
    parent = module.parent(function)
    return parent if isinstance(parent, ast.ClassDef) else None


# -- MFK203 -----------------------------------------------------------------------------------

PARAMETERS_JSON = "METAFLOW_PARAMETERS"
PARAMETER_PREFIX = "METAFLOW_PARAMETER_"
INIT_PREFIX = "METAFLOW_INIT_"
_PARAMETER_NEEDLE = "METAFLOW_PARAMETER"


# Metaflow's own helpers that read METAFLOW_PARAMETERS in the container and export
# METAFLOW_INIT_<NAME> for init (Airflow and Step Functions run them before ``init``).
METAFLOW_PARAMETERS_READERS = (
    "plumbing.set_parameters",
    "step_functions.set_batch_environment",
)


def _ignored_parameter_name(name: str) -> bool:
    return name == PARAMETERS_JSON or (
        name.startswith(PARAMETER_PREFIX) and len(name) > len(PARAMETER_PREFIX)
    )


class IgnoredParameterEnv(Rule):
    """Flow parameters are handed to Metaflow as ``METAFLOW_PARAMETERS`` (JSON) or
    ``METAFLOW_PARAMETER_<NAME>`` environment variables.

    ``init`` reads neither. It takes a flow parameter as ``--<name> value`` or, through click's
    ``auto_envvar_prefix``, as ``METAFLOW_INIT_<NAME>``; anything else is ignored and the run
    silently stores each parameter's default. (Only Metaflow's Airflow and Step Functions
    helpers read ``METAFLOW_PARAMETERS``, to export ``METAFLOW_INIT_<NAME>`` before ``init``.)
    """

    code = "MFK203"
    name = "ignored-parameter-env"
    summary = "parameters passed as METAFLOW_PARAMETERS or METAFLOW_PARAMETER_<NAME>: never read"
    capability = Cap.RUN_PARAMS
    triggers = (_PARAMETER_NEEDLE.encode(),)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Rename METAFLOW_PARAMETER_<NAME> to METAFLOW_INIT_<NAME>",
        "ignored_parameter_env:RenameParameterEnv",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if _reads_parameter_env(module):
            return  # the extension reads the variable back itself (e.g. in its entry point)
        text = module.source.text
        json_read = INIT_PREFIX in text or any(r in text for r in METAFLOW_PARAMETERS_READERS)
        writes = list(env_writes(module, _ignored_parameter_name, _PARAMETER_NEEDLE, True))
        writes += _code_string_writes(module, _ignored_parameter_name, _PARAMETER_NEEDLE)
        seen: set[tuple] = set()
        for write in writes:
            where = write.where if isinstance(write.where, Span) else module.span(write.where)
            if (where.start, where.end) in seen:
                continue
            seen.add((where.start, where.end))
            if write.name == PARAMETERS_JSON:
                if json_read:
                    continue  # turned into METAFLOW_INIT_<NAME> by this module or Metaflow's helper
                yield Finding(
                    where,
                    f"init never reads {PARAMETERS_JSON}: it stores every parameter's default; "
                    "pass each parameter to init as --<name> value, or export it as "
                    f"{INIT_PREFIX}<NAME>",
                )
                continue
            suffix = write.name[len(PARAMETER_PREFIX) :].replace(HOLE, "<NAME>")
            prefix_span = _prefix_span(module, write)
            yield Finding(
                prefix_span or where,
                f"Metaflow never reads {PARAMETER_PREFIX}{suffix}: init stores the parameter's "
                f"default; name it {INIT_PREFIX}{suffix} (init's --<name> option reads it) or "
                "pass --<name> value to init",
                {} if prefix_span is not None else None,
            )


def _prefix_span(module: ModuleModel, write: EnvWrite) -> Optional[Span]:
    """Where the characters ``METAFLOW_PARAMETER_`` are, when they stand as is in the source."""
    template, start = write.template, write.name_start
    if template is None or not template.text.startswith(PARAMETER_PREFIX, start):
        return None
    if write.shell and write.name_span is None:
        return None
    span = template.span(module, start, start + len(PARAMETER_PREFIX))
    if span is None:
        return None
    source = module.source
    if source.text[source.offset(span.start) : source.offset(span.end)] != PARAMETER_PREFIX:
        return None
    return span


_READ_CALLS = frozenset({"get", "getenv", "pop", "startswith"})


def _reads_parameter_env(module: ModuleModel) -> bool:
    """This module, or (in project mode) another one, reads the variables it writes."""
    return reads_env(module, (_PARAMETER_NEEDLE,))


def reads_env(module: ModuleModel, prefixes: tuple[str, ...]) -> bool:
    """Code of this module (or, in project mode, of another one) reads an environment
    variable whose name starts with one of ``prefixes``: ``os.environ[...]``, ``.get``,
    ``getenv``, ``in os.environ``, a ``startswith`` test, or ``$NAME`` in a script."""
    if _reads_env_names(module, prefixes):
        return True
    project = getattr(module, "project", None)
    if project is None:
        return False
    path = getattr(module, "path", None)
    return any(
        _reads_env_names(other, prefixes)
        for prefix in prefixes
        for other in project.modules_mentioning(prefix, besides=path)
    )


def _reads_env_names(module: ModuleModel, prefixes: tuple[str, ...]) -> bool:
    def named(node: Optional[ast.AST]) -> bool:
        if node is None or not is_stringish(node):
            return False
        template = template_of(module, node)
        return template is not None and template.text.startswith(prefixes)

    in_text = re.compile(
        r"(?:environ\s*(?:\[|\.get\(|\.pop\()|getenv\()\s*[\"']?(?:{0})|\$\{{?(?:{0})".format(
            "|".join(re.escape(p) for p in prefixes)
        )
    )
    for node in module.nodes:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if named(_subscript_key(node)):
                return True
        elif isinstance(node, ast.Call) and call_name(node) in _READ_CALLS and node.args:
            if named(node.args[0]):
                return True
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.In, ast.NotIn)) for op in node.ops
        ):
            if named(node.left):
                return True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(p in node.value for p in prefixes)
            and in_text.search(node.value)
        ):
            return True
    return False


def _code_string_writes(
    module: ModuleModel, wanted: Callable[[str], bool], needle: str
) -> list[EnvWrite]:
    """Writes inside one-line strings of generated Python (``'env["X"] = v'``) that the
    embedded-code model does not cover (yet): each such string is parsed on its own."""
    if getattr(module, "generated", False):
        return []
    covered: Optional[set[int]] = None
    prose = prose_nodes(module)
    out = []
    for node in module.nodes:
        if not isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)):
            continue
        if id(node) in prose or not is_stringish(node) or is_stringish(module.parent(node)):
            continue
        if not any(
            isinstance(n, ast.Constant) and isinstance(n.value, str) and needle in n.value
            for n in ast.walk(node)
        ):
            continue
        template = template_of(module, node)
        if template is None or "\n" in template.text or template.offsets is None:
            continue
        if covered is None:
            covered = {o for e in module.embedded for o in e.offsets if o is not None}
        if template.offsets[0][0] in covered:
            continue  # linted as part of the generated module already
        out.extend(_writes_in_line(module, template, wanted, needle))
    return out


def _writes_in_line(
    module: ModuleModel, template: Template, wanted: Callable[[str], bool], needle: str
) -> Iterator[EnvWrite]:
    text = template.text.replace(HOLE, "_")
    start = len(text) - len(text.lstrip())
    code = text.strip()
    if "=" not in code and "(" not in code:
        return
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    if not tree.body or all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in tree.body
    ):
        return
    from mfkit_lint.engine.source import Source as _Source

    line = ModuleModel(_Source(code), tree)
    for write in env_writes(line, wanted, needle, True):
        if write.shell or write.name_span is None:
            continue
        begin = start + write.name_span.start.column - 1
        # The name's characters in the real template: the key literal starts one quote earlier.
        index = template.text.find(write.name.replace(HOLE, ""), begin - 1)
        if index < 0 or HOLE in write.name:
            index = begin
        span = template.span(module, index, index + len(write.name))
        if span is None:
            continue
        yield EnvWrite(
            write.name,
            span,
            None,
            name_span=span,
            template=template,
            name_start=index,
        )


# -- MFK204 -----------------------------------------------------------------------------------

EXTENSIONS_PACKAGE = "metaflow_extensions"
# ``metaflow-<word>`` directories that are not an extension checkout.
_NOT_EXTENSIONS = frozenset(
    {"src", "source", "sources", "oss", "core", "main", "master", "dev", "repo", "git", "lib"}
)
_CHECKOUT = re.compile(r"metaflow-([a-z][a-z0-9_]*(?:-[a-z][a-z0-9_]*)*)")
_CUTS = frozenset({"split", "rsplit", "partition", "rpartition", "index", "rindex", "find"})


class ExtensionOnPythonpath(Rule):
    """The ``PYTHONPATH`` given to step processes holds the directory an extension is
    installed in (or checked out to).

    Metaflow loads every ``metaflow_extensions`` package it finds on ``sys.path``. Putting the
    extension's own install directory (computed from its ``__file__`` or from
    ``metaflow_extensions.__path__``) or a ``metaflow-<name>`` checkout on the workers'
    ``PYTHONPATH`` makes them load every extension installed next to it, including ones whose
    plugins the worker lacks: ``Cannot locate metadata_provider plugin 'service'``.
    """

    code = "MFK204"
    name = "extension-on-pythonpath"
    summary = "PYTHONPATH for the workers includes the extension's install directory or checkout"
    capability = None
    triggers = (b"PYTHONPATH",)

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for write in env_writes(module, lambda name: name == "PYTHONPATH", "PYTHONPATH", True):
            if write.value is not None:
                reason = _extension_dir(module, write.value, 0)
            else:
                reason = _path_literal_reason(write.literal or "")
            if reason is None:
                continue
            where = write.value if write.value is not None else write.where
            if write.value is not None and getattr(write.value, "lineno", None) is None:
                where = write.where
            yield Finding(
                where,
                f"PYTHONPATH for the workers includes {reason}: Metaflow loads every "
                "metaflow_extensions package found there, with plugins the workers may lack "
                "(Cannot locate metadata_provider plugin ...); install the extension on the "
                "workers instead",
            )


def _path_literal_reason(text: str) -> Optional[str]:
    """A literal path list naming an extension checkout (``/src/metaflow-acme``)."""
    for entry in re.split(r"[:;]", text):
        for segment in re.split(r"[/\\]", entry):
            match = _CHECKOUT.fullmatch(segment)
            if match and match.group(1) not in _NOT_EXTENSIONS:
                return f"the checkout {entry!r}"
    return None


def _extension_dir(module: ModuleModel, expr: ast.expr, depth: int) -> Optional[str]:
    """Why ``expr`` is (or contains) the directory that holds ``metaflow_extensions``."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            reason = _path_literal_reason(node.value)
            if reason is not None:
                return reason
        elif isinstance(node, ast.Call) and call_name(node) in _CUTS and node.args:
            cut = node.args[0]
            if (
                isinstance(cut, ast.Constant)
                and isinstance(cut.value, str)
                and cut.value.strip("/\\") == EXTENSIONS_PACKAGE
                and isinstance(node.func, ast.Attribute)
                and _mentions_file(node.func.value)
            ):
                return f"the directory above {EXTENSIONS_PACKAGE} (cut out of __file__)"
        elif isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            levels, origin = _climb(module, node)
            if origin == EXTENSIONS_PACKAGE and levels >= 1:
                return f"the directory that holds {EXTENSIONS_PACKAGE}"
            if origin == "__file__" and levels == _levels_to_install_dir(module) and levels:
                return f"the extension's install directory ({levels} levels above __file__)"
        elif isinstance(node, ast.Name) and depth < 3 and node.id != "__file__":
            for value in _assigned_values(module, node):
                reason = _extension_dir(module, value, depth + 1)
                if reason is not None:
                    return reason
    if (
        depth < 3
        and isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
    ):
        values = module.self_assignments.get(expr.attr, [])
        if len(values) == 1:
            return _extension_dir(module, values[0], depth + 1)
    return None


def _mentions_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


def _climb(module: ModuleModel, node: ast.AST, depth: int = 0) -> tuple[int, Optional[str]]:
    """How many directories ``node`` goes up from ``__file__`` or from the
    ``metaflow_extensions`` package's path: ``os.path.dirname`` (nested), ``Path(...).parent``,
    ``.parents[n]``, ``os.path.join(x, "..")``. abspath/realpath/resolve do not count."""
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return 0, "__file__"
        values = _assigned_values(module, node) if depth < 4 else []
        return _climb(module, values[0], depth + 1) if len(values) == 1 else (0, None)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == EXTENSIONS_PACKAGE:
            return (0, EXTENSIONS_PACKAGE) if node.attr in ("__path__", "__file__") else (0, None)
        if node.attr == "parent":
            levels, origin = _climb(module, node.value, depth)
            return levels + 1, origin
        return 0, None
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            index = node.slice.value if type(node.slice).__name__ == "Index" else node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int):
                levels, origin = _climb(module, node.value.value, depth)
                return levels + index.value + 1, origin
        if isinstance(node.value, ast.Attribute) and node.value.attr == "__path__":
            return _climb(module, node.value, depth)
        return 0, None
    if not isinstance(node, ast.Call):
        return 0, None
    name = call_name(node)
    if name in ("Path", "PurePath", "abspath", "realpath", "normpath", "resolve", "absolute"):
        inner = node.args[0] if node.args else getattr(node.func, "value", None)
        return _climb(module, inner, depth) if inner is not None else (0, None)
    if name == "dirname" and len(node.args) == 1:
        levels, origin = _climb(module, node.args[0], depth)
        return levels + 1, origin
    if name == "join" and node.args and dotted_name(node.func) in ("os.path.join", "path.join"):
        ups = [a for a in node.args[1:] if isinstance(a, ast.Constant) and a.value == ".."]
        if len(ups) == len(node.args) - 1:
            levels, origin = _climb(module, node.args[0], depth)
            return levels + len(ups), origin
    return 0, None


def _levels_to_install_dir(module: ModuleModel) -> int:
    """How many directories up from this file the directory holding ``metaflow_extensions``
    is; 0 when the file does not sit inside a ``metaflow_extensions`` tree."""
    path = getattr(module, "path", None)
    if path is None:
        return 0
    parts = list(path.parts)
    if EXTENSIONS_PACKAGE not in parts:
        return 0
    last = len(parts) - 1 - parts[::-1].index(EXTENSIONS_PACKAGE)
    return len(parts) - last


def _assigned_values(module: ModuleModel, name: ast.Name) -> list[ast.expr]:
    _, bindings = module.values.lookup(name.id, name)
    return [b[1] for b in bindings if b[0] == "assign"]


# -- MFK206 -----------------------------------------------------------------------------------

_SUBPROCESS_CALLS = frozenset(
    {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}
)
_SUBPROCESS_OWNERS = frozenset({"subprocess", "asyncio", "sp"})
# Names of variables whose forwarding shows the env was chosen with credentials in mind.
_CREDENTIAL_PREFIXES = (
    "AWS_",
    "GOOGLE_",
    "GCP_",
    "GCLOUD",
    "CLOUDSDK_",
    "AZURE_",
    "ARM_",
    "KUBECONFIG",
    "METAFLOW_SERVICE",
)


class AuthEnvNotForwarded(Rule):
    """A step or init process is started with an environment built from scratch.

    ``subprocess.run(cmd, env={...})`` replaces the whole environment: the step sees only the
    variables in the dict. Credentials the scheduler or the cloud gives the worker
    (``AWS_*`` including IRSA's ``AWS_ROLE_ARN``/``AWS_WEB_IDENTITY_TOKEN_FILE``,
    ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_*``, ``METAFLOW_SERVICE_AUTH_KEY``) and ``HOME``
    and ``PATH`` never reach it, so datastore and metadata calls fail inside the step.
    """

    code = "MFK206"
    name = "auth-env-not-forwarded"
    summary = "step/init subprocess started with an environment built from scratch"
    capability = None
    triggers = (b"env=",)

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for call in module.calls_by_name.keys() & _SUBPROCESS_CALLS:
            for node in module.calls_by_name[call]:
                finding = self._check_call(module, node)
                if finding is not None:
                    yield finding

    def _check_call(self, module: ModuleModel, call: ast.Call) -> Optional[Finding]:
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        if owner is not None and dotted_name(owner) not in _SUBPROCESS_OWNERS:
            return None
        if owner is None and call_name(call) != "Popen":
            return None  # a bare run()/call() is not known to be subprocess's
        env = next((k.value for k in call.keywords if k.arg == "env"), None)
        if env is None or not call.args or not _runs_task_command(module, call.args[0]):
            return None
        fresh = _fresh_env(module, env)
        if fresh is None:
            return None
        return Finding(
            env,
            f"the step process gets only the variables of {fresh}: credentials of the "
            "scheduler and the cloud (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*, "
            "METAFLOW_SERVICE_*), HOME and PATH do not reach it; start from "
            "dict(os.environ) and add your variables",
        )


def _runs_task_command(module: ModuleModel, argument: ast.expr) -> bool:
    """The argv is a ``step``/``init`` command the command model recognises (directly or
    through the variable holding it), or comes from a builder named like one."""
    if isinstance(argument, ast.Starred):
        argument = argument.value
    candidates = [argument]
    if isinstance(argument, ast.Name):
        candidates += _assigned_values(module, argument)
    inside: set[int] = set()
    for candidate in candidates:
        inside.update(id(n) for n in ast.walk(candidate))
    if any(c.name in ("step", "init") and id(c.anchor) in inside for c in module.commands):
        return True
    return any(
        isinstance(n, ast.Call) and _names_task_builder(call_name(n) or "")
        for candidate in candidates
        for n in ast.walk(candidate)
    )


def _names_task_builder(name: str) -> bool:
    words = set(name.lower().strip("_").split("_"))
    return bool(words & {"step", "init"}) and bool(words & {"cmd", "command", "args", "argv"})


def _fresh_env(module: ModuleModel, env: ast.expr, depth: int = 0) -> Optional[str]:
    """A description of ``env`` when it is certainly built without the parent environment,
    else None (inherited, or cannot tell)."""
    if isinstance(env, ast.Dict):
        if any(k is None for k in env.keys) or _names_credentials(module, env):
            return None  # ``**spread`` of something, or credentials chosen explicitly
        return "a dict literal"
    if isinstance(env, ast.Call) and isinstance(env.func, ast.Name) and env.func.id == "dict":
        if env.args or any(k.arg is None for k in env.keywords):
            return None
        if any(_credential_name(k.arg) for k in env.keywords):
            return None
        return "dict(...)"
    if isinstance(env, ast.Name) and depth < 2:
        scope, bindings = module.values.lookup(env.id, env)
        if not bindings or scope is None or any(b[0] != "assign" for b in bindings):
            return None
        found = [_fresh_env(module, b[1], depth + 1) for b in bindings]
        if not all(found) or _fills_from_environ(module, scope, env.id):
            return None
        return f"{env.id!r}, a dict built from scratch"
    return None


def _credential_name(name: Optional[str]) -> bool:
    return bool(name) and name.upper().startswith(_CREDENTIAL_PREFIXES)


def _names_credentials(module: ModuleModel, node: ast.Dict) -> bool:
    for key in node.keys:
        if key is not None and is_stringish(key):
            template = template_of(module, key)
            if template is not None and _credential_name(template.text):
                return True
    return False


def _fills_from_environ(module: ModuleModel, scope: ast.AST, name: str) -> bool:
    """In ``scope`` the dict gets the parent environment (``update(os.environ)``), a loop over
    ``os.environ`` copies entries into it, or credentials are set by name."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == name and node.func.attr == "update":
                return True  # update(...) of anything: cannot tell what it brings
        if isinstance(node, (ast.For, ast.comprehension)) and "environ" in ast.dump(node.iter):
            return True
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    key = _subscript_key(target)
                    template = template_of(module, key) if is_stringish(key) else None
                    if template is None or HOLE in template.text:
                        return True  # a computed key: cannot tell what it forwards
                    if _credential_name(template.text):
                        return True
    return False


# -- MFK201 -----------------------------------------------------------------------------------

# Anything that shows the module passes the flow's configs on: the variable or option, or the
# Metaflow helpers that add ``--config-value`` (CLIArgs, get_top_level_options) themselves.
_CONFIG_MENTIONS = (
    "METAFLOW_FLOW_CONFIG",
    "config-value",
    "config_value",
    "get_top_level_options",
    "CLIArgs",
    "dump_config_values",
    "FlowStateItems.CONFIGS",
    "--config",
)
_ENV_IN_TEXT = re.compile(
    r"(?:subprocess\.\w+|Popen|create_subprocess_\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\benv\s*="
)
_ENV_KEYS = frozenset({"env", "environment", "Environment", "envVars", "env_vars"})


class MissingFlowConfigValue(Rule):
    """Step processes get neither ``METAFLOW_FLOW_CONFIG_VALUE`` nor ``--config-value``.

    ``--config-value`` is a top-level option of every flow with a ``Config``; its environment
    variable is ``METAFLOW_FLOW_CONFIG_VALUE``. A step started without either evaluates the
    flow's configs from their defaults again: ``config_expr`` in decorators (``@project``
    names, ``@resources``, flow mutators) sees the defaults, not the values the flow was
    deployed with, while ``self.cfg`` inside the step still reads the deployed value.
    """

    code = "MFK201"
    name = "missing-flow-config-value"
    summary = "step processes get neither METAFLOW_FLOW_CONFIG_VALUE nor --config-value"
    capability = Cap.CONFIG_EXPR
    triggers = COMMAND_TRIGGERS

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if getattr(module, "generated", False):
            return  # generated helpers get their commands and configs from the extension
        text = module.source.text
        if any(mention in text for mention in _CONFIG_MENTIONS):
            return
        # A backend's own ``<name> step`` launcher is not a step process: the runtime gives
        # it the flow's top-level options (--config-value) and it forwards them to the task.
        steps = [c for c in module.commands if c.name == "step" and plugin_name(c) is None]
        if not steps or not _passes_an_environment(module, steps):
            return
        first = min(steps, key=lambda c: (c.subcommand.span.start, c.subcommand.span.end))
        yield Finding(
            first.subcommand.span,
            "step processes started by this module get neither METAFLOW_FLOW_CONFIG_VALUE nor "
            "--config-value: they evaluate the flow's Configs from their defaults (config_expr "
            "in @project, @resources ...); put the deploy-time config values in the step "
            "environment as METAFLOW_FLOW_CONFIG_VALUE",
        )


def _passes_an_environment(module: ModuleModel, steps: list) -> bool:
    """The module also builds the environment its processes get: ``env=`` of a subprocess
    call, an ``env`` entry of a job spec, ``export NAME=`` next to a step command in a shell
    template, or ``env=`` of a subprocess call in generated code."""
    for node in module.nodes:
        if isinstance(node, ast.Call) and any(k.arg == "env" for k in node.keywords):
            if (call_name(node) or "") in _SUBPROCESS_CALLS | {"execve", "execvpe", "spawn"}:
                return True
        elif isinstance(node, ast.Dict):
            if any(isinstance(k, ast.Constant) and k.value in _ENV_KEYS for k in node.keys):
                return True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "env" in node.value
            and _ENV_IN_TEXT.search(node.value)
        ):
            return True
    for command in steps:
        template = command.template
        if template is not None and re.search(r"(?m)^\s*export\s+\w+=", template.text):
            return True
    return False


# -- MFK208 -----------------------------------------------------------------------------------

_MARKER = re.compile(r"\{\{[^\n]*?\}\}|\{%[^\n]*?%\}")
_JSON_MODULES = ("json", "simplejson", "ujson")


class TemplateBracesInEnv(Rule):
    """JSON (``json.dumps(...)``, the flow's config value) is pasted raw into a template whose
    braces are interpreted later.

    Pasted into a string that ``str.format`` formats afterwards, every ``{`` of the JSON opens
    a format field: ``KeyError: '"cfg"'``. Pasted into a template a scheduler's template engine
    renders (``{{ ... }}`` markers of Jinja, Pebble in Kestra, Airflow, Argo), any ``{{``,
    ``{%`` or ``{#`` inside a value is evaluated: the value changes silently or the render
    fails with a template syntax error.
    """

    code = "MFK208"
    name = "template-braces-in-env"
    summary = "JSON pasted raw into a template whose braces are interpreted (str.format, Jinja...)"
    capability = Cap.CONFIG_EXPR
    triggers = (b"dumps", b"config_value", b"CONFIG_VALUE")

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        raw = module.source.raw or module.source.text.encode("utf-8", "replace")
        if not any(marker in raw for marker in (b".format", b"{{", b"{%")):
            return  # neither str.format nor a template engine's markers: nothing to interpret
        reported: set[int] = set()
        for name in ("format", "format_map"):
            for call in module.calls_by_name.get(name, []):
                if not isinstance(call.func, ast.Attribute):
                    continue
                found = _json_inserted(module, call.func.value, 0)
                if found is None or id(found[0]) in reported:
                    continue
                reported.add(id(found[0]))
                yield Finding(
                    found[0],
                    f"{found[1]} is pasted into a string that str.format formats afterwards "
                    f"(line {call.lineno}): its braces become format fields (KeyError); pass "
                    "the JSON as a format argument, or double its braces",
                )
        prose = prose_nodes(module)
        for node in module.nodes:
            if not isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)):
                continue
            if id(node) in prose or not is_stringish(node) or is_stringish(module.parent(node)):
                continue
            if isinstance(node, ast.Constant):
                continue  # no holes
            template = template_of(module, node)
            if template is None or HOLE not in template.text:
                continue
            marker = _MARKER.search(template.text)
            if marker is None:
                continue
            for expr in template.exprs:
                described = _json_source(module, expr, 0) if expr is not None else None
                if described is None or id(expr) in reported:
                    continue
                reported.add(id(expr))
                yield Finding(
                    expr,
                    f"{described} is pasted raw into a template with "
                    f"{marker.group(0)[:2]} ... markers, which the scheduler's template engine "
                    "renders: a value containing {{, {% or {# is evaluated (changed silently, "
                    "or the render fails); pass it base64-encoded or as a scheduler variable",
                )


def _json_inserted(module: ModuleModel, receiver: ast.expr, depth: int) -> Optional[tuple]:
    """(the JSON expression, its description) when ``receiver`` (the string ``.format`` is
    called on) has JSON pasted into it."""
    if depth > 3:
        return None
    described = _json_source(module, receiver, depth)
    if described is not None:
        return receiver, described
    if is_stringish(receiver):
        template = template_of(module, receiver)
        if template is not None:
            for expr in template.exprs:
                described = _json_source(module, expr, 0) if expr is not None else None
                if described is not None:
                    return expr, described
        return None
    if isinstance(receiver, ast.Call) and call_name(receiver) == "replace":
        if len(receiver.args) == 2:
            described = _json_source(module, receiver.args[1], 0)
            if described is not None:
                return receiver.args[1], described
        if isinstance(receiver.func, ast.Attribute):
            return _json_inserted(module, receiver.func.value, depth + 1)
    if isinstance(receiver, ast.Name):
        values = _assigned_values(module, receiver)
        if len(values) == 1:
            return _json_inserted(module, values[0], depth + 1)
    return None


def _json_source(module: ModuleModel, expr: ast.expr, depth: int) -> Optional[str]:
    """A description of ``expr`` when it holds JSON text with braces: ``json.dumps(...)``,
    the flow config value, or a name or attribute assigned one of these."""
    if depth > 3:
        return None
    if isinstance(expr, ast.Call):
        name = call_name(expr)
        owner = dotted_name(expr.func.value) if isinstance(expr.func, ast.Attribute) else None
        if name == "dumps" and owner is not None and owner.lstrip("_").endswith(_JSON_MODULES):
            return f"{owner}.dumps(...)"
        if name in ("str", "repr") and len(expr.args) == 1:
            return _json_source(module, expr.args[0], depth + 1)
        if name == "get" and expr.args and _names_config_env(expr.args[0]):
            return "METAFLOW_FLOW_CONFIG_VALUE"
        helper = module.local_function(expr)
        if helper is not None and _returns_json(module, helper, depth):
            return f"{name}() (it returns json.dumps(...))"
        return None
    if isinstance(expr, ast.Subscript) and _names_config_env(_subscript_key(expr)):
        return "METAFLOW_FLOW_CONFIG_VALUE"
    if isinstance(expr, ast.Name):
        if "config_value" in expr.id.lower():
            return f"the flow config value {expr.id!r}"
        values = _assigned_values(module, expr)
        if len(values) == 1:
            return _json_source(module, values[0], depth + 1)
        return None
    if isinstance(expr, ast.Attribute):
        if "config_value" in expr.attr.lower():
            return f"the flow config value {expr.attr!r}"
        if isinstance(expr.value, ast.Name) and expr.value.id == "self":
            values = module.self_assignments.get(expr.attr, [])
            if len(values) == 1:
                return _json_source(module, values[0], depth + 1)
    return None


def _names_config_env(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "METAFLOW_FLOW_CONFIG_VALUE"


def _returns_json(module: ModuleModel, function: ast.AST, depth: int) -> bool:
    """Every return of the function is JSON text or None, and at least one is JSON."""
    returns = [
        n.value
        for n in ast.walk(function)
        if isinstance(n, ast.Return) and module.enclosing_function(n) is function
    ]
    json_returns = [r for r in returns if r is not None and _json_source(module, r, depth + 1)]
    others = [
        r
        for r in returns
        if r is not None
        and r not in json_returns
        and not (isinstance(r, ast.Constant) and r.value is None)
    ]
    return bool(json_returns) and not others
