"""The values the engine hands to front ends: diagnostics, fixes and edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional

DOCS_URL = "https://github.com/mfkit/mfkit-lint/blob/main/docs/pitfalls/{name}.md"


class Applicability(str, enum.Enum):
    """How safe a fix is, as in ruff: safe fixes run with --fix, unsafe ones need --unsafe-fixes."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based row and a 1-based column counted in characters (ruff's convention)."""

    row: int
    column: int


@dataclass(frozen=True)
class Span:
    """Where a finding sits: start and end, both as Location. ``file`` is set when the span
    lies in another module than the one being linted (a word a helper of another module
    contributes to a command): the engine reports such a finding only in that file."""

    start: Location
    end: Location
    file: Optional[str] = None


@dataclass(frozen=True)
class Edit:
    """Replace the text between two locations with ``content``."""

    content: str
    location: Location
    end_location: Location


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...] = ()


FIXERS_PACKAGE = "mfkit_lint.fixers"


@dataclass(frozen=True)
class FixSpec:
    """What a rule declares about its fix: how safe, what it does, which codemod computes it."""

    applicability: Applicability
    message: str
    # "module:Class": a module of mfkit_lint.fixers ("move:MoveWords") or, for a rule plugin's
    # own fixer, a full dotted module path ("my_rules.fixers:Codemod"). Imported lazily; the
    # registry checks that the class exists when the rules load.
    codemod: str

    def target(self) -> tuple[str, str]:
        """(module, class) the codemod reference names."""
        return codemod_target(self.codemod)


def codemod_target(reference: str) -> tuple[str, str]:
    module, _, cls = reference.partition(":")
    if "." not in module:
        module = f"{FIXERS_PACKAGE}.{module}"
    return module, cls


@dataclass
class Diagnostic:
    code: str
    name: str
    message: str
    filename: str
    span: Span
    fix: Optional[Fix] = None
    # Everything the codemod needs to compute the edit; opaque to the engine.
    fix_data: dict[str, Any] = field(default_factory=dict)
    codemod: Optional[str] = None
    # Why a finding has no fix (``fix`` is None): shown by --show-fixes and in JSON.
    no_fix_reason: Optional[str] = None

    @property
    def location(self) -> Location:
        return self.span.start

    @property
    def end_location(self) -> Location:
        return self.span.end

    @property
    def url(self) -> str:
        return DOCS_URL.format(name=self.name) if self.name else ""

    def fix_allowed(self, unsafe: bool) -> bool:
        """Whether --fix applies this finding's fix (unsafe ones need --unsafe-fixes too)."""
        return self.fix is not None and (self.fix.applicability == Applicability.SAFE or unsafe)

    @property
    def severity(self) -> str:
        """ "error" for a file that could not be checked at all, "warning" for a finding."""
        return "error" if self.code in ("MFK001", "MFK002") else "warning"

    def sort_key(self) -> tuple:
        return (self.filename, self.span.start, self.code)
