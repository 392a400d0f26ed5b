"""What a run hands to the output formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from mfkit_lint.engine.diagnostic import Applicability, Diagnostic
from mfkit_lint.engine.source import Source


@dataclass
class Report:
    diagnostics: list[Diagnostic]
    fixed: int = 0
    unsafe_fixes: bool = False
    show_source: bool = False
    sources: dict[str, Source] = field(default_factory=dict)  # for --show-source
    errors: int = 0  # problems reported on stderr: unreadable paths, internal errors
    files: list[str] = field(default_factory=list)  # every file linted, by reported name
    fixed_diagnostics: list[Diagnostic] = field(default_factory=list)  # for --show-fixes
    show_fixes: bool = False  # list what was fixed, and why the rest has no fix
    quiet: bool = False  # findings only: no summary

    def without_fix(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.fix is None]

    def shows_fix(self, diag: Diagnostic) -> bool:
        """``[*]``: the fix would be applied by --fix with the current unsafe-fixes setting."""
        return diag.fix_allowed(self.unsafe_fixes)

    def hidden_unsafe(self) -> int:
        return (
            sum(
                1
                for d in self.diagnostics
                if d.fix is not None and d.fix.applicability == Applicability.UNSAFE
            )
            if not self.unsafe_fixes
            else 0
        )

    def source_line(self, diag: Diagnostic) -> Optional[str]:
        source = self.sources.get(diag.filename)
        return source.line(diag.location.row) if source is not None else None
