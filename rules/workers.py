"""Rules on what step processes on workers (containers, remote hosts) can see of the host."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.rules.commands import COMMAND_TRIGGERS

SYSROOT_LOCAL = "METAFLOW_DATASTORE_SYSROOT_LOCAL"


def _reads_environment(node: ast.AST) -> Optional[str]:
    """The variable name when ``node`` reads the process environment: ``os.environ[...]``,
    ``os.environ.get(...)``, ``os.getenv(...)``."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and dotted_name(node.value) in ("os.environ", "environ")
    ):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        name = dotted_name(node.func)
        if name in ("os.environ.get", "environ.get", "os.getenv", "getenv"):
            value = node.args[0].value
            return value if isinstance(value, str) else None
    return None


_SAVED = ("old", "prev", "saved", "orig", "backup")


def _becomes_a_root(module: ModuleModel, read: ast.AST) -> bool:
    """The value read is used as a datastore location: joined with .metaflow, or kept in a
    variable named like a root (``sysroot``, ``datastore_root``), not saved for a restore."""
    parent = module.parent(read)
    if isinstance(parent, ast.Call) and dotted_name(parent.func) == "os.path.join":
        return True
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        for target in targets:
            name = (target.id if isinstance(target, ast.Name) else "").lower()
            if "root" in name and not any(word in name for word in _SAVED):
                return True
    return False


class RuntimeSysrootOverride(Rule):
    """Generated worker code takes the local sysroot from the worker's environment.

    The deployer decides where the run's data lives when it compiles the flow, and it looks
    for the run there. Code that the extension generates for the workers and that reads
    ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` from the worker's environment writes the run
    wherever that worker points (another user's home, a container path), so the deployer and
    ``wait_for_deployed_run()`` never see it. Bake the compile-time value into the generated
    code instead.
    """

    code = "MFK207"
    name = "runtime-sysroot-override"
    summary = "generated worker code reads the local sysroot from the worker's environment"
    capability = Cap.DATASTORE
    triggers = (SYSROOT_LOCAL.encode(),)

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if not module.generated:
            return  # the extension's own code runs at compile time: reading it there is right
        for node in module.nodes:
            if _reads_environment(node) == SYSROOT_LOCAL and _becomes_a_root(module, node):
                yield Finding(
                    node,
                    f"generated code reads {SYSROOT_LOCAL} from the worker's environment: the "
                    "run lands wherever the worker points, not where the deployer looks; "
                    "write the compile-time sysroot into the generated code",
                )


# Where @environment(vars=...) values can come from besides the step command itself.
_ENVIRONMENT_HANDLING = (
    b"runtime_step_cli",
    b"CLIArgs",
    b"environment_decorator",
    b"EnvironmentDecorator",
    b'"vars"',
    b"'vars'",
)


class EnvironmentVarsDropped(Rule):
    """Steps run as direct ``step`` subprocesses without the ``@environment(vars=...)`` values.

    ``@environment`` puts its variables into the step's environment through the decorator's
    ``runtime_step_cli`` hook, which Metaflow's own runtime calls when it builds the step
    command. An orchestrator that builds ``python flow.py step ...`` itself must call that hook
    (or read the decorator's ``vars`` and export them); otherwise the variables never reach
    the task and ``os.environ["MY_VAR"]`` raises ``KeyError`` in the step.
    """

    code = "MFK210"
    name = "environment-vars-dropped"
    summary = "step commands built by hand without the @environment(vars=...) values"
    triggers = COMMAND_TRIGGERS

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.project is None or module.generated:
            return  # the vars may be handled in a module this run does not see
        command = next((c for c in module.commands if c.name == "step"), None)
        if command is None or _handles_environment(module):
            return
        yield Finding(
            command.subcommand.span,
            "step command built by hand, and nothing in the project applies @environment's "
            "vars (runtime_step_cli or the decorator's 'vars'): those variables never reach "
            "the task",
        )


def _handles_environment(module: ModuleModel) -> bool:
    raw = module.source.raw or module.source.text.encode("utf-8", "replace")
    return any(marker in raw for marker in _ENVIRONMENT_HANDLING) or any(
        module.project.any_file_contains(marker) for marker in _ENVIRONMENT_HANDLING
    )
