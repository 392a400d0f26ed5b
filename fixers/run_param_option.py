"""MFK107: ``--run-param name=value`` -> ``--name value``, in place.

Fix data: ``{"node": POS, "edits": [[ROW, COL, END_ROW, END_COL, NEW, OLD], ...]}`` with
0-based columns: text ranges (which must hold OLD) to replace by NEW inside the expression
that starts at POS (the list literal, the string element, or the string holding the command
line).
"""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable


class ReplaceRunParam(Codemod):
    """Rewrites the option word and its value word; nothing else in the command moves."""

    def on_leave(self, original, updated):
        if (
            not self.applied
            and isinstance(original, cst.BaseExpression)
            and self.starts_at(original, self.data["node"])
            and all(self.covers(original, (e[0], e[1]), (e[2], e[3])) for e in self.data["edits"])
        ):
            code = self.module.code_for_node(original)
            edits = []
            for row, col, end_row, end_col, new_text, old_text in self.data["edits"]:
                start = self.offset_in(original, code, (row, col))
                end = self.offset_in(original, code, (end_row, end_col))
                if code[start:end] != old_text:
                    raise FixNotApplicable
                edits.append(((row, col), (end_row, end_col), new_text))
            new = self.splice(original, edits)
            self.mark(original)
            return new
        return super().on_leave(original, updated)
