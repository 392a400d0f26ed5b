"""MFK604: rewrite the reported reads of @resources (through ``.attributes``, keeping the
larger value per field). The rule lists every expression to replace, with its new text."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import ExpressionRewrites


class ReplaceExpressions(Codemod):
    def __init__(self, diagnostic) -> None:
        super().__init__(diagnostic)
        self.todo = {
            (start, end): text
            for start, end, text in ExpressionRewrites.from_data(self.data).rewrites
        }

    def on_leave(self, original, updated):
        if not isinstance(original, cst.BaseExpression):
            return super().on_leave(original, updated)
        # The rule reports ``ast`` ranges, which leave out the expression's own parentheses.
        rng = self.range_of(original)
        key = ((rng.start.line, rng.start.column), (rng.end.line, rng.end.column))
        text = self.todo.pop(key, None)
        if text is None:
            return super().on_leave(original, updated)
        try:
            new = cst.parse_expression(text)
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc
        self.mark(original)
        return new.with_changes(lpar=original.lpar, rpar=original.rpar)
