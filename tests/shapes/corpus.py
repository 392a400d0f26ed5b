"""Run the committed variants through the linter, as the command line would on a directory, and
judge each one: a bug variant must be reported at its anchor line and nowhere else, a correct
variant must get no finding of its rule."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import Variant, committed  # noqa: E402

from mfkit_lint.engine.config import Settings  # noqa: E402
from mfkit_lint.engine.linter import Linter  # noqa: E402
from mfkit_lint.engine.registry import Selection  # noqa: E402
from mfkit_lint.engine.session import RunOptions, Session  # noqa: E402

KNOWN_FAILURES = HERE / "known_failures.txt"


@dataclass
class Outcome:
    variant: Variant
    hit: bool  # a finding at an anchor (bug variants)
    stray: list[str]  # findings where none should be ("file:line")

    @property
    def passed(self) -> bool:
        return not self.stray and (self.hit or not self.variant.bug)

    def describe(self) -> str:
        parts = []
        if self.variant.bug and not self.hit:
            parts.append("missed")
        if self.stray:
            parts.append("false alarm at " + ", ".join(self.stray))
        return "; ".join(parts) or "ok"


def run(variant: Variant, root: Optional[Path] = None) -> Outcome:
    """Lint the variant's files in a fresh directory with only its rule selected."""
    with tempfile.TemporaryDirectory(prefix="shape-") as tmp:
        base = Path(tmp) / "ext"
        for name, text in variant.files.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        linter = Linter(Settings(root=base), Selection((variant.rule,)))
        outcome = Session(linter, RunOptions()).run([str(base)])
        hit = False
        stray = []
        for diag in outcome.diagnostics:
            if diag.code != variant.rule:
                continue
            name = Path(diag.filename).resolve().relative_to(base.resolve()).as_posix()
            if diag.location.row in variant.anchors.get(name, ()):
                hit = True
            else:
                stray.append("%s:%d" % (name, diag.location.row))
        return Outcome(variant, hit, stray)


def known_failures() -> dict[str, str]:
    """Variant id -> failure class, for the variants the linter does not handle yet."""
    out = {}
    for line in KNOWN_FAILURES.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ident, failure = line.split(None, 1)
            out[ident] = failure.strip()
    return out


def variants() -> list[Variant]:
    return committed()
