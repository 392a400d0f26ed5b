"""MFK108: insert ``--environment VALUE`` before the subcommand of a step command."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, insert_elements
from mfkit_lint.fixers.data import InsertedElements


class InsertEnvironment(Codemod):
    """``[py, flow, "step", ...]`` -> ``[py, flow, "--environment", env.TYPE, "step", ...]``;
    a plain name that may be None is guarded: ``*(["--environment", x] if x else [])``."""

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        fix = InsertedElements.from_data(self.data)
        if self.applied or not self.starts_at(original, fix.list):
            return updated
        new = list(cst.ensure_type(cst.parse_expression(f"[{fix.elements}]"), cst.List).elements)
        self.mark(original)
        return updated.with_changes(elements=insert_elements(updated.elements, fix.index, new))
