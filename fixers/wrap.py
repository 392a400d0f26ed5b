"""Wrapping the reported expression in a larger one (MFK202: ``os.path.dirname(root)``)."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import Wrapping


class WrapExpression(Codemod):
    """The reported expression ``x`` becomes the fix data's template with ``{expr}`` = ``x``."""

    def on_leave(self, original, updated):
        if (
            self.applied
            or not isinstance(original, cst.BaseExpression)
            or not self.is_reported(original)
        ):
            return super().on_leave(original, updated)
        code = self.module.code_for_node(original)
        if "\n" in code:
            raise FixNotApplicable  # an expression over several lines: left to the author
        self.mark(original)
        return cst.parse_expression(Wrapping.from_data(self.data).template.replace("{expr}", code))
