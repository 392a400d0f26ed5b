"""MFK203/MFK112: give ``init`` the parameters as ``METAFLOW_INIT_<NAME>`` next to the variable
Metaflow ignores, by a statement inserted right after the one that writes it.

``init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)`` is followed by
``init_env.update({"METAFLOW_INIT_" + name.upper().replace("-", "_"): ... })``; in generated
code on the same line (``; ...``), since a generated line is one literal of its template.
(The other shapes, a dict entry, a keyword or a shell template, are text edits inside one
expression: ``run_param_option:ReplaceRunParam``.)
"""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import StatementInsertion


class InsertStatement(Codemod):
    """Inserts the fix data's statement after the simple statement it names."""

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ):
        if self.applied:
            return updated
        fix = StatementInsertion.from_data(self.data)
        starts = [
            (self.range_of(s).start.line, self.range_of(s).start.column) for s in original.body
        ]
        if fix.after not in starts:
            return updated
        try:
            line = cst.parse_statement(fix.code)
        except cst.ParserSyntaxError as exc:
            raise FixNotApplicable from exc
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            raise FixNotApplicable
        self.mark(original)
        if not fix.inline:
            return cst.FlattenSentinel([updated, line])
        index = starts.index(fix.after)
        body = list(updated.body)
        semicolon = cst.Semicolon(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(" "),
        )
        # The new statement takes over what followed the old one (a separator or nothing).
        new = line.body[0].with_changes(semicolon=body[index].semicolon)
        body[index] = body[index].with_changes(semicolon=semicolon)
        body.insert(index + 1, new)
        return updated.with_changes(body=body)
