"""MFK102: add ``--branch`` before the subcommand, only when a branch value is set."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, insert_elements, parse_element


class InsertBranch(Codemod):
    """``[py, flow, "step", ...]`` -> ``[py, flow, *(["--branch", b] if b else []), "step", ...]``.

    The guard matters: ``--branch`` exists only on flows with ``@project``; everywhere else
    Metaflow rejects it.
    """

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        if not self.starts_at(original, self.data["list"]):
            return updated
        branch = self.data["branch"]
        guarded = parse_element(f'*(["--branch", {branch}] if {branch} else [])')
        self.mark(original)
        return updated.with_changes(
            elements=insert_elements(updated.elements, self.data["index"], [guarded])
        )
