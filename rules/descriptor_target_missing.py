"""MFK503 descriptor-target-missing."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.extension import (
    DEPLOYER_DESC,
    EXT_PKG,
    Descriptor,
    ExtensionFile,
    descriptors,
    resolve,
    string_constant,
)
from mfkit_lint.model.module import ModuleModel


class DescriptorTargetMissing(Rule):
    """A descriptor of the configuration file points to a module or class the extension does
    not have, or registers a deployer under a name other than its ``TYPE``. Metaflow resolves
    the descriptors while importing, so every ``import metaflow`` fails (``Cannot locate ...
    plugin``, ``expected to be named 'x' but got 'y'``)."""

    code = "MFK503"
    name = "descriptor-target-missing"
    summary = "descriptor points to a module/class that does not exist, or to another TYPE"
    capability = Cap.LINEAR_DAG
    scope = Scope.PROJECT
    triggers = (b"_DESC",)

    VALID = (
        Valid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]
            """,
                "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
                from metaflow.runner.deployer_impl import DeployerImpl
                class AcmeDeployer(DeployerImpl):
                    TYPE = "acme"
            """,
            }
        ),
    )
    INVALID = (
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.deployer.AcmeDeployer")]
            """,
                "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
                class AcmeDeployer(DeployerImpl):
                    TYPE = "acme"
            """,
            },
            line=2,
            column=33,
            file="metaflow_extensions/acme/plugins/mfextinit_acme.py",
        ),
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]
            """,
                "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
                class AcmeDeployer(DeployerImpl):
                    TYPE = "acme-scheduler"
            """,
            },
            line=2,
            column=33,
            file="metaflow_extensions/acme/plugins/mfextinit_acme.py",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None or module.project is None:
            return
        where = ExtensionFile.of(module.path)
        if where is None or not where.is_config():
            return
        for descriptor in descriptors(module.tree):
            problem = _problem(module, where, descriptor)
            if problem is not None:
                yield Finding(descriptor.node, f"{descriptor.variable}: {problem}")


def _problem(module: ModuleModel, where: ExtensionFile, descriptor: Descriptor) -> Optional[str]:
    target = resolve(where.package(), descriptor.path)
    if target is None or not target.startswith(EXT_PKG + ".") or "." not in target:
        return None  # climbs out (Metaflow says so itself) or lives in another package
    module_path, _, attr = target.rpartition(".")
    parts = module_path.split(".")
    base = where.root.joinpath(*parts)
    candidates = [base.with_suffix(".py"), base / "__init__.py"]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        if (
            base.parent.is_dir()
            and not any(base.parent.glob(base.name + ".*"))
            and not base.is_dir()
        ):
            return (
                f"module {module_path} does not exist ({descriptor.path!r} resolved against "
                f"{where.package()}): every import of metaflow fails with 'Cannot locate "
                "... plugin'"
            )
        return None
    assert module.project is not None
    target_model = module.project.model(found)
    if target_model is None:
        return None
    bound = _top_level(target_model.tree, attr)
    if bound is None:
        return (
            f"{module_path} defines no {attr}: every import of metaflow fails with "
            f"\"Cannot locate '{attr}' class\""
        )
    if descriptor.variable == DEPLOYER_DESC and isinstance(bound, ast.ClassDef):
        kind = string_constant(bound, "TYPE")
        if kind is not None and kind != descriptor.name:
            return (
                f"registered as {descriptor.name!r} but {attr}.TYPE is {kind!r}: every import "
                f"of metaflow fails with \"expected to be named '{descriptor.name}' but got "
                f"'{kind}'\"; use the same name in both places"
            )
    return None


def _top_level(tree: ast.Module, name: str) -> Optional[ast.AST]:
    """What binds ``name`` at the module's top level; None when nothing can. A star import
    or a module ``__getattr__`` may bind anything: then the module counts as binding it."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if stmt.name in (name, "__getattr__"):
                return stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name:
                    return stmt
        else:
            for node in ast.walk(stmt):
                if (
                    isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Store)
                    and node.id == name
                ):
                    return stmt
    return None
