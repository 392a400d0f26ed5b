"""Shared helpers: lint or fix a snippet in memory, run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.source import Source

BIN = Path(sys.executable).parent


def lint(code: str, select: Optional[str] = None) -> list[Diagnostic]:
    """Diagnostics for a dedented snippet, optionally only one rule (or prefix)."""
    selection = Selection((select,)) if select else None
    linter = Linter(Settings(), selection)
    text = textwrap.dedent(code)
    return linter.lint_source(Source(text, "utf-8", text.encode()), "snippet.py")


def codes(code: str, select: Optional[str] = None) -> list[str]:
    return [d.code for d in lint(code, select)]


def fixes_in_generated_code(code: str, select: Optional[str] = None) -> list[Diagnostic]:
    """The findings of a snippet with their fix edits computed (as JSON output does), after
    checking what generated-code fixes promise: a fix that is kept was written back into the
    template and the fixed file parses; one that is withdrawn says why."""
    import ast

    from mfkit_lint.fixers.apply import apply_edits, compute_edits

    text = textwrap.dedent(code)
    source = Source(text, "utf-8", text.encode())
    diagnostics = lint(code, select)
    compute_edits(source, diagnostics)
    for diag in diagnostics:
        if diag.fix is None:
            assert diag.no_fix_reason, diag
        else:
            fixed, applied = apply_edits(source, [diag])
            assert applied and fixed != text
            ast.parse(fixed)
    return diagnostics


def fix(code: str, select: str, unsafe: bool = False) -> str:
    """The snippet after applying the selected rule's fixes (as --fix would)."""
    from mfkit_lint.fixers.apply import fix_text

    linter = Linter(Settings(), Selection((select,)))
    text = textwrap.dedent(code)
    source = Source(text, "utf-8", text.encode())
    outcome = fix_text(
        source,
        lambda s: linter.lint_source(s, "snippet.py"),
        linter.lint_source(source, "snippet.py"),
        unsafe,
    )
    return outcome.text


def run_cli(
    *args: str, cwd: Optional[Path] = None, stdin: Optional[bytes] = None, tool: str = "mfkit-lint"
) -> subprocess.CompletedProcess:
    """Run an installed console script for real and capture its output."""
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [str(BIN / tool), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )


def invoke(
    *args: str, cwd: Optional[Path] = None, stdin: Optional[bytes] = None, tool: str = "mfkit-lint"
) -> subprocess.CompletedProcess:
    """Like run_cli, but in-process through click's test runner: for large option matrices,
    where starting a process per case would make the suite slow. Crashes propagate."""
    from click.testing import CliRunner

    from mfkit_lint.cli import lint_command, main

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()  # click >= 8.2 always keeps stderr apart
    previous = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(
            main if tool == "mfkit" else lint_command,
            list(args),
            input=stdin,
            env={"NO_COLOR": "1"},
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        [tool, *args], result.exit_code, result.stdout_bytes, result.stderr_bytes
    )


@pytest.fixture
def write(tmp_path: Path):
    """write("name.py", code) -> path, with the code dedented."""

    def _write(name: str, code: str = "", data: Optional[bytes] = None) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(code), encoding="utf-8")
        return path

    return _write


# -- small realistic extension files with known findings (CLI, config, flake8, bad-input tests) --

# MFK301 (safe fix) at 7:40: run params handed on as a tuple.
TUPLE_RUN_PARAMS = """\
from metaflow.runner.deployer import DeployedFlow


class MyDeployedFlow(DeployedFlow):
    def run(self, **kwargs):
        run_params = tuple("%s=%s" % (k, v) for k, v in kwargs.items())
        return self.trigger(run_params=run_params)

    # The lookups Metaflow calls on the class (MFK309 without them).
    @classmethod
    def from_deployment(cls, identifier, metadata=None):
        raise NotImplementedError("the example scheduler keeps no deployments")

    @classmethod
    def get_triggered_run(cls, identifier, run_id, metadata=None):
        raise NotImplementedError("the example scheduler keeps no runs")

    @classmethod
    def list_deployed_flows(cls, flow_name=None):
        return iter(())
"""
TUPLE_RUN_PARAMS_FIXED = TUPLE_RUN_PARAMS.replace(
    "trigger(run_params=run_params)", "trigger(run_params=list(run_params))"
)

# Appended to every snippet that starts a step by hand: it applies @environment's vars, as a
# correct extension must, so MFK210 stays out of the engine tests that use these snippets.
APPLIES_ENVIRONMENT_VARS = """

def environment_vars(step):
    return {k: str(v) for k, v in step.environment.attributes["vars"].items()}
"""

# MFK103 (safe fix) at 9:9: --tag before the step subcommand.
TAG_BEFORE_STEP = (
    """\
import subprocess
import sys


def run_step(flow_file, env_type, step_name, run_id, task_id, tag, input_paths, attempt):
    cmd = [
        sys.executable,
        flow_file, "--environment", env_type,
        "--tag",
        tag,
        "step",
        step_name,
        "--run-id",
        run_id,
        "--task-id",
        task_id,
        "--input-paths",
        input_paths,
        "--retry-count",
        str(attempt),
    ]
    subprocess.run(cmd, check=True)
"""
    + APPLIES_ENVIRONMENT_VARS
)
TAG_BEFORE_STEP_FIXED = TAG_BEFORE_STEP.replace(
    '        "--tag",\n        tag,\n        "step",\n        step_name,\n',
    '        "step",\n        step_name,\n        "--tag",\n        tag,\n',
)

# MFK101 at 18:9, no fix offered: no attempt counter in scope.
RETRY_ZERO = (
    """\
import subprocess
import sys


def run_step(flow_file, env_type, step_name, run_id, task_id, input_paths):
    cmd = [
        sys.executable,
        flow_file,
        "--environment", env_type, "step",
        step_name,
        "--run-id",
        run_id,
        "--task-id",
        task_id,
        "--input-paths",
        input_paths,
        "--retry-count",
        "0",
    ]
    subprocess.run(cmd, check=True)
"""
    + APPLIES_ENVIRONMENT_VARS
)

# MFK101 at 18:9 with an unsafe fix: the enclosing function has an attempt counter.
RETRY_ZERO_UNSAFE = RETRY_ZERO.replace("input_paths):", "input_paths, attempt):")
RETRY_ZERO_UNSAFE_FIXED = RETRY_ZERO_UNSAFE.replace('        "0",\n', "        str(attempt),\n")

CLEAN = (
    """\
import subprocess


def run_step(flow_file, env_type, step_name, input_paths, attempt):
    subprocess.run(
        ["python", flow_file, "--environment", env_type, "step", step_name,
         "--input-paths", input_paths, "--retry-count", str(attempt)]
    )
"""
    + APPLIES_ENVIRONMENT_VARS
)


@pytest.fixture
def bad_project(tmp_path: Path) -> Path:
    """A directory ``ext/`` with one file per snippet above: 4 findings, 2 safe fixes, 1 unsafe."""
    root = tmp_path / "ext"
    root.mkdir()
    for name, text in (
        ("deployer.py", TUPLE_RUN_PARAMS),
        ("steps.py", TAG_BEFORE_STEP),
        ("retry.py", RETRY_ZERO),
        ("unsafe.py", RETRY_ZERO_UNSAFE),
        ("clean.py", CLEAN),
    ):
        (root / name).write_text(text, encoding="utf-8")
    return root


def lint_tree(files: dict[str, str], select: Optional[str] = None, root: Optional[Path] = None):
    """Diagnostics of a small project written to ``root`` (or a temporary directory) and
    linted as a directory (project mode), with filenames relative to that directory."""
    import tempfile

    from mfkit_lint.engine.session import RunOptions, Session

    def run(base: Path):
        for name, text in files.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        selection = Selection((select,)) if select else None
        outcome = Session(Linter(Settings(root=base), selection), RunOptions()).run([str(base)])
        for diag in outcome.diagnostics:
            diag.filename = Path(diag.filename).relative_to(base).as_posix()
        return outcome.diagnostics

    if root is not None:
        return run(root)
    with tempfile.TemporaryDirectory() as tmp:
        return run(Path(tmp))


# The smallest flow Metaflow runs (start -> end), for tests that run fixed code through it.
TINY_FLOW = """
from metaflow import FlowSpec, step


class TinyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TinyFlow()
"""
