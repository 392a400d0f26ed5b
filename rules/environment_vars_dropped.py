"""MFK210 environment-vars-dropped: see docs/pitfalls/environment-vars-dropped.md."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
)
from mfkit_lint.model.module import ModuleModel

_ENVIRONMENT_HANDLING = (
    b"runtime_step_cli",
    b"CLIArgs",
    b"environment_decorator",
    b"EnvironmentDecorator",
    b'"vars"',
    b"'vars'",
)


class EnvironmentVarsDropped(Rule):
    """Steps run as direct ``step`` subprocesses without the ``@environment(vars=...)`` values.

    ``@environment`` puts its variables into the step's environment through the decorator's
    ``runtime_step_cli`` hook, which Metaflow's own runtime calls when it builds the step
    command. An orchestrator that builds ``python flow.py step ...`` itself must call that hook
    (or read the decorator's ``vars`` and export them); otherwise the variables never reach
    the task and ``os.environ["MY_VAR"]`` raises ``KeyError`` in the step.
    """

    code = "MFK210"
    name = "environment-vars-dropped"
    summary = "step commands built by hand without the @environment(vars=...) values"
    triggers = COMMAND_TRIGGERS

    VALID = (
        Valid(
            """
            import subprocess, sys

            def run_step(flow_file, step, run_id, task_id, input_paths, env):
                cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--input-paths", input_paths]
                subprocess.run(cmd, env=env, check=True)

            def apply_decorators(step, cli_args):
                for deco in step.decorators:
                    deco.runtime_step_cli(cli_args, 0, 0, None)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import subprocess, sys

            def run_step(flow_file, step, run_id, task_id, input_paths, env):
                cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--input-paths", input_paths]
                subprocess.run(cmd, env=env, check=True)
            """,
            line=5,
            column=39,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.project is None or module.generated:
            return  # the vars may be handled in a module this run does not see
        command = next((c for c in commands_of(module) if c.name == "step"), None)
        if command is None or _handles_environment(module):
            return
        yield Finding(
            command.subcommand.span,
            "step command built by hand, and nothing in the project applies @environment's "
            "vars (runtime_step_cli or the decorator's 'vars'): those variables never reach "
            "the task",
        )


def _handles_environment(module: ModuleModel) -> bool:
    raw = module.source.raw or module.source.text.encode("utf-8", "replace")
    return any(marker in raw for marker in _ENVIRONMENT_HANDLING) or any(
        module.project.any_file_contains(marker) for marker in _ENVIRONMENT_HANDLING
    )
