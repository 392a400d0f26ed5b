"""MFK110 branch-formatted-name: see docs/pitfalls/branch-formatted-name.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Token
from mfkit_lint.model.invocation import (
    checked_commands,
    flow_options,
)
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.templates import HOLE, is_stringish, template_of
from mfkit_lint.model.values import Assigned, Bound, values_of


class BranchFormattedName(Rule):
    """``--branch`` is given the formatted ``@project`` branch instead of the user's value.

    ``@project`` turns the raw ``--branch X`` into ``test.X`` (or ``prod.X``, ``user.<name>``,
    ``prod``) and exposes that as ``current.branch_name``. Handing the formatted name back as
    ``--branch`` makes Metaflow format it again: a dot is not allowed in a branch name, so the
    process stops with ``The branch name must contain only lowercase alphanumeric characters
    and underscores.``, and a formatted ``prod`` silently becomes ``test.prod``.
    """

    code = "MFK110"
    name = "branch-formatted-name"
    summary = "--branch given the formatted @project branch (test.x) instead of the raw value"
    capability = Cap.PROJECT_BRANCH
    triggers = (b"--branch",)

    VALID = (
        Valid(
            """
            def step_cmd(flow, run_id, branch):
                return ["python", flow, "--branch", branch, "step", "start", "--run-id", run_id]
            """
        ),
        Valid(
            """
            class Scheduler:
                def __init__(self, branch):
                    self.branch_name = branch

                def cmd(self, run_id):
                    return ["python", "f.py", "--branch", self.branch_name, "step", "s",
                            "--run-id", run_id]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            from metaflow import current

            def step_cmd(flow, run_id):
                return [sys.executable, flow, "--branch", current.branch_name,
                        "step", "start", "--run-id", run_id, "--task-id", "1"]
            """,
            line=6,
            column=47,
        ),
        Invalid(
            """
            from metaflow import current

            def step_cmd(flow, run_id):
                bn = getattr(current, "branch_name", None)
                return ["python", flow, "--branch", str(bn), "step", "a", "--run-id", run_id]
            """,
            line=6,
            column=41,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        seen: set[int] = set()
        for token, expr in _branch_values(module):
            if id(expr) in seen:
                continue  # the same value seen as a command word and as a list element
            seen.add(id(expr))
            reason = _formatted(module, expr)
            if reason is None:
                continue
            yield Finding(
                token.span if token is not None else expr,
                f"--branch is given {reason}, the formatted @project branch (test.<x>, "
                "user.<name>, prod): Metaflow formats it again and rejects it (The branch "
                "name must contain only lowercase alphanumeric characters and underscores.); "
                "pass the raw branch the user gave",
            )


def _branch_values(module: ModuleModel) -> Iterator[tuple[Optional[Token], ast.expr]]:
    """The expressions given to ``--branch``: in recognised commands, and as the element
    after a ``"--branch"`` element of any list literal (top-level option lists of helpers)."""
    for command in checked_commands(module):
        for option in flow_options(command):
            if option.name != "--branch":
                continue
            token = option.value if option.inline_value is None else option.flag
            if token is None:
                continue
            expr = _whole_word_expr(module, token)
            if expr is not None:
                yield token, expr
    for node in module.nodes:
        if not isinstance(node, ast.List):
            continue
        for index, element in enumerate(node.elts):
            if isinstance(element, ast.Constant) and element.value == "--branch":
                if index + 1 < len(node.elts):
                    yield None, node.elts[index + 1]
            elif isinstance(element, ast.JoinedStr) and len(element.values) == 2:
                head, field = element.values
                if (
                    isinstance(head, ast.Constant)
                    and head.value == "--branch="
                    and isinstance(field, ast.FormattedValue)
                ):
                    yield None, field.value


def _whole_word_expr(module: ModuleModel, token: Token) -> Optional[ast.expr]:
    """The expression that makes up the value word (``X`` in ``"--branch", X``,
    ``f"--branch={X}"``, ``"--branch %s" % X``)."""
    text = token.text or ""
    if text == HOLE:
        return token.expr
    if text != "--branch=" + HOLE:
        return None
    source = module.source
    start, end = source.offset(token.span.start), source.offset(token.span.end)
    node: Optional[ast.AST] = token.node
    while node is not None and is_stringish(node):
        template = template_of(module, node)
        if template is not None and template.offsets is not None:
            for i, ch in enumerate(template.text):
                if ch == HOLE and start <= template.offsets[i][0] < template.offsets[i][1] <= end:
                    return template.hole_expr(i)
        node = module.parent(node)
    return None


_MAX_DEPTH = 4


def _formatted(module: ModuleModel, expr: ast.expr, depth: int = 0) -> Optional[str]:
    """Why ``expr`` holds the formatted branch (a short description), or None."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Call) and _is_str_call(expr):
        return _formatted(module, expr.args[0], depth + 1)
    if isinstance(expr, ast.Attribute):
        if expr.attr == "branch_name":
            if _is_self(expr.value):
                return _self_attribute(module, expr, depth, default=True)
            return dotted_name(expr) or ".branch_name"
        if _is_self(expr.value):
            return _self_attribute(module, expr, depth, default=False)
        return None
    if isinstance(expr, ast.Call):
        return _formatted_call(expr)
    if isinstance(expr, ast.Subscript):
        return _formatted_subscript(expr)
    if isinstance(expr, ast.Name):
        return _formatted_name(module, expr, depth)
    return None


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _is_str_call(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "str"
        and len(call.args) == 1
        and not call.keywords
    )


def _constant_arg(call: ast.Call, index: int) -> Optional[object]:
    if len(call.args) > index and isinstance(call.args[index], ast.Constant):
        return call.args[index].value
    return None


def _formatted_call(call: ast.Call) -> Optional[str]:
    func = call.func
    # current.get("branch_name"), getattr(current, "branch_name")
    if isinstance(func, ast.Attribute) and func.attr == "get":
        key = _constant_arg(call, 0)
        owner = dotted_name(func.value) or ""
        if key == "branch_name" and owner.split(".")[-1].lstrip("_") == "current":
            return f"{owner}.get('branch_name')"
        if key == "branch" and _is_project_info(func.value):
            return f"{owner}.get('branch')"
    if (
        isinstance(func, ast.Name)
        and func.id == "getattr"
        and _constant_arg(call, 1) == "branch_name"
    ):
        return "getattr(..., 'branch_name')"
    return None


def _is_project_info(node: ast.AST) -> bool:
    name = dotted_name(node)
    return name is not None and name.split(".")[-1].lstrip("_") == "project_info"


def _formatted_subscript(node: ast.Subscript) -> Optional[str]:
    key = node.slice
    key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
    if not isinstance(key, ast.Constant):
        return None
    if key.value == "branch" and _is_project_info(node.value):
        return f"{dotted_name(node.value)}['branch']"
    if key.value == 1 and isinstance(node.value, ast.Call) and _is_format_name(node.value):
        return "format_name(...)[1]"
    return None


def _is_format_name(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "format_name"


def _formatted_name(module: ModuleModel, name: ast.Name, depth: int) -> Optional[str]:
    """A name every binding of which is a formatted branch."""
    _, bindings = values_of(module).lookup(name.id, name)
    if not bindings:
        return None
    reasons = []
    for binding in bindings:
        if isinstance(binding, Assigned):
            reason = _formatted(module, binding.value, depth + 1)
        elif isinstance(binding, Bound) and isinstance(binding.node, ast.Name):
            reason = _unpacked_format_name(module, binding.node)
        else:
            reason = None
        if reason is None:
            return None
        reasons.append(reason)
    return f"{name.id} (= {reasons[0]})"


def _unpacked_format_name(module: ModuleModel, target: ast.Name) -> Optional[str]:
    """``_, branch = format_name(...)``: Metaflow's formatter returns (flow name, branch)."""
    parent = module.parent(target)
    if not isinstance(parent, ast.Tuple) or len(parent.elts) != 2 or parent.elts[1] is not target:
        return None
    assign = module.parent(parent)
    if (
        isinstance(assign, ast.Assign)
        and isinstance(assign.value, ast.Call)
        and _is_format_name(assign.value)
    ):
        return "format_name(...)"
    return None


def _self_attribute(
    module: ModuleModel, attr: ast.Attribute, depth: int, default: bool
) -> Optional[str]:
    """``self.X`` whose every assignment in the module is a formatted branch (``default``
    decides when the module never assigns it)."""
    values = [
        node.value
        for node in module.nodes
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == attr.attr and _is_self(target.value)
    ]
    label = f"self.{attr.attr}"
    if not values:
        return label if default else None
    reasons = [_formatted(module, v, depth + 1) for v in values]
    if any(r is None for r in reasons):
        return None
    return f"{label} (= {reasons[0]})"
