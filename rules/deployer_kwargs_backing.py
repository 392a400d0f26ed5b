"""MFK304 deployer-kwargs-backing."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.extension import (
    base_name,
    chain,
    class_level_bindings,
    derives_from,
)
from mfkit_lint.model.module import ModuleModel

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

ATTRIBUTE = "deployer_kwargs"
DEPLOYER_IMPL = "DeployerImpl"


class DeployerKwargsBacking(Rule):
    """``self.deployer_kwargs = ...`` in a ``DeployerImpl`` subclass that does not define the
    attribute itself: ``DeployerImpl.deployer_kwargs`` is a read-only property, so the
    assignment raises ``AttributeError`` and the deployer cannot even be constructed."""

    code = "MFK304"
    name = "deployer-kwargs-backing"
    summary = "deployer_kwargs assigned although DeployerImpl makes it a read-only property"
    capability = Cap.LINEAR_DAG
    triggers = (ATTRIBUTE.encode(),)
    fix = FixSpec(
        Applicability.SAFE,
        f"Store the value in self._{ATTRIBUTE} and return it from a {ATTRIBUTE} property",
        "backing:BackAttributeWithProperty",
    )

    VALID = (
        Valid("""
        from metaflow.runner.deployer_impl import DeployerImpl
        class SchedDeployer(DeployerImpl):
            TYPE = "sched"
            def __init__(self, deployer_kwargs, **kwargs):
                self._deployer_kwargs = deployer_kwargs
                super().__init__(**kwargs)
            @property
            def deployer_kwargs(self):
                return self._deployer_kwargs
        """),
        Valid("""
        from metaflow.runner.deployer_impl import DeployerImpl
        class SchedDeployer(DeployerImpl):
            deployer_kwargs = {}
            def __init__(self, deployer_kwargs, **kwargs):
                self.deployer_kwargs = deployer_kwargs
                super().__init__(**kwargs)
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow.runner.deployer_impl import DeployerImpl
        class SchedDeployer(DeployerImpl):
            TYPE = "sched"
            def __init__(self, deployer_kwargs, **kwargs):
                self.deployer_kwargs = deployer_kwargs
                super().__init__(**kwargs)
        """,
            line=6,
            column=9,
            fixed="""
        from metaflow.runner.deployer_impl import DeployerImpl
        class SchedDeployer(DeployerImpl):
            TYPE = "sched"
            def __init__(self, deployer_kwargs, **kwargs):
                self._deployer_kwargs = deployer_kwargs
                super().__init__(**kwargs)

            @property
            def deployer_kwargs(self):
                return self._deployer_kwargs
        """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        tree = module.tree
        for cls in module.nodes_of(ast.ClassDef):
            if not derives_from(tree, cls, DEPLOYER_IMPL):
                continue
            classes = chain(tree, cls, DEPLOYER_IMPL)
            if classes is None or any(_defines_writable(c) for c in classes):
                continue
            targets = list(_self_assignments(cls))
            if not targets:
                continue
            fix, reason = _backing_fix(module, classes, targets)
            for target in targets:
                yield Finding(
                    target,
                    f"{cls.name} assigns self.{ATTRIBUTE}, a read-only property of DeployerImpl: "
                    "constructing the deployer raises AttributeError; store the value in "
                    f"self._{ATTRIBUTE} and return it from a {ATTRIBUTE} property",
                    fix.to_data() if fix else None,
                    no_fix_reason=reason,
                )


def _backing_fix(
    module: ModuleModel, classes: list[ast.ClassDef], targets: list[ast.Attribute]
) -> tuple[Optional[fixes.BackingAttribute], Optional[str]]:
    """All assignments of the class renamed to ``_deployer_kwargs`` and the property added
    after the first method assigning it: what Metaflow's own deployers (Argo Workflows, Step
    Functions) do. Not when the class already binds ``deployer_kwargs`` (a property without a
    setter returning something else) or uses ``_deployer_kwargs`` for something of its own."""
    cls = classes[0]
    private = f"_{ATTRIBUTE}"
    if any(next(class_level_bindings(c, ATTRIBUTE), None) is not None for c in classes):
        return None, (
            f"{cls.name} defines {ATTRIBUTE} without a setter: make the assignment store what "
            "that property returns"
        )
    if any(
        (isinstance(n, ast.Attribute) and n.attr == private)
        or (isinstance(n, ast.Name) and n.id == private)
        or (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == private)
        for c in classes
        for n in ast.walk(c)
    ):
        return None, f"{cls.name} already uses {private} for something else: pick another name"
    first = next(stmt for stmt in cls.body if any(stmt in module.ancestors(t) for t in targets))
    return fixes.BackingAttribute(
        module.position(cls),
        ATTRIBUTE,
        tuple(module.position(t) for t in targets),
        module.position(first),
    ), None


def _defines_writable(cls: ast.ClassDef) -> bool:
    """The class makes ``deployer_kwargs`` assignable: a plain class attribute, a plain method
    (no data descriptor) or a property with a setter. A property without one does not."""
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            isinstance(d, ast.Attribute) and d.attr == "setter" and base_name(d.value) == ATTRIBUTE
            for d in stmt.decorator_list
        ):
            return True
    for stmt in class_level_bindings(cls, ATTRIBUTE):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not stmt.decorator_list:
                return True
        else:
            return True
    return False


def _self_assignments(cls: ast.ClassDef) -> Iterator[ast.Attribute]:
    for function in cls.body:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not function.args.args or any(
            base_name(d) in ("staticmethod", "classmethod") for d in function.decorator_list
        ):
            continue  # a class attribute set from a classmethod replaces the property
        receiver = function.args.args[0].arg
        for node in ast.walk(function):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == ATTRIBUTE
                    and isinstance(target.value, ast.Name)
                    and target.value.id == receiver
                ):
                    yield target
