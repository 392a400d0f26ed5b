"""MFK104 missing-input-paths: see docs/pitfalls/missing-input-paths.md."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    arguments_visible,
    names_env_var,
    option_env_vars,
    task_commands,
    uses_metaflow_builders,
    whole_command,
)
from mfkit_lint.model.module import ModuleModel

INPUT_PATHS_OPTIONS = ("--input-paths", "--input-paths-filename")
INPUT_PATHS_ENV_VARS = option_env_vars("step", *INPUT_PATHS_OPTIONS)


class MissingInputPaths(Rule):
    """A ``step`` command is built without ``--input-paths`` (or ``--input-paths-filename``).

    Every task, ``start`` included, learns where its inputs are only from this option
    (``<run>/_parameters/<task>`` for ``start``, the parent tasks' pathspecs otherwise).
    Without it Metaflow crashes inside the task with ``UnboundLocalError: cannot access local
    variable 'inputs'``.
    """

    code = "MFK104"
    name = "missing-input-paths"
    summary = "step command built without --input-paths"
    capability = Cap.LINEAR_DAG
    triggers = COMMAND_TRIGGERS

    VALID = (
        Valid(
            """
            def step_cmd(flow, step, run_id, task_id, input_paths):
                cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
                if input_paths:
                    cmd += ["--input-paths", input_paths]
                return cmd
            """
        ),
        Valid(
            """
            def clone_cmd(flow, step, run_id, task_id, origin):
                return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id,
                        "--clone-only", origin]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            def step_cmd(flow_file, step, run_id, task_id, attempt):
                return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--retry-count", str(attempt)]
            """,
            line=4,
            column=40,
        ),
        Invalid(
            """
            class Compiler:
                def _top(self):
                    return ["python", self.flow_file, "--quiet", "--no-pylint"]
                def step_cmd(self, step, run_id, task_id):
                    return self._top() + ["step", step, "--run-id", run_id, "--task-id", task_id]
            """,
            line=6,
            column=31,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            if any(command.has_option(o) for o in (*INPUT_PATHS_OPTIONS, "--clone-only")):
                continue
            if not arguments_visible(command) or not whole_command(module, command):
                continue
            if uses_metaflow_builders(module, command):
                continue
            if names_env_var(module, INPUT_PATHS_ENV_VARS):
                return
            yield Finding(
                command.subcommand.span,
                "'step' command without --input-paths: the task cannot find its inputs and "
                "fails (UnboundLocalError: ... 'inputs'); pass <run>/_parameters/<task> for "
                "start and the parent tasks' pathspecs for the other steps",
            )
