"""MFK203: rename ``METAFLOW_PARAMETER_<NAME>`` to ``METAFLOW_INIT_<NAME>``, the variable
click reads for ``init --<name>``."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable

OLD = "METAFLOW_PARAMETER_"
NEW = "METAFLOW_INIT_"
_STRINGS = (cst.SimpleString, cst.FormattedString)


class RenameParameterEnv(Codemod):
    """The finding covers exactly the characters ``METAFLOW_PARAMETER_`` of a string literal
    (a dict key, a subscript, an f-string, a ``%`` template or a shell ``export`` line); they
    are replaced in place, whatever follows them."""

    def on_leave(self, original, updated):
        if self.applied or not isinstance(original, _STRINGS):
            return super().on_leave(original, updated)
        if not self.covers(original, self.start, self.end):
            return super().on_leave(original, updated)
        code = self.module.code_for_node(original)
        start = self.offset_in(original, code, self.start)
        end = self.offset_in(original, code, self.end)
        if code[start:end] != OLD:
            raise FixNotApplicable
        self.mark(original)
        try:
            return cst.parse_expression(code[:start] + NEW + code[end:])
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc
