"""MFK402: a backend's ``step`` command with no way to tell Metaflow "do not retry this"."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    backend_context,
    calls_named,
    header_span,
    module_backend_steps,
)
from mfkit_lint.model.module import ModuleModel, dotted_name

DISALLOW_RETRY = "METAFLOW_EXIT_DISALLOW_RETRY"
DISALLOW_RETRY_CODE = 202  # metaflow.exception.METAFLOW_EXIT_DISALLOW_RETRY in 2.19.39
_EXITS = ("exit", "_exit", "SystemExit")


def _is_disallow_retry(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value == DISALLOW_RETRY_CODE and not isinstance(node.value, bool)
    return (dotted_name(node) or "").split(".")[-1] == DISALLOW_RETRY


def exits_without_retry(module: ModuleModel) -> bool:
    """Some code of the project ends a process with METAFLOW_EXIT_DISALLOW_RETRY:
    ``sys.exit(...)``, ``os._exit(...)``, ``exit(...)`` or ``raise SystemExit(...)``."""
    # The module itself first (a backend's step command usually exits there): the other
    # modules of the project are parsed only when it does not.
    calls = module.calls_by_name
    if any(_exits_so(call) for name in _EXITS for call in calls.get(name, ())):
        return True
    return any(_exits_so(call) for name in _EXITS for _, call in calls_named(module, name))


def _exits_so(call: ast.Call) -> bool:
    return bool(call.args) and _is_disallow_retry(call.args[0])


class InfraVsStepExitCode(Rule):
    """A backend's ``step`` command never exits with ``METAFLOW_EXIT_DISALLOW_RETRY``.

    Metaflow's runtime retries a failed task while ``@retry`` attempts are left, unless the
    process exited with ``METAFLOW_EXIT_DISALLOW_RETRY`` (202): then it logs "This failed task
    will not be retried." A backend whose ``step`` command lets a failed submission, a lost
    job or a kill end in any other exit code makes the runtime start the task again and again,
    spending the user's retry budget on failures no retry can fix.
    """

    code = "MFK402"
    name = "infra-vs-step-exit-code"
    summary = "a backend's step command never exits with METAFLOW_EXIT_DISALLOW_RETRY"
    capability = Cap.RETRY
    triggers = (b"command",)
    no_fix = (
        "which failures belong to the infrastructure (a refused submission, a lost or "
        "preempted job) depends on the backend's API: exit with "
        "METAFLOW_EXIT_DISALLOW_RETRY where the step command detects those"
    )

    VALID = (
        Valid("""
        import sys
        from metaflow._vendor import click
        from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY

        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]

        @click.group()
        def cli():
            pass

        @cli.group(help="My backend")
        def mybackend():
            pass

        @mybackend.command(help="Run a step on my backend")
        @click.argument("step-name")
        @click.option("--run-id")
        def step(ctx, step_name, **kwargs):
            try:
                job = submit(step_name)
            except Exception:
                sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
            sys.exit(job.wait())
        """),
    )
    INVALID = (
        Invalid(
            """
        import sys
        from metaflow._vendor import click

        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]

        @click.group()
        def cli():
            pass

        @cli.group(help="My backend")
        def mybackend():
            pass

        @mybackend.command(help="Run a step on my backend")
        @click.argument("step-name")
        @click.option("--run-id")
        def step(ctx, step_name, **kwargs):
            job = submit(step_name)
            sys.exit(job.wait())
        """,
            line=24,
            column=1,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        steps = module_backend_steps(module)
        if not steps or not backend_context(module) or exits_without_retry(module):
            return
        for step in steps:
            yield Finding(
                header_span(module, step.function),
                f"'{step.group} step' never exits with {DISALLOW_RETRY}: a failed submission, "
                "a lost job or a killed task is retried by Metaflow like a failure of the "
                f"user's code and uses up @retry attempts; sys.exit({DISALLOW_RETRY}) on "
                "infrastructure failures",
            )
