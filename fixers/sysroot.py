"""MFK202: drop the trailing ``/.metaflow`` from the value given to the local sysroot."""

from __future__ import annotations

import re

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable

_SUFFIX = re.compile(r"/?\.metaflow/?(?=['\"]*$)")


class StripDatastoreDir(Codemod):
    """``"/data/.metaflow"`` -> ``"/data"``; ``root + "/.metaflow"`` and
    ``os.path.join(root, ".metaflow")`` and ``f"{root}/.metaflow"`` -> ``root``; inside a shell
    template, the ``/.metaflow`` characters of the assignment are removed."""

    def on_leave(self, original, updated):
        if self.applied or not isinstance(original, cst.BaseExpression):
            return super().on_leave(original, updated)
        if self.data.get("shell"):
            if isinstance(
                original, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
            ) and self.covers(original, self.start, self.end):
                return self._strip_in_template(original)
        elif self.is_reported(original):
            return self._strip(original)
        return super().on_leave(original, updated)

    def _strip(self, node: cst.BaseExpression) -> cst.BaseExpression:
        self.mark(node)
        if isinstance(node, cst.SimpleString):
            code = self.module.code_for_node(node)
            new = _SUFFIX.sub("", code, count=1)
            if new == code:
                raise FixNotApplicable
            return cst.parse_expression(new)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return node.left
        if isinstance(node, cst.Call) and len(node.args) == 2:
            return node.args[0].value
        if isinstance(node, cst.FormattedString) and len(node.parts) == 2:
            head = node.parts[0]
            if isinstance(head, cst.FormattedStringExpression):
                return head.expression
        raise FixNotApplicable

    def _strip_in_template(self, node: cst.BaseExpression) -> cst.BaseExpression:
        code = self.module.code_for_node(node)
        start = self.offset_in(node, code, self.start)
        end = self.offset_in(node, code, self.end)
        value = code[start:end]
        new_value = re.sub(r"/?\.metaflow/?$", "", value)
        if new_value == value:
            raise FixNotApplicable
        self.mark(node)
        return cst.parse_expression(code[:start] + new_value + code[end:])
