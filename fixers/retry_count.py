"""MFK101: put the enclosing function's attempt counter where a constant retry count was."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, expression_at


class ThreadAttemptCounter(Codemod):
    """``"0"``/``0``/``str(0)`` -> ``str(attempt)``; in an f-string ``0`` -> ``{attempt}``."""

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        elements = list(updated.elements)
        for i, element in enumerate(original.elements):
            if expression_at(self, element.value):
                counter = cst.parse_expression(f"str({self.data['attempt']})")
                elements[i] = elements[i].with_changes(value=counter)
                self.mark(original)
                return updated.with_changes(elements=elements)
        return updated

    def leave_FormattedString(
        self, original: cst.FormattedString, updated: cst.FormattedString
    ) -> cst.BaseExpression:
        if self.applied or not self.covers(original, self.start, self.end):
            return updated
        self.mark(original)
        return self.splice(original, [(self.start, self.end, "{%s}" % self.data["attempt"])])
