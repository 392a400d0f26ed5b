"""Moving or removing a whole statement that adds command-line words (MFK109).

Extensions often add an option in a statement of its own, guarded by a condition::

    if ORIGIN_RUN_ID:
        cmd += ["--clone-run-id", ORIGIN_RUN_ID]
    cmd += ["step", step_name, ...]

Such an option on the wrong side of the subcommand is fixed by moving that statement after
the one that adds the subcommand; an option the command does not take at all by removing it.
"""

from __future__ import annotations

from typing import ClassVar, Union

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import HelperOptionFix, RemovedStatements, StatementFix

Block = Union[cst.IndentedBlock, cst.Module]


class MoveOrRemoveStatement(Codemod):
    """Moves the statement after the anchor statement of the same block, or removes it."""

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return self._block(original, updated)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return self._block(original, updated)

    def _block(self, original: Block, updated: Block) -> Block:
        if self.applied:
            return updated
        fix = StatementFix.from_data(self.data)
        starts = [
            (self.range_of(s).start.line, self.range_of(s).start.column) for s in original.body
        ]
        if fix.statement not in starts:
            return updated
        body = list(updated.body)
        index = starts.index(fix.statement)
        moved = body.pop(index)
        if fix.after is None and fix.before is None:
            if not body and isinstance(updated, cst.IndentedBlock):
                raise FixNotApplicable  # the block would be empty
        elif fix.after is not None:
            if fix.after not in starts or starts.index(fix.after) < index:
                raise FixNotApplicable  # the anchor is elsewhere, or already before it
            body.insert(starts.index(fix.after), moved)  # (after the pop: right after it)
        else:
            if fix.before not in starts or starts.index(fix.before) > index:
                raise FixNotApplicable
            body.insert(starts.index(fix.before), moved)
        self.mark(original)
        return updated.with_changes(body=body)


class _PlacedBlocksEdit(Codemod):
    """Edits the statement blocks at the positions its fix data names, and changes nothing
    unless it found every one of them."""

    FIX: ClassVar[type]  # the fix data class: from_data() of the diagnostic's data

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self.fix = self.FIX.from_data(self.data)
        self.done: set[tuple[int, int]] = set()

    def wanted(self) -> set[tuple[int, int]]:
        raise NotImplementedError

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return self._block(original, updated)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        result = self._block(original, updated)
        if self.done != self.wanted():
            raise FixNotApplicable  # a place of the fix was not found: change nothing
        return result

    def _block(self, original: Block, updated: Block) -> Block:
        raise NotImplementedError


class MoveToCallers(_PlacedBlocksEdit):
    """Removes a helper's statement and inserts each caller's renamed copy after the
    caller's statement that adds the subcommand (one fix, one edit per place)."""

    FIX = HelperOptionFix

    def wanted(self) -> set[tuple[int, int]]:
        return {self.fix.statement, *(i.after for i in self.fix.inserts)}

    def _block(self, original: Block, updated: Block) -> Block:
        starts = [
            (self.range_of(s).start.line, self.range_of(s).start.column) for s in original.body
        ]
        body: list = []
        changed = False
        for start, statement in zip(starts, updated.body):
            if start == self.fix.statement:
                self.done.add(start)
                changed = True
                continue
            body.append(statement)
            for insert in self.fix.inserts:
                if insert.after == start:
                    try:
                        body.append(cst.parse_statement(insert.code))
                    except cst.ParserSyntaxError as exc:
                        raise FixNotApplicable from exc
                    self.done.add(start)
                    changed = True
        if not changed:
            return updated
        if not body and isinstance(updated, cst.IndentedBlock):
            raise FixNotApplicable  # the block would be empty
        self.mark(original)
        return updated.with_changes(body=body)


class RemoveStatements(_PlacedBlocksEdit):
    """Removes every statement the fix names (MFK207: a runtime override and its guard)."""

    FIX = RemovedStatements

    def wanted(self) -> set[tuple[int, int]]:
        return set(self.fix.statements)

    def _block(self, original: Block, updated: Block) -> Block:
        kept = []
        for statement, new in zip(original.body, updated.body):
            start = self.range_of(statement).start
            if (start.line, start.column) in self.fix.statements:
                self.done.add((start.line, start.column))
            else:
                kept.append(new)
        if len(kept) == len(updated.body):
            return updated
        if not kept and isinstance(updated, cst.IndentedBlock):
            raise FixNotApplicable  # the block would be empty
        self.mark(original)
        return updated.with_changes(body=kept)
