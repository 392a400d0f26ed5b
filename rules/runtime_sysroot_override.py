"""MFK207 runtime-sysroot-override: see docs/pitfalls/runtime-sysroot-override.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    SYSROOT_LOCAL,
)
from mfkit_lint.model.module import ModuleModel, dotted_name


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
    no_fix = (
        "the read is a deliberate override in the generated code: whether workers must "
        "use the compiled sysroot, or mount the same directory at another path, depends "
        "on how the scheduler's workers see the datastore; remove the override only if "
        "they see it at the compiled path"
    )

    VALID = (
        Valid(
            """
            SCRIPT = \"\"\"
            import os
            import subprocess

            datastore_root = "/srv/compiled/.metaflow"

            subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root,
                            "step", "start", "--run-id", run_id, "--task-id", "t-1",
                            "--input-paths", "p"], check=True)
            \"\"\"

            def write_worker(path):
                with open(path, "w") as f:
                    f.write(SCRIPT)
            """
        ),
        Valid(
            """
            SCRIPT = \"\"\"
            import os
            import subprocess

            datastore_root = "/srv/compiled/.metaflow"
            os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/srv/compiled"

            subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root,
                            "step", "start", "--run-id", run_id, "--task-id", "t-1",
                            "--input-paths", "p"], check=True)
            \"\"\"

            def write_worker(path):
                with open(path, "w") as f:
                    f.write(SCRIPT)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            SCRIPT = \"\"\"
            import os
            import subprocess

            datastore_root = "/srv/compiled/.metaflow"
            _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
            if _sysroot:
                datastore_root = os.path.join(_sysroot, ".metaflow")

            subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root,
                            "step", "start", "--run-id", run_id, "--task-id", "t-1",
                            "--input-paths", "p"], check=True)
            \"\"\"

            def write_worker(path):
                with open(path, "w") as f:
                    f.write(SCRIPT)
            """,
            line=7,
            column=12,
        ),
        Invalid(
            """
            SCRIPT = \"\"\"
            import os
            import subprocess

            datastore_root = os.path.join(
                os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"], ".metaflow"
            )

            subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root,
                            "step", "start", "--run-id", run_id, "--task-id", "t-1",
                            "--input-paths", "p"], check=True)
            \"\"\"

            def write_worker(path):
                with open(path, "w") as f:
                    f.write(SCRIPT)
            """,
            line=7,
            column=5,
        ),
    )

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
