"""The findings of a tree do not depend on how its files are scheduled.

A worker process keeps state between the files it lints (the project index's parsed modules,
its import answers, the trees the linter lent it), and which worker gets which file depends on
timing. So the same tree linted in one process, in 2 or 3 workers, with its files in reverse
order, and file by file (each in a fresh run: only the file itself linted first) must give the
same findings; so must runs whose string hashes differ (each process hashes strings with its
own seed: a set of names iterated for a first answer would differ from run to run).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import BIN
from test_project_copies import backend_copy, builder_copy

from mfkit_lint.engine import workers
from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.discovery import FileFinder
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session

pytestmark = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="forked workers (spawned ones are covered in test_parallel.py)",
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "metaflow-localsched"


def _copies(root: Path) -> Path:
    """Two copies of two small packages in one project, one copy correct, one wrong, plus a
    script outside both that imports one of them (it cannot tell which)."""
    (root / "setup.cfg").write_text("")
    backend_copy(root / "copy-a", correct=True)
    builder_copy(root / "copy-a", correct=False)
    backend_copy(root / "copy-b", correct=False)
    builder_copy(root / "copy-b", correct=True)
    (root / "run.py").write_text("from mybackend.cli import cli\n\ncli()\n")
    return root


def _findings(root: Path, paths: list[Path], jobs: int) -> list[tuple]:
    linter = Linter(Settings(root=root))
    outcome = Session(linter, RunOptions(jobs=jobs, cache=False)).run([str(p) for p in paths])
    assert not outcome.errors
    return sorted(
        (
            Path(d.filename).resolve().relative_to(root.resolve()).as_posix(),
            d.location.row,
            d.location.column,
            d.code,
            d.message,
        )
        for d in outcome.diagnostics
    )


@pytest.mark.parametrize("tree", ["copies", "example"])
def test_same_findings_whatever_the_schedule(tree: str, tmp_path: Path, monkeypatch):
    root = _copies(tmp_path) if tree == "copies" else EXAMPLE
    files = FileFinder(Settings(root=root)).find([root]).files
    assert len(files) >= 6
    expected = _findings(root, [root], jobs=1)
    assert expected  # the trees have findings: an empty run would compare nothing
    used: list[int] = []
    real = workers._in_workers

    def spy(linter, items, count, context):
        used.append(count)
        return real(linter, items, count, context)

    # Workers even for a tree this small, so that files really are shared out.
    monkeypatch.setattr(workers, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(workers, "MIN_BYTES_PER_WORKER", 1)
    monkeypatch.setattr(workers, "_in_workers", spy)
    for jobs in (2, 3, 2, 3):
        assert _findings(root, [root], jobs) == expected
    assert used == [2, 3, 2, 3]
    assert _findings(root, list(reversed(files)), jobs=1) == expected
    one_by_one = sorted(f for path in files for f in _findings(root, [path], jobs=1))
    assert one_by_one == expected


@pytest.mark.parametrize("tree", ["copies", "example"])
def test_same_findings_whatever_the_hash_seed(tree: str, tmp_path: Path):
    root = _copies(tmp_path) if tree == "copies" else EXAMPLE
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, NO_COLOR="1")
        result = subprocess.run(
            [str(BIN / "mfkit-lint"), "--no-cache", "--exit-zero", "--format", "concise", "."],
            cwd=root,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip()
        outputs.add(result.stdout)
    assert len(outputs) == 1
