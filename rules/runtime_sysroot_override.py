"""MFK207 runtime-sysroot-override: see docs/pitfalls/runtime-sysroot-override.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    SYSROOT_LOCAL,
)
from mfkit_lint.model.module import ModuleModel, dotted_name

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")


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


# Generated code that uses the compile-time root: right as it is, and what the fix leaves.
_COMPILED_ROOT = """
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
    fix = FixSpec(
        Applicability.UNSAFE,
        "Remove the runtime override: the compiled datastore root stays (right when the "
        "workers see the datastore at the compiled path)",
        "statements:RemoveStatements",
    )

    VALID = (
        Valid(_COMPILED_ROOT),
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
            fixed=_COMPILED_ROOT,
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
            # No compiled value to fall back on: nothing to remove.
            fixed=None,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if not module.generated:
            return  # the extension's own code runs at compile time: reading it there is right
        for node in module.nodes:
            if _reads_environment(node) == SYSROOT_LOCAL and _becomes_a_root(module, node):
                message = (
                    f"generated code reads {SYSROOT_LOCAL} from the worker's environment: the "
                    "run lands wherever the worker points, not where the deployer looks; "
                    "write the compile-time sysroot into the generated code"
                )
                removal = _override_removal(module, node)
                if removal is None:
                    yield Finding(node, message, no_fix_reason=_NO_FIX)
                else:
                    yield Finding(node, message, removal.to_data())


_NO_FIX = (
    "the read is not an override of a compiled value (a variable read, then assigned to a "
    "root in an 'if' of its own): what the workers should use instead is not in the code"
)
# Guards whose test has no side effects: removing the guard with its body changes nothing else.
_PURE = (ast.Compare, ast.Name, ast.Constant, ast.BoolOp, ast.UnaryOp, ast.Attribute)


def _override_removal(module: ModuleModel, read: ast.AST) -> Optional[fixes.RemovedStatements]:
    """The statements that only exist to override a compiled root with the value read:
    ``_sysroot = os.environ.get(...)`` and ``if _sysroot: root = ...`` after it, where
    ``root`` already holds the compiled value (and the guard around both, when they are all
    it holds)."""
    assign = module.parent(read)
    if not (
        isinstance(assign, ast.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0], ast.Name)
        and assign.value is read
    ):
        return None
    name = assign.targets[0].id
    block = _block_of(module, assign)
    if block is None:
        return None
    guard = next(
        (
            s
            for s in block[block.index(assign) + 1 :]
            if isinstance(s, ast.If) and isinstance(s.test, ast.Name) and s.test.id == name
        ),
        None,
    )
    if guard is None or guard.orelse or _rebinds(block, assign, guard, name):
        return None
    if _read_later(module, assign, guard, name):
        return None  # the value read is used (or set) elsewhere too
    for statement in guard.body:
        if not (
            isinstance(statement, ast.Assign)
            and all(isinstance(t, ast.Name) for t in statement.targets)
            and all(_assigned_before(module, t.id, assign) for t in statement.targets)
        ):
            return None  # the guard does more than override roots that hold a value
    removed: list[ast.stmt] = [assign, guard]
    while True:
        parent = module.parent(removed[0])
        if not (
            isinstance(parent, ast.If)
            and parent.body == removed
            and not parent.orelse
            and all(
                isinstance(n, (*_PURE, ast.expr_context, ast.cmpop, ast.boolop, ast.unaryop))
                for n in ast.walk(parent.test)
            )
        ):
            break
        removed = [parent]
    return fixes.RemovedStatements(tuple(module.position(s) for s in removed))


def _read_later(module: ModuleModel, assign: ast.Assign, guard: ast.If, name: str) -> bool:
    """Whether anything but ``guard`` can see the value ``assign`` binds to ``name``: the
    statements after it in its block and in each enclosing block, until the name is bound
    again (generated scripts pasted one after another rebind the same names). Inside a loop
    or an ``except`` handler, any other mention in the scope counts."""
    scope = module.enclosing_function(assign) or module.tree
    statement: ast.AST = assign
    while statement is not scope:
        parent = module.parent(statement)
        block = _block_of(module, statement)
        if block is None or isinstance(parent, (ast.For, ast.AsyncFor, ast.While)):
            inside = {id(n) for n in ast.walk(guard)} | {id(assign.targets[0])}
            return any(
                isinstance(n, ast.Name) and n.id == name and id(n) not in inside
                for n in ast.walk(scope)
            )
        later = [s for s in block[block.index(statement) + 1 :] if s is not guard]
        outcome = _scan(later, name)
        if outcome is not None:
            return outcome
        statement = parent
    return False


def _scan(statements: list[ast.stmt], name: str) -> Optional[bool]:
    """True: a statement reads (or sets otherwise) ``name`` before it is bound again; False:
    it is bound again first on every path; None: neither."""
    for statement in statements:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in statement.targets
        ):
            return _mentions(statement.value, name)
        if isinstance(statement, ast.If):
            if _mentions(statement.test, name) or any(
                _scan(branch, name) for branch in (statement.body, statement.orelse)
            ):
                return True
        elif _mentions(statement, name):
            return True
    return None


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _rebinds(block: list[ast.stmt], assign: ast.stmt, guard: ast.stmt, name: str) -> bool:
    """Whether ``name`` is assigned again between the read and its guard."""
    between = block[block.index(assign) + 1 : block.index(guard)]
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
        for statement in between
        for n in ast.walk(statement)
    )


def _block_of(module: ModuleModel, statement: ast.stmt) -> Optional[list[ast.stmt]]:
    parent = module.parent(statement)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and statement in block:
            return block
    return None


def _assigned_before(module: ModuleModel, name: str, statement: ast.stmt) -> bool:
    """``name`` is assigned, unconditionally, before ``statement`` is reached: by a statement
    that precedes it (or one of its enclosing statements) in the same block."""
    current: Optional[ast.AST] = statement
    while isinstance(current, ast.stmt):
        block = _block_of(module, current)
        if block is None:
            return False
        for earlier in block[: block.index(current)]:
            if isinstance(earlier, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in earlier.targets
            ):
                return True
        current = module.parent(current)
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
    return False
