"""MFK102: add ``--branch`` before the subcommand, only when a branch value is set."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, insert_elements, parse_element
from mfkit_lint.fixers.data import BranchFix


class InsertBranch(Codemod):
    """``[py, flow, "step", ...]`` -> ``[py, flow, *(["--branch", b] if b else []), "step", ...]``.

    The guard matters: ``--branch`` exists only on flows with ``@project``; everywhere else
    Metaflow rejects it. The new words are quoted like the subcommand word.
    """

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        fix = BranchFix.from_data(self.data)
        if not self.starts_at(original, fix.list) or fix.index >= len(updated.elements):
            return updated
        subcommand = updated.elements[fix.index].value
        quote = "'" if isinstance(subcommand, cst.SimpleString) and subcommand.quote == "'" else '"'
        option = f"{quote}--branch{quote}"
        guarded = parse_element(f"*([{option}, {fix.branch}] if {fix.branch} else [])")
        self.mark(original)
        if fix.inline:
            # On the subcommand's own line, right before it.
            elements = list(updated.elements)
            space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            elements.insert(fix.index, guarded.with_changes(comma=space))
            return updated.with_changes(elements=elements)
        return updated.with_changes(
            elements=insert_elements(updated.elements, fix.index, [guarded])
        )
