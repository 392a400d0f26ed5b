"""Files that are broken, oddly encoded, unreadable or read-only: diagnostics, never a traceback."""

from __future__ import annotations

import ast
import os
import random
import stat
from pathlib import Path

import pytest
from conftest import (
    RETRY_ZERO,
    TAG_BEFORE_STEP,
    TAG_BEFORE_STEP_FIXED,
    TUPLE_RUN_PARAMS,
    invoke,
    run_cli,
)

from mfkit_lint.engine.source import Source
from mfkit_lint.engine.writer import WriteError, write_atomic

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def lint(*args: str, cwd: Path, stdin=None, real: bool = False):
    """``mfkit-lint --format concise ARGS``: through the console script when ``real``, else
    in-process (faster; an exception escaping the CLI fails the test just the same)."""
    run = run_cli if real else invoke
    result = run("--format", "concise", *args, cwd=cwd, stdin=stdin)
    assert "Traceback" not in result.stderr.decode()
    return result


def lines(result) -> list[str]:
    return result.stdout.decode().splitlines()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A directory with one ordinary bad file, to show the others are still linted."""
    root = tmp_path / "ext"
    root.mkdir()
    (root / "retry.py").write_text(RETRY_ZERO)
    return root


RETRY_LINE = "retry.py:18:9: MFK101"


# -- unparsable and undecodable files ------------------------------------------------------------
def test_syntax_error_is_a_diagnostic_and_the_rest_is_linted(tree: Path):
    (tree / "broken.py").write_text("import os\n\ndef run(:\n    pass\n")
    result = lint(".", cwd=tree, real=True)
    assert result.returncode == 1
    out = lines(result)
    assert out[0] == "broken.py:3:9: MFK001 SyntaxError: invalid syntax"
    assert out[1].startswith(RETRY_LINE)
    assert result.stderr == b""


def test_indentation_error_is_a_syntax_error_diagnostic(tree: Path):
    (tree / "indent.py").write_text("def run():\n    x = 1\n      y = 2\n")
    result = lint("indent.py", cwd=tree)
    assert result.returncode == 1
    assert lines(result)[0].startswith("indent.py:3:")
    assert "MFK001 SyntaxError: unexpected indent" in lines(result)[0]


def test_syntax_error_can_be_ignored_like_any_rule(tree: Path):
    (tree / "broken.py").write_text("def run(:\n")
    result = lint("--ignore", "MFK001", ".", cwd=tree)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in lines(result)] == ["retry.py"]


def test_latin1_with_coding_cookie(tree: Path):
    text = "# -*- coding: latin-1 -*-\n# Café scheduler, © ACME\n" + RETRY_ZERO
    (tree / "latin.py").write_bytes(text.encode("latin-1"))
    result = lint("latin.py", cwd=tree)
    assert result.returncode == 1
    assert len(lines(result)) == 1
    assert lines(result)[0].startswith("latin.py:20:9: MFK101 --retry-count")


def test_latin1_file_fixed_stays_latin1(tree: Path):
    text = "# -*- coding: latin-1 -*-\n# Café\n" + TAG_BEFORE_STEP
    path = tree / "latin.py"
    path.write_bytes(text.encode("latin-1"))
    result = lint("--fix", "latin.py", cwd=tree)
    assert result.returncode == 0
    assert path.read_bytes() == (
        "# -*- coding: latin-1 -*-\n# Café\n" + TAG_BEFORE_STEP_FIXED
    ).encode("latin-1")


def test_latin1_without_cookie_is_undecodable(tree: Path):
    (tree / "latin.py").write_bytes("# Café\n".encode("latin-1") + RETRY_ZERO.encode())
    result = lint(".", cwd=tree)
    assert result.returncode == 1
    out = lines(result)
    assert out[0].startswith("latin.py:1:1: MFK002 cannot decode file")
    assert out[1].startswith(RETRY_LINE)


def test_wrong_coding_cookie_is_undecodable(tree: Path):
    (tree / "bad.py").write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    (tree / "bad_ascii.py").write_bytes(b"# coding: ascii\nx = '\xc3\xa9'\n")
    result = lint("bad.py", "bad_ascii.py", cwd=tree)
    assert result.returncode == 1
    assert [line.split(" ")[:2] for line in lines(result)] == [
        ["bad.py:1:1:", "MFK002"],
        ["bad_ascii.py:1:1:", "MFK002"],
    ]


def test_utf8_bom(tree: Path):
    path = tree / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + TAG_BEFORE_STEP.encode())
    result = lint("bom.py", cwd=tree)
    assert result.returncode == 1
    assert lines(result)[0].startswith("bom.py:9:9: MFK103")  # the BOM shifts no column
    fixed = lint("--fix", "bom.py", cwd=tree)
    assert fixed.returncode == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + TAG_BEFORE_STEP_FIXED.encode()


def test_utf8_non_ascii_columns_count_characters(tree: Path):
    # 'é' is two bytes in UTF-8; columns are characters, as in ruff
    text = TUPLE_RUN_PARAMS.replace("(run_params=run_params)", "(run_params=run_params)  # é")
    text = text.replace("        return self.trigger", "        x = 'é'; return self.trigger")
    (tree / "uni.py").write_text(text, encoding="utf-8")
    result = lint("uni.py", cwd=tree)
    assert lines(result)[0].startswith("uni.py:7:49: MFK301")


@pytest.mark.parametrize(
    "data",
    [
        random.Random(4).randbytes(2000),
        b"\x00" * 64,
        b"x = 1\x00\nimport os\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        b"\xff\xfe" + "x = 1\n".encode("utf-16-le"),
    ],
    ids=["random", "nulls", "null-in-code", "png", "utf16"],
)
def test_binary_file_named_py(tree: Path, data: bytes):
    (tree / "blob.py").write_bytes(data)
    result = lint(".", cwd=tree, real=True)
    assert result.returncode == 1
    out = lines(result)
    assert len(out) == 2
    assert out[0].split(" ")[0] == "blob.py:1:1:" or out[0].startswith("blob.py:")
    assert out[0].split(" ")[1] in ("MFK001", "MFK002")
    assert out[1].startswith(RETRY_LINE)
    assert result.stderr == b""


def test_empty_file_is_clean(tree: Path):
    (tree / "empty.py").write_bytes(b"")
    (tree / "blank.py").write_bytes(b"\n\n   \n")
    result = lint("empty.py", "blank.py", cwd=tree)
    assert result.returncode == 0
    assert result.stdout == b""


def test_empty_stdin_is_clean(tree: Path):
    result = run_cli("-", cwd=tree, stdin=b"")
    assert (result.returncode, result.stdout) == (0, b"All checks passed!\n")


def test_undecodable_stdin(tree: Path):
    result = lint("-", "--stdin-filename", "x.py", cwd=tree, stdin=b"x = '\xff\xfe'\n")
    assert result.returncode == 1
    assert lines(result)[0].startswith("x.py:1:1: MFK002")


# -- unreadable files ----------------------------------------------------------------------------
def _make_unreadable(path: Path) -> None:
    """A .py file the linter cannot read. root reads anything, so there: a broken symlink."""
    if IS_ROOT or not hasattr(os, "geteuid"):
        path.symlink_to(path.parent / "missing-target.py")
    else:
        path.write_text(RETRY_ZERO)
        path.chmod(0)


def test_unreadable_file_is_an_error_and_the_rest_is_reported(tree: Path):
    _make_unreadable(tree / "secret.py")
    try:
        result = lint(".", cwd=tree, real=True)
    finally:
        if not IS_ROOT:
            (tree / "secret.py").chmod(0o644)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert stderr.startswith("mfkit-lint: error: cannot read secret.py: ")
    assert ("No such file or directory" in stderr) or ("Permission denied" in stderr)
    assert lines(result)[0].startswith(RETRY_LINE)
    assert "Found 1 error." not in lines(result)  # concise: no summary
    text = run_cli(".", cwd=tree)
    assert text.returncode == 2
    assert "Found 1 error." in text.stdout.decode()


def test_directory_named_like_a_python_file(tree: Path):
    (tree / "pkg.py").mkdir()
    (tree / "pkg.py" / "steps.py").write_text(TAG_BEFORE_STEP)
    result = lint(".", cwd=tree)
    assert result.returncode == 1
    assert {line.split(":")[0] for line in lines(result)} == {"pkg.py/steps.py", "retry.py"}


# -- writing fixes -------------------------------------------------------------------------------
def test_read_only_file_is_not_fixed(tree: Path):
    path = tree / "steps.py"
    path.write_text(TAG_BEFORE_STEP)
    path.chmod(0o444)
    try:
        result = run_cli("--fix", "steps.py", cwd=tree)
        assert "Traceback" not in result.stderr.decode()
        assert result.returncode == 2
        assert path.read_text() == TAG_BEFORE_STEP
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        assert "steps.py: fixes not written: file is read-only" in result.stderr.decode()
        # the findings are still reported, as not fixed
        out = result.stdout.decode()
        assert out.startswith("steps.py:9:9: MFK103 [*]")
        assert "Found 1 error." in out
        assert not [p for p in tree.iterdir() if p.name.endswith(".mfkit-tmp")]
    finally:
        path.chmod(0o644)


def test_crlf_file_keeps_crlf(tree: Path):
    path = tree / "steps.py"
    path.write_bytes(TAG_BEFORE_STEP.replace("\n", "\r\n").encode())
    result = lint("steps.py", cwd=tree)
    assert lines(result)[0].startswith("steps.py:9:9: MFK103")
    result = lint("--fix", "steps.py", cwd=tree)
    assert result.returncode == 0
    data = path.read_bytes()
    assert data == TAG_BEFORE_STEP_FIXED.replace("\n", "\r\n").encode()
    assert data.count(b"\n") == data.count(b"\r\n")


def test_file_mode_kept_after_fix(tree: Path):
    path = tree / "steps.py"
    path.write_text(TAG_BEFORE_STEP)
    path.chmod(0o750)
    result = lint("--fix", "steps.py", cwd=tree)
    assert result.returncode == 0
    assert path.read_text() == TAG_BEFORE_STEP_FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_symlinked_file_fix_writes_the_target(tree: Path):
    real = tree / "real_steps.txt"  # not a .py: only reached through the link
    real.write_text(TAG_BEFORE_STEP)
    link = tree / "steps.py"
    link.symlink_to(real.name)
    result = lint("--fix", "steps.py", cwd=tree)
    assert result.returncode == 0
    assert link.is_symlink()
    assert real.read_text() == TAG_BEFORE_STEP_FIXED


# write_atomic directly
def test_write_atomic_replaces_content_and_keeps_mode(tmp_path: Path):
    path = tmp_path / "f.py"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomic(path, b"new\n", b"old\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_write_atomic_refuses_a_file_changed_since_it_was_read(tmp_path: Path):
    path = tmp_path / "f.py"
    path.write_bytes(b"what we read\n")
    original = path.read_bytes()
    path.write_bytes(b"an editor saved this meanwhile\n")
    with pytest.raises(WriteError, match="changed on disk since it was read"):
        write_atomic(path, b"our fix\n", original)
    assert path.read_bytes() == b"an editor saved this meanwhile\n"
    assert list(tmp_path.iterdir()) == [path]


def test_write_atomic_refuses_a_deleted_file(tmp_path: Path):
    path = tmp_path / "f.py"
    with pytest.raises(WriteError):
        write_atomic(path, b"our fix\n", b"old\n")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_refuses_a_read_only_file(tmp_path: Path):
    path = tmp_path / "f.py"
    path.write_bytes(b"old\n")
    path.chmod(0o444)
    try:
        with pytest.raises(WriteError, match="read-only"):
            write_atomic(path, b"new\n", b"old\n")
        assert path.read_bytes() == b"old\n"
    finally:
        path.chmod(0o644)


def test_write_atomic_failure_leaves_the_original(tmp_path: Path, monkeypatch):
    path = tmp_path / "f.py"
    path.write_bytes(b"old\n")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(WriteError, match="No space left on device"):
        write_atomic(path, b"new\n", b"old\n")
    assert path.read_bytes() == b"old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_write_atomic_through_a_symlink_keeps_the_link(tmp_path: Path):
    real = tmp_path / "real.py"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    write_atomic(link, b"new\n", b"old\n")
    assert link.is_symlink()
    assert real.read_bytes() == b"new\n"


# -- pathological code ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
        "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "x = " + "-" * 100_000 + "1\n",
        'cmd = ["step", "--retry-count", ' + " + ".join(['"0"'] * 100_000) + "]\n",
    ],
    ids=["parens", "lists", "unary", "long-chain"],
)
def test_deeply_nested_expression(tree: Path, text: str):
    (tree / "deep.py").write_text(text)
    result = lint(".", cwd=tree, real=True)
    assert result.returncode == 1
    out = lines(result)
    assert out[0].startswith("deep.py:1:")
    assert " MFK001 SyntaxError: " in out[0]
    assert ("too deeply nested" in out[0]) or ("too many nested" in out[0])
    assert out[1].startswith(RETRY_LINE)


def test_deep_but_parsable_code_under_fix(tree: Path):
    """Deep enough for recursion limits in rules or in libcst, shallow enough for ast."""
    chain = " + ".join(['"0"'] * 1000)
    text = (
        "def run(tag, flow):\n"
        '    cmd = [flow, "--tag", tag, "step", "s"]\n'
        f"    x = {chain}\n"
        "    run_params = tuple(x)\n"
        "    return trigger(run_params=run_params), cmd\n"
    )
    path = tree / "deep.py"
    path.write_text(text)
    plain = run_cli("--format", "concise", "deep.py", cwd=tree)
    assert "Traceback" not in plain.stderr.decode()
    assert "deep.py:5:31: MFK301" in plain.stdout.decode()  # found, whatever else is skipped
    for args in (("--fix", "deep.py"), ("--format", "json", "deep.py")):
        result = run_cli(*args, cwd=tree)
        assert "Traceback" not in result.stderr.decode(), args
        assert result.returncode in (0, 1, 2), args
        if result.returncode == 2:
            assert result.stderr.decode().startswith("mfkit-lint: error: deep.py: "), args
        # the file is either left alone or fixed into valid Python
        after = path.read_text()
        assert after == text or "trigger(run_params=list(run_params))" in after, args
        ast.parse(after)


@pytest.mark.parametrize(
    ("text", "lines", "starts"),
    [
        ("", [""], [0]),
        ("a", ["a"], [0]),
        ("a\nbc\n", ["a", "bc", ""], [0, 2, 5]),
        ("a\r\nbc\rd\n", ["a", "bc", "d", ""], [0, 3, 6, 8]),
        ("\n\n", ["", "", ""], [0, 1, 2]),
        # form feeds, file separators and LINE SEPARATOR end no line for Python
        ("a\x0cb\x1cc\u2028d\ne", ["a\x0cb\x1cc\u2028d", "e"], [0, 8]),
    ],
)
def test_physical_lines_and_their_offsets(text: str, lines: list[str], starts: list[int]):
    source = Source(text, "utf-8", text.encode())
    assert source.lines == lines
    assert source.line_starts == starts
    assert [source.location_at(s).row for s in starts] == list(range(1, len(starts) + 1))
