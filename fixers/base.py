"""What every codemod shares: finding the reported node by position, and list/text surgery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider

from mfkit_lint.engine.diagnostic import Diagnostic

Position = tuple[int, int]  # (1-based line, 0-based character column), as libcst counts


class FixNotApplicable(Exception):
    """The codemod found nothing it can safely change; the finding stays unfixed."""


class Codemod(cst.CSTTransformer):
    """Base class: ``self.data`` is the rule's fix data, ``self.start`` the finding's start."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__()
        self.data: dict[str, Any] = diagnostic.fix_data
        start = diagnostic.span.start
        end = diagnostic.span.end
        self.start: Position = (start.row, start.column - 1)
        self.end: Position = (end.row, end.column - 1)
        self.applied = False
        self.module: Optional[cst.Module] = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def range_of(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def outer_range(self, node: cst.CSTNode) -> tuple[Position, Position]:
        """The node's range including its own parentheses, the way ``ast`` reports it."""
        rng = self.range_of(node)
        start = (rng.start.line, rng.start.column)
        end = (rng.end.line, rng.end.column)
        for lpar in reversed(getattr(node, "lpar", ())):
            start = (start[0], start[1] - len(self.module.code_for_node(lpar)))
        for rpar in getattr(node, "rpar", ()):
            end = (end[0], end[1] + len(self.module.code_for_node(rpar)))
        return start, end

    def is_reported(self, node: cst.CSTNode) -> bool:
        """The node is exactly the reported expression."""
        return self.outer_range(node) == (self.start, self.end)

    def starts_at(self, node: cst.CSTNode, position: Sequence[int]) -> bool:
        start = self.range_of(node).start
        return (start.line, start.column) == tuple(position)

    def covers(self, node: cst.CSTNode, start: Position, end: Position) -> bool:
        rng = self.range_of(node)
        return (rng.start.line, rng.start.column) <= start and end <= (rng.end.line, rng.end.column)

    def mark(self, node: cst.CSTNode) -> cst.CSTNode:
        self.applied = True
        return node

    # -- text surgery inside one expression ----------------------------------------------------
    def offset_in(self, node: cst.CSTNode, code: str, position: Position) -> int:
        """Offset of a file position inside the code of ``node`` (which may span lines)."""
        start = self.range_of(node).start
        lines = code.splitlines(keepends=True)
        line_index = position[0] - start.line
        if line_index < 0 or line_index >= len(lines):
            raise FixNotApplicable
        if line_index == 0:
            # The node's code starts with its own parentheses; its range starts after them.
            lead = "".join(self.module.code_for_node(p) for p in getattr(node, "lpar", ()))
            if "\n" in lead:
                raise FixNotApplicable
            column = position[1] - start.column + len(lead)
        else:
            # libcst prints a node's continuation lines without the indentation of the block
            # around it: count columns from the end of the line, which is the same text.
            file_line = self._file_lines()[position[0] - 1].rstrip("\r\n")
            code_line = lines[line_index].rstrip("\r\n")
            if not file_line.endswith(code_line):
                raise FixNotApplicable
            column = position[1] - (len(file_line) - len(code_line))
        if column < 0:
            raise FixNotApplicable
        return sum(len(line) for line in lines[:line_index]) + column

    def _file_lines(self) -> list[str]:
        if getattr(self, "_lines_cache", None) is None:
            self._lines_cache = self.module.code.splitlines(keepends=True)
        return self._lines_cache

    def splice(
        self, node: cst.BaseExpression, edits: list[tuple[Position, Position, str]]
    ) -> cst.BaseExpression:
        """``node`` with text ranges replaced, re-parsed as an expression."""
        code = self.module.code_for_node(node)
        pieces = sorted(
            (
                (self.offset_in(node, code, a), self.offset_in(node, code, b), text)
                for a, b, text in edits
            ),
            reverse=True,
        )
        for start, end, text in pieces:
            code = code[:start] + text + code[end:]
        try:
            return cst.parse_expression(code)
        except cst.ParserSyntaxError:
            pass
        # An expression over several lines stands inside brackets of its context (a call's
        # parentheses): parsed alone it needs them too, and they are dropped again.
        try:
            wrapped = cst.parse_expression(f"({code})")
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc
        return wrapped.with_changes(lpar=wrapped.lpar[1:], rpar=wrapped.rpar[:-1])


def expression_at(
    transformer: Codemod, original: cst.CSTNode, position: Optional[Position] = None
) -> bool:
    """True when ``original`` is an expression starting at the finding (or ``position``)."""
    return isinstance(original, cst.BaseExpression) and transformer.starts_at(
        original, position or transformer.start
    )


# -- list element surgery ---------------------------------------------------------------------


def _with_comma(element: cst.BaseElement, comma: Any) -> cst.BaseElement:
    return element.with_changes(comma=comma)


def remove_elements(
    elements: Sequence[cst.BaseElement], indexes: set[int]
) -> list[cst.BaseElement]:
    """Drop elements; the survivor before a removed run takes the run's last comma, so line
    breaks stay where they were."""
    out: list[cst.BaseElement] = []
    for i, element in enumerate(elements):
        if i in indexes:
            if out and (i + 1 not in indexes):
                out[-1] = _with_comma(out[-1], element.comma)
            continue
        out.append(element)
    if out and len(out) < len(elements) and (len(elements) - 1) in indexes:
        out[-1] = _with_comma(out[-1], elements[-1].comma)
    return out


def insert_elements(
    elements: Sequence[cst.BaseElement], index: int, new: Sequence[cst.BaseElement]
) -> list[cst.BaseElement]:
    """Insert ``new`` before ``index``, laid out like their neighbours: in a list with one
    element per line the new elements get lines of their own."""
    neighbours = [elements[i] for i in (index - 1, index) if 0 <= i < len(elements)]
    separator = next(
        (e.comma for e in neighbours if isinstance(e.comma, cst.Comma)),
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    out = list(elements[:index]) + [e.with_changes(comma=separator) for e in new]
    out += list(elements[index:])
    if index >= len(elements) and elements:
        # The old last element is no longer last: it needs a separator, and the new last
        # element takes over its trailing comma (or the lack of one).
        out[len(elements) - 1] = _with_comma(elements[-1], separator)
        out[-1] = _with_comma(out[-1], elements[-1].comma)
    return out


def parse_element(code: str) -> cst.BaseElement:
    """A list element parsed from source text, e.g. ``*(["--branch", b] if b else [])``."""
    return cst.ensure_type(cst.parse_expression(f"[{code}]"), cst.List).elements[0]
