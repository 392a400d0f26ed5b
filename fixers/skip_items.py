"""Skipping some items of a loop (MFK111: the Configs among a flow's parameters)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import SkipItems


class SkipItemsInLoops(Codemod):
    """``for name, p in xs:`` gets ``if <skip>: continue`` as its first statement;
    ``[... for name, p in xs]`` gets ``if not (<skip>)`` after that ``for`` clause."""

    def __init__(self, diagnostic) -> None:
        super().__init__(diagnostic)
        self.fix = SkipItems.from_data(self.data)
        self.done: set[int] = set()

    def _loop_index(self, iterated: cst.BaseExpression) -> Optional[int]:
        for index, position in enumerate(self.fix.iters):
            if index not in self.done and self.starts_at(iterated, position):
                self.done.add(index)
                return index
        return None

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        index = self._loop_index(original.iter)
        if index is None:
            return updated
        if not isinstance(updated.body, cst.IndentedBlock):
            raise FixNotApplicable  # ``for x in xs: a(x)`` on one line
        guard = cst.parse_statement(f"if {self.fix.condition(index)}:\n    continue\n")
        body = updated.body.with_changes(body=[guard, *updated.body.body])
        return self._marked(updated.with_changes(body=body))

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        index = self._loop_index(original.iter)
        if index is None:
            return updated
        test = cst.parse_expression(f"not {self.fix.condition(index)}")
        ifs = [*updated.ifs, cst.CompIf(test=test)]
        return self._marked(updated.with_changes(ifs=ifs))

    def _marked(self, node: cst.CSTNode) -> cst.CSTNode:
        if len(self.done) == len(self.fix.iters):
            self.applied = True
        return node

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if len(self.done) != len(self.fix.iters):
            raise FixNotApplicable  # a loop moved: never a partial fix
        return updated
