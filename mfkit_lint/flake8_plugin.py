"""flake8 front end: ``flake8 --select MFK``. flake8 applies its own select and ignore.

Importing this module stays cheap (flake8 loads it on every run, MFK selected or not); the
engine is imported on the first file.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator

from mfkit_lint import __version__


class MfkitChecker:
    name = "mfkit-lint"
    version = __version__
    _linter = None
    # flake8's own noqa covers only the physical line (or a multi-line string); ours covers
    # the whole statement, e.g. a noqa on any line of a multi-line list literal, as the CLI
    # does. Both apply unless the user runs flake8 with --disable-noqa.
    _apply_noqa = True

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls._apply_noqa = not getattr(options, "disable_noqa", False)

    def __init__(self, tree: ast.Module, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def _get_linter(cls):
        if cls._linter is None:
            from mfkit_lint.engine.config import Settings
            from mfkit_lint.engine.linter import Linter

            cls._linter = Linter(Settings())
        return cls._linter

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from mfkit_lint.engine.source import Source

        text = "".join(self.lines)
        source = Source(text, "utf-8", text.encode("utf-8", "surrogatepass"))
        diagnostics = self._get_linter().lint_source(
            source, self.filename, tree=self.tree, apply_noqa=self._apply_noqa
        )
        for diag in diagnostics:
            yield (
                diag.location.row,
                diag.location.column - 1,
                f"{diag.code} {diag.message}",
                type(self),
            )
