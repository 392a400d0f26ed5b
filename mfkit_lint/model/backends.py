"""Compute backends: a step decorator plus the backend's own ``<name> step`` subcommand.

Metaflow's runtime runs a step on a backend by turning ``python flow.py step NAME ...`` into
``python flow.py <name> step NAME ...`` (the decorator's ``runtime_step_cli`` sets
``cli_args.commands``). That subcommand is the backend's click command, declared in the
extension (``@cli.group() def batch(): ...`` / ``@batch.command() def step(...)``): its
options are whatever those declarations say, not the core ``step`` options. This module reads
the declarations statically (the extension is never imported) so that rules judge a
``<name> step`` command line against the backend's own options, and the options the runtime
forwards to it against Metaflow's contract snapshot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

from mfkit_lint.contract import cli as contract
from mfkit_lint.contract.runtime import PARALLEL_ONLY, RUNTIME_STEP_OPTIONS
from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.model.environment import env_writes
from mfkit_lint.model.module import call_name, dotted_name, per_module

if TYPE_CHECKING:
    from mfkit_lint.model.commands import Command, Option
    from mfkit_lint.model.module import FunctionNode, ModuleModel


@dataclass
class BackendStep:
    """One backend's ``<group> step`` click command, as declared."""

    group: str
    function: FunctionNode
    module: ModuleModel
    options: set[str] = field(default_factory=set)
    arguments: list[str] = field(default_factory=list)
    # Whether the function takes ``**kwargs``: options it does not name may be forwarded.
    takes_kwargs: bool = False


def _click_call(node: ast.AST) -> Optional[tuple[str, ast.Call]]:
    """``@X.group(...)``/``@X.command(...)``/``@click.option(...)``: (the method, the call)."""
    if isinstance(node, ast.Call):
        name = call_name(node)
        if name is not None:
            return name, node
    elif isinstance(node, (ast.Attribute, ast.Name)):  # ``@cli.group`` without parentheses
        name = node.attr if isinstance(node, ast.Attribute) else node.id
        return name, ast.Call(func=node, args=[], keywords=[])
    return None


def _declared_name(call: ast.Call, function: FunctionNode) -> str:
    """click's name for a group or command: ``name=``, the first argument, or the function's
    name (click 7, which Metaflow vendors, lower-cases it and turns ``_`` into ``-``)."""
    for keyword in call.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return function.name.lower().replace("_", "-")


def _option_names(call: ast.Call) -> Iterator[str]:
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            for name in arg.value.split("/"):
                name = name.strip()
                if name.startswith("--"):
                    yield name


def _groups(module: ModuleModel) -> dict[str, str]:
    """Function name -> click group name, for the module's ``@*.group(...)`` functions."""
    out = {}
    for function in _top_functions(module):
        for decorator in function.decorator_list:
            found = _click_call(decorator)
            if found is not None and found[0] == "group":
                out[function.name] = _declared_name(found[1], function)
    return out


def _top_functions(module: ModuleModel) -> Iterator[FunctionNode]:
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@per_module
def module_backend_steps(module: ModuleModel) -> list[BackendStep]:
    """The ``<group> step`` commands this module declares (computed once per module)."""
    out: list[BackendStep] = []
    groups = _groups(module)
    for function in _top_functions(module):
        step = _as_backend_step(module, function, groups)
        if step is not None:
            out.append(step)
    return out


def _as_backend_step(
    module: ModuleModel, function: FunctionNode, groups: dict[str, str]
) -> Optional[BackendStep]:
    owner = None
    for decorator in function.decorator_list:
        found = _click_call(decorator)
        if found is None or found[0] != "command":
            continue
        method, call = found
        target = call.func.value if isinstance(call.func, ast.Attribute) else None
        group = groups.get(target.id) if isinstance(target, ast.Name) else None
        if group is not None and _declared_name(call, function) == "step":
            owner = group
    if owner is None:
        return None
    step = BackendStep(owner, function, module, takes_kwargs=function.args.kwarg is not None)
    for decorator in function.decorator_list:
        found = _click_call(decorator)
        if found is None:
            continue
        method, call = found
        if method == "option":
            step.options.update(_option_names(call))
        elif method == "argument" and call.args and isinstance(call.args[0], ast.Constant):
            step.arguments.append(str(call.args[0].value))
    return step


@dataclass
class ForwardedOverride:
    """``kwargs["retry_count"] = value`` in a backend's ``step`` before its ``**kwargs`` (the
    task options the runtime passed) are turned back into the core step command's options by
    ``dict_to_cli_options(kwargs)``: the core step gets ``--retry-count value`` instead."""

    option: str  # the core step option, e.g. ``--retry-count``
    value: ast.expr
    statement: ast.Assign


def forwarded_overrides(step: BackendStep) -> list[ForwardedOverride]:
    """The task options a backend ``step`` overwrites before forwarding its ``**kwargs``."""
    kwarg = step.function.args.kwarg
    if kwarg is None or not step.module.calls_by_name.get("dict_to_cli_options"):
        return []  # nothing forwards the options: no override reaches the core step
    forwards = [
        node.lineno
        for node in ast.walk(step.function)
        if isinstance(node, ast.Call)
        and call_name(node) == "dict_to_cli_options"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == kwarg.arg
    ]
    out = []
    for node in ast.walk(step.function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        key = _kwargs_key(node.targets[0], kwarg.arg)
        if key is not None and any(line > node.lineno for line in forwards):
            out.append(ForwardedOverride("--" + key.replace("_", "-"), node.value, node))
    return out


def option_overrides(
    module: ModuleModel, option: str
) -> Iterator[tuple[BackendStep, ForwardedOverride]]:
    """Each value a backend ``step`` of the module writes into the forwarded task ``option``
    (``--retry-count``), with the step that writes it."""
    for step in module_backend_steps(module):
        for override in forwarded_overrides(step):
            if override.option == option:
                yield step, override


def reads_forwarded(step: BackendStep, expr: ast.expr, key: str) -> bool:
    """``expr`` is the value the runtime passed for the task option ``key``: ``kwargs[key]``,
    ``kwargs.get(key)``, or a parameter of that name, also as ``int(...)`` or ``... or 0``."""
    while True:
        if isinstance(expr, ast.Call) and call_name(expr) in ("int", "str") and len(expr.args) == 1:
            expr = expr.args[0]
        elif isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or) and expr.values:
            expr = expr.values[0]
        else:
            break
    kwarg = step.function.args.kwarg
    if kwarg is not None:
        if _kwargs_key(expr, kwarg.arg) == key:
            return True
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "get"
            and isinstance(expr.func.value, ast.Name)
            and expr.func.value.id == kwarg.arg
            and expr.args
            and isinstance(expr.args[0], ast.Constant)
            and expr.args[0].value == key
        ):
            return True
    return isinstance(expr, ast.Name) and expr.id == key and key in _parameter_names(step)


def _kwargs_key(node: ast.AST, kwargs: str) -> Optional[str]:
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == kwargs
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def _parameter_names(step: BackendStep) -> set[str]:
    args = step.function.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def backend_steps(module: ModuleModel) -> dict[str, BackendStep]:
    """Every backend ``step`` command visible from ``module``: its own and, in project mode,
    those of the other modules of the project, by group name. A name declared twice with
    different options is left out (cannot tell which one a command line means)."""
    found: dict[str, list[BackendStep]] = {}
    modules = [module]
    if module.project is not None:
        modules += module.project.modules_mentioning("command", besides=module.path)
    for owner in modules:
        for step in module_backend_steps(owner):
            found.setdefault(step.group, []).append(step)
    return {
        name: steps[0]
        for name, steps in found.items()
        if all(s.options == steps[0].options for s in steps[1:])
    }


def plugin_name(command: Command) -> Optional[str]:
    """The plugin group of ``python flow.py [options] <group> step ...``: the word right
    before the subcommand when it is a plain word (not an option, not an option's value, not
    the flow file). None for a core command."""
    if command.sub_index < 2:
        return None
    word = command.tokens[command.sub_index - 1]
    if not word.known or word.is_option() or word.text.endswith(".py") or "/" in word.text:
        return None
    before = command.tokens[command.sub_index - 2]
    if before.is_option() and "=" not in before.text and before.option_name not in contract.FLAGS:
        return None  # the value of the option before it (``--with batch``)
    return word.text


def backend_step_of(module: ModuleModel, command: Command) -> Optional[BackendStep]:
    """The declarations of the plugin ``step`` this command line runs, when they are known."""
    name = plugin_name(command)
    if name is None or command.name != "step":
        return None
    return backend_steps(module).get(name)


def plugin_option_verdict(module: ModuleModel, command: Command, option: Option) -> Optional[str]:
    """For an option after a plugin's ``step``: a message when the backend's own click
    declarations do not take it; None when they do, or when they cannot be seen."""
    backend = backend_step_of(module, command)
    if backend is None or option.name in backend.options or option.name == "--help":
        return None
    return (
        f"{option.name} is not an option of '{backend.group} step' (declared in "
        f"{_where(backend)}): click rejects it (no such option: {option.name}); declare it "
        "on the backend's step command or remove it"
    )


def missing_runtime_options(step: BackendStep) -> list[str]:
    """Options Metaflow's runtime passes to every step command that this backend's ``step``
    does not declare: the first task fails with ``no such option``."""
    return [
        name
        for name in RUNTIME_STEP_OPTIONS
        if name not in PARALLEL_ONLY and name not in step.options
    ]


def _where(step: BackendStep) -> str:
    path = step.module.path.name if step.module.path is not None else "this module"
    return f"{path}:{step.function.lineno}"


def is_step_decorator_class(node: ast.ClassDef) -> bool:
    """A class deriving from Metaflow's ``StepDecorator`` (by name, as written)."""
    return any((dotted_name(base) or "").split(".")[-1] == "StepDecorator" for base in node.bases)


def remote_group(node: ast.ClassDef) -> Optional[str]:
    """The plugin group a step decorator class sends its steps to: the ``X`` of
    ``cli_args.commands = ["X", "step"]`` in its ``runtime_step_cli``. None when it does not
    (a decorator that only changes the local step)."""
    for item in node.body:
        if not (isinstance(item, ast.FunctionDef) and item.name == "runtime_step_cli"):
            continue
        for sub in ast.walk(item):
            if not isinstance(sub, ast.Assign):
                continue
            target = sub.targets[0]
            if not (isinstance(target, ast.Attribute) and target.attr == "commands"):
                continue
            value = sub.value
            if isinstance(value, (ast.List, ast.Tuple)) and len(value.elts) == 2:
                first, second = value.elts
                if (
                    isinstance(second, ast.Constant)
                    and second.value == "step"
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    return first.value
    return None


def backend_decorators(module: ModuleModel) -> Iterator[tuple[ast.ClassDef, str]]:
    """Step decorator classes of this module that run steps on a backend, with the group."""
    for node in module.nodes_of(ast.ClassDef):
        if is_step_decorator_class(node):
            group = remote_group(node)
            if group is not None:
                yield node, group


def class_attribute(node: ast.ClassDef, name: str) -> Optional[ast.expr]:
    """The value a class body assigns to ``name``, if it does."""
    for item in node.body:
        if isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    return item.value
        elif (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and item.target.id == name
        ):
            return item.value
    return None


def decorator_name(node: ast.ClassDef) -> Optional[str]:
    value = class_attribute(node, "name")
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def project_models(module: ModuleModel, needle: str) -> Iterator[ModuleModel]:
    """``module`` and, in project mode, the other modules whose text has ``needle``, each
    parsed when the caller gets to it (a caller that stops early parses no more)."""
    yield module
    if module.project is not None:
        yield from module.project.mentioning(needle, besides=module.path)


def calls_named(module: ModuleModel, name: str) -> Iterator[tuple[ModuleModel, ast.Call]]:
    """Calls of ``name`` (``f(...)``, ``x.f(...)``) in the module and the rest of the project,
    the module's own first."""
    for m in project_models(module, name):
        for call in m.calls_by_name.get(name, []):
            yield m, call


def is_called(module: ModuleModel, name: str) -> bool:
    """Some code of the project calls ``name``: the other modules are parsed only while none
    of those before them does."""
    return next(calls_named(module, name), None) is not None


def backend_context(module: ModuleModel) -> bool:
    """Whether the project's questions can be answered: project mode, or a single module that
    holds both halves of a backend (its decorator and its ``step`` command)."""
    if module.project is not None:
        return True
    return bool(module_backend_steps(module)) and any(True for _ in backend_decorators(module))


def header_span(module: ModuleModel, node: ast.AST) -> Span:
    """Where to report a function or class: its ``def NAME``/``class NAME`` words, not the
    whole body (a finding's line is where ``# noqa`` goes)."""
    keyword = "class " if isinstance(node, ast.ClassDef) else "def "
    if isinstance(node, ast.AsyncFunctionDef):
        keyword = "async def "
    start = module.source.location(node.lineno, node.col_offset)
    end = module.source.location(node.lineno, node.col_offset + len(keyword) + len(node.name))
    return Span(start, end)


def env_names_written(
    module: ModuleModel, wanted: set[str]
) -> list[tuple[str, Union[ast.AST, Span]]]:
    """Writes of the environment variables in ``wanted``, with where each is: dict keys,
    ``env[X] = ...``, Kubernetes-style entries, ``export X=...`` in shell templates, keyword
    arguments, and the builder call ``.environment_variable("X", value)`` that Metaflow's own
    job specs use."""
    needle = min(wanted, key=len)
    out: list[tuple[str, Union[ast.AST, Span]]] = [
        (w.name, w.where)
        for w in env_writes(module, lambda name: name in wanted, needle, extended=True)
    ]
    for call in module.calls_by_name.get("environment_variable", []):
        if call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value in wanted:
            out.append((str(call.args[0].value), call.args[0]))
    return out


def names_holding(module: ModuleModel, text: str) -> list[str]:
    """The variables the module binds to exactly the string ``text`` (``X = "text"``,
    ``X: str = "text"``): code that spells a variable's name once and then uses the constant,
    where it goes (a dict key, an imported name in another module) is not followed."""
    out = []
    for node in module.nodes_of(ast.Assign, ast.AnnAssign):
        value = node.value
        if isinstance(value, ast.Constant) and value.value == text:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out += [t.id for t in targets if isinstance(t, ast.Name)]
    return out
