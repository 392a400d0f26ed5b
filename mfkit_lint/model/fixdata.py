"""How a finding tells its fixer where to edit: positions that survive re-parsing with libcst.

Rules run on ``ast``; fixers on libcst. A finding hands over plain data (rows and columns,
list elements by position) that the fixer finds again in its own tree.
"""

from __future__ import annotations

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.model.commands import Command, Token
from mfkit_lint.model.module import ModuleModel


def span_tuple(span: Span) -> tuple[int, int, int, int]:
    """(start row, start column, end row, end column), as a hashable key and for fix data."""
    return (span.start.row, span.start.column, span.end.row, span.end.column)


def in_own_string(module: ModuleModel, command: Command, tokens: list[Token]) -> bool:
    """The words sit, on every path, in the string literal the command is written in: not
    a conditional piece, nor a piece spliced in from another string (editing the command's
    literal would not move them)."""
    template = command.template
    if template is None or template.offsets is None:
        return False
    whole = module.span(template.node)
    return all(
        not t.conditional
        and (whole.start.row, whole.start.column) <= (t.span.start.row, t.span.start.column)
        and (t.span.end.row, t.span.end.column) <= (whole.end.row, whole.end.column)
        for t in tokens
    )
