"""A project's modules read together: values, helpers and generated code across files.

Each case is a small package linted as a directory (the CLI's way): what one module defines,
another uses, and the answer must be the one the same code gets in one module.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.session import RunOptions, Session

PYPROJECT = '[project]\nname = "myscheduler-ext"\nversion = "0.1.0"\n'


def findings(tmp_path: Path, select: str, **files: str) -> list[tuple[str, int, str]]:
    """(file, row, code) of every finding when the package is linted as a directory."""
    base = tmp_path / "ext"
    files = {"pyproject.toml": PYPROJECT, "sched/__init__.py": "", **files}
    for name, code in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    linter = Linter(Settings(root=base), Selection((select,)))
    outcome = Session(linter, RunOptions()).run([str(base)])
    return sorted(
        (Path(d.filename).resolve().relative_to(base.resolve()).as_posix(), d.location.row, d.code)
        for d in outcome.diagnostics
    )


# -- generated code is read by the project rules -----------------------------------------------

GENERATED_STEP = '''
STEP_MODULE = """\\
import os
import subprocess
import sys


def run_step(flow_file, step_name, run_id, task_id, input_paths, attempt):
    env = dict(os.environ)
    cmd = [sys.executable, flow_file, "--environment", "local", "step", step_name,
           "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths,
           "--retry-count", str(attempt)]
    subprocess.run(cmd, env=env, check=True)
"""


def write_step_module(path):
    with open(path, "w") as f:
        f.write(STEP_MODULE)
'''

TEMPLATES_WITH_CLIARGS = """
from metaflow.runtime import CLIArgs as RuntimeCLIArgs


def step_templates(task):
    return RuntimeCLIArgs(task).get_args()
"""


def test_generated_step_without_configs_is_reported(tmp_path):
    found = findings(tmp_path, "MFK201", **{"sched/codegen.py": GENERATED_STEP})
    assert found == [("sched/codegen.py", 10, "MFK201")]


def test_generated_step_is_silent_when_the_project_builds_commands_with_cliargs(tmp_path):
    """The generator's project hands the configs on (CLIArgs adds --config-value, here
    imported under another name): the generated fallback gets its values from there."""
    found = findings(
        tmp_path,
        "MFK201",
        **{"sched/codegen.py": GENERATED_STEP, "sched/flow.py": TEMPLATES_WITH_CLIARGS},
    )
    assert found == []


def test_generated_step_without_environment_vars_is_reported(tmp_path):
    found = findings(tmp_path, "MFK210", **{"sched/codegen.py": GENERATED_STEP})
    assert found == [("sched/codegen.py", 10, "MFK210")]


def test_generated_step_is_silent_when_another_module_applies_the_vars(tmp_path):
    applies = """
    def apply_decorators(step, cli_args):
        for deco in step.decorators:
            deco.runtime_step_cli(cli_args, 0, 0, None)
    """
    found = findings(
        tmp_path, "MFK210", **{"sched/codegen.py": GENERATED_STEP, "sched/decos.py": applies}
    )
    assert found == []
