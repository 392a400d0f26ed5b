"""Writing a fix back into generated code kept as one string per generated line.

Extensions build generated code as a list of lines (``["if X:", _INDENT + "cmd += [...]"]``)
or with one ``lines.append(...)`` per line. A fix that removes, moves or adds whole statements
of that code changes whole lines. When such a change cannot be written inside one literal (a
statement spread over two elements), it is written as whole pieces: the lines' elements (or
statements) are removed, and each line put in their place or elsewhere is written as the
source text of the piece that generated that same line before (its quoting and its
``_INDENT +`` kept), or, for a line the fix writes anew, as a plain literal. The caller checks
the result the strong way: the fixed file must generate exactly the fixed code.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from mfkit_lint.fixers.base import FixNotApplicable
from mfkit_lint.model.commands import string_lists
from mfkit_lint.model.embedded import PLACEHOLDER
from mfkit_lint.model.templates import HOLE, template_of

if TYPE_CHECKING:
    from mfkit_lint.model.embedded import EmbeddedSource
    from mfkit_lint.model.module import ModuleModel

# (first virtual line, end virtual line, the lines that replace them)
LineBlock = tuple[int, int, list[str]]


class PiecesNotWritable(FixNotApplicable):
    """The changed lines cannot be written as whole pieces. ``pieces`` tells whether the
    lines are pieces of a list of generated lines at all (if not, the reason a literal edit
    failed says more)."""

    def __init__(self, reason: str, pieces: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pieces = pieces


@dataclass(frozen=True)
class Piece:
    """The string expression that generates one line, where it stands in the real file."""

    node: ast.expr
    group: tuple  # the list literal (or the block and writer call) it is a piece of
    index: int  # its place in the group: pieces one apart are written one after the other
    start: int  # real offsets of what stands for the line: the element itself, or the whole
    end: int  # lines of its ``lines.append(...)`` statement
    text_start: int  # real offsets of the string expression
    text_end: int

    @property
    def statement(self) -> bool:
        return self.group[0] == "block"


class LinePieces:
    """The lines of one virtual module, each mapped to the piece that generates it alone."""

    def __init__(self, module: ModuleModel, embedded: EmbeddedSource) -> None:
        self.module = module
        self.text = module.source.text
        self.lines = embedded.source.text.split("\n")
        pieces = sorted(
            (p for p in map(self._piece, _line_nodes(module)) if p is not None),
            key=lambda p: p.text_end - p.text_start,
        )
        self.groups: dict[tuple, dict[int, Piece]] = {}
        for piece in pieces:
            self.groups.setdefault(piece.group, {})[piece.index] = piece
        found: list[Optional[Piece]] = []
        offset = 0
        for line in self.lines:
            real = [o for o in embedded.offsets[offset : offset + len(line)] if o is not None]
            found.append(_piece_of(real, pieces) if line.strip() else None)
            offset += len(line) + 1
        # A piece that writes several lines (a multi-line template) is not one line's piece.
        self.of_line = [p if p is not None and found.count(p) == 1 else None for p in found]
        # A blank line has no characters to follow: it is the empty element right after the
        # line before it, when that one is a piece.
        for k in range(1, len(self.lines)):
            previous = self.of_line[k - 1]
            if self.of_line[k] is None and not self.lines[k].strip() and previous is not None:
                following = self.groups[previous.group].get(previous.index + 1)
                if following is not None and _blank(following.node):
                    self.of_line[k] = following

    # -- the pieces of the real file -------------------------------------------------------
    def _offset(self, row: int, byte_col: int) -> int:
        source = self.module.source
        return source.offset(source.location(row, byte_col))

    def _piece(self, node: ast.expr) -> Optional[Piece]:
        module = self.module
        parent = module.parent(node)
        start = self._offset(node.lineno, node.col_offset)
        end = self._offset(node.end_lineno, node.end_col_offset)
        if isinstance(parent, (ast.List, ast.Tuple)):
            index = next(i for i, e in enumerate(parent.elts) if e is node)
            return Piece(node, ("list", id(parent)), index, start, end, start, end)
        statement = module.parent(parent)
        if not (
            isinstance(parent, ast.Call)
            and parent.args == [node]
            and isinstance(statement, ast.Expr)
        ):
            return None
        block = module.parent(statement)
        body = next(
            (
                getattr(block, f)
                for f in ("body", "orelse", "finalbody")
                if statement in getattr(block, f, ())
            ),
            None,
        )
        if body is None:
            return None
        starts = module.source.line_starts
        first = starts[statement.lineno - 1]
        last = statement.end_lineno
        after = starts[last] if last < len(starts) else len(self.text)
        head = self.text[first : self._offset(statement.lineno, statement.col_offset)]
        tail = self.text[self._offset(last, statement.end_col_offset) : after]
        if head.strip() or tail.strip():
            return None  # shares its lines with other code: not a statement of its own
        group = ("block", id(body), ast.dump(parent.func))
        return Piece(node, group, body.index(statement), first, after, start, end)

    def _source(self, piece: Piece) -> str:
        return self.text[piece.text_start : piece.text_end]

    # -- edits -----------------------------------------------------------------------------
    def edits(self, blocks: list[LineBlock]) -> list[tuple[int, int, str]]:
        """Real (start, end, text) edits for the changed runs of whole virtual lines. A line
        that a block removes and another block (or the same) puts back keeps its piece."""
        removed: dict[str, set[str]] = {}
        for first, stop, _ in blocks:
            for k in range(first, stop):
                piece = self.of_line[k]
                if piece is not None:
                    removed.setdefault(self.lines[k], set()).add(self._source(piece))
        return [self._block(first, stop, new, removed) for first, stop, new in blocks]

    def _block(
        self, first: int, stop: int, new: list[str], removed: dict[str, set[str]]
    ) -> tuple[int, int, str]:
        old = [self.of_line[k] for k in range(first, stop)]
        if any(p is None for p in old):
            raise PiecesNotWritable("a changed generated line is not a piece of its own", False)
        if old:
            indexes = [p.index for p in old]
            if any(p.group != old[0].group for p in old) or indexes != list(
                range(indexes[0], indexes[0] + len(old))
            ):
                raise PiecesNotWritable("the changed generated lines are not written together")
            reference = old[0]
        else:
            reference = self._neighbour(first)
        texts = [self._spelled(line, reference, removed) for line in new]
        before = bool(old) or (first < len(self.lines) and self.of_line[first] is reference)
        if reference.statement:
            head = self.text[reference.start : reference.text_start]
            tail = self.text[reference.text_end : reference.end]
            code = "".join(head + t + tail for t in texts)
            if old:
                return old[0].start, old[-1].end, code
            at = reference.start if before else reference.end
            return at, at, code
        members = self.groups[reference.group]
        sep = self._separator(members)
        if old:
            start, end = old[0].start, old[-1].end
            if texts:
                return start, end, sep.join(texts)
            following = members.get(old[-1].index + 1)
            preceding = members.get(old[0].index - 1)
            if following is not None:
                return start, following.start, ""
            if preceding is not None:
                return preceding.end, end, ""
            raise PiecesNotWritable("the fix would leave the list of generated lines empty")
        if before:
            return reference.start, reference.start, "".join(t + sep for t in texts)
        return reference.end, reference.end, "".join(sep + t for t in texts)

    def _neighbour(self, first: int) -> Piece:
        """For lines inserted before virtual line ``first``: the piece they go before, or
        the piece they follow when it ends its group."""
        after = self.of_line[first] if first < len(self.lines) else None
        before = self.of_line[first - 1] if first > 0 else None
        if after is not None and (
            before is None or (before.group == after.group and before.index + 1 == after.index)
        ):
            return after
        if before is not None and before.index + 1 not in self.groups[before.group]:
            return before
        raise PiecesNotWritable(
            "the insertion point is not next to a generated line's piece", False
        )

    def _separator(self, members: dict[int, Piece]) -> str:
        """What the list puts between two elements (``,\\n    ``), as its author wrote it."""
        for index, piece in members.items():
            following = members.get(index + 1)
            if following is not None:
                between = self.text[piece.end : following.start]
                if between.strip() == ",":
                    return between
        return ", "

    def _spelled(self, line: str, reference: Piece, removed: dict[str, set[str]]) -> str:
        """The source text of a piece that generates ``line``: the one that generated it
        before the fix, or a new literal."""
        moved = removed.get(line, set())
        if len(moved) > 1:
            raise PiecesNotWritable("different pieces generate the same moved line")
        if moved:
            return next(iter(moved))
        if _holds_placeholder(line):
            raise PiecesNotWritable("a new generated line would hold a template hole")
        line = self._dedented(reference) + line
        quote = self._quote(reference)
        # Indented the way the author indents: ``_INDENT + "..."`` where a piece does so.
        for indent, expression in self._indentations(reference):
            if line.startswith(indent):
                return f"{expression} + {_literal(line[len(indent) :], quote)}"
        return _literal(line, quote)

    def _indentations(self, reference: Piece) -> list[tuple[str, str]]:
        """(indentation, the expression that writes it) of pieces spelled ``<expression> +
        "<text>"``, those of the reference's group first, the longest first."""
        found: dict[str, tuple[int, str]] = {}
        for piece in sorted(
            (p for p in self.of_line if p is not None), key=lambda p: p.group != reference.group
        ):
            node = piece.node
            if not (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Add)
                and isinstance(node.right, ast.Constant)
                and isinstance(node.right.value, str)
            ):
                continue
            template = template_of(self.module, node)
            if template is None or HOLE in template.text:
                continue
            indent = template.text[: len(template.text) - len(node.right.value)]
            if indent and not indent.strip() and indent not in found:
                left = node.left
                start = self._offset(left.lineno, left.col_offset)
                found[indent] = (
                    len(found),
                    self.text[start : self._offset(left.end_lineno, left.end_col_offset)],
                )
        return [
            (indent, expression)
            for indent, (_, expression) in sorted(found.items(), key=lambda i: -len(i[0]))
        ]

    def _dedented(self, reference: Piece) -> str:
        """The indentation the virtual module's dedent took off every generated line."""
        template = template_of(self.module, reference.node)
        if template is None or reference not in self.of_line:
            raise PiecesNotWritable("the neighbouring generated line cannot be read")
        line = self.lines[self.of_line.index(reference)]
        full = template.text.replace(HOLE, PLACEHOLDER)
        prefix = full[: len(full) - len(line)]
        if not full.endswith(line) or prefix.strip():
            raise PiecesNotWritable("the generated lines' indentation cannot be told")
        return prefix

    def _quote(self, reference: Piece) -> str:
        """The quote character the reference piece's literals use."""
        for token in _string_tokens(self._source(reference)):
            return token.lstrip("rRbBfFuU")[:1]
        return '"'


def _line_nodes(module: ModuleModel) -> list[ast.expr]:
    return [node for strings in string_lists(module) for node in strings]


def _blank(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and not node.value.strip()


def _piece_of(real: list[int], pieces: list[Piece]) -> Optional[Piece]:
    """The smallest piece holding the line's characters (those that come from some piece:
    the definition of an indentation constant does not count)."""
    inside = [o for o in real if any(p.text_start <= o < p.text_end for p in pieces)]
    if not inside:
        return None
    lo, hi = min(inside), max(inside)
    return next((p for p in pieces if p.text_start <= lo and hi < p.text_end), None)


def _holds_placeholder(line: str) -> bool:
    """The line holds the name a template hole becomes: what it stood for is unknown."""
    return any(
        tok.type == tokenize.NAME and tok.string == PLACEHOLDER for tok in _tokens(line.strip())
    )


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """The tokens of one line (an unclosed bracket ends them, it does not lose them)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            out.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _string_tokens(text: str) -> list[str]:
    return [tok.string for tok in _tokens(text) if tok.type == tokenize.STRING]


def _literal(text: str, quote: str) -> str:
    """``text`` as a plain string literal, in the given quote character when it can be."""
    if quote not in ("'", '"'):
        quote = '"'
    other = "'" if quote == '"' else '"'
    if quote in text and other not in text:
        quote = other
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
