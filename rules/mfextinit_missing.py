"""MFK501 mfextinit-missing."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.extension import (
    DEPLOYER_DESC,
    EXT_PKG,
    EXTENSION_POINTS,
    ExtensionFile,
    config_files,
    derives_from,
    descriptors,
    resolve,
    string_constant,
)
from mfkit_lint.model.module import ModuleModel

CONFIG_PREFIX = "mfextinit_"
_TOP_POINTS = {p.split(".")[0] for p in EXTENSION_POINTS}


class MfextinitMissing(Rule):
    """Metaflow never reads the extension's registration: an ``mfextinit_*.py`` that is not
    directly in ``metaflow_extensions/<org>/<extension point>/``, an extension without the
    ``<org>`` level, or a ``DeployerImpl`` subclass that no ``DEPLOYER_IMPL_PROVIDERS_DESC``
    registers. ``Deployer(flow).<name>()`` then raises ``AttributeError``."""

    code = "MFK501"
    name = "mfextinit-missing"
    summary = "no mfextinit_<name>.py where Metaflow looks, or the deployer registered nowhere"
    capability = Cap.LINEAR_DAG
    scope = Scope.PROJECT
    # Only files under metaflow_extensions/ are judged (ExtensionFile.of is None elsewhere,
    # and for generated code, which has no path).
    directories = (EXT_PKG,)
    reads_generated = False

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
                "metaflow_extensions/acme/plugins/acme/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme_deployer.AcmeDeployer")]
            """,
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
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None or module.project is None:
            return
        where = ExtensionFile.of(module.path)
        if where is None:
            return
        name = module.path.name
        if len(where.parts) >= 2 and where.parts[0] in _TOP_POINTS:
            if name.startswith(CONFIG_PREFIX) or name == "__init__.py":
                yield Finding(
                    _first_line(module),
                    f"{EXT_PKG}/{where.parts[0]}/ has no organization level: Metaflow stops "
                    f"every import with \"should conform to '{EXT_PKG}.X.{where.parts[0]}'\"; "
                    f"move it to {EXT_PKG}/<name>/{where.parts[0]}/",
                )
            return
        if name.startswith(CONFIG_PREFIX) and name.endswith(".py") and not where.is_config():
            yield Finding(
                _first_line(module),
                f"Metaflow never reads {name} here: a configuration file must sit directly in "
                f"{EXT_PKG}/<name>/plugins/ (or another extension point) and match "
                "mfextinit_[a-zA-Z0-9_-]+.py",
            )
            return
        yield from _unregistered_deployers(module, where)


def _first_line(module: ModuleModel) -> ast.AST:
    return module.tree.body[0] if module.tree.body else module.tree


def _unregistered_deployers(module: ModuleModel, where: ExtensionFile) -> Iterator[Finding]:
    tree = module.tree
    deployers = [
        c
        for c in tree.body
        if isinstance(c, ast.ClassDef)
        and derives_from(tree, c, "DeployerImpl")
        and string_constant(c, "TYPE") is not None
    ]
    if not deployers or where.point() != "plugins":
        return
    plugins = where.root.joinpath(EXT_PKG, where.parts[0], "plugins")
    if not config_files(plugins):
        for cls in deployers:
            yield Finding(
                cls,
                f"{cls.name} is never registered: there is no mfextinit_<name>.py in "
                f"{EXT_PKG}/{where.parts[0]}/plugins/, so Metaflow does not know the deployer "
                f"and Deployer(flow).{string_constant(cls, 'TYPE')}() raises AttributeError",
            )
        return
    registered = _registered_paths(module, plugins)
    if registered is None:
        return
    stem = module.path.stem if module.path is not None else ""
    dotted = where.package() if stem == "__init__" else f"{where.package()}.{stem}"
    for cls in deployers:
        if f"{dotted}.{cls.name}" not in registered:
            yield Finding(
                cls,
                f"{cls.name} is not named by any {DEPLOYER_DESC}: Metaflow does not register it "
                f"and Deployer(flow).{string_constant(cls, 'TYPE')}() raises AttributeError; add "
                f'("{string_constant(cls, "TYPE")}", "<relative path>.{cls.name}") to the list '
                "in mfextinit_<name>.py",
            )


def _registered_paths(module: ModuleModel, plugins: Path) -> Optional[set[str]]:
    """Absolute paths of every deployer descriptor in the configuration files of the tree and
    of the deployer's own ``plugins/`` (linted or not: Metaflow reads it either way); None
    when one cannot be read or builds its list in code (then nothing can be concluded)."""
    assert module.project is not None
    out: set[str] = set()
    project = module.project
    configs = {p for p in project.files if _is_config(p) and project.sees(module.path, p)}
    configs |= set(config_files(plugins))
    for path in sorted(configs):
        where = ExtensionFile.of(path)
        config = module.project.model(path)
        if where is None or config is None:
            return None
        for descriptor in descriptors(config.tree):
            if descriptor.variable == DEPLOYER_DESC:
                resolved = resolve(where.package(), descriptor.path)
                if resolved is not None:
                    out.add(resolved)
        if any(
            isinstance(s, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == DEPLOYER_DESC for t in s.targets)
            and not isinstance(s.value, (ast.List, ast.Tuple))
            for s in config.tree.body
        ):
            return None
    return out


def _is_config(path: Path) -> bool:
    where = ExtensionFile.of(path)
    return where is not None and where.is_config()
