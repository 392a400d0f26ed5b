"""Rules on the step and init command lines an orchestrator builds (MFK1xx)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any, Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.commands import Command, Option, Token
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import UNKNOWN

COMMAND_TRIGGERS = (b"--run-id", b"--task-id", b"--retry-count", b"--input-paths")

# Names under which extensions keep the scheduler's 0-based attempt counter.
# ("retries" is left out: extensions use it for the maximum number of retries as often.)
ATTEMPT_NAMES = ("retry_count", "attempt", "attempt_number", "retry_number")
# Names under which extensions keep the raw, user-given @project branch.
BRANCH_NAMES = ("branch", "_branch", "project_branch", "_project_branch", "PROJECT_BRANCH")


def task_commands(module: ModuleModel, *names: str) -> Iterator[Command]:
    for command in module.commands:
        if command.name in names:
            yield command


def option_constant(module: ModuleModel, option: Option) -> Any:
    """The constant an option's value always has, or UNKNOWN."""
    if option.inline_value is not None:
        text = option.inline_value
        if HOLE not in text:
            return text
        if text == HOLE and option.flag.expr is not None:
            return module.values.const(option.flag.expr)
        return UNKNOWN
    token = option.value
    if token is None:
        return UNKNOWN
    if token.known:
        return token.text
    if token.text == HOLE and token.expr is not None:
        return module.values.const(token.expr)
    return UNKNOWN


def _as_count(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class HardcodedRetryCount(Rule):
    """``--retry-count`` is given a constant instead of the scheduler's attempt counter.

    The ``step`` command runs one attempt; retrying is the scheduler's job, and Metaflow learns
    which attempt it is running only from ``--retry-count``. A constant (``0``, ``"0"``,
    ``str(0)``, a parameter default no caller overrides) makes every retry attempt 0 again:
    ``current.retry_count`` never moves, each attempt overwrites attempt 0's data, and
    ``@catch`` never fires when ``--max-user-code-retries`` is passed.
    """

    code = "MFK101"
    name = "hardcoded-retry-count"
    summary = "--retry-count is a constant instead of the scheduler's attempt counter"
    capability = Cap.RETRY
    triggers = (b"--retry-count",)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Pass the enclosing function's attempt counter as --retry-count",
        "retry_count:ThreadAttemptCounter",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            option = command.option("--retry-count")
            if option is None:
                continue
            count = _as_count(option_constant(module, option))
            if count is None:
                continue
            max_retries = command.option("--max-user-code-retries")
            if max_retries is not None and _as_count(option_constant(module, max_retries)) == 0:
                continue  # no retries configured for this step: attempt 0 is right
            where = option.value or option.flag
            yield Finding(
                where.span,
                f"--retry-count is always {count}: pass the scheduler's 0-based attempt counter "
                "so @retry and @catch see each retry",
                self._fix_data(module, where),
            )

    @staticmethod
    def _fix_data(module: ModuleModel, token: Token) -> Optional[dict]:
        """Offer a fix only when the value is a literal and an attempt counter is in scope."""
        if token.container is not None:
            if not _is_count_literal(token.expr):
                return None
        elif not (isinstance(token.node, ast.JoinedStr) and token.known):
            return None  # only an f-string can take the counter in place of the literal
        function = module.enclosing_function(token.node)
        if function is None:
            return None
        bindings = module.values.bindings(function)
        attempt = next((n for n in ATTEMPT_NAMES if n in bindings), None)
        if attempt is None or module.values.value_in(function, attempt) is not UNKNOWN:
            return None
        return {"attempt": attempt}


def _is_count_literal(node: Optional[ast.AST]) -> bool:
    if isinstance(node, ast.Constant):
        return _as_count(node.value) is not None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return len(node.args) == 1 and _is_count_literal(node.args[0])
    return False


class TagBeforeSubcommand(Rule):
    """``--tag`` is placed before the ``step``/``init``/``run`` subcommand.

    ``--tag`` is an option of the subcommand, not of the flow's top-level command group, so
    click rejects it there: ``Error: no such option: --tag`` (exit code 2), before any user
    code runs.
    """

    code = "MFK103"
    name = "tag-before-subcommand"
    summary = "--tag placed before the subcommand, where Metaflow does not accept it"
    triggers = (b"--tag",)
    fix = FixSpec(
        Applicability.SAFE,
        "Move --tag and its value after the subcommand",
        "tag_position:MoveTagAfterSubcommand",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in module.commands:
            for option in command.options:
                if option.name != "--tag" or not option.top_level:
                    continue
                yield Finding(
                    option.flag.span,
                    f"--tag must come after the {command.name!r} subcommand: Metaflow rejects "
                    "it as a top-level option (no such option: --tag)",
                    _move_fix_data(module, command, option),
                )


def _move_fix_data(module: ModuleModel, command: Command, option: Option) -> Optional[dict]:
    """Where to move the pair: both words and the insertion point must be list elements
    (list commands) or sit in one string literal with known positions (string commands)."""
    after = command.subcommand
    if command.name in ("step",) and command.sub_index + 1 < len(command.tokens):
        after = command.tokens[command.sub_index + 1]
    pair = [option.flag] + ([option.value] if option.value is not None else [])
    if command.kind == "list":
        if any(t.container is None or t.conditional for t in (*pair, after)):
            return None
        return {
            "kind": "list",
            "pair": [_element_ref(module, t) for t in pair],
            "after": _element_ref(module, after),
        }
    template = command.template
    if template is None or template.offsets is None or option.inline_value is not None:
        return None
    return {
        "kind": "string",
        "string": module.position(template.node),
        "pair": [_span_tuple(t) for t in pair],
        "after": _span_tuple(after),
    }


def _element_ref(module: ModuleModel, token: Token) -> dict:
    return {"list": module.position(token.container), "index": token.index}


def _span_tuple(token: Token) -> tuple[int, int, int, int]:
    s = token.span
    return (s.start.row, s.start.column, s.end.row, s.end.column)


class MissingBranch(Rule):
    """A ``step`` or ``init`` command is built without ``--branch`` although a branch is known.

    ``@project`` takes the branch from the top-level ``--branch`` option of every process.
    A step started without it runs on the default ``user.<name>`` branch: ``current.branch_name``
    and the ``project_branch:`` tag are wrong, and an ``init`` without it registers the whole run
    under ``user.<name>``, so branch-filtered lookups miss it.
    """

    code = "MFK102"
    name = "missing-branch"
    summary = "step/init command built without --branch while a @project branch is available"
    capability = Cap.PROJECT_BRANCH
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.UNSAFE,
        "Insert --branch before the subcommand, only when a branch is set",
        "branch:InsertBranch",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        commands = list(task_commands(module, "step", "init"))
        known = _branch_values(module, commands)
        via_env: Optional[bool] = None
        for command in commands:
            if command.has_option("--branch") or command.has_option("--production"):
                continue
            if not command.top_level_complete:
                continue  # unseen words before the subcommand may carry --branch
            branch = _branch_in_scope(module, command, known)
            if branch is None:
                continue
            if via_env is None:
                via_env = _sets_branch_env(module)
            if via_env:
                return  # the branch travels through the environment (click's envvar)
            yield Finding(
                command.subcommand.span,
                f"{command.name!r} command without --branch although the branch is available "
                f"as {branch!r}: @project runs it on the user.<name> branch instead",
                _branch_fix_data(module, command, branch),
            )


BRANCH_ENV_VARS = ("METAFLOW_FLOW_BRANCH", "METAFLOW_BRANCH")


def _sets_branch_env(module: ModuleModel) -> bool:
    """The code (not a comment) names click's environment variable for --branch."""
    for node in module.nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(v in node.value for v in BRANCH_ENV_VARS):
                return True
        elif isinstance(node, ast.keyword) and node.arg in BRANCH_ENV_VARS:
            return True
    return False


def _branch_values(module: ModuleModel, commands: list[Command]) -> list[ast.expr]:
    """Expressions other commands of this module already pass as --branch."""
    out = []
    for command in commands:
        option = command.option("--branch")
        if option is not None and option.value is not None and option.value.expr is not None:
            out.append(option.value.expr)
    return out


def _branch_in_scope(module: ModuleModel, command: Command, known: list[ast.expr]) -> Optional[str]:
    function = command.function
    local = module.values.bindings(function) if function is not None else {}
    for expr in known:
        if isinstance(expr, ast.Name) and (expr.id in local or _is_global(module, expr)):
            return expr.id
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "self"
            and "self" in local
        ):
            return f"self.{expr.attr}"
    for name in BRANCH_NAMES:
        if name in local:
            return name
    if "self" in local:
        for name in BRANCH_NAMES:
            if _assigns_self_attribute(module, name):
                return f"self.{name}"
    return None


def _is_global(module: ModuleModel, name: ast.Name) -> bool:
    """The name is a module global where it is used (bound at module level, or free in its
    function, as in generated code whose globals are defined in another template)."""
    scope, _ = module.values.lookup(name.id, name)
    return scope is None or scope is module.tree


def _assigns_self_attribute(module: ModuleModel, attr: str) -> bool:
    cache = module.__dict__.setdefault("_self_attrs", None)
    if cache is None:
        cache = set()
        for node in module.nodes:
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                cache.add(node.attr)
        module.__dict__["_self_attrs"] = cache
    return attr in cache


def _branch_fix_data(module: ModuleModel, command: Command, branch: str) -> Optional[dict]:
    sub = command.subcommand
    if command.kind != "list" or sub.container is None:
        return None
    return {"list": module.position(sub.container), "index": sub.index, "branch": branch}
