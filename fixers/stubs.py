"""Adding classmethods that raise NotImplementedError with a reason (MFK309)."""

from __future__ import annotations

import json

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import MethodStubs


def _stub(signature: str, message: str) -> cst.FunctionDef:
    # json.dumps writes a double-quoted literal Python reads back as the same string.
    code = (
        f"@classmethod\ndef {signature}:\n"
        f"    raise NotImplementedError(\n        {json.dumps(message)}\n    )\n"
    )
    stub = cst.ensure_type(cst.parse_statement(code), cst.FunctionDef)
    return stub.with_changes(leading_lines=[cst.EmptyLine(indent=False)])


class AddMethodStubs(Codemod):
    """Appends the stubs at the end of the class body, one blank line before each, in the
    module's indentation."""

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        if self.applied:
            return updated
        fix = MethodStubs.from_data(self.data)
        if not self.starts_at(original, fix.cls):
            return updated
        if not isinstance(updated.body, cst.IndentedBlock):
            raise FixNotApplicable  # ``class X(DeployedFlow): pass`` on one line
        stubs = [_stub(signature, message) for signature, message in fix.stubs]
        self.mark(original)
        return updated.with_changes(
            body=updated.body.with_changes(body=[*updated.body.body, *stubs])
        )
