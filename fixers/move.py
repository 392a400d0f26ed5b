"""Moving command-line words across the subcommand (MFK103, MFK109); the fix data is a
``WordsMove`` (fixers/data.py): adjacent list elements moved next to an anchor element, which
may be in another list of the same command, or ranges of text moved inside one string literal.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable, insert_elements, remove_elements
from mfkit_lint.fixers.data import WordsMove
from mfkit_lint.model.shell import split_commands

_HOLE = "\ufffc"
# Placeholders of %-formatting and str.format, which are filled by position.
_PLACEHOLDER = re.compile(r"%|\{|\}")


class MoveWords(Codemod):
    """List commands move the elements; string commands move the text inside the literal."""

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self.fix = WordsMove.from_data(self.data)
        self._positional: set[int] = set()  # literals whose placeholders are filled by position
        if not self.fix.in_string:
            self.moved = self._collect_pair(node)

    # -- lists -----------------------------------------------------------------------------------
    def _collect_pair(self, module: cst.Module) -> list[cst.BaseElement]:
        pair_list = self.fix.elements[0].list
        if any(e.list != pair_list for e in self.fix.elements):
            raise FixNotApplicable
        indexes = [e.index for e in self.fix.elements]
        finder = _ListFinder(pair_list)
        cst.MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
        if finder.found is None or max(indexes) >= len(finder.found.elements):
            raise FixNotApplicable
        return [finder.found.elements[i] for i in indexes]

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        if self.fix.in_string:
            return updated
        side, anchor = self.fix.side, self.fix.anchor_element
        elements = list(updated.elements)
        pair_here = self.starts_at(original, self.fix.elements[0].list)
        anchor_here = self.starts_at(original, anchor.list)
        if not (pair_here or anchor_here):
            return updated
        moved = [e.with_changes(comma=cst.MaybeSentinel.DEFAULT) for e in self.moved]
        insert_at = anchor.index + (1 if side == "after" else 0)
        if pair_here:
            indexes = {e.index for e in self.fix.elements}
            if anchor_here:
                if anchor.index in indexes:
                    raise FixNotApplicable
                insert_at -= sum(1 for i in indexes if i < insert_at)
            elements = remove_elements(elements, indexes)
        if anchor_here:
            elements = insert_elements(elements, insert_at, moved)
        self.mark(original)
        return updated.with_changes(elements=elements)

    # -- strings ---------------------------------------------------------------------------------
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Modulo):
            self._positional.add(id(node.left))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            self._positional.add(id(func.value))

    def on_leave(self, original, updated):
        if (
            self.fix.in_string
            and isinstance(original, cst.BaseExpression)
            and not self.applied
            and self.starts_at(original, self.fix.string)
        ):
            return self._move_text(original)
        return super().on_leave(original, updated)

    def _move_text(self, node: cst.BaseExpression) -> cst.BaseExpression:
        code = self.module.code_for_node(node)
        side, (anchor_start, anchor_end) = self.fix.side, self.fix.anchor_word
        start = self.offset_in(node, code, self.fix.words[0][0])
        end = self.offset_in(node, code, self.fix.words[-1][1])
        insert = self.offset_in(node, code, anchor_end if side == "after" else anchor_start)
        if not (start < end <= len(code) and (insert <= start or insert >= end)):
            raise FixNotApplicable
        words = code[start:end]
        between = code[min(insert, end) : max(insert, start)]
        if id(node) in self._positional and not _keeps_placeholder_order(words, between):
            raise FixNotApplicable
        # Remove the words with the blanks after them (or, at the end, the blanks before).
        cut_start, cut_end = start, end
        while cut_end < len(code) and code[cut_end] in " \t":
            cut_end += 1
        if cut_end == end:
            while cut_start > 0 and code[cut_start - 1] in " \t":
                cut_start -= 1
        text = " " + words if side == "after" else words + " "
        if insert >= end:
            new = code[:insert] + text + code[insert:]
            new = new[:cut_start] + new[cut_end:]
        else:
            new = code[:cut_start] + code[cut_end:]
            new = new[:insert] + text + new[insert:]
        if not _same_words(code, new):
            raise FixNotApplicable
        self.mark(node)
        try:
            return cst.parse_expression(new)
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc


def _keeps_placeholder_order(words: str, between: str) -> bool:
    """Moving text inside a ``%`` or ``.format`` template must not reorder its positional
    placeholders (f-string fields carry their own expressions and may move freely)."""
    return not (_PLACEHOLDER.search(words) and _PLACEHOLDER.search(between))


def _words_of(code: str) -> Optional[list[str]]:
    """The shell words of a string literal (f-string fields as holes), or None."""
    try:
        tree = ast.parse(f"(\n{code}\n)", mode="eval").body
    except SyntaxError:
        return None
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        text = tree.value
    elif isinstance(tree, ast.JoinedStr):
        text = "".join(
            _HOLE + ast.unparse(v.value) + _HOLE if isinstance(v, ast.FormattedValue) else v.value
            for v in tree.values
        )
    else:
        return []  # a template expression: its words are not all in the literal
    return sorted(w.text for c in split_commands(text) for w in c)


def _same_words(old: str, new: str) -> bool:
    """A move keeps every word: only their order may change."""
    before, after = _words_of(old), _words_of(new)
    return before is not None and before == after


class _ListFinder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (cst.metadata.PositionProvider,)

    def __init__(self, position: tuple[int, int]) -> None:
        super().__init__()
        self.position = position
        self.found: Optional[cst.List] = None

    def visit_List(self, node: cst.List) -> None:
        start = self.get_metadata(cst.metadata.PositionProvider, node).start
        if (start.line, start.column) == self.position:
            self.found = node
