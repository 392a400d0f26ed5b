"""Linting in worker processes: same results in the same order, small inputs stay in-process,
crashes and Ctrl-C end cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BIN, RETRY_ZERO, TAG_BEFORE_STEP, TUPLE_RUN_PARAMS, invoke, run_cli

from mfkit_lint.engine import workers
from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session
from mfkit_lint.engine.workers import plan_workers
from mfkit_lint.model.project import ProjectIndex

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

PADDING = "".join(f"def helper_{i}(x):\n    return [x, {i}, 'pad']\n\n\n" for i in range(60))


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """48 files, a third of them with findings, one broken, one undecodable."""
    root = tmp_path / "many"
    root.mkdir()
    snippets = (TAG_BEFORE_STEP, TUPLE_RUN_PARAMS, RETRY_ZERO, "x = 1\n")
    for i in range(48):
        (root / f"mod_{i:02d}.py").write_text(PADDING + snippets[i % 4])
    (root / "mod_07.py").write_text("def broken(:\n")
    (root / "mod_08.py").write_bytes(b"x = '\xff'\n")
    return root


def _force_workers(monkeypatch) -> list[int]:
    """Use worker processes even for a small tree; returns the list of worker counts used."""
    monkeypatch.setattr(workers, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(workers, "MIN_BYTES_PER_WORKER", 1)
    used: list[int] = []
    real = workers._in_workers

    def spy(linter, items, count, context):
        used.append(count)
        return real(linter, items, count, context)

    monkeypatch.setattr(workers, "_in_workers", spy)
    return used


def _run(root: Path, jobs: int, **options):
    return Session(Linter(Settings(root=root)), RunOptions(jobs=jobs, **options)).run([str(root)])


def _view(outcome) -> tuple:
    return (
        [(d.filename, d.span, d.code, d.message, d.fix, d.fix_data) for d in outcome.diagnostics],
        outcome.errors,
        {name: (s.text, s.encoding, s.raw) for name, s in outcome.sources.items()},
        outcome.files,
    )


def test_plan_workers_keeps_small_inputs_in_process():
    assert plan_workers(files=10, size=10_000_000, jobs=8) == 1  # few files
    assert plan_workers(files=1000, size=100_000, jobs=8) == 1  # little source
    assert plan_workers(files=1000, size=100_000_000, jobs=1) == 1  # --jobs 1
    assert plan_workers(files=1000, size=100_000_000, jobs=4) == 4
    assert plan_workers(files=40, size=100_000_000, jobs=4) == 2  # 16+ files per worker
    # spawned workers import everything again, so they need more work each
    assert plan_workers(files=1000, size=2_000_000, jobs=8, start_method="fork") == 7
    assert plan_workers(files=1000, size=2_000_000, jobs=8, start_method="spawn") == 1


def test_workers_give_the_same_results_in_the_same_order(many: Path, monkeypatch):
    serial = _run(many, jobs=1)
    used = _force_workers(monkeypatch)
    parallel = _run(many, jobs=3)
    assert used == [3]
    assert _view(parallel) == _view(serial)
    assert {d.code for d in serial.diagnostics} >= {"MFK001", "MFK002", "MFK101", "MFK103"}


def test_spawned_workers(many: Path):
    """Where fork is not used (macOS, Windows, threads running): spawned workers get the linter
    pickled, per-file ignores and the project index included."""
    import multiprocessing

    settings = Settings(root=many, per_file_ignores=(("mod_0*.py", ("MFK103",)),))
    linter = Linter(settings)
    linter.project = ProjectIndex(sorted(many.glob("*.py")))
    items = [(str(p), p.read_bytes()) for p in sorted(many.glob("*.py"))[:12]]
    serial = [linter.lint_bytes(raw, name) for name, raw in items]
    context = multiprocessing.get_context("spawn")
    spawned = list(workers._in_workers(linter, items, 2, context))
    assert [r.diagnostics for r in spawned] == [r.diagnostics for r in serial]
    assert [r.errors for r in spawned] == [r.errors for r in serial]
    assert [r.source for r in spawned] == [r.source for r in serial]


def test_workers_under_fix(many: Path, tmp_path: Path, monkeypatch):
    twin = tmp_path / "twin"
    twin.mkdir()
    for path in sorted(many.iterdir()):
        if path.name >= "mod_10":  # fixing is slow: a few files make the point
            path.unlink()
        else:
            (twin / path.name).write_bytes(path.read_bytes())
    serial = _run(twin, jobs=1, fix=True)
    used = _force_workers(monkeypatch)
    parallel = _run(many, jobs=2, fix=True)
    assert used == [2]
    assert parallel.fixed == serial.fixed > 0
    assert parallel.errors == serial.errors == []
    for path in many.iterdir():
        assert path.read_bytes() == (twin / path.name).read_bytes()


def test_the_command_line_with_jobs(many: Path):
    """Just big enough for two workers without any patching; the output is the serial one."""
    for i in range(48):
        path = many / f"mod_{i:02d}.py"
        if i >= 32:
            path.unlink()
        else:
            path.write_bytes(path.read_bytes() + b"\n" + PADDING.encode() * 5)
    assert plan_workers(32, sum(p.stat().st_size for p in many.iterdir()), 2) == 2
    serial = run_cli("--no-cache", "--jobs", "1", ".", cwd=many)
    parallel = run_cli("--no-cache", "--jobs", "2", ".", cwd=many)
    assert serial.returncode == parallel.returncode == 1
    assert parallel.stdout == serial.stdout
    assert parallel.stderr == serial.stderr == b""


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_invalid_jobs_is_a_usage_error(many: Path, value: str):
    result = invoke("--jobs", value, ".", cwd=many)
    assert result.returncode == 2
    assert "--jobs" in result.stderr.decode()


def test_an_engine_error_in_a_worker_is_reported_not_raised(many: Path, monkeypatch):
    real = Linter.lint_bytes

    def flaky(self, raw, filename):
        if filename.endswith("mod_05.py"):
            raise MemoryError("out of memory")
        return real(self, raw, filename)

    monkeypatch.setattr(Linter, "lint_bytes", flaky)
    _force_workers(monkeypatch)
    outcome = _run(many, jobs=2)
    assert outcome.errors == [f"{many / 'mod_05.py'}: internal error: MemoryError: out of memory"]
    assert outcome.files == 48
    assert any(d.filename.endswith("mod_06.py") for d in outcome.diagnostics)


def test_a_dead_worker_is_an_error_not_a_hang(many: Path, monkeypatch):
    parent = os.getpid()
    real = Linter.lint_bytes

    def crash(self, raw, filename):
        if os.getpid() != parent and filename.endswith("mod_20.py"):
            os._exit(9)  # as if killed by the OOM killer
        return real(self, raw, filename)

    monkeypatch.setattr(Linter, "lint_bytes", crash)
    _force_workers(monkeypatch)
    outcome = _run(many, jobs=2)
    assert outcome.files == 48
    assert outcome.errors
    assert all("not linted:" in e and "--jobs 1 lints in one process" in e for e in outcome.errors)
    assert any(e.startswith(f"{many / 'mod_20.py'}: not linted") for e in outcome.errors)


# A CLI run whose workers are slow, to be interrupted the way a terminal does it: SIGINT to the
# whole process group. Each worker writes its pid to a file when it starts on a file.
SLOW_WORKERS = """
import os, sys, time
import signal
# Python leaves SIGINT ignored when the suite was started with it ignored (nohup, a
# background job, some CI runners): restore the handler that raises KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
from mfkit_lint.engine import workers
from mfkit_lint.engine.linter import Linter
workers.MIN_FILES_PER_WORKER = workers.MIN_BYTES_PER_WORKER = 1
parent = os.getpid()
real = Linter.lint_bytes
def slow(self, raw, filename):
    if os.getpid() != parent:
        with open(os.path.join(sys.argv[1], f"worker-{os.getpid()}"), "w"):
            pass
        time.sleep(0.5)
    return real(self, raw, filename)
Linter.lint_bytes = slow
from mfkit_lint.cli import lint_command
lint_command.main(sys.argv[2:], prog_name="mfkit-lint")
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_ctrl_c_stops_the_workers_and_exits_130(many: Path, tmp_path: Path):
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = subprocess.Popen(
        [str(BIN / "python"), "-c", SLOW_WORKERS, str(pids), "--jobs", "2", "--no-cache", "."],
        cwd=many,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(pids.iterdir())) == 2, "the workers did not start"
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode() == "mfkit-lint: interrupted\n"
    assert out == b""
    worker_pids = [int(p.name.split("-")[1]) for p in pids.iterdir()]
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in worker_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in worker_pids)


# -- which worker lints which files ------------------------------------------------------------


def test_the_input_is_cut_into_one_run_of_neighbours_per_worker_by_bytes():
    items = [(f"f{i}.py", b"x" * size) for i, size in enumerate([10, 10, 10, 50, 10, 10])]
    assert workers._Schedule(items, 2).claims == [0, 3, 3, 6]  # 30 and 70 bytes
    assert workers._Schedule(items, 3).claims == [0, 3, 3, 4, 4, 6]  # 30, 50 and 20 bytes
    assert workers._Schedule(items[:1], 3).claims == [0, 0, 0, 1, 1, 1]


def test_a_run_starts_with_its_big_files_and_keeps_the_order_of_the_others():
    big, small = b"x" * workers.BIG_FILE_BYTES, b"x" * 1000
    sizes = [small, big, small, small, small, big, small, big, small]
    items = [(f"f{i}.py", raw) for i, raw in enumerate(sizes)]
    schedule = workers._Schedule(items, 2)
    assert schedule.claims == [0, 5, 5, 9]  # the same runs as without big files first
    assert schedule.order == [1, 0, 2, 3, 4, 5, 7, 6, 8]
    assert schedule.ends[-1] == sum(len(raw) for raw in sizes)
    assert schedule.ends[1] == len(big)  # bytes counted in the order the workers take them


def _claims_of(monkeypatch, items, workers_count):
    """Claim items as the workers do, in this process: a function claiming for one worker."""
    import multiprocessing

    schedule = workers._Schedule(items, workers_count)
    claims = multiprocessing.get_context().Array("q", schedule.claims)
    monkeypatch.setattr(workers, "_CLAIMS", claims)
    monkeypatch.setattr(workers, "_ENDS", schedule.ends)

    def claim(slot):
        monkeypatch.setattr(workers, "_SLOT", slot)
        return workers._claim()

    return claim


def test_a_worker_lints_its_run_then_takes_from_the_end_of_the_biggest_run_left(monkeypatch):
    items = [(f"f{i}.py", b"x" * 10) for i in range(8)]
    claim = _claims_of(monkeypatch, items, 2)
    assert [claim(0), claim(0), claim(1)] == [0, 1, 4]
    assert [claim(1), claim(1), claim(1)] == [5, 6, 7]
    # Worker 1 is done with its run: it takes the last file of worker 0's, which goes on.
    assert [claim(1), claim(0), claim(1)] == [3, 2, None]
    assert claim(0) is None


def test_empty_files_are_claimed_too(monkeypatch):
    items = [("a.py", b"x" * 10), ("b.py", b""), ("c.py", b""), ("d.py", b"x")]
    claim = _claims_of(monkeypatch, items, 2)
    taken = [claim(1) for _ in range(5)]
    assert sorted(i for i in taken if i is not None) == [0, 1, 2, 3]
    assert taken[-1] is None


def test_each_worker_lints_neighbouring_files(many: Path, monkeypatch, tmp_path: Path):
    """Files that import each other are mostly neighbours: a worker lints one run of the
    input, plus at most the end of the other worker's run when it finishes first."""
    pids = tmp_path / "pids"
    pids.mkdir()
    real = Linter.lint_bytes

    def spy(self, raw, filename):
        with open(pids / Path(filename).name, "w") as fh:
            fh.write(str(os.getpid()))
        return real(self, raw, filename)

    monkeypatch.setattr(Linter, "lint_bytes", spy)
    used = _force_workers(monkeypatch)
    outcome = _run(many, jobs=2)
    assert used == [2] and outcome.files == 48
    order = [pids.joinpath(f"mod_{i:02d}.py").read_text() for i in range(48)]
    assert len(set(order)) <= 2
    changes = sum(1 for a, b in zip(order, order[1:]) if a != b)
    assert changes <= 2  # one worker's run, the other's, the end of it taken by the first


CROSS_MODULE = {
    "common.py": """
import sys


def top_args(flow_file, tag):
    return [sys.executable, flow_file, "--environment", "local", "--tag", tag]
""",
    "step.py": """
from .common import top_args


def step_cmd(flow_file, tag, step_name, run_id, task_id, input_paths):
    cmd = top_args(flow_file, tag)
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--input-paths", input_paths]
    return cmd
""",
}


def test_modules_asked_about_across_workers_give_the_same_results(tmp_path: Path, monkeypatch):
    """Packages whose modules ask about each other, linted in 1, 2 and 3 processes: each
    process parses what its files ask about, the answers are the same."""
    root = tmp_path / "tree"
    (root / "pyproject.toml").parent.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    for p in range(6):
        package = root / f"pkg{p}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for name, code in CROSS_MODULE.items():
            (package / name).write_text(code + PADDING)
        (package / "zz_alone.py").write_text(RETRY_ZERO)
    serial = _run(root, jobs=1)
    assert {d.code for d in serial.diagnostics} >= {"MFK103"}
    assert any(d.filename.endswith("common.py") for d in serial.diagnostics)
    used = _force_workers(monkeypatch)
    for jobs in (2, 3):
        assert _view(_run(root, jobs=jobs)) == _view(serial)
    assert used == [2, 3]


def test_forked_workers_share_their_counters():
    """What a forked worker writes under the lock, its parent and the other workers read."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here: workers are spawned and share an Array")
    context = multiprocessing.get_context("fork")
    shared = workers._shared_ints(context, [5, 7, 0])
    assert isinstance(shared, workers._ForkedInts) and list(shared) == [5, 7, 0]

    def add(n: int) -> None:
        for _ in range(n):
            with shared.get_lock():
                shared[2] += 1

    children = [context.Process(target=add, args=(200,)) for _ in range(3)]
    for child in children:
        child.start()
    add(100)
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert list(shared) == [5, 7, 700]
    assert len(shared) == 3
