"""How a finding tells its fixer where to edit: positions that survive re-parsing with libcst.

Rules run on ``ast``; fixers on libcst. A finding hands over plain data (rows and columns,
list elements by position) that the fixer finds again in its own tree.
"""

from __future__ import annotations

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.model.commands import Token
from mfkit_lint.model.module import ModuleModel


def span_tuple(span: Span) -> tuple[int, int, int, int]:
    """(start row, start column, end row, end column), as a hashable key and for fix data."""
    return (span.start.row, span.start.column, span.end.row, span.end.column)


def element_ref(module: ModuleModel, token: Token) -> dict:
    """A list element: the list literal's start position and the element's index in it."""
    return {"list": module.position(token.container), "index": token.index}
