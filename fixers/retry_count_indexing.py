"""MFK401: Metaflow's retry count is the scheduler's 1-based attempt minus one."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod


class SubtractOne(Codemod):
    """The reported counter read ``X`` becomes ``X - 1``, inside whatever wraps it."""

    def on_leave(self, original, updated):
        if self.applied or not isinstance(original, cst.BaseExpression):
            return super().on_leave(original, updated)
        if not self.is_reported(original):
            return super().on_leave(original, updated)
        self.mark(original)
        return cst.BinaryOperation(
            left=updated,
            operator=cst.Subtract(
                whitespace_before=cst.SimpleWhitespace(" "),
                whitespace_after=cst.SimpleWhitespace(" "),
            ),
            right=cst.Integer("1"),
        )
