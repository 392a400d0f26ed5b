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
