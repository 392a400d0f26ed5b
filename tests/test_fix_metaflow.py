"""Fixed commands are accepted by Metaflow: by the contract snapshot, and by Metaflow's real
command line (metaflow 2.19.39, a tiny flow; ``--help`` makes click check every option
without running the task)."""

from __future__ import annotations

import ast
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import TINY_FLOW, codes, fix

from mfkit_lint.contract import cli as contract

metaflow = pytest.importorskip("metaflow")

# A step-command builder in the shapes extensions use: options added by statements of their
# own, one guarded, one in a loop, one the core step does not take at all.
BUILDER = """
import sys


def step_command(flow_file, step_name, run_id, task_id, input_paths, attempt, tags,
                 origin_run_id, code_package_url):
    cmd = [sys.executable, flow_file, "--no-pylint", "--quiet", "--environment", "local"]
    for tag in tags:
        cmd += ["--tag", tag]
    if origin_run_id:
        cmd += ["--clone-run-id", origin_run_id]
    cmd += [
        "step", step_name,
        "--run-id", run_id,
        "--task-id", task_id,
        "--input-paths", input_paths,
        "--retry-count", str(attempt),
    ]
    if code_package_url:
        cmd += ["--code-package-url", code_package_url]
    return cmd
"""


def _argv(builder: str, flow_file: Path) -> list[str]:
    """The command the (test's own) builder returns."""
    namespace: dict = {}
    exec(compile(textwrap.dedent(builder), "builder.py", "exec"), namespace)
    return namespace["step_command"](
        str(flow_file),
        "start",
        "r-1",
        "t-1",
        "r-1/_parameters/p-1",
        0,
        ["nightly"],
        "r-0",
        "s3://b/pkg",
    )


def _contract_rejects(argv: list[str]) -> list[str]:
    """Options of ``argv`` that the contract snapshot does not accept where they stand."""
    sub = argv.index("step")
    rejected = []
    for side, words in (("top", argv[2:sub]), ("step", argv[sub + 2 :])):
        known = contract.TOP_LEVEL_OPTIONS if side == "top" else contract.SUBCOMMAND_OPTIONS["step"]
        rejected += [w for w in words if w.startswith("--") and w.split("=")[0] not in known]
    return rejected


def _metaflow_accepts(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, USERNAME="dev", METAFLOW_HOME=str(cwd / "home"))
    return subprocess.run(
        [*argv, "--help"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_fixed_commands_are_accepted_by_the_contract_and_by_metaflow(tmp_path: Path):
    flow = tmp_path / "flow.py"
    flow.write_text(TINY_FLOW)
    assert sorted(codes(BUILDER, "MFK1")) == ["MFK103", "MFK109", "MFK109"]

    before = _argv(BUILDER, flow)
    assert _contract_rejects(before) == ["--tag", "--clone-run-id", "--code-package-url"]
    rejected = _metaflow_accepts(before, tmp_path)
    assert rejected.returncode == 2 and "no such option" in rejected.stderr.lower()

    fixed = fix(fix(BUILDER, "MFK103"), "MFK109", unsafe=True)
    ast.parse(fixed)
    assert codes(fixed, "MFK1") == []
    assert fix(fix(fixed, "MFK103"), "MFK109", unsafe=True) == fixed  # idempotent

    after = _argv(fixed, flow)
    assert _contract_rejects(after) == []
    assert after[after.index("step") :].count("--tag") == 1  # moved, not lost
    assert "--clone-run-id" in after[after.index("step") :]
    assert "--code-package-url" not in after  # removed: the core step does not take it
    accepted = _metaflow_accepts(after, tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert "Usage: flow.py step" in accepted.stdout


def test_the_safe_moves_alone_leave_the_unsafe_removal_to_unsafe_fixes():
    safe = fix(fix(BUILDER, "MFK103"), "MFK109")
    assert codes(safe, "MFK109") == ["MFK109"]  # --code-package-url: removal is unsafe
    assert "--code-package-url" in safe


# A helper shared by 'step' and 'init' adds --namespace before the subcommand: 'step' takes it
# only after 'step NAME', 'init' not at all. The fix moves it per command.
SHARED_HELPER = """
import sys


def _top_level(flow_file, namespace):
    args = [sys.executable, flow_file, "--no-pylint", "--quiet", "--environment", "local"]
    if namespace:
        args += ["--namespace", namespace]
    return args


def step_command(flow_file, namespace, run_id, task_id, input_paths):
    cmd = _top_level(flow_file, namespace)
    cmd += ["step", "start"]
    cmd += ["--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths]
    return cmd


def init_command(flow_file, namespace, run_id):
    cmd = _top_level(flow_file, namespace) + ["init", "--run-id", run_id, "--task-id", "p-1"]
    return cmd
"""


def test_a_helper_option_moved_per_command_is_accepted_by_metaflow(tmp_path: Path):
    flow = tmp_path / "flow.py"
    flow.write_text(TINY_FLOW)

    def commands(builder: str) -> tuple[list[str], list[str]]:
        namespace: dict = {}
        exec(compile(textwrap.dedent(builder), "builder.py", "exec"), namespace)
        step = namespace["step_command"](str(flow), "user:dev", "r-1", "t-1", "r-1/_parameters/p")
        init = namespace["init_command"](str(flow), "user:dev", "r-1")
        return step, init

    for argv in commands(SHARED_HELPER):
        rejected = _metaflow_accepts(argv, tmp_path)
        assert rejected.returncode == 2 and "no such option" in rejected.stderr.lower()

    fixed = fix(SHARED_HELPER, "MFK109", unsafe=True)
    assert codes(fixed, "MFK1") == []
    assert fix(fixed, "MFK109", unsafe=True) == fixed
    step, init = commands(fixed)
    assert step[step.index("step") :][:4] == ["step", "start", "--namespace", "user:dev"]
    assert "--namespace" not in init
    assert _contract_rejects(step) == []
    for argv, usage in ((step, "Usage: flow.py step"), (init, "Usage: flow.py init")):
        accepted = _metaflow_accepts(argv, tmp_path)
        assert accepted.returncode == 0, accepted.stderr
        assert usage in accepted.stdout


# metaflow-temporal's shape: one helper's top-level words build 'init' and 'dump' (which reads
# the parameters back); neither takes --namespace on any side, so the helper no longer adds it.
INIT_AND_DUMP = """
import sys


def _top_level_args(flow_file, namespace):
    args = ["--quiet", "--no-pylint", "--metadata=local", "--datastore=local"]
    if namespace:
        args.append("--namespace=%s" % namespace)
    return args


def init_command(flow_file, namespace, run_id):
    top_level = _top_level_args(flow_file, namespace)
    init_args = ["init", "--run-id", run_id, "--task-id", "p-1"]
    return [sys.executable, flow_file] + top_level + init_args


def dump_command(flow_file, namespace, run_id):
    top_level = _top_level_args(flow_file, namespace)
    return [sys.executable, flow_file] + top_level + [
        "dump",
        "--max-value-size=0",
        "%s/_parameters/p-1" % run_id,
    ]
"""


def test_a_helper_option_neither_init_nor_dump_takes_is_removed_and_metaflow_accepts_both(
    tmp_path: Path,
):
    flow = tmp_path / "flow.py"
    flow.write_text(TINY_FLOW)

    def commands(builder: str) -> list[list[str]]:
        namespace: dict = {}
        exec(compile(textwrap.dedent(builder), "builder.py", "exec"), namespace)
        return [namespace[f"{n}_command"](str(flow), "user:dev", "r-1") for n in ("init", "dump")]

    for argv in commands(INIT_AND_DUMP):
        rejected = _metaflow_accepts(argv, tmp_path)
        assert rejected.returncode == 2 and "no such option: --namespace" in rejected.stderr

    fixed = fix(INIT_AND_DUMP, "MFK109", unsafe=True)
    assert codes(fixed, "MFK1") == []
    assert fix(fixed, "MFK109", unsafe=True) == fixed
    for argv, usage in zip(commands(fixed), ("Usage: flow.py init", "Usage: flow.py dump")):
        assert "--namespace" not in " ".join(argv)
        sub = usage.split()[-1]
        words = argv[argv.index(sub) + 1 :]
        known = contract.COMMAND_OPTIONS[sub]
        assert [w for w in words if w.startswith("--") and w.split("=")[0] not in known] == []
        accepted = _metaflow_accepts(argv, tmp_path)
        assert accepted.returncode == 0, accepted.stderr
        assert usage in accepted.stdout
