"""MFK302 from-deployment-dotted."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.module import ModuleModel, call_name

FLOW_NAME = "flow_name"
# Reading structure out of the identifier (a JSON document, a path, a dotted name) means the
# extension decided what its identifiers look like: then it is not the plain-name mistake.
_PARSING = {
    "split",
    "rsplit",
    "partition",
    "rpartition",
    "loads",
    "load",
    "match",
    "search",
    "startswith",
    "endswith",
}


class FromDeploymentDotted(Rule):
    """``from_deployment(identifier)`` takes the whole identifier as the flow name. For a
    ``@project`` flow the identifier is dotted (``project.branch.FlowName``), so the flow
    name, and every pathspec and Client lookup built from it, names no flow."""

    code = "MFK302"
    name = "from-deployment-dotted"
    summary = "from_deployment uses the full dotted identifier as the flow name"
    capability = Cap.FROM_DEPLOYMENT
    triggers = (b"from_deployment",)
    fix = FixSpec(
        Applicability.SAFE,
        'Take the last dotted component: identifier.split(".")[-1]',
        "from_deployment_dotted:LastDottedComponent",
    )

    VALID = (
        Valid("""
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                deployer = SchedDeployer(flow_file=None, deployer_kwargs={})
                deployer.name = identifier
                deployer.flow_name = identifier.split(".")[-1]
                return cls(deployer=deployer)
        """),
        Valid("""
        import json
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                try:
                    info = json.loads(identifier)
                except ValueError:
                    info = {"flow_name": identifier}
                return cls._from_info(info)
        """),
    )
    INVALID = (
        Invalid(
            """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                deployer = SchedDeployer(flow_file=None, deployer_kwargs={})
                deployer.name = identifier
                deployer.flow_name = identifier
                return cls(deployer=deployer)
        """,
            line=7,
            column=30,
            fixed="""
            class SchedDeployedFlow(DeployedFlow):
                @classmethod
                def from_deployment(cls, identifier, metadata=None):
                    deployer = SchedDeployer(flow_file=None, deployer_kwargs={})
                    deployer.name = identifier
                    deployer.flow_name = identifier.split(".")[-1]
                    return cls(deployer=deployer)
            """,
        ),
        Invalid(
            """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                return cls(deployer=make_deployer(flow_name=identifier, name=identifier))
        """,
            line=5,
            column=53,
            fixed="""
            class SchedDeployedFlow(DeployedFlow):
                @classmethod
                def from_deployment(cls, identifier, metadata=None):
                    return cls(deployer=make_deployer(flow_name=identifier.split(".")[-1], name=identifier))
            """,  # noqa: E501 - the fixer's output, as it writes it
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for function in module.functions.get("from_deployment", ()):
            identifier = _identifier(function)
            if identifier is None or _parses(function, identifier):
                continue
            for use in _flow_name_uses(function, identifier):
                yield Finding(
                    use,
                    f"from_deployment uses the whole identifier {identifier!r} as the flow "
                    "name: for a @project flow it is dotted (project.branch.FlowName) and "
                    'names no flow; use identifier.split(".")[-1]',
                    {},
                )


def _identifier(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Optional[str]:
    """The identifier parameter: the first after ``cls``/``self``."""
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if names and names[0] in ("cls", "self"):
        names = names[1:]
    return names[0] if names else None


def _is_identifier(node: ast.AST, identifier: str) -> bool:
    return isinstance(node, ast.Name) and node.id == identifier


def _parses(function: ast.AST, identifier: str) -> bool:
    """The function reads structure out of the identifier somewhere (or rebinds it)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = call_name(node)
            on_identifier = isinstance(node.func, ast.Attribute) and _is_identifier(
                node.func.value, identifier
            )
            passed = any(_is_identifier(a, identifier) for a in node.args)
            if name in _PARSING and (on_identifier or passed):
                return True
        elif isinstance(node, ast.Name) and node.id == identifier:
            if isinstance(node.ctx, ast.Store):
                return True
        elif isinstance(node, ast.Compare) and any(
            _is_identifier(n, identifier) for n in (node.left, *node.comparators)
        ):
            return True  # `if "." in identifier`: the function looks at the identifier's shape
    return False


def _flow_name_uses(function: ast.AST, identifier: str) -> Iterator[ast.Name]:
    """The identifier itself, unchanged, becoming a flow name."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _is_identifier(node.value, identifier):
            if any(_names_flow(t) for t in node.targets):
                yield node.value  # type: ignore[misc]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == FLOW_NAME
                    and _is_identifier(value, identifier)
                ):
                    yield value  # type: ignore[misc]
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == FLOW_NAME and _is_identifier(kw.value, identifier):
                    yield kw.value  # type: ignore[misc]
            if call_name(node) == "Flow" and any(_is_identifier(a, identifier) for a in node.args):
                yield next(a for a in node.args if _is_identifier(a, identifier))  # type: ignore[misc]


def _names_flow(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return target.id == FLOW_NAME
    if isinstance(target, ast.Attribute):
        return target.attr in (FLOW_NAME, "_" + FLOW_NAME)
    if isinstance(target, ast.Subscript):
        return isinstance(target.slice, ast.Constant) and target.slice.value == FLOW_NAME
    return False
