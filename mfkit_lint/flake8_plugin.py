"""flake8 front end: ``flake8 --select MFK``. flake8 applies its own select and ignore.

flake8 imports every installed plugin on every run and calls every tree plugin on every file,
whatever ``--select`` says, filtering the reports afterwards. So importing this module stays
cheap (the engine is imported on the first file that is linted), and when flake8's selection
can report no ``MFK`` code at all (e.g. ``flake8 --select E,F``), the plugin lints nothing and
the engine is never imported. ``bench/flake8_startup.py`` measures both. (flake8 knows the
plugin as ``MFK``: rules of other packages whose codes have another prefix are reported through
flake8 only when some ``MFK`` code is selected too.)
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

    # Whether flake8 would report any MFK code; when it would not, ``run`` does nothing.
    _selected = True

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls._apply_noqa = not getattr(options, "disable_noqa", False)
        cls._selected = _mfk_selected(options)

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
        if not self._selected:
            return
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


PREFIX = "MFK"


def _mfk_selected(options: argparse.Namespace) -> bool:
    """Whether flake8's select and ignore options let any ``MFK`` code through.

    Per-file ignores only ever ignore more, so the global decision is an upper bound. When the
    options are not what this flake8 version's decision engine expects, say yes: the plugin
    then lints and flake8 filters, as it always does.
    """
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        selectors = (*engine.selected, *engine.selected_explicitly)
    except Exception:
        return True
    # The common case, e.g. --select E,F: no selector is a prefix of an MFK code.
    if not any(PREFIX.startswith(s) or s.startswith(PREFIX) for s in selectors):
        return False
    return any(engine.decision_for(f"{PREFIX}{n:03d}") == Decision.Selected for n in range(1000))
