"""Editors that pipe a buffer: ``mfkit-lint - --stdin-filename NAME`` and ``--fix -``.

The buffer's name is what every format reports and what the configuration (per-file ignores)
is matched against. ``--fix -`` prints the buffer, fixed, and nothing else on stdout, in the
buffer's own bytes (encoding, BOM, newlines), so that an editor can replace its buffer with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import (
    RETRY_ZERO_UNSAFE,
    RETRY_ZERO_UNSAFE_FIXED,
    TAG_BEFORE_STEP,
    TAG_BEFORE_STEP_FIXED,
    invoke,
    run_cli,
)
from junitparser import JUnitXml

# The rules the snippets are about: rules added later leave these tests alone.
SELECT = ("--select", "MFK101,MFK103,MFK301")


def assert_exit(result, code: int) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert b"Traceback" not in result.stderr


def named(fmt: str, text: str) -> set[tuple[str, int, int]]:
    """(reported file name, row, column) of every finding in a report of format ``fmt``."""
    if fmt == "concise":
        return {
            (path, int(row), int(col))
            for path, row, col, _ in (line.split(":", 3) for line in text.splitlines())
        }
    if fmt == "json":
        return {
            (d["filename"], d["location"]["row"], d["location"]["column"]) for d in json.loads(text)
        }
    if fmt == "sarif":
        return {
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            )
            for r in json.loads(text)["runs"][0]["results"]
        }
    if fmt == "github":
        found = set()
        for line in text.splitlines():
            props = dict(p.split("=", 1) for p in line.split(" ", 1)[1].split("::")[0].split(","))
            found.add((props["file"], int(props["line"]), int(props["col"])))
        return found
    if fmt == "junit":
        (suite,) = list(JUnitXml.fromstring(text))
        return {
            (case.classname, *map(int, case.name.split(" at ")[1].split(":")))
            for case in suite
            if case.result
        }
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["concise", "json", "sarif", "github", "junit"])
def test_every_format_reports_the_stdin_filename(fmt: str, tmp_path: Path):
    result = invoke(
        "-",
        "--stdin-filename",
        "pkg/steps.py",
        "--format",
        fmt,
        *SELECT,
        cwd=tmp_path,
        stdin=TAG_BEFORE_STEP.encode(),
    )
    assert_exit(result, 1)
    # JSON names files by absolute path, as ruff does; the others as given (relative to cwd)
    name = str(tmp_path / "pkg" / "steps.py") if fmt == "json" else "pkg/steps.py"
    assert named(fmt, result.stdout.decode()) == {(name, 9, 9)}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_fix_on_stdin_prints_only_the_code_whatever_the_format(fmt: str):
    result = invoke(
        "--fix",
        "--format",
        fmt,
        *SELECT,
        "-",
        "--stdin-filename",
        "steps.py",
        stdin=TAG_BEFORE_STEP.encode() + RETRY_ZERO_UNSAFE.split("\n\n\n", 1)[1].encode(),
    )
    assert_exit(result, 1)  # the unsafe MFK101 fix is not applied: one finding remains
    expected = TAG_BEFORE_STEP_FIXED + RETRY_ZERO_UNSAFE.split("\n\n\n", 1)[1]
    assert result.stdout.decode() == expected
    # the report goes to stderr, in the chosen format, about the fixed buffer
    report = result.stderr.decode()
    if fmt == "text":
        assert "MFK101" in report
        assert "(1 fixed, 1 remaining)" in report
    else:
        (finding,) = named(fmt, report)
        assert finding[1:] == (expected.splitlines().index('        "0",') + 1, 9)


def test_fix_on_stdin_applies_unsafe_fixes_when_asked():
    result = invoke(
        "--fix", "--unsafe-fixes", *SELECT, "-", "--stdin-filename", "x.py",
        stdin=RETRY_ZERO_UNSAFE.encode(),
    )  # fmt: skip
    assert_exit(result, 0)
    assert result.stdout.decode() == RETRY_ZERO_UNSAFE_FIXED
    assert "Fixed 1 error." in result.stderr.decode()


@pytest.mark.parametrize(
    "data, fixed",
    [
        pytest.param(
            "# -*- coding: latin-1 -*-\n# café\n".encode("latin-1") + TAG_BEFORE_STEP.encode(),
            "# -*- coding: latin-1 -*-\n# café\n".encode("latin-1")
            + TAG_BEFORE_STEP_FIXED.encode(),
            id="latin-1 cookie",
        ),
        pytest.param(
            b"\xef\xbb\xbf" + TAG_BEFORE_STEP.encode(),
            b"\xef\xbb\xbf" + TAG_BEFORE_STEP_FIXED.encode(),
            id="UTF-8 BOM",
        ),
        pytest.param(
            TAG_BEFORE_STEP.replace("\n", "\r\n").encode(),
            TAG_BEFORE_STEP_FIXED.replace("\n", "\r\n").encode(),
            id="CRLF",
        ),
    ],
)
def test_fix_on_stdin_keeps_the_buffers_bytes(data: bytes, fixed: bytes):
    result = run_cli("--fix", *SELECT, "-", "--stdin-filename", "steps.py", stdin=data)
    assert_exit(result, 0)
    assert result.stdout == fixed
    assert result.stderr.decode() == "Fixed 1 error.\n"


@pytest.mark.parametrize(
    "data, code",
    [
        (b'# -*- coding: ascii -*-\nx = "\xff"\n', "MFK002"),  # cannot be decoded
        (b"def f(:\n    pass\n", "MFK001"),  # does not parse
    ],
)
def test_fix_on_stdin_echoes_a_buffer_it_cannot_read(data: bytes, code: str):
    """An editor that replaces its buffer with stdout must never get an empty buffer."""
    result = run_cli("--fix", "-", "--stdin-filename", "bad.py", stdin=data)
    assert_exit(result, 1)
    assert result.stdout == data
    assert "bad.py:" in result.stderr.decode() and code in result.stderr.decode()


def test_diff_on_stdin_names_the_buffer_and_writes_nothing(tmp_path: Path):
    (tmp_path / "steps.py").write_text(TAG_BEFORE_STEP)
    result = invoke(
        "--diff", *SELECT, "-", "--stdin-filename", "steps.py",
        cwd=tmp_path, stdin=TAG_BEFORE_STEP.encode(),
    )  # fmt: skip
    assert_exit(result, 1)
    text = result.stdout.decode()
    assert text.startswith("--- steps.py\n+++ steps.py\n@@ ")
    assert '-        "step",\n' in text and '+        "step",\n' in text
    assert (tmp_path / "steps.py").read_text() == TAG_BEFORE_STEP


def test_stdin_filename_matches_per_file_ignores(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mfkit-lint]\nselect = ["MFK103"]\nper-file-ignores = { "tests/**" = ["MFK103"] }\n'
    )
    stdin = TAG_BEFORE_STEP.encode()
    ignored = invoke("-", "--stdin-filename", "tests/steps.py", cwd=tmp_path, stdin=stdin)
    assert_exit(ignored, 0)
    reported = invoke("-", "--stdin-filename", "src/steps.py", cwd=tmp_path, stdin=stdin)
    assert_exit(reported, 1)
    assert reported.stdout.decode().startswith("src/steps.py:9:9: MFK103")
    # and --fix leaves an ignored finding alone: the buffer comes back unchanged
    fixed = invoke("--fix", "-", "--stdin-filename", "tests/steps.py", cwd=tmp_path, stdin=stdin)
    assert_exit(fixed, 0)
    assert fixed.stdout == stdin
