"""MFK111 config-param-to-init: see docs/pitfalls/config-param-to-init.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional, Union

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.environment import (
    prose_nodes,
)
from mfkit_lint.model.module import FunctionNode, ModuleModel, call_name, per_module
from mfkit_lint.model.templates import HOLE, is_stringish, template_of
from mfkit_lint.model.values import Assigned, Param, values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

GET_PARAMETERS = "_get_parameters"
CONFIG_FLAG = "IS_CONFIG_PARAMETER"
# The ``init`` subcommand written out in a command list or a generated-code template.
_INIT_IN_TEXT = re.compile(r"\binit\b[\s\"',\]\[]{0,24}--(?:run|task)-id")


class ConfigParamToInit(Rule):
    """Every flow parameter is turned into an ``init`` option, ``Config`` objects included.

    ``flow._get_parameters()`` returns the flow's ``Config`` objects next to its
    ``Parameter`` objects. ``init`` has an option per Parameter but none for a Config
    (configs are top-level ``--config``/``--config-value`` options), so for any flow with a
    Config the run fails before it starts: ``Error: no such option: --cfg``.
    """

    code = "MFK111"
    name = "config-param-to-init"
    summary = "every flow parameter becomes an init option, Config objects included"
    capability = Cap.CONFIG_EXPR
    triggers = (GET_PARAMETERS.encode(),)
    fix = FixSpec(
        Applicability.UNSAFE,
        f"Skip the Configs ({CONFIG_FLAG}) where the module loops over flow._get_parameters()",
        "skip_items:SkipItemsInLoops",
    )

    VALID = (
        Valid(
            """
            import sys
            def init_command(flow, flow_file, run_id, values):
                cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "params"]
                for _, param in flow._get_parameters():
                    if getattr(param, "IS_CONFIG_PARAMETER", False):
                        continue
                    cmd += ["--%s" % param.name, str(values[param.name])]
                return cmd
            """
        ),
        Valid(
            """
            import sys
            def validate(flow):
                for _, param in flow._get_parameters():
                    if "default" not in param.kwargs:
                        raise ValueError("--%s needs a default" % param.name)
            def init_cmd(run_id):
                return [sys.executable, "flow.py", "init", "--run-id", run_id, "--task-id", "p"]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            class Compiler:
                def compile(self):
                    params = self._get_parameters()
                    return self._render_tasks(params)

                def _render_tasks(self, params):
                    return self._init_script(params=params)

                def _init_script(self, params):
                    lines = []
                    for var in params:
                        lines.append('    "--%(var)s", str(params["%(var)s"]),' % {"var": var})
                    return \"\"\"
            cmd = [sys.executable, FLOW_FILE, "init", "--run-id", run_id, "--task-id", "p",
            %s
            ]
            \"\"\" % "\\n".join(lines)

                def _get_parameters(self):
                    params = {}
                    for var, param in self.flow._get_parameters():
                        params[var] = {"default": param.kwargs.get("default")}
                    return params
            """,
            line=13,
            column=32,
            fixed="""
            class Compiler:
                def compile(self):
                    params = self._get_parameters()
                    return self._render_tasks(params)

                def _render_tasks(self, params):
                    return self._init_script(params=params)

                def _init_script(self, params):
                    lines = []
                    for var in params:
                        lines.append('    "--%(var)s", str(params["%(var)s"]),' % {"var": var})
                    return \"\"\"
            cmd = [sys.executable, FLOW_FILE, "init", "--run-id", run_id, "--task-id", "p",
            %s
            ]
            \"\"\" % "\\n".join(lines)

                def _get_parameters(self):
                    params = {}
                    for var, param in self.flow._get_parameters():
                        if getattr(param, "IS_CONFIG_PARAMETER", False):
                            continue
                        params[var] = {"default": param.kwargs.get("default")}
                    return params
            """,
        ),
        Invalid(
            """
            def extract_parameters(flow):
                return [p for _, p in flow._get_parameters()]

            def start_init_lines(flow):
                lines = [
                    "_init_cmd = [sys.executable, FLOW_FILE, 'init', "
                    "'--run-id', run_id, '--task-id', 'p']"
                ]
                for p in extract_parameters(flow):
                    lines.append(f'_init_cmd += ["--{p.name}", str(_param_{p.name})]')
                return lines
            """,
            line=11,
            column=39,
            # (the fixed comprehension's line only fits at this indentation)
            fixed="""
def extract_parameters(flow):
    return [p for _, p in flow._get_parameters() if not getattr(p, "IS_CONFIG_PARAMETER", False)]

def start_init_lines(flow):
    lines = [
        "_init_cmd = [sys.executable, FLOW_FILE, 'init', "
        "'--run-id', run_id, '--task-id', 'p']"
    ]
    for p in extract_parameters(flow):
        lines.append(f'_init_cmd += ["--{p.name}", str(_param_{p.name})]')
    return lines
""",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if _config_tests(module) or not _runs_metaflow_init(module):
            return
        params = _FlowParameters(module)
        fix = _skip_configs_fix(module, params)
        seen: set[int] = set()
        for loop, targets in params.loops():
            for node, span in _option_strings(module, loop, targets):
                if id(node) in seen:
                    continue
                seen.add(id(node))
                yield Finding(
                    span,
                    "every flow parameter becomes --<name> here, Configs included "
                    "(flow._get_parameters() returns Config objects too): for a flow with a "
                    "Config, init stops with 'Error: no such option: --<config>'; skip "
                    f"parameters whose {CONFIG_FLAG} is true",
                    fix.to_data() if fix else None,
                    no_fix_reason=None if fix else _NO_FIX,
                )


_NO_FIX = (
    "the parameters do not come from a loop of this module over flow._get_parameters() "
    f"binding (name, param): skip the parameters whose {CONFIG_FLAG} is true where they are "
    "collected"
)


def _filters_configs(module: ModuleModel, node: ast.AST) -> bool:
    """Metaflow's own idiom (``param.IS_CONFIG_PARAMETER``, also through ``getattr``) or an
    ``isinstance(p, Config)`` test appears in ``node``, a node of the module."""
    return any(
        test is node or any(a is node for a in module.ancestors(test))
        for test in _config_tests(module)
    )


@per_module
def _config_tests(module: ModuleModel) -> list[ast.AST]:
    """The nodes of the module that tell Configs apart (see ``_filters_configs``), read from
    the node buckets instead of walking each subtree asked about."""
    out: list[ast.AST] = [n for n in module.nodes_of(ast.Attribute) if n.attr == CONFIG_FLAG]
    out += (n for n in module.nodes_of(ast.Constant) if n.value == CONFIG_FLAG)
    for name in ("isinstance", "issubclass"):
        out += (
            call
            for call in module.calls_by_name.get(name, ())
            if isinstance(call.func, ast.Name)
            and len(call.args) == 2
            and any(
                "Config" in (getattr(n, "id", None) or getattr(n, "attr", None) or "")
                for n in ast.walk(call.args[1])
            )
        )
    return out


def _runs_metaflow_init(module: ModuleModel) -> bool:
    """The module builds a Metaflow ``init`` (or ``run``) command: one the command model
    recognises, or ``"init", "--run-id"`` written in generated code."""
    if any(c.name in ("init", "run") for c in commands_of(module)):
        return True
    return bool(_INIT_IN_TEXT.search(module.source.text))


# The loops ``_FlowParameters.loops`` reads: statements and comprehensions.
_LOOPS = (ast.For, ast.AsyncFor, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)


class _FlowParameters:
    """Which expressions of a module hold the flow's parameters the way
    ``flow._get_parameters()`` returns them (Configs included): the call itself, the result of
    a same-module helper that collects them without filtering, and names, attributes and
    function parameters that always receive one of these."""

    MAX_DEPTH = 8

    def __init__(self, module: ModuleModel) -> None:
        self.module = module
        self._collectors: dict[int, bool] = {}
        self._arguments: dict[tuple[int, str], bool] = {}

    def loops(self) -> Iterator[tuple[ast.AST, set[str]]]:
        """``for`` loops and comprehensions over the flow's parameters, with the names bound
        to each parameter (and to values derived from it)."""
        for node in self.module.nodes_of(*_LOOPS):
            if isinstance(node, (ast.For, ast.AsyncFor)) and self.holds(node.iter):
                if not _filters_configs(self.module, node):
                    yield node, _derived_names(node, _target_names(node.target))
            elif isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
                first = node.generators[0]
                if self.holds(first.iter) and not _filters_configs(self.module, node):
                    yield node, _target_names(first.target)

    def is_source(self, node: ast.AST) -> bool:
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == GET_PARAMETERS
        ):
            return False
        owner = node.func.value
        own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
        return not (own and self.module.functions.get(GET_PARAMETERS))

    def holds(self, expr: Optional[ast.AST], depth: int = 0) -> bool:
        if expr is None or depth > self.MAX_DEPTH:
            return False
        if self.is_source(expr):
            return True
        if isinstance(expr, ast.Call):
            name = call_name(expr)
            if isinstance(expr.func, ast.Name) and name in ("list", "sorted", "tuple", "dict"):
                return len(expr.args) == 1 and self.holds(expr.args[0], depth + 1)
            if isinstance(expr.func, ast.Attribute) and name in ("items", "keys", "values"):
                return self.holds(expr.func.value, depth + 1)
            helper = self.module.local_function(expr)
            return helper is not None and self.collector(helper, depth + 1)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.SetComp)):
            return (
                len(expr.generators) == 1
                and self.holds(expr.generators[0].iter, depth + 1)
                and not _filters_configs(self.module, expr)
            )
        if isinstance(expr, ast.Name):
            scope, bindings = values_of(self.module).lookup(expr.id, expr)
            if not bindings:
                return False
            for binding in bindings:
                if isinstance(binding, Assigned):
                    if not self.holds(binding.value, depth + 1):
                        return False
                elif isinstance(binding, Param) and len(bindings) == 1:
                    if not self.argument(scope, binding.arg.arg, depth + 1):
                        return False
                else:
                    return False
            return True
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "self"
        ):
            values = self.module.self_assignments.get(expr.attr, [])
            return bool(values) and all(self.holds(v, depth + 1) for v in values)
        return False

    def collector(self, function: FunctionNode, depth: int) -> bool:
        """The function returns the flow's parameters, or a collection filled in a loop over
        them, without filtering Configs out."""
        key = id(function)
        if key not in self._collectors:
            self._collectors[key] = False  # guards against recursion
            self._collectors[key] = not _filters_configs(self.module, function) and any(
                self.holds(value, depth) or self._filled_in_loop(function, value, depth)
                for value in _returned(function)
            )
        return self._collectors[key]

    def _filled_in_loop(self, function: FunctionNode, value: ast.expr, depth: int) -> bool:
        if not isinstance(value, ast.Name):
            return False
        for node in ast.walk(function):
            if (
                isinstance(node, (ast.For, ast.AsyncFor))
                and self.holds(node.iter, depth + 1)
                and any(_fills(stmt, value.id) for stmt in node.body)
            ):
                return True
        return False

    def argument(self, function: Optional[ast.AST], arg: str, depth: int) -> bool:
        """Every call of ``function`` in the module passes the flow's parameters as ``arg``."""
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        key = (id(function), arg)
        if key not in self._arguments:
            self._arguments[key] = False
            calls = _call_sites(self.module, function)
            self._arguments[key] = bool(calls) and all(
                self.holds(_passed(function, call, offset, arg), depth) for call, offset in calls
            )
        return self._arguments[key]


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _derived_names(loop: ast.AST, names: set[str]) -> set[str]:
    """The loop's names plus names assigned, inside the loop, from expressions using them."""
    names = set(names)
    for _ in range(2):
        for node in ast.walk(loop):
            if isinstance(node, ast.Assign) and _uses(node.value, names):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    return names


def _uses(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _returned(function: FunctionNode) -> list[ast.expr]:
    out = []
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            out.append(node.value)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _fills(stmt: ast.AST, name: str) -> bool:
    """``name[k] = v``, ``name.append(v)`` (extend, update, add) or ``name += ...``."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    return True
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend", "update", "add", "insert")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            return True
    return False


def _call_sites(module: ModuleModel, function: FunctionNode) -> list[tuple[ast.Call, int]]:
    """Calls of ``function`` in the module with the positional offset of their arguments;
    empty when the name is defined twice or used other than by calling it."""
    name = function.name
    if len(module.functions.get(name, ())) != 1:
        return []
    calls = module.calls_by_name.get(name, [])
    if module.name_loads.get(name, 0) != len(calls):
        return []
    args = function.args.args
    is_method = bool(args) and args[0].arg in ("self", "cls")
    return [(c, 1 if is_method and isinstance(c.func, ast.Attribute) else 0) for c in calls]


def _passed(function: FunctionNode, call: ast.Call, offset: int, arg: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == arg:
            return keyword.value
    positional = [*getattr(function.args, "posonlyargs", []), *function.args.args]
    index = next((i for i, a in enumerate(positional) if a.arg == arg), None)
    if index is None or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if 0 <= index - offset < len(call.args):
        return call.args[index - offset]
    return None


def _option_strings(
    module: ModuleModel, loop: ast.AST, names: set[str]
) -> Iterator[tuple[ast.AST, Union[Span, ast.AST]]]:
    """Strings inside the loop that make ``--<name>`` from a loop variable: ``"--" + name``,
    ``"--%s" % name``, ``f"--{p.name}"``, ``'"--%(var)s", ...' % {"var": var}``."""
    parts = loop.body if isinstance(loop, (ast.For, ast.AsyncFor)) else [loop]
    prose = prose_nodes(module)
    for part in parts:
        for node in ast.walk(part):
            if not isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)):
                continue
            if id(node) in prose or not is_stringish(node) or is_stringish(module.parent(node)):
                continue
            if not any(
                isinstance(n, ast.Constant) and isinstance(n.value, str) and "--" in n.value
                for n in ast.walk(node)
            ):
                continue
            template = template_of(module, node)
            if template is None:
                continue
            for match in re.finditer("--" + HOLE, template.text):
                start = match.start()
                if start and template.text[start - 1] not in " \t\"'[(,=":
                    continue
                expr = template.hole_expr(start + 2)
                if expr is not None and _uses(expr, names):
                    span = template.span(module, start, start + 3)
                    yield node, span or node
                    break


def _skip_configs_fix(module: ModuleModel, params: _FlowParameters) -> Optional[fixes.SkipItems]:
    """Every ``flow._get_parameters()`` of the module iterated directly by a ``for`` or a
    comprehension binding ``(name, param)``: each such loop skips the Configs, Metaflow's own
    idiom (``cli.py``, ``parameters.py``). None when a call is used any other way (its items
    might be kept somewhere the linter cannot follow) or the parameter is not named."""
    iters: list[tuple[int, int]] = []
    items: list[str] = []
    for node in module.nodes:
        if not params.is_source(node):
            continue
        parent = module.parent(node)
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
            target = parent.target
        else:
            return None
        if not (
            isinstance(target, ast.Tuple)
            and len(target.elts) == 2
            and isinstance(target.elts[1], ast.Name)
            and target.elts[1].id != "_"
        ):
            return None
        iters.append(module.position(node))
        items.append(target.elts[1].id)
    if not iters:
        return None
    return fixes.SkipItems(tuple(iters), tuple(items), f'getattr({{item}}, "{CONFIG_FLAG}", False)')
