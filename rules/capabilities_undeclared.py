"""MFK505 capabilities-undeclared."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.backends import backend_decorators
from mfkit_lint.model.extension import (
    ExtensionFile,
    class_level_bindings,
    derives_from,
    string_constant,
)
from mfkit_lint.model.module import ModuleModel

DECLARATION = "SUPPORTED_CAPABILITIES"


class CapabilitiesUndeclared(Rule):
    """An orchestrator extension (a ``DeployerImpl`` subclass with a ``TYPE``) or a compute
    backend (a step decorator that runs steps through its ``<name> step``) that declares
    no ``SUPPORTED_CAPABILITIES``: in the class, its module, or a module beside it. Metaflow
    does not read the name; the compliance runners do, and without it they test only the
    required capabilities, so a broken optional one (``@conda``, resume, nested foreach,
    ``@schedule``) ships untested."""

    code = "MFK505"
    name = "capabilities-undeclared"
    summary = "extension declares no SUPPORTED_CAPABILITIES (optional capabilities untested)"
    scope = Scope.PROJECT
    triggers = (b"DeployerImpl", b"StepDecorator")
    no_fix = (
        "which optional capabilities the extension supports is the author's statement: "
        "declaring any would make compliance runners test what may not work, declaring "
        "none is what the code says now"
    )

    VALID = (
        Valid(
            {
                "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
                from metaflow.runner.deployer_impl import DeployerImpl
                class AcmeDeployer(DeployerImpl):
                    TYPE = "acme"
            """,
                "metaflow_extensions/acme/plugins/acme/capabilities.py": """
                from metaflow_orchestrator_kit import Cap, REQUIRED
                SUPPORTED_CAPABILITIES = REQUIRED | {Cap.NESTED_FOREACH}
            """,
            }
        ),
    )
    INVALID = (
        Invalid(
            {
                "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
                from metaflow.runner.deployer_impl import DeployerImpl
                class AcmeDeployer(DeployerImpl):
                    TYPE = "acme"
            """,
            },
            line=3,
            column=1,
            file="metaflow_extensions/acme/plugins/acme/acme_deployer.py",
        ),
        Invalid(
            {
                "metaflow_extensions/acme/plugins/acme/acme_decorator.py": """
                from metaflow.decorators import StepDecorator
                class AcmeDecorator(StepDecorator):
                    name = "acme"
                    def runtime_step_cli(self, cli_args, retry_count, max_retries, ubf_context):
                        cli_args.commands = ["acme", "step"]
            """,
            },
            line=3,
            column=1,
            file="metaflow_extensions/acme/plugins/acme/acme_decorator.py",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None or module.project is None:
            return
        if ExtensionFile.of(module.path) is None:
            return  # not an installed extension's layout (a test, a template)
        tree = module.tree
        deployers = [
            c
            for c in tree.body
            if isinstance(c, ast.ClassDef)
            and derives_from(tree, c, "DeployerImpl")
            and string_constant(c, "TYPE") is not None
        ]
        # A compute backend's step decorator: `mfkit compliance backend` reads the same name.
        backends = [c for c, _ in backend_decorators(module) if c in tree.body]
        if not (deployers or backends) or _declares(tree) or _declared_beside(module):
            return
        for cls in backends:
            if not any(class_level_bindings(cls, DECLARATION)):
                yield Finding(
                    cls,
                    f"{cls.name} declares no {DECLARATION}: `mfkit compliance backend` then "
                    "tests only the required capabilities, and optional ones (@conda, GPU, "
                    f"@timeout) ship untested; declare e.g. {DECLARATION} = REQUIRED | "
                    "{Cap.CONDA} beside the decorator",
                )
        for cls in deployers:
            if any(class_level_bindings(cls, DECLARATION)):
                continue
            yield Finding(
                cls,
                f"{cls.name} declares no {DECLARATION}: compliance runners then test only the "
                "required capabilities, and optional ones (@conda, resume, nested foreach, "
                f"@schedule) ship untested; declare e.g. {DECLARATION} = REQUIRED | "
                "{Cap.NESTED_FOREACH} beside the deployer",
            )


def _declares(tree: ast.Module) -> bool:
    """A top-level assignment (or import) of the name."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == DECLARATION for t in targets):
                return True
        elif isinstance(stmt, ast.ImportFrom) and any(
            (a.asname or a.name) == DECLARATION for a in stmt.names
        ):
            return True
    return False


def _declared_beside(module: ModuleModel) -> bool:
    """A module of the same package declares it (where the runners also look)."""
    assert module.project is not None and module.path is not None
    directory = module.path.parent
    return any(
        other.path is not None and Path(other.path).parent == directory and _declares(other.tree)
        for other in module.project.mentioning(DECLARATION, besides=module.path)
    )
