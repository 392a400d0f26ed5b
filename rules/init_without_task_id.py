"""MFK106 init-without-task-id: see docs/pitfalls/init-without-task-id.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    arguments_visible,
    names_env_var,
    option_env_vars,
    task_commands,
    whole_command,
)
from mfkit_lint.model.module import ModuleModel

INIT_TASK_ID_ENV_VARS = option_env_vars("init", "--task-id")
_PARAMETERS_TASK = re.compile(r"_parameters/([A-Za-z0-9][A-Za-z0-9_.-]*)")


class InitWithoutTaskId(Rule):
    """An ``init`` command is built without ``--task-id``.

    ``init`` creates the run's ``_parameters`` task, and click requires both ``--run-id`` and
    ``--task-id``: without the task id it stops before doing anything,
    ``Error: Missing option '--task-id'.`` (exit code 2), and every step after it fails.
    """

    code = "MFK106"
    name = "init-without-task-id"
    summary = "init command built without --task-id"
    capability = Cap.LINEAR_DAG
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.SAFE,
        "Add --task-id for the _parameters task right after init's --run-id",
        "init_without_task_id:AddInitTaskId",
    )

    VALID = (
        Valid(
            """
            def init_cmd(flow, run_id):
                return ["python", flow, "init", "--run-id", run_id, "--task-id", "params"]
            """
        ),
        Valid(
            """
            USAGE = \"\"\"
            python flow.py init --run-id 1
            \"\"\"
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            def init_cmd(flow_file, run_id):
                return [sys.executable, flow_file, "--no-pylint",
                        "init", "--run-id", run_id]
            """,
            line=5,
            column=13,
            fixed="""
            import sys
            def init_cmd(flow_file, run_id):
                return [sys.executable, flow_file, "--no-pylint",
                        "init", "--run-id", run_id, "--task-id", "1"]
            """,
        ),
        Invalid(
            """
            def init_lines():
                return "\\n".join([
                    "_init = [sys.executable, FLOW_FILE, '--no-pylint']",
                    "_init += ['init', '--run-id', run_id]",
                    "subprocess.run(_init, check=True)",
                ])
            """,
            line=5,
            column=20,
            # generated lines: the fix is written into the template's literal
            fixed="""
            def init_lines():
                return "\\n".join([
                    "_init = [sys.executable, FLOW_FILE, '--no-pylint']",
                    "_init += ['init', '--run-id', run_id, '--task-id', '1']",
                    "subprocess.run(_init, check=True)",
                ])
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "init"):
            if command.has_option("--task-id"):
                continue
            if not arguments_visible(command) or not whole_command(module, command):
                continue
            if names_env_var(module, INIT_TASK_ID_ENV_VARS):
                return
            task_id = _parameters_task_id(module)
            yield Finding(
                command.subcommand.span,
                "'init' command without --task-id: Metaflow stops with \"Missing option "
                f"'--task-id'\"; pass the _parameters task id (--task-id {task_id}) the "
                "steps' --input-paths point at",
                _task_id_fix_data(module, command, task_id),
            )


def _parameters_task_id(module: ModuleModel) -> str:
    """The _parameters task id the module's input paths already use (``<run>/_parameters/X``)
    when they all agree on one literal, else "1"."""
    found = set()
    for node in module.nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_PARAMETERS_TASK.findall(node.value))
    return found.pop() if len(found) == 1 else "1"


def _task_id_fix_data(module: ModuleModel, command: Command, task_id: str) -> Optional[dict]:
    """Two list elements after the ``--run-id`` pair (or after "init") in the list literal
    holding the subcommand; in a string, the text right after the "init" word."""
    sub = command.subcommand
    if command.kind == "list":
        if sub.container is None:
            return None
        index = sub.index + 1
        run_id = command.option("--run-id")
        if (
            run_id is not None
            and run_id.value is not None
            and not run_id.top_level
            and run_id.flag.container is sub.container
            and run_id.value.container is sub.container
            and run_id.value.index == run_id.flag.index + 1
        ):
            index = run_id.value.index + 1
        quote = "'" if module.source.text[module.source.offset(sub.span.start)] == "'" else '"'
        return {
            "kind": "list",
            "list": module.position(sub.container),
            "index": index,
            "elements": f"{quote}--task-id{quote}, {quote}{task_id}{quote}",
        }
    template = command.template
    if template is None or template.offsets is None or sub.text != "init":
        return None
    end = sub.span.end
    return {
        "kind": "string",
        "string": module.position(template.node),
        "at": (end.row, end.column - 1),
        "text": f" --task-id {task_id}",
    }
