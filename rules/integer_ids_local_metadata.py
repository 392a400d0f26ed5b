"""MFK113 integer-ids-local-metadata: see docs/pitfalls/integer-ids-local-metadata.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Option, Token
from mfkit_lint.model.invocation import (
    is_invocation,
    is_metaflow,
    task_commands,
)
from mfkit_lint.model.module import ModuleModel, call_name
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import Assigned, Bound, values_of

_INTEGER_TEXT = re.compile(r"\s*[-+]?\d+\s*|\$\(\([^()]*\)\)")
_INTEGER_SPEC = re.compile(r"0?\d*d")
# Calls that always return an int.
_INT_CALLS = frozenset(
    {
        "int",
        "len",
        "round",
        "floor",
        "ceil",
        "time_ns",
        "monotonic_ns",
        "perf_counter_ns",
        "getpid",
        "randint",
        "randrange",
        "getrandbits",
    }
)
_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)
_MAX_ID_DEPTH = 8


class IntegerIdsLocalMetadata(Rule):
    """Run or task ids that the extension mints as plain integers.

    The local metadata provider mints integer ids itself, so its ``register_run_id`` and
    ``register_task_id`` skip any id that parses as an integer, assuming it is already
    registered. Runs and tasks started with such ids write their data but are never
    registered: the Client cannot see them (``MetaflowNotFound: Run('Flow/1234') does not
    exist``, or a run without its steps). Argo mints ``argo-<name>`` run ids and ``t-<hex>``
    task ids for this reason.
    """

    code = "MFK113"
    name = "integer-ids-local-metadata"
    summary = "run or task id minted as a plain integer (invisible with local metadata)"
    capability = Cap.LINEAR_DAG
    triggers = (b"--run-id", b"--task-id")

    VALID = (
        Valid(
            """
            def init_cmd(flow, run_id):
                return ["python", flow, "init", "--run-id", run_id, "--task-id", "1"]
            """
        ),
        Valid(
            """
            def step_cmd(flow, step, attempt):
                return ["python", flow, "step", step, "--run-id", "r-1", "--task-id", "t-1",
                        "--retry-count", str(attempt)]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import subprocess, sys
            def run_steps(flow, run_id, steps):
                for i, step in enumerate(steps):
                    subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                    "--task-id", str(i + 1), "--input-paths", "x"], check=True)
            """,
            line=6,
            column=38,
        ),
        Invalid(
            """
            def commands(flow, run_id, steps):
                task = 0
                cmds = []
                for step in steps:
                    task += 1
                    cmd = ["python", flow, "--datastore", "local", "step", step, "--run-id", run_id,
                           "--task-id=%s" % task]
                    cmds.append(cmd)
                return cmds
            """,
            line=8,
            column=16,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step", "init"):
            if command.kind == "string" and not is_invocation(command):
                continue
            if not is_metaflow(module, command):
                continue
            names = ("--run-id", "--task-id") if command.name == "step" else ("--run-id",)
            for option in command.options:
                if option.name not in names or option.top_level:
                    continue
                where = _integer_id(module, option)
                if where is None:
                    continue
                kind = "run" if option.name == "--run-id" else "task"
                origin = ""
                if where.expr is not None and values_of(module).parameter(where.expr) is not None:
                    origin = f" (every caller passes an integer as {where.expr.id!r})"
                yield Finding(
                    where.span,
                    f"{option.name} is a plain integer{origin}: with local metadata Metaflow never "
                    f"registers integer {kind} ids, so the Client cannot see the {kind}; mint "
                    f"ids that are not numbers (e.g. '{kind[0]}-<n>')",
                )


def _integer_id(module: ModuleModel, option: Option) -> Optional[Token]:
    """The token to report when the option's value is certainly an integer."""
    if option.inline_value is not None:
        text = option.inline_value
        if HOLE not in text:
            return option.flag if _INTEGER_TEXT.fullmatch(text) else None
        flag = option.flag
        if text == HOLE and flag.container is not None:
            element = flag.container.elts[flag.index]
            if _integer_after(module, element, option.name + "="):
                return flag
        return None
    token = option.value
    if token is None or token.spread:
        return None
    if token.known:
        return token if _INTEGER_TEXT.fullmatch(token.text) else None
    if token.text == HOLE and token.expr is not None:
        return token if _integer_string(module, token.expr, 0) else None
    return None


def _integer_after(module: ModuleModel, expr: ast.expr, prefix: str) -> bool:
    """``expr`` is ``prefix`` followed by an integer: ``f"--task-id={i}"``,
    ``"--task-id=%d" % i``, ``"--task-id={}".format(i)``."""
    if isinstance(expr, ast.JoinedStr):
        head, rest = expr.values[0], expr.values[1:]
        return (
            isinstance(head, ast.Constant)
            and head.value == prefix
            and bool(rest)
            and _integer_string(module, ast.JoinedStr(values=rest), 0)
        )
    pattern = None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        pattern = values_of(module).const(expr.left)
    elif isinstance(expr, ast.Call) and call_name(expr) == "format":
        pattern = values_of(module).const(getattr(expr.func, "value", None))
    if not (isinstance(pattern, str) and pattern.startswith(prefix)):
        return False
    return _integer_format(module, pattern[len(prefix) :], expr, 0)


def _integer_format(module: ModuleModel, pattern: str, expr: ast.expr, depth: int) -> bool:
    """``pattern % args`` or ``pattern.format(arg)`` with one field is always an integer."""
    if isinstance(expr, ast.BinOp):
        if pattern in ("%d", "%i"):
            return True
        arg = expr.right
        if isinstance(arg, ast.Tuple) and len(arg.elts) == 1:
            arg = arg.elts[0]
        return pattern == "%s" and _is_integer(module, arg, depth + 1)
    return (
        pattern == "{}"
        and isinstance(expr, ast.Call)
        and len(expr.args) == 1
        and not expr.keywords
        and _is_integer(module, expr.args[0], depth + 1)
    )


def _integer_string(module: ModuleModel, expr: ast.expr, depth: int) -> bool:
    """``expr`` is a string (or number) whose text always parses as an integer."""
    if depth > _MAX_ID_DEPTH or module.is_placeholder(expr):
        return False
    if isinstance(expr, ast.Constant):
        value = expr.value
        if isinstance(value, str):
            return bool(_INTEGER_TEXT.fullmatch(value)) and "$" not in value
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(expr, ast.JoinedStr):
        return bool(expr.values) and all(
            _formats_integer(module, part, depth)
            if isinstance(part, ast.FormattedValue)
            else isinstance(part, ast.Constant) and str(part.value).isdigit()
            for part in expr.values
        )
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in ("str", "repr")
        and len(expr.args) == 1
        and not expr.keywords
    ):
        return _is_integer(module, expr.args[0], depth + 1)
    if isinstance(expr, ast.Call) and call_name(expr) == "format":
        pattern = values_of(module).const(getattr(expr.func, "value", None))
        return isinstance(pattern, str) and _integer_format(module, pattern, expr, depth)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        pattern = values_of(module).const(expr.left)
        return isinstance(pattern, str) and _integer_format(module, pattern, expr, depth)
    if isinstance(expr, ast.Name):
        value = values_of(module).const(expr)  # a parameter every caller passes the same value
        if isinstance(value, str) and value:
            return bool(_INTEGER_TEXT.fullmatch(value)) and "$" not in value
        return _name_is(module, expr, depth, _integer_string)
    return _is_integer(module, expr, depth + 1)


def _formats_integer(module: ModuleModel, part: ast.FormattedValue, depth: int) -> bool:
    spec = part.format_spec
    if spec is not None:
        text = values_of(module).const(spec)
        if not (isinstance(text, str) and _INTEGER_SPEC.fullmatch(text)):
            return False
    return part.conversion in (-1, ord("s"), ord("r")) and _is_integer(
        module, part.value, depth + 1
    )


def _is_integer(module: ModuleModel, expr: ast.expr, depth: int) -> bool:
    """``expr`` always evaluates to an int."""
    if depth > _MAX_ID_DEPTH or module.is_placeholder(expr):
        return False
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, int) and not isinstance(expr.value, bool)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, _INT_OPS):
        return _is_integer(module, expr.left, depth + 1) and _is_integer(
            module, expr.right, depth + 1
        )
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return _is_integer(module, expr.operand, depth + 1)
    if isinstance(expr, ast.IfExp):
        return _is_integer(module, expr.body, depth + 1) and _is_integer(
            module, expr.orelse, depth + 1
        )
    if isinstance(expr, ast.Call):
        name = call_name(expr)
        if name == "round" and len(expr.args) != 1:
            return False
        if name in _INT_CALLS:
            return True
        if name == "next" and len(expr.args) == 1 and isinstance(expr.args[0], ast.Name):
            return _is_counter(module, expr.args[0])
        return False
    if isinstance(expr, ast.Attribute) and expr.attr == "int":
        return isinstance(expr.value, ast.Call) and (call_name(expr.value) or "").startswith("uuid")
    if isinstance(expr, ast.Name):
        return _name_is(module, expr, depth, _is_integer)
    return False


def _is_counter(module: ModuleModel, name: ast.Name) -> bool:
    """``name`` is an ``itertools.count()``."""
    _, bindings = values_of(module).lookup(name.id, name)
    return bool(bindings) and all(
        isinstance(b, Assigned) and isinstance(b.value, ast.Call) and call_name(b.value) == "count"
        for b in bindings
    )


def _name_is(module: ModuleModel, name: ast.Name, depth: int, test) -> bool:
    """Every binding of the name gives a value that passes ``test``: assignments, loop
    variables over ``range``/``enumerate``/``itertools.count``, ``+=`` of integers."""
    _, bindings = values_of(module).lookup(name.id, name)
    if not bindings:
        return False
    for binding in bindings:
        if isinstance(binding, Assigned):
            if not test(module, binding.value, depth + 1):
                return False
        elif isinstance(binding, Bound) and isinstance(binding.node, ast.Name):
            if not _integer_binding(module, binding.node, depth):
                return False
        else:
            return False  # a parameter, an import, ...: could be anything
    return True


def _integer_binding(module: ModuleModel, target: ast.Name, depth: int) -> bool:
    """A loop variable or augmented assignment that always holds an int."""
    parent = module.parent(target)
    if isinstance(parent, ast.AugAssign):
        return isinstance(parent.op, _INT_OPS) and _is_integer(module, parent.value, depth + 1)
    element = None
    if isinstance(parent, ast.Tuple):
        element = parent.elts.index(target)
        parent = module.parent(parent)
    if not isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
        return False
    if parent.target is not target and element is None:
        return False
    source = parent.iter
    name = call_name(source) if isinstance(source, ast.Call) else None
    if element is None:
        return name in ("range", "count")
    return name == "enumerate" and element == 0
