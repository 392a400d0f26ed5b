"""MFK302: a flow name is the last component of a dotted deployment identifier."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod


class LastDottedComponent(Codemod):
    """``identifier`` -> ``identifier.split(".")[-1]`` at the reported use only."""

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if self.applied or not self.is_reported(original):
            return updated
        self.mark(original)
        return cst.parse_expression(f'{updated.value}.split(".")[-1]')
