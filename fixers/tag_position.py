"""MFK103: move ``--tag VALUE`` from before the subcommand to right after it."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable, insert_elements, remove_elements


class MoveTagAfterSubcommand(Codemod):
    """List commands move the two elements; string commands move the text inside the literal."""

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        if self.data["kind"] == "list":
            self.moved = self._collect_pair(node)

    def _collect_pair(self, module: cst.Module) -> list[cst.BaseElement]:
        pair_list = tuple(self.data["pair"][0]["list"])
        indexes = [p["index"] for p in self.data["pair"]]
        finder = _ListFinder(pair_list)
        cst.MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
        if finder.found is None:
            raise FixNotApplicable
        return [finder.found.elements[i] for i in indexes]

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        if self.data["kind"] != "list":
            return updated
        elements = list(updated.elements)
        pair_here = self.starts_at(original, self.data["pair"][0]["list"])
        after_here = self.starts_at(original, self.data["after"]["list"])
        if not (pair_here or after_here):
            return updated
        moved = [e.with_changes(comma=cst.MaybeSentinel.DEFAULT) for e in self.moved]
        insert_at = self.data["after"]["index"] + 1
        if pair_here:
            indexes = {p["index"] for p in self.data["pair"]}
            if after_here:
                insert_at -= sum(1 for i in indexes if i < insert_at)
            elements = remove_elements(elements, indexes)
        if after_here:
            elements = insert_elements(elements, insert_at, moved)
        self.mark(original)
        return updated.with_changes(elements=elements)

    def on_leave(self, original, updated):
        if (
            self.data["kind"] == "string"
            and isinstance(original, cst.BaseExpression)
            and not self.applied
            and self.starts_at(original, self.data["string"])
        ):
            return self._move_text(original)
        return super().on_leave(original, updated)

    def _move_text(self, node: cst.BaseExpression) -> cst.BaseExpression:
        code = self.module.code_for_node(node)
        first, last = self.data["pair"][0], self.data["pair"][-1]
        start = self.offset_in(node, code, (first[0], first[1] - 1))
        end = self.offset_in(node, code, (last[2], last[3] - 1))
        after = self.data["after"]
        insert = self.offset_in(node, code, (after[2], after[3] - 1))
        if not start < end <= insert:
            raise FixNotApplicable
        pair_text = code[start:end]
        gap_end = end
        while gap_end < len(code) and code[gap_end] in " \t":
            gap_end += 1
        code = code[:start] + code[gap_end:insert] + " " + pair_text + code[insert:]
        self.mark(node)
        try:
            return cst.parse_expression(code)
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc


class _ListFinder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (cst.metadata.PositionProvider,)

    def __init__(self, position: tuple[int, int]) -> None:
        super().__init__()
        self.position = position
        self.found = None

    def visit_List(self, node: cst.List) -> None:
        start = self.get_metadata(cst.metadata.PositionProvider, node).start
        if (start.line, start.column) == self.position:
            self.found = node
