"""MFK502: a descriptor becomes a list of (name, path) pairs."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod


class DescriptorAsList(Codemod):
    """``("a", ".a.b.C")`` and ``{"a": ".a.b.C"}`` both become ``[("a", ".a.b.C")]``."""

    def on_leave(self, original, updated):
        if self.applied or not isinstance(original, cst.BaseExpression):
            return super().on_leave(original, updated)
        if not self.is_reported(original):
            return super().on_leave(original, updated)
        self.mark(original)
        if isinstance(updated, cst.Dict):
            pairs = [
                cst.Element(cst.Tuple([cst.Element(e.key), cst.Element(e.value)]))
                for e in updated.elements
                if isinstance(e, cst.DictElement)
            ]
            return cst.List(pairs)
        if isinstance(updated, cst.Tuple) and not updated.lpar:
            # `X = "a", ".a.b.C"`: the pair needs its own parentheses inside the list.
            updated = updated.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.List([cst.Element(updated)])
