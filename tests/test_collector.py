"""The cycle collector in a process that only lints: a linted file's models are freed by
reference counting, the collector runs between files once enough objects were kept, and
processes that embed the linter (language server, flake8) keep Python's default."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest
from conftest import BIN, invoke, lint, run_cli
from test_embedded import HELPERS_AND_LINES

from mfkit_lint.engine import collector
from mfkit_lint.model import module


class _Node:
    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def restore_collector(monkeypatch):
    """The test process's collector as it was, whatever the test switched."""
    monkeypatch.setattr(collector, "_between_files", False)
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_a_linted_files_models_are_freed_by_reference_counting(monkeypatch, restore_collector):
    made: list[weakref.ref] = []
    real_init = module.ModuleModel.__init__

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(module.ModuleModel, "__init__", spy)
    gc.disable()
    # A module and the code it generates (two models), findings in the generated code.
    found = lint(HELPERS_AND_LINES, "MFK101")
    assert [(d.code, d.location.row) for d in found] == [("MFK101", 12)]  # the analyses ran
    assert len(made) == 2
    assert [ref() for ref in made] == [None, None]


def test_between_files_the_collector_runs_once_enough_objects_were_kept(
    monkeypatch, restore_collector
):
    monkeypatch.setattr(collector, "YOUNG_LIMIT", 1000)
    collector.collect_between_files()
    assert not gc.isenabled() and collector.collecting_between_files()
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # cyclic garbage: only the collector frees it
    ref = weakref.ref(a)
    del a, b
    collector.file_done()
    assert ref() is not None  # few objects kept since: no collection yet
    kept = [[] for _ in range(2000)]
    frozen = gc.get_freeze_count()
    collector.file_done()
    assert ref() is None
    # What survived is kept until the end: frozen, never walked by a collection again.
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_embedders_keep_pythons_collector(restore_collector):
    gc.enable()  # (an in-process command line run earlier in this session switched it off)
    thresholds = gc.get_threshold()
    lint(HELPERS_AND_LINES)
    collector.file_done()
    assert gc.isenabled() and gc.get_threshold() == thresholds
    assert not collector.collecting_between_files()


def test_a_worker_collects_between_files_as_its_parent_does():
    code = (
        "import gc, multiprocessing\n"
        "from mfkit_lint.engine import collector, workers\n"
        "from mfkit_lint.engine.config import Settings\n"
        "from mfkit_lint.engine.linter import Linter\n"
        "work = [], [0], multiprocessing.Array('q', [0, 0]), multiprocessing.Array('q', [0])\n"
        "workers._init_worker(Linter(Settings()), True, *work)\n"
        "print(gc.isenabled(), collector.collecting_between_files())\n"
        "frozen = gc.get_freeze_count()\n"
        "inherited = [[] for _ in range(1000)]\n"
        "workers._init_worker(Linter(Settings()), True, *work)  # as a forked worker does\n"
        "print(gc.get_freeze_count() >= frozen + len(inherited))\n"
        "workers._init_worker(Linter(Settings()), False, *work)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


def test_a_lint_program_ends_at_once_with_its_whole_report_and_exit_code(tmp_path):
    # Many findings (a report bigger than a pipe's buffer), a file that does not parse.
    for i in range(60):
        (tmp_path / f"mod_{i:02d}.py").write_text(HELPERS_AND_LINES)
    (tmp_path / "broken.py").write_text("def f(:\n")
    args = ("--no-cache", "--format", "concise", str(tmp_path))
    in_process = invoke(*args)
    for program in (run_cli(*args), run_cli("lint", *args, tool="mfkit")):
        assert program.returncode == in_process.returncode == 1
        assert program.stdout == in_process.stdout
        assert program.stdout.count(b"MFK101") == 60 and b"MFK001" in program.stdout
    assert run_cli("--no-cache", "--select", "MFK9999", str(tmp_path)).returncode == 2
    assert run_cli("rule", "MFK101", tool="mfkit").returncode == 0  # other commands too


def test_a_profiled_lint_program_still_writes_its_profile(tmp_path):
    (tmp_path / "mod.py").write_text(HELPERS_AND_LINES)
    profile = tmp_path / "lint.prof"
    script = str(BIN / "mfkit-lint")
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), script, "--no-cache", str(tmp_path)],
        capture_output=True,
    )
    assert b"MFK101" in done.stdout  # (cProfile itself exits 0 whatever the program did)
    assert profile.stat().st_size > 0
