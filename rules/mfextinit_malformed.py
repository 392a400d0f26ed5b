"""MFK502 mfextinit-malformed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.extension import ExtensionFile, descriptor_assignments, pair
from mfkit_lint.model.module import ModuleModel

# Descriptors whose path must name a class (or a click group) inside a module.
_CLASS_PATHS = ("DEPLOYER_IMPL_PROVIDERS_DESC", "CLIS_DESC")


class MfextinitMalformed(Rule):
    """A descriptor of an extension's configuration file (``DEPLOYER_IMPL_PROVIDERS_DESC``,
    ``CLIS_DESC``, ...) that is not a list of ``("<name>", "<path>")`` pairs. Metaflow reads
    each element as a pair while importing, so every ``import metaflow`` then fails
    (``ValueError: not enough values to unpack``)."""

    code = "MFK502"
    name = "mfextinit-malformed"
    summary = 'descriptor not a list of ("<name>", ".<module>.<Class>") pairs'
    capability = Cap.LINEAR_DAG
    scope = Scope.PROJECT
    triggers = (b"_DESC",)
    fix = FixSpec(
        Applicability.SAFE, "Make the descriptor a list of pairs", "mfextinit:DescriptorAsList"
    )

    VALID = (
        Valid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                CLIS_DESC = [("acme", ".acme.acme_cli.cli")]
                DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]
            """,
            }
        ),
    )
    INVALID = (
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = ("acme", ".acme.acme_deployer.AcmeDeployer")
            """,
            },
            line=2,
            column=32,
            file="metaflow_extensions/acme/plugins/mfextinit_acme.py",
        ),
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
                DEPLOYER_IMPL_PROVIDERS_DESC = [".acme.acme_deployer.AcmeDeployer"]
            """,
            },
            line=2,
            column=33,
            file="metaflow_extensions/acme/plugins/mfextinit_acme.py",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None:
            return
        where = ExtensionFile.of(module.path)
        if where is None or not where.is_config():
            return
        for variable, stmt in descriptor_assignments(module.tree):
            yield from _check_value(variable, stmt.value)


def _check_value(variable: str, value: ast.expr) -> Iterator[Finding]:
    if pair(value) is not None:
        yield Finding(
            value,
            f"{variable} is a single pair, not a list of pairs: Metaflow reads each of its two "
            "strings as a pair and every import of metaflow fails; wrap it in [ ]",
            {"kind": "pair"},
        )
        return
    if (
        isinstance(value, ast.Dict)
        and value.keys
        and all(
            isinstance(n, ast.Constant) and isinstance(n.value, str)
            for n in (*value.keys, *value.values)
        )
    ):
        yield Finding(
            value,
            f"{variable} is a dict: Metaflow iterates it as a list of (name, path) pairs and "
            "reads the keys' characters instead; use a list of pairs",
            {"kind": "dict"},
        )
        return
    if not isinstance(value, (ast.List, ast.Tuple)):
        return  # built some other way: cannot tell
    for element in value.elts:
        reason = _element_problem(variable, element)
        if reason is not None:
            yield Finding(element, f"{variable}: {reason}")


def _element_problem(variable: str, element: ast.expr) -> Optional[str]:
    if isinstance(element, ast.Constant) and isinstance(element.value, str):
        return (
            "an element is a bare string, not a (name, path) pair: every import of metaflow "
            "fails with ValueError"
        )
    if isinstance(element, (ast.Tuple, ast.List)) and len(element.elts) != 2:
        return (
            f"an element has {len(element.elts)} items instead of (name, path): Metaflow "
            "reads the first two only, or fails"
        )
    found = pair(element)
    if found is None or variable not in _CLASS_PATHS:
        return None
    path = found[1].lstrip(".")
    if "." not in path:
        return (
            f"path {found[1]!r} names no class inside a module (expected "
            "'.<package>.<module>.<Class>'): Metaflow cannot locate the plugin"
        )
    return None
