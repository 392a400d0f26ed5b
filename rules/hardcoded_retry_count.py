"""MFK101 hardcoded-retry-count: see docs/pitfalls/hardcoded-retry-count.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional, Union

from mfkit_lint.contract import schedulers
from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import option_overrides
from mfkit_lint.model.commands import Token
from mfkit_lint.model.embedded import embedded_of
from mfkit_lint.model.extension import scheduler_of
from mfkit_lint.model.invocation import (
    option_constant,
    task_commands,
)
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.values import UNKNOWN, Param, Values, values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# Names under which extensions keep the scheduler's 0-based attempt counter.
# ("retries" is left out: extensions use it for the maximum number of retries as often.)
ATTEMPT_NAMES = ("retry_count", "attempt", "attempt_number", "retry_number")


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
    triggers = (b"--retry-count", b"retry_count")
    fix = FixSpec(
        Applicability.UNSAFE,
        "Pass the attempt counter (the enclosing function's, or the scheduler's template "
        "variable in code the scheduler renders) as --retry-count",
        "retry_count:ThreadAttemptCounter",
    )

    VALID = (
        Valid(
            """
            def cmd(run_id, attempt):
                return ["python", "flow.py", "step", "start", "--run-id", run_id,
                        "--retry-count", str(attempt)]
            """
        ),
        Valid(
            """
            def other():
                return ["mytool", "--retry-count", "0"]
            """
        ),
        Valid(
            """
            import click
            from metaflow import util

            @click.group()
            def cli():
                pass

            @cli.group(name="mybackend")
            def mybackend():
                pass

            @mybackend.command()
            @click.argument("step-name")
            @click.option("--run-id")
            @click.option("--task-id")
            @click.option("--retry-count", default=0)
            def step(step_name, **kwargs):
                kwargs["retry_count"] = int(kwargs.get("retry_count") or 0)
                step_args = " ".join(util.dict_to_cli_options(kwargs))
                submit("python flow.py step %s %s" % (step_name, step_args))
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            def step_cmd(flow_file, step, run_id, task_id, paths):
                return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--retry-count", "0", "--input-paths", paths]
            """,
            line=5,
            column=52,
        ),
        Invalid(
            """
            import sys


            def step_command(flow_file, step, run_id, task_id, input_paths, attempt):
                return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                        "--task-id", task_id,
                        "--retry-count", "0", "--input-paths", input_paths]
            """,
            line=8,
            column=30,
            fixed="""
            import sys


            def step_command(flow_file, step, run_id, task_id, input_paths, attempt):
                return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                        "--task-id", task_id,
                        "--retry-count", str(attempt), "--input-paths", input_paths]
            """,
        ),
        Invalid(
            """
            import click
            from metaflow import util

            @click.group()
            def cli():
                pass

            @cli.group(name="mybackend")
            def mybackend():
                pass

            @mybackend.command()
            @click.argument("step-name")
            @click.option("--run-id")
            @click.option("--task-id")
            @click.option("--retry-count", default=0)
            def step(step_name, **kwargs):
                kwargs["retry_count"] = 0
                step_args = " ".join(util.dict_to_cli_options(kwargs))
                submit("python flow.py step %s %s" % (step_name, step_args))
            """,
            line=19,
            column=29,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        yield from _backend_overrides(module)
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
            default = _unpassed_default(module, where)
            message = (
                f"--retry-count is always {count}{_cause(module, default)}: pass the "
                "scheduler's 0-based attempt counter so @retry and @catch see each retry"
            )
            data = self._fix_data(module, where)
            if data is not None:
                yield Finding(where.span, message, data)
                continue
            passed = _counter_fix(module, default)
            if isinstance(passed, fixes.CallArgumentFix):
                yield Finding(where.span, message, passed.to_data(), codemod=passed.CODEMOD)
            else:
                yield Finding(where.span, message, no_fix_reason=passed)

    @staticmethod
    def _fix_data(module: ModuleModel, token: Token) -> Optional[dict]:
        """Offer a fix only when the value is a literal and an attempt counter is in scope:
        a variable of the enclosing function, or the template counter of the scheduler that
        renders this generated code."""
        if token.container is not None:
            if not _is_count_literal(token.expr):
                template = _rendered_counter(module, token)  # a quoted word of generated code
                return fixes.AttemptCounterFix(template=template).to_data() if template else None
        elif not (isinstance(token.node, (ast.JoinedStr, ast.Constant)) and token.known):
            return None  # only text of a literal can take the counter in place of the count
        function = module.enclosing_function(token.node)
        if function is not None and (isinstance(token.node, ast.JoinedStr) or token.container):
            bindings = values_of(module).bindings(function)
            attempt = next((n for n in ATTEMPT_NAMES if n in bindings), None)
            if attempt is not None and values_of(module).value_in(function, attempt) is UNKNOWN:
                return fixes.AttemptCounterFix(attempt=attempt).to_data()
        template = _rendered_counter(module, token)
        return fixes.AttemptCounterFix(template=template).to_data() if template else None


def _rendered_counter(module: ModuleModel, token: Token) -> Optional[str]:
    """The scheduler's template expression for the 0-based attempt, where the count is text
    of code generated for a scheduler whose counter is a template variable (Kestra's ``{{
    taskrun.attemptsCount }}``): a string literal of generated code, or a word of generated
    code kept as a quoted literal (``'"0"'``). The generated code must already rely on the
    scheduler rendering it: a string literal of it holds a template expression."""
    scheduler = scheduler_of(module)
    template = schedulers.usable_retry_count(scheduler)
    if scheduler is None or scheduler.kind != "template" or template is None:
        return None
    literal = token.expr if token.expr is not None else token.node
    if not isinstance(literal, ast.Constant) or not isinstance(literal.value, str):
        return None
    if not module.generated and literal.value.strip() == token.text:
        return None  # a plain argv word of the extension's own command: nothing renders it
    opening = template.split(" ", 1)[0]
    trees = [module.tree, *(e.tree for e in embedded_of(module))]
    rendered = any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and opening in n.value
        for tree in trees
        for n in ast.walk(tree)
    )
    return template if rendered else None


def _backend_overrides(module: ModuleModel) -> Iterator[Finding]:
    """A backend's ``step`` that overwrites the runtime's retry count with a constant before
    handing the task options on to the core step."""
    for step, override in option_overrides(module, "--retry-count"):
        count = _as_count(values_of(module).const(override.value))
        if count is not None:
            yield Finding(
                override.value,
                f"the {step.group} step hands the task --retry-count {count} whatever the "
                "runtime passed: every attempt runs as attempt 0, so @retry and @catch never "
                "see a retry; forward the runtime's retry_count unchanged",
                no_fix_reason="the runtime's value is the right one: drop the override",
            )


@dataclass
class _Default:
    """A parameter whose default reaches --retry-count: the function, the parameter, and the
    calls of that function that do not pass it (with the module each call is in)."""

    function: ast.AST
    name: str
    missing: list[tuple[ast.Call, ModuleModel]]
    generated: bool


def _unpassed_default(module: ModuleModel, token: Token) -> Optional[_Default]:
    """Where the constant comes from when it is not written in the command itself: a
    parameter whose default some call leaves in place (the value model's call sites, the
    same that decided the value), followed through callers that only pass their own
    parameter on (``_step_cmd(retry_count=0)`` -> ``_fallback(retry_count=retry_count)``)."""
    expr = token.expr
    if isinstance(expr, ast.Call) and dotted_name(expr.func) == "str" and len(expr.args) == 1:
        expr = expr.args[0]
    function = module.enclosing_function(token.node)
    if not isinstance(expr, ast.Name) or function is None:
        return None
    values, name = values_of(module), expr.id
    for _ in range(4):
        param = _defaulted_parameter(values, function, name)
        sites = values.argument_sites(function, param) if param is not None else None
        if sites is None:
            return None  # no default, or calls that cannot all be read
        forwarded = {
            (owner, owner.module.enclosing_function(call), passed.id)
            for call, passed, owner in sites
            if isinstance(passed, ast.Name)
        }
        if len(forwarded) == 1 and all(passed is not None for _, passed, _ in sites):
            owner, caller, caller_name = forwarded.pop()
            if caller is not None:  # every call hands on the caller's own parameter
                values, function, name = owner, caller, caller_name
                continue
        missing = [(call, owner.module) for call, passed, owner in sites if passed is None]
        missing.sort(key=lambda site: (site[1] is not module, str(site[1].path), site[0].lineno))
        return _Default(function, name, missing, values.module.generated)
    return None


def _defaulted_parameter(values: Values, function: ast.AST, name: str) -> Optional[ast.arg]:
    """The parameter ``name`` of ``function`` when it has a default and is never rebound."""
    bindings = values.bindings(function).get(name, [])
    if len(bindings) == 1 and isinstance(bindings[0], Param) and bindings[0].default is not None:
        return bindings[0].arg
    return None


def _cause(module: ModuleModel, default: Optional[_Default]) -> str:
    if default is None:
        return ""
    function, name = default.function, default.name
    if not default.missing:
        return f": every call of {function.name}() passes the same constant as {name!r}"
    lines = [_where(module, call, owner) for call, owner in default.missing[:5]]
    where = f" (line {', '.join(lines)})" if not default.generated else ""
    return f": {function.name}() is called without {name!r}{where}, so its default is used"


def _where(module: ModuleModel, call: ast.Call, owner: ModuleModel) -> str:
    """A call's line, with its file's name when it is in another module."""
    if owner is module or owner.path is None:
        return str(call.lineno)
    return f"{owner.path.name}:{call.lineno}"


def _counter_fix(
    module: ModuleModel, default: Optional[_Default]
) -> Union[fixes.CallArgumentFix, str]:
    """Pass the scheduler's own attempt counter, converted to Metaflow's 0-based count, in
    every call that leaves the parameter to its default: only with a verified counter of the
    scheduler whose package the code imports."""
    scheduler = scheduler_of(module)
    if scheduler is not None and schedulers.usable_retry_count(scheduler) is None:
        return (
            f"{scheduler.scheduler}'s attempt counter is not verified against its docs or "
            f"source ({scheduler.note or 'see mfkit_lint/contract/schedulers.py'}): pass it by "
            "hand once its first value is known"
        )
    if default is None or not default.missing:
        return "the fix cannot be decided from the code here (the message says what to change)"
    if scheduler is None:
        return (
            "the scheduler is not known from what the code imports, so its attempt counter "
            "cannot be passed"
        )
    expression = schedulers.usable_retry_count(scheduler)
    needed = schedulers.counter_import(scheduler)
    if needed is None:
        return (
            f"{scheduler.scheduler}'s attempt counter ({scheduler.counter}) is not a module "
            "attribute the call can read: pass it from where the scheduler hands it over"
        )
    if any(owner is not module for _, owner in default.missing):
        return (
            "a call that leaves the parameter to its default is in another module: pass the "
            "attempt counter there"
        )
    return fixes.CallArgumentFix(
        tuple(module.position(call) for call, _ in default.missing),
        default.name,
        expression,
        needed,
    )


def _is_count_literal(node: Optional[ast.AST]) -> bool:
    if isinstance(node, ast.Constant):
        return _as_count(node.value) is not None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return len(node.args) == 1 and _is_count_literal(node.args[0])
    return False
