"""One lint (and fix) run over paths: discovery, linting, fixing, writing. No output here."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.engine.discovery import FileFinder
from mfkit_lint.engine.linter import FileResult, Linter
from mfkit_lint.engine.source import Source
from mfkit_lint.engine.writer import WriteError, write_atomic

STDIN = "-"


@dataclass
class RunOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    need_fix_edits: bool = False  # e.g. JSON output shows each fix's edits
    stdin_filename: Optional[str] = None


@dataclass
class RunOutcome:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    stdin_output: Optional[str] = None  # the fixed text of stdin under --fix
    files: int = 0


class Session:
    def __init__(self, linter: Linter, options: RunOptions) -> None:
        self.linter = linter
        self.options = options

    def run(self, paths: list[str], stdin: Optional[bytes] = None) -> RunOutcome:
        outcome = RunOutcome()
        file_paths = [Path(p) for p in paths if p != STDIN]
        if file_paths:
            found = FileFinder(self.linter.settings).find(file_paths)
            outcome.errors.extend(f"{p}: {reason}" for p, reason in found.errors)
            for path in found.files:
                self._one(self.linter.lint_path(path), outcome, path)
        if STDIN in paths:
            name = self.options.stdin_filename or STDIN
            self._one(self.linter.lint_bytes(stdin or b"", name), outcome, None)
        outcome.diagnostics.sort(key=Diagnostic.sort_key)
        return outcome

    def _one(self, result: FileResult, outcome: RunOutcome, path: Optional[Path]) -> None:
        outcome.files += 1
        outcome.errors.extend(result.errors)
        source = result.source
        diagnostics = result.diagnostics
        if source is not None:
            outcome.sources[result.filename] = source
            fixing = self.options.fix or self.options.diff
            if fixing and any(d.fix_allowed(self.options.unsafe_fixes) for d in diagnostics):
                try:
                    diagnostics = self._fix(result, path, outcome)
                except Exception as exc:  # a broken fixer must not take the whole run down
                    outcome.errors.append(
                        f"{result.filename}: fixes not applied: internal error: {_describe(exc)}"
                    )
                    if path is None and self.options.fix:
                        outcome.stdin_output = source.text
            elif path is None and self.options.fix:
                outcome.stdin_output = source.text
            if self.options.need_fix_edits and any(d.fix for d in diagnostics):
                from mfkit_lint.fixers.apply import compute_edits

                try:
                    compute_edits(outcome.sources[result.filename], diagnostics)
                except Exception as exc:
                    outcome.errors.append(
                        f"{result.filename}: fix edits not computed: internal error: "
                        f"{_describe(exc)}"
                    )
        outcome.diagnostics.extend(diagnostics)

    def _fix(
        self, result: FileResult, path: Optional[Path], outcome: RunOutcome
    ) -> list[Diagnostic]:
        from mfkit_lint.fixers.apply import fix_text

        source = result.source
        assert source is not None
        fixed = fix_text(
            source,
            lambda s: self.linter.lint_source(s, result.filename),
            result.diagnostics,
            self.options.unsafe_fixes,
        )
        if not fixed.fixed:
            if path is None and self.options.fix:
                outcome.stdin_output = source.text
            return fixed.remaining
        if self.options.diff:
            outcome.diffs.append(_unified_diff(result.filename, source.text, fixed.text))
            return result.diagnostics
        if path is None:
            outcome.stdin_output = fixed.text
        else:
            try:
                write_atomic(path, source.encode(fixed.text), source.raw)
            except WriteError as exc:
                outcome.errors.append(f"{result.filename}: fixes not written: {exc}")
                return result.diagnostics
        outcome.fixed += len(fixed.fixed)
        new_source = Source(fixed.text, source.encoding, source.encode(fixed.text))
        outcome.sources[result.filename] = new_source
        return fixed.remaining


def _unified_diff(filename: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=filename,
            tofile=filename,
        )
    )


def _describe(exc: Exception) -> str:
    """``Type: message`` for an internal error, short, even when ``str(exc)`` itself fails."""
    try:
        detail = str(exc)
    except Exception:
        detail = ""
    if len(detail) > 200:
        detail = detail[:200] + "..."
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
