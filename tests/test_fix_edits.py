"""Fix edits are minimal: one fix may be several edits, none re-emitting unrelated lines."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import APPLIES_ENVIRONMENT_VARS, run_cli

from mfkit_lint.engine.source import Source
from mfkit_lint.fixers.apply import minimal_edits

# --tag sits in the top-level list; the subcommand list starts eight lines further down.
TAG_IN_TOP_LEVEL_LIST = (
    """\
import subprocess
import sys


def run_step(flow_file, env_type, step_name, run_id, task_id, tag, input_paths, attempt):
    top = [sys.executable, flow_file, "--environment", env_type, "--tag", tag]
    # unrelated lines between the two lists
    timeout = 60
    check = True
    cmd = top + [
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
    subprocess.run(cmd, check=check, timeout=timeout)
"""
    + APPLIES_ENVIRONMENT_VARS
)


def test_minimal_edits_of_two_distant_changes():
    old = "a = [1, 2]\nb = 3\nc = 4\nd = [5]\n"
    new = "a = [1]\nb = 3\nc = 4\nd = [5, 2]\n"
    source = Source.from_bytes(old.encode())
    edits = minimal_edits(source, old, new)
    assert len(edits) == 2
    assert all("b = 3" not in e.content and "c = 4" not in e.content for e in edits)
    assert (edits[0].location.row, edits[1].location.row) == (1, 4)


def test_minimal_edits_empty_when_nothing_changes():
    source = Source.from_bytes(b"x = 1\n")
    assert minimal_edits(source, "x = 1\n", "x = 1\n") == ()


def test_a_move_across_two_lists_is_two_small_edits_in_json(tmp_path: Path):
    (tmp_path / "steps.py").write_text(TAG_IN_TOP_LEVEL_LIST)
    result = run_cli("--format", "json", "--no-cache", "steps.py", cwd=tmp_path)
    items = [i for i in json.loads(result.stdout) if i["code"] == "MFK103"]
    assert len(items) == 1
    fix = items[0]["fix"]
    assert fix is not None, items[0]
    edits = fix["edits"]
    assert len(edits) == 2, edits
    for edit in edits:
        assert "unrelated" not in edit["content"] and "timeout = 60" not in edit["content"]
    # Applying them gives exactly what --fix writes.
    fixed = run_cli("--fix", "--no-cache", "steps.py", cwd=tmp_path)
    assert fixed.returncode in (0, 1)
    text = (tmp_path / "steps.py").read_text()
    assert '"--tag", tag' not in text.split("cmd = top")[0]
    assert "--tag" in text.split("cmd = top")[1]
