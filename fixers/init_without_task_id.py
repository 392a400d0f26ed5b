"""MFK106: give ``init`` the ``--task-id`` of the run's ``_parameters`` task."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable, insert_elements


class AddInitTaskId(Codemod):
    """List commands get two elements after the ``--run-id`` pair (or after ``"init"``);
    string commands get `` --task-id 1`` right after the ``init`` word."""

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        data = self.data
        if data["kind"] != "list" or self.applied or not self.starts_at(original, data["list"]):
            return updated
        new = cst.ensure_type(cst.parse_expression(f"[{data['elements']}]"), cst.List).elements
        self.mark(original)
        return updated.with_changes(elements=insert_laid_out(updated.elements, data["index"], new))

    def on_leave(self, original, updated):
        data = self.data
        if (
            data["kind"] == "string"
            and not self.applied
            and isinstance(original, cst.BaseExpression)
            and self.starts_at(original, data["string"])
        ):
            return self._insert_text(original)
        return super().on_leave(original, updated)

    def _insert_text(self, node: cst.BaseExpression) -> cst.BaseExpression:
        code = self.module.code_for_node(node)
        at = self.offset_in(node, code, tuple(self.data["at"]))
        if not 4 <= at <= len(code) or code[at - 4 : at] != "init":
            raise FixNotApplicable
        self.mark(node)
        try:
            return cst.parse_expression(code[:at] + self.data["text"] + code[at:])
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc


def insert_laid_out(
    elements: Sequence[cst.BaseElement], index: int, new: Sequence[cst.BaseElement]
) -> list[cst.BaseElement]:
    """``insert_elements``, but at the end of a list the separator is taken from between two
    existing elements (the last one's trailing comma has no line break of its own)."""
    if index < len(elements) or len(elements) < 2:
        return insert_elements(elements, index, new)
    separator = elements[-2].comma
    if not isinstance(separator, cst.Comma):
        return insert_elements(elements, index, new)
    out = [*elements[:-1], elements[-1].with_changes(comma=separator)]
    out += [e.with_changes(comma=separator) for e in new]
    out[-1] = out[-1].with_changes(comma=elements[-1].comma)
    return out
