"""A read-only property of a base class that a subclass assigns (MFK304): store the value in a
private attribute and define the property, as Metaflow's own deployers do."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable
from mfkit_lint.fixers.data import BackingAttribute


class BackAttributeWithProperty(Codemod):
    """``self.deployer_kwargs = kw`` -> ``self._deployer_kwargs = kw`` at every reported
    target, plus ``@property def deployer_kwargs(self): return self._deployer_kwargs`` after
    the first method that assigns it."""

    def __init__(self, diagnostic) -> None:
        super().__init__(diagnostic)
        self.fix = BackingAttribute.from_data(self.data)
        self.renamed = 0

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        if not any(self.starts_at(original, t) for t in self.fix.targets):
            return updated
        if original.attr.value != self.fix.name or not isinstance(original.value, cst.Name):
            raise FixNotApplicable
        self.renamed += 1
        return updated.with_changes(attr=cst.Name(f"_{self.fix.name}"))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        if self.applied or not self.starts_at(original, self.fix.cls):
            return updated
        if self.renamed != len(self.fix.targets) or not isinstance(updated.body, cst.IndentedBlock):
            raise FixNotApplicable
        starts = [self.starts_at(s, self.fix.after) for s in original.body.body]
        if not any(starts):
            raise FixNotApplicable
        index = starts.index(True)
        method = original.body.body[index]
        if not isinstance(method, cst.FunctionDef) or not method.params.params:
            raise FixNotApplicable
        receiver = method.params.params[0].name.value  # that method's name for the instance
        prop = cst.ensure_type(
            cst.parse_statement(
                f"@property\ndef {self.fix.name}({receiver}):\n"
                f"    return {receiver}._{self.fix.name}\n"
            ),
            cst.FunctionDef,
        ).with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        body = list(updated.body.body)
        body.insert(index + 1, prop)
        self.mark(original)
        return updated.with_changes(body=updated.body.with_changes(body=body))
