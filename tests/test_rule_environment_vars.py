"""MFK210 environment-vars-dropped: decided in project mode only."""

import textwrap
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.model.project import ProjectIndex

BUILDER = """
import subprocess, sys

def run_step(flow_file, step, run_id, task_id, input_paths, env):
    cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
           "--task-id", task_id, "--input-paths", input_paths]
    subprocess.run(cmd, env=env, check=True)
"""

HANDLERS = {
    "the decorators' runtime_step_cli hook": """
def apply_decorators(step, cli_args):
    for deco in step.decorators:
        deco.runtime_step_cli(cli_args, 0, 0, None)
""",
    "reading @environment's vars": """
def step_env(step):
    env = {}
    for deco in step.decorators:
        if deco.name == "environment":
            env.update(deco.attributes["vars"])
    return env
""",
    "Metaflow's CLIArgs": """
from metaflow.runtime import CLIArgs
""",
}


def _lint(tmp_path: Path, files: dict[str, str], project: bool = True) -> list[str]:
    paths = []
    for name, code in files.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(code))
        paths.append(path)
    linter = Linter(Settings(), Selection(("MFK210",)))
    if project:
        linter.project = ProjectIndex(paths)
    return [d.code for p in paths for d in linter.lint_path(p).diagnostics]


BUILDERS = {
    "argv list": BUILDER,
    "f-string shell line": """
import subprocess

def run_step(flow_file, step, run_id):
    subprocess.run(f"python {flow_file} step {step} --run-id {run_id} --task-id t-1", shell=True)
""",
    "bash template": '''
SCRIPT = """#!/bin/bash
python "$FLOW_FILE" step start --run-id "$RUN_ID" --task-id t-1 --input-paths "$PATHS"
"""
''',
    "list grown piece by piece": """
import sys

def step_cmd(flow_file, step, run_id):
    cmd = [sys.executable, flow_file]
    cmd += ["step", step]
    cmd.extend(["--run-id", run_id, "--task-id", "t-1"])
    return cmd
""",
}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_reports_when_nothing_in_the_project_applies_the_vars(tmp_path, builder):
    assert _lint(tmp_path, {"builder": builder, "other": "X = 1\n"}) == ["MFK210"]


@pytest.mark.parametrize("handler", HANDLERS.values(), ids=HANDLERS.keys())
def test_silent_when_another_module_handles_them(tmp_path, handler):
    assert _lint(tmp_path, {"builder": BUILDER, "handler": handler}) == []


def test_silent_when_the_same_module_handles_them(tmp_path):
    assert _lint(tmp_path, {"builder": BUILDER + HANDLERS["reading @environment's vars"]}) == []


def test_a_file_named_alone_is_judged_with_its_project(tmp_path):
    """No explicit project: the file's own (its directory here) decides, as for a directory run."""
    (tmp_path / "handler.py").write_text(textwrap.dedent(HANDLERS["Metaflow's CLIArgs"]))
    assert _lint(tmp_path, {"builder": BUILDER}, project=False) == []
    alone = tmp_path / "alone"
    alone.mkdir()
    assert _lint(alone, {"builder": BUILDER}, project=False) == ["MFK210"]
