"""MFK301: hand run params on as a list."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod
from mfkit_lint.fixers.data import TupleToList


class RunParamsAsList(Codemod):
    """``tuple(x)`` -> ``list(x)``, ``(a, b)`` -> ``[a, b]``, ``params`` -> ``list(params)``."""

    def on_leave(self, original, updated):
        if self.applied or not isinstance(original, cst.BaseExpression):
            return super().on_leave(original, updated)
        fix = TupleToList.from_data(self.data)
        if self.outer_range(original) != (fix.start, fix.end):
            return super().on_leave(original, updated)
        self.mark(original)
        if isinstance(updated, cst.Tuple):
            return cst.List(elements=updated.elements)
        if (
            isinstance(updated, cst.Call)
            and isinstance(updated.func, cst.Name)
            and updated.func.value == "tuple"
        ):
            return updated.with_changes(func=cst.Name("list"))
        return cst.Call(func=cst.Name("list"), args=[cst.Arg(updated)])
