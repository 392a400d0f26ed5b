"""MFK303: write the deployer attribute file before the statement that runs or waits."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod


class WriteAttributeFileFirst(Codemod):
    """Moves the statement that writes ``deployer_attribute_file`` up, right before the first
    statement that runs or waits for the flow. The rule offers this only when the write reads
    nothing those statements compute."""

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if self.applied:
            return updated
        lines = [self.range_of(s).start.line for s in original.body]
        write_line, before_line = self.data["statement"], self.data["before"]
        if write_line not in lines or before_line not in lines:
            return updated
        body = list(updated.body)
        write = body.pop(lines.index(write_line))
        body.insert(lines.index(before_line), write)
        self.mark(original)
        return updated.with_changes(body=body)
