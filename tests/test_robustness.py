"""Fuzzing (hypothesis + hypothesmith) and the bad inputs test_bad_input.py does not cover: huge
files, symlink loops, unreadable directories, files deleted mid-run, concurrent and interrupted
``--fix`` runs. Each ends with a clear message, a defined exit code and no file lost or mangled."""

from __future__ import annotations

import ast
import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
from conftest import (
    BIN,
    RETRY_ZERO,
    RETRY_ZERO_UNSAFE,
    TAG_BEFORE_STEP,
    TAG_BEFORE_STEP_FIXED,
    TUPLE_RUN_PARAMS,
    TUPLE_RUN_PARAMS_FIXED,
    invoke,
    run_cli,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mfkit_lint.engine import writer
from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.discovery import FileFinder
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.source import Source
from mfkit_lint.fixers.apply import fix_text

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
LINTER = Linter(Settings())
# Messages a rule may legitimately leave on pathological (but valid) code.
TOLERATED = ("skipped: code too deeply nested",)


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _lint(text: str) -> tuple[list, list[str]]:
    errors: list[str] = []
    source = Source(text, "utf-8", text.encode("utf-8", "surrogatepass"))
    return LINTER.lint_source(source, "fuzz.py", errors), errors


def _check(diagnostics, text: str) -> None:
    rows = len(Source(text).lines)
    for diag in diagnostics:
        assert 1 <= diag.location.row <= rows, diag
        assert diag.location <= diag.end_location, diag
        assert diag.code.startswith("MFK") and diag.message


@functools.cache
def _hypothesmith() -> st.SearchStrategy[str]:
    import hypothesmith

    return hypothesmith.from_grammar()


# hypothesmith compiles each program it generates to check it, and the compiler warns about
# valid code such as `1()` or `x is 1`: that is the generator talking, not the linter.
GENERATOR_WARNINGS = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def _python_source() -> st.SearchStrategy[str]:
    """Valid Python from hypothesmith (built on first use, once: building its grammar is slow)."""
    return st.deferred(lambda: _hypothesmith())


# -- the linter never crashes ---------------------------------------------------------------------
@GENERATOR_WARNINGS
@FUZZ
@given(_python_source())
def test_any_valid_python_lints_without_crashing(code: str):
    diagnostics, errors = _lint(code)
    _check(diagnostics, code)
    assert [e for e in errors if not e.endswith(TOLERATED)] == []


@settings(FUZZ, max_examples=100)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_lint_without_crashing(raw: bytes):
    result = LINTER.lint_bytes(raw, "fuzz.py")
    assert result.errors == [] or all(e.endswith(TOLERATED) for e in result.errors)
    if result.source is None:  # undecodable: reported as such
        assert [d.code for d in result.diagnostics] == ["MFK002"]


# -- every fix parses and is idempotent ----------------------------------------------------------
# Extension code with fixable findings (safe and unsafe), in the shapes the rules' tests use.
SYSROOT = """\
import os


def step_env(datastore_root):
    env = dict(os.environ)
    env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/tmp/flows/.metaflow"
    return env
"""
FIXABLE = (TAG_BEFORE_STEP, TUPLE_RUN_PARAMS, RETRY_ZERO_UNSAFE, RETRY_ZERO, SYSROOT)


def _indent_in_class(code: str) -> str:
    return "class Scheduler:\n" + textwrap.indent(code.replace("def ", "def m_"), "    ")


@st.composite
def extension_modules(draw) -> str:
    """Fixable snippets, varied (renamed, nested in a class, commented) and mixed with valid
    Python from hypothesmith."""
    parts = []
    for snippet in draw(st.lists(st.sampled_from(FIXABLE), min_size=1, max_size=3)):
        suffix = draw(st.sampled_from(["", "_2", "_alt"]))
        code = snippet.replace("def run", f"def run{suffix}").replace(
            "class My", f"class My{suffix}"
        )
        if draw(st.booleans()):
            code = _indent_in_class(code)
        if draw(st.booleans()):
            code = code.replace("\n    ", "\n    # a comment\n    ", 1)
        parts.append(code)
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), draw(_python_source()))
    text = "\n\n".join(p if p.endswith("\n") else p + "\n" for p in parts)
    assume(_parses(text))
    return text


def _fix_all(text: str) -> str:
    source = Source(text, "utf-8", text.encode("utf-8", "surrogatepass"))
    outcome = fix_text(
        source,
        lambda s: LINTER.lint_source(s, "fuzz.py"),
        LINTER.lint_source(source, "fuzz.py"),
        unsafe=True,
    )
    return outcome.text


@GENERATOR_WARNINGS
@settings(FUZZ, max_examples=25)  # each example runs libcst several times
@given(extension_modules())
def test_every_fix_parses_and_is_idempotent(text: str):
    fixed = _fix_all(text)
    assert _parses(fixed)
    assert _fix_all(fixed) == fixed


def test_the_fix_strategy_does_exercise_fixes():
    """Guard against a strategy that never produces a fixable finding."""
    text = TAG_BEFORE_STEP + "\n\n" + _indent_in_class(TUPLE_RUN_PARAMS)
    assert _fix_all(text) != text


# -- huge files ----------------------------------------------------------------------------------
def test_a_10_mb_file(tmp_path: Path):
    body = '\nDOC = """\n' + ("x" * 99 + "\n") * (10 * 1024 * 1024 // 100) + '"""\n'
    path = tmp_path / "huge.py"
    path.write_text(TAG_BEFORE_STEP + body)
    assert path.stat().st_size > 10 * 1024 * 1024
    for _ in range(2):  # cold, then from the cache
        result = run_cli("--format", "concise", "--select", "MFK103", "huge.py", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, b"")
        assert result.stdout.decode().splitlines() == [
            "huge.py:9:9: MFK103 [*] --tag must come after the 'step' subcommand: Metaflow "
            "rejects it as a top-level option (no such option: --tag)"
        ]
    assert path.read_text() == TAG_BEFORE_STEP + body


# -- symlink loops and unreadable directories ----------------------------------------------------
@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ext"
    root.mkdir()
    (root / "retry.py").write_text(RETRY_ZERO)
    return root


def _cli(*args: str, cwd: Path):
    result = invoke("--format", "concise", "--select", "MFK0,MFK101", *args, cwd=cwd)
    assert "Traceback" not in result.stderr.decode()
    return result


RETRY_LINE = "retry.py:18:9: MFK101"


def test_symlink_loops(tree: Path):
    (tree / "loop.py").symlink_to("loop.py")  # a file that points at itself
    (tree / "a.py").symlink_to("b.py")
    (tree / "b.py").symlink_to("a.py")
    sub = tree / "sub"
    sub.mkdir()
    (sub / "up").symlink_to("..", target_is_directory=True)  # a directory loop
    (sub / "steps.py").write_text(RETRY_ZERO)
    result = _cli(".", cwd=tree)
    assert result.returncode == 2
    assert sorted(result.stderr.decode().splitlines()) == [
        f"mfkit-lint: error: cannot read {name}: Too many levels of symbolic links"
        for name in ("a.py", "b.py", "loop.py")
    ]
    # each real file once, however many ways lead to it
    assert [line.split(":")[0] for line in result.stdout.decode().splitlines()] == [
        "retry.py",
        "sub/steps.py",
    ]


def test_a_symlink_loop_named_on_the_command_line(tree: Path):
    (tree / "loop.py").symlink_to("loop.py")
    result = _cli("loop.py", "retry.py", cwd=tree)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "mfkit-lint: error: cannot read loop.py: Too many levels of symbolic links\n"
    )
    assert result.stdout.decode().startswith(RETRY_LINE)


def test_an_unreadable_directory(tree: Path, monkeypatch):
    """Simulated (root reads any directory): listing ``secret/`` fails with EACCES."""
    secret = tree / "secret"
    secret.mkdir()
    (secret / "hidden.py").write_text(RETRY_ZERO)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = _cli(".", cwd=tree)
    assert result.returncode == 2
    assert result.stderr.decode() == "mfkit-lint: error: secret: Permission denied\n"
    assert result.stdout.decode().startswith(RETRY_LINE)


@pytest.mark.skipif(IS_ROOT or sys.platform == "win32", reason="root reads any directory")
def test_an_unreadable_directory_for_real(tree: Path):
    secret = tree / "secret"
    secret.mkdir()
    (secret / "hidden.py").write_text(RETRY_ZERO)
    secret.chmod(0)
    try:
        result = run_cli("--format", "concise", "--select", "MFK101", ".", cwd=tree)
    finally:
        secret.chmod(0o755)
    assert result.returncode == 2
    assert result.stderr.decode() == "mfkit-lint: error: secret: Permission denied\n"
    assert result.stdout.decode().startswith(RETRY_LINE)


# -- files that change under our feet ------------------------------------------------------------
def test_a_file_deleted_after_discovery(tree: Path, monkeypatch):
    (tree / "gone.py").write_text(RETRY_ZERO)
    real_find = FileFinder.find

    def find_then_delete(self, paths):
        found = real_find(self, paths)
        # (the project of each file is listed with the same finder: called more than once)
        (tree / "gone.py").unlink(missing_ok=True)
        return found

    monkeypatch.setattr(FileFinder, "find", find_then_delete)
    result = _cli(".", cwd=tree)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "mfkit-lint: error: cannot read gone.py: No such file or directory\n"
    )
    assert result.stdout.decode().startswith(RETRY_LINE)


def test_a_file_deleted_before_its_fix_is_written(tree: Path, monkeypatch):
    (tree / "steps.py").write_text(TAG_BEFORE_STEP)
    (tree / "deployer.py").write_text(TUPLE_RUN_PARAMS)
    real_write = writer.write_atomic

    def delete_then_write(path, data, original):
        if path.name == "steps.py":
            path.unlink()
        return real_write(path, data, original)

    monkeypatch.setattr(writer, "write_atomic", delete_then_write)
    result = invoke("--fix", "--select", "MFK103,MFK301", ".", cwd=tree)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "mfkit-lint: error: steps.py: fixes not written: No such file or directory\n"
    )
    assert not (tree / "steps.py").exists()  # not brought back to life
    assert (tree / "deployer.py").read_text() == TUPLE_RUN_PARAMS_FIXED
    assert sorted(p.name for p in tree.iterdir()) == [
        ".mfkit_lint_cache",
        "deployer.py",
        "retry.py",
    ]


def test_concurrent_fix_runs_on_the_same_files(tree: Path):
    names = [f"steps_{i}.py" for i in range(3)] + [f"deployer_{i}.py" for i in range(3)]
    for name in names:
        (tree / name).write_text(TAG_BEFORE_STEP if name.startswith("steps") else TUPLE_RUN_PARAMS)
    args = ["--fix", "--format", "concise", "--select", "MFK103,MFK301", "."]
    procs = [
        subprocess.Popen(
            [str(BIN / "mfkit-lint"), *args, *(["--no-cache"] if i % 2 else [])],
            cwd=tree,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 2), err
        for line in err.decode().splitlines():  # a run that lost the race says so, per file
            assert line.endswith(": fixes not written: file changed on disk since it was read")
    for name in names:
        expected = TAG_BEFORE_STEP_FIXED if name.startswith("steps") else TUPLE_RUN_PARAMS_FIXED
        assert (tree / name).read_text() == expected, name
    assert not [p for p in tree.iterdir() if p.name.endswith(".mfkit-tmp")]


# -- Ctrl-C during --fix -------------------------------------------------------------------------
# The CLI, with every write stuck in fsync (after the temporary file is written, before the
# rename) once it has announced itself through a marker file.
STUCK_IN_WRITE = """
import os, sys, time
import signal
# Python leaves SIGINT ignored when the suite was started with it ignored (nohup, a
# background job, some CI runners): restore the handler that raises KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
def stuck(fd):
    open(sys.argv[1], "w").close()
    time.sleep(60)
os.fsync = stuck
from mfkit_lint.cli import lint_command
lint_command.main(sys.argv[2:], prog_name="mfkit-lint")
"""


def test_ctrl_c_during_fix_leaves_no_partial_file(tree: Path, tmp_path: Path):
    path = tree / "steps.py"
    path.write_text(TAG_BEFORE_STEP)
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [str(BIN / "python"), "-c", STUCK_IN_WRITE, str(marker), "--fix", "steps.py"],
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate(timeout=5)
    assert [p.name for p in tree.iterdir() if p.name.endswith(".mfkit-tmp")]  # mid-write
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode() == "mfkit-lint: interrupted\n"
    assert path.read_text() == TAG_BEFORE_STEP  # the original, whole
    assert not [p for p in tree.iterdir() if p.name.endswith(".mfkit-tmp")]


def test_ctrl_c_between_files_keeps_the_fixed_ones_whole(tree: Path, monkeypatch):
    for i in range(3):
        (tree / f"steps_{i}.py").write_text(TAG_BEFORE_STEP)
    real_replace = os.replace
    calls = []

    def replace_then_interrupt(src, dst):
        if str(dst).endswith(".py"):
            calls.append(dst)
            if len(calls) == 2:
                raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_interrupt)
    result = invoke("--fix", "--select", "MFK103", ".", cwd=tree)
    assert result.returncode == 130
    assert result.stderr.decode() == "mfkit-lint: interrupted\n"
    texts = [(tree / f"steps_{i}.py").read_text() for i in range(3)]
    assert texts == [TAG_BEFORE_STEP_FIXED, TAG_BEFORE_STEP, TAG_BEFORE_STEP]
    assert not [p for p in tree.iterdir() if p.name.endswith(".mfkit-tmp")]


def test_a_killed_runs_temporary_files_are_cleaned_on_the_next_write(tmp_path: Path):
    from mfkit_lint.engine.writer import write_atomic

    target = tmp_path / "steps.py"
    target.write_text("x = 1\n")
    orphan = tmp_path / ".steps.py.k1ll3d.mfkit-tmp"  # what SIGKILL mid-write leaves
    orphan.write_text("x = ")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    young = tmp_path / ".other.py.busy.mfkit-tmp"  # maybe another writer's, right now
    young.write_text("y")
    write_atomic(target, b"x = 2\n", b"x = 1\n")
    assert target.read_text() == "x = 2\n"
    assert not orphan.exists()
    assert young.exists()
