"""MFK309 deployed-flow-missing-lookups."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.extension import chain, methods, string_constant
from mfkit_lint.model.module import ModuleModel

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

DEPLOYED_FLOW = "DeployedFlow"
# Metaflow injects these into DeployedFlow itself; a subclass that does not define them
# inherits versions that dispatch to METAFLOW_DEFAULT_FROM_DEPLOYMENT_IMPL (Argo Workflows).
# Their parameters as Metaflow's own implementations (Argo Workflows', Step Functions')
# declare them, which is how DeployedFlow's per-type entry points call them.
SIGNATURES = {
    "from_deployment": "from_deployment(cls, identifier, metadata=None)",
    "get_triggered_run": "get_triggered_run(cls, identifier, run_id, metadata=None)",
    "list_deployed_flows": "list_deployed_flows(cls, flow_name=None)",
}
LOOKUPS = tuple(SIGNATURES)


class DeployedFlowMissingLookups(Rule):
    """A ``DeployedFlow`` subclass without ``from_deployment``, ``get_triggered_run`` or
    ``list_deployed_flows``: calling one of them on the subclass runs Metaflow's default
    implementation, Argo Workflows' (``Could not import module 'kubernetes'``)."""

    code = "MFK309"
    name = "deployed-flow-missing-lookups"
    summary = "DeployedFlow subclass without from_deployment/get_triggered_run/list_deployed_flows"
    capability = Cap.FROM_DEPLOYMENT
    triggers = (DEPLOYED_FLOW.encode(),)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Define the missing lookups, raising NotImplementedError that names the deployer",
        "stubs:AddMethodStubs",
    )

    VALID = (
        Valid("""
        from metaflow.runner.deployer import DeployedFlow
        class SchedDeployedFlow(DeployedFlow):
            TYPE = "sched"
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                raise NotImplementedError("from_deployment needs the scheduler's API")
            @classmethod
            def get_triggered_run(cls, identifier, run_id, metadata=None):
                raise NotImplementedError("get_triggered_run needs the scheduler's API")
            @classmethod
            def list_deployed_flows(cls, flow_name=None):
                return iter(())
        """),
        Valid("""
        from somewhere import SchedBase
        class SchedDeployedFlow(SchedBase):
            TYPE = "sched"
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow.runner.deployer import DeployedFlow
        class SchedDeployedFlow(DeployedFlow):
            TYPE = "sched"
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                return cls._rebuild(identifier)
        """,
            line=3,
            column=25,
            fixed="""
        from metaflow.runner.deployer import DeployedFlow
        class SchedDeployedFlow(DeployedFlow):
            TYPE = "sched"
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                return cls._rebuild(identifier)

            @classmethod
            def get_triggered_run(cls, identifier, run_id, metadata=None):
                raise NotImplementedError(
                    "the 'sched' deployer does not implement get_triggered_run"
                )

            @classmethod
            def list_deployed_flows(cls, flow_name=None):
                raise NotImplementedError(
                    "the 'sched' deployer does not implement list_deployed_flows"
                )
        """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        tree = module.tree
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            classes = chain(tree, cls, DEPLOYED_FLOW)
            if classes is None:
                continue  # not a DeployedFlow subclass, or one through a base we cannot see
            defined = set().union(*(methods(c) for c in classes))
            if any(_assigns_lookups(c) for c in classes):
                continue
            missing = [m for m in LOOKUPS if m not in defined]
            if not missing:
                continue
            yield Finding(
                cls.bases[0] if cls is classes[-1] else cls,
                f"{cls.name} does not define {', '.join(missing)}: Metaflow's DeployedFlow "
                "then dispatches to its default implementation (Argo Workflows), which fails "
                "with \"Could not import module 'kubernetes'\" or looks in the wrong "
                "scheduler; define them (raise NotImplementedError with a reason if the "
                "scheduler cannot)",
                _stubs(module, classes, missing).to_data(),
            )


def _assigns_lookups(cls: ast.ClassDef) -> bool:
    """Lookups bound some other way (``from_deployment = classmethod(_load)``): defined."""
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id in LOOKUPS for t in stmt.targets)
        for stmt in cls.body
    )


def _stubs(
    module: ModuleModel, classes: list[ast.ClassDef], missing: list[str]
) -> fixes.MethodStubs:
    """Each missing lookup defined on the class (``classes[0]``) to fail with a message naming
    the deployer (its TYPE, possibly inherited, else the class), instead of a lookup in Argo
    Workflows."""
    deployer = next(filter(None, (string_constant(c, "TYPE") for c in classes)), None)
    who = f"the {deployer!r} deployer" if deployer else classes[0].name
    return fixes.MethodStubs(
        module.position(classes[0]),
        tuple((SIGNATURES[m], f"{who} does not implement {m}") for m in missing),
    )
