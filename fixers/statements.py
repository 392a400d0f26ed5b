"""Moving or removing a whole statement that adds command-line words (MFK109).

Extensions often add an option in a statement of its own, guarded by a condition::

    if ORIGIN_RUN_ID:
        cmd += ["--clone-run-id", ORIGIN_RUN_ID]
    cmd += ["step", step_name, ...]

Such an option on the wrong side of the subcommand is fixed by moving that statement after
the one that adds the subcommand; an option the command does not take at all by removing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable, Position


@dataclass(frozen=True)
class StatementFix:
    """Fix data: statements by the (line, 0-based column) of their first character."""

    statement: Position
    after: Optional[Position] = None  # move right after this statement; None: remove it

    def to_data(self) -> dict[str, Any]:
        return {
            "statement": list(self.statement),
            "after": list(self.after) if self.after else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StatementFix:
        after = data.get("after")
        return cls(tuple(data["statement"]), tuple(after) if after else None)


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
        if fix.after is None:
            if not body and isinstance(updated, cst.IndentedBlock):
                raise FixNotApplicable  # the block would be empty
        else:
            if fix.after not in starts:
                raise FixNotApplicable  # the anchor is in another block
            anchor = starts.index(fix.after)
            if anchor < index:
                raise FixNotApplicable  # only later statements: the words are built in order
            body.insert(anchor, moved)  # (after the pop, the anchor sits one place earlier)
        self.mark(original)
        return updated.with_changes(body=body)
