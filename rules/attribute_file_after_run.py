"""MFK303 attribute-file-after-run: see docs/pitfalls/attribute-file-after-run.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.invocation import runs_task_command, starts_command_process
from mfkit_lint.model.module import (
    FunctionNode,
    ModuleModel,
    call_name,
    dotted_name,
)
from mfkit_lint.model.values import values_of

ATTRIBUTE_FILE = "deployer_attribute_file"
# How many calls deep a blocking wait is followed from trigger (helpers calling helpers).
_MAX_CHAIN = 4


_BLOCKING_SUBPROCESS = {
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "os.system",
}
# In-process executors that return only when the whole run has finished.
_BLOCKING_EXECUTORS = {"execute_job", "execute_in_process"}


class AttributeFileAfterRun(Rule):
    """``trigger`` writes the deployer attribute file only after the run has finished.

    ``Deployer.trigger()`` starts the extension's ``trigger`` command and waits until the
    attribute file is written, and then until the command's stdout and stderr close. Writing
    the file after running or waiting for the steps, or leaving a background runner holding
    those pipes, makes ``trigger()`` block for the whole run, and fail with
    ``TimeoutError: Timeout while waiting for the file content`` when the run outlasts the
    deployer's timeout.
    """

    code = "MFK303"
    name = "attribute-file-after-run"
    summary = "trigger writes deployer_attribute_file after running or waiting for the steps"
    capability = Cap.TRIGGER
    triggers = (ATTRIBUTE_FILE.encode(),)
    # Moving the write up is no fix: Deployer.trigger() reads the file and then waits for the
    # trigger command to exit (sync_wait), so a command that goes on running or waiting for
    # the steps blocks it just the same, and a failed run would surface as a generic error
    # without the scheduler's output. The fix is a restructuring a codemod cannot make.
    no_fix = (
        "moving the write up would not unblock trigger(), which also waits for the command to "
        "exit: start the run detached (subprocess.Popen with start_new_session=True and its "
        "stdout/stderr sent to a log file), report a failure to start on stderr before writing "
        "the file, then write the file and return without waiting"
    )

    VALID = (
        Valid(
            """
            import json
            def trigger(obj, run_params, deployer_attribute_file=None):
                run = obj.client.create_flow_run(obj.deployment_id, parameters=dict(run_params))
                if deployer_attribute_file:
                    with open(deployer_attribute_file, "w") as f:
                        json.dump({"pathspec": run.id}, f)
            """
        ),
        Valid(
            """
            import subprocess
            def build(obj, out_file):
                subprocess.run(["python", "flow.py", "step", "start", "--run-id", "1"], check=True)
                open(out_file, "w").write("{}")
            """
        ),
        Valid(
            """
            import json, os, sys
            def trigger(obj, run_params, deployer_attribute_file=None):
                pid = os.fork()
                if pid == 0:
                    if os.fork() == 0:
                        os.execv(sys.executable, [sys.executable, obj.driver, *run_params])
                    os._exit(0)
                os.waitpid(pid, 0)  # the first child exits at once; the run goes on detached
                with open(deployer_attribute_file, "w") as f:
                    json.dump({"pathspec": obj.pathspec}, f)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import json
            def trigger(obj, run_params, deployer_attribute_file=None):
                result = execute_job(obj.job, run_config=build(run_params))
                if deployer_attribute_file:
                    with open(deployer_attribute_file, "w") as f:
                        json.dump({"pathspec": obj.pathspec}, f)
            """,
            line=5,
            column=5,
        ),
        Invalid(
            """
            import json, subprocess, sys
            def trigger(obj, deployer_attribute_file=None):
                with open(deployer_attribute_file, "w") as f:
                    json.dump({"pathspec": obj.pathspec}, f)
                subprocess.Popen([sys.executable, obj.runner_file])
            """,
            line=6,
            column=5,
        ),
        Invalid(
            """
            import json, os
            from .runner import start_run
            def trigger(obj, run_params, deployer_attribute_file=None):
                record = start_run(obj.plan, run_params)
                os.waitpid(record["driver_pid"], 0)
                with open(deployer_attribute_file, "w") as f:
                    json.dump({"pathspec": record["pathspec"]}, f)
            """,
            line=7,
            column=5,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for function in _trigger_functions(module):
            yield from self._check_order(module, function)
            yield from _inherited_pipes(module, function)

    def _check_order(self, module: ModuleModel, function: FunctionNode) -> Iterator[Finding]:
        writing = [s for s in _statements(function) if _writes_attribute_file(s)]
        for leaf in writing:
            if any(module.parent(w) is leaf for w in writing):
                continue  # not the innermost statement that writes
            write = leaf
            parent = module.parent(write)
            # `if deployer_attribute_file: with open(...)` moves as one unit.
            while isinstance(parent, ast.If) and ATTRIBUTE_FILE in _names(parent.test):
                write, parent = parent, module.parent(parent)
            finding = self._blocked_write(module, function, write)
            if finding is not None:
                yield finding

    def _blocked_write(
        self, module: ModuleModel, function: FunctionNode, write: ast.stmt
    ) -> Optional[Finding]:
        for block, index in _enclosing_blocks(module, write, function):
            for stmt in block[:index]:
                reason = _blocking_reason(module, stmt)
                if reason is None:
                    continue
                return Finding(
                    write,
                    f"{ATTRIBUTE_FILE} is written only after the run ({reason}, line "
                    f"{stmt.lineno}): Deployer.trigger() waits for the file and times out on long "
                    "runs; start the run detached (its output to a log file), then write the "
                    "file and return",
                )
        return None


def _statements(function: FunctionNode) -> Iterator[ast.stmt]:
    """Statements of the function body, outer before inner, nested functions excluded."""
    todo = list(function.body)
    while todo:
        stmt = todo.pop(0)
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                todo.append(child)
            elif isinstance(child, ast.excepthandler):
                todo.extend(child.body)


def _enclosing_blocks(
    module: ModuleModel, stmt: ast.stmt, function: FunctionNode
) -> Iterator[tuple[list[ast.stmt], int]]:
    """For ``stmt`` and each statement around it: the block it sits in and its index there.
    The statements before that index run before ``stmt`` does."""
    current: ast.AST = stmt
    while current is not function:
        parent = module.parent(current)
        if parent is None:
            return
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and current in block:
                yield block, block.index(current)
        current = parent


def _trigger_functions(module: ModuleModel) -> Iterator[FunctionNode]:
    for functions in module.functions.values():
        for function in functions:
            args = function.args
            names = {a.arg for a in (*args.args, *args.kwonlyargs)}
            if ATTRIBUTE_FILE in names and not _is_create(function):
                yield function


def _command_name(function: FunctionNode) -> str:
    """The click command a function implements: the name given to ``@group.command(...)``,
    else the function's own name."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and call_name(decorator) == "command":
            named = decorator.args[0] if decorator.args else None
            named = named or next((k.value for k in decorator.keywords if k.arg == "name"), None)
            if isinstance(named, ast.Constant) and isinstance(named.value, str):
                return named.value
    return function.name


def _is_create(function: FunctionNode) -> bool:
    """The ``create`` command. ``Deployer.create()`` waits for the attribute file just as
    ``trigger()`` does (the same 3600 s ``file_read_timeout``), but create has no run to wait
    for: waiting until the scheduler has indexed the deployment, then writing, is correct."""
    return _command_name(function).strip("_").startswith("create")


def _writes_attribute_file(stmt: ast.stmt) -> bool:
    """The statement opens the attribute file for writing or hands it to a writer."""
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call):
            continue
        if any(isinstance(a, ast.Name) and a.id == ATTRIBUTE_FILE for a in node.args):
            name = call_name(node) or ""
            if name == "open":
                mode = node.args[1] if len(node.args) > 1 else None
                mode = mode or next((k.value for k in node.keywords if k.arg == "mode"), None)
                if isinstance(mode, ast.Constant) and "w" in str(mode.value):
                    return True
            elif "write" in name or "dump" in name or name == "Path":
                return True
    return False


def _blocking_reason(module: ModuleModel, stmt: ast.stmt, depth: int = 0) -> Optional[str]:
    """Why ``stmt`` runs or waits for the whole flow, or None."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.With) and any(
            _flow_process(module, item.context_expr) for item in node.items
        ):
            return "leaving `with Popen(...)` waits for the flow's process to end"
        if isinstance(node, ast.While) and any(
            isinstance(n, ast.Call) and call_name(n) == "sleep" for n in ast.walk(node)
        ):
            return "a polling loop"
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node) or ""
        if name in _BLOCKING_EXECUTORS:
            return f"{name}() runs the whole job in-process"
        if _waits_for_child(module, node):
            return f"{name}() waits for a child process to end"
        if name.lstrip("_").startswith("wait_for") or name.lstrip("_").startswith("wait_until"):
            return f"{name}() waits for the run"
        if (
            dotted_name(node.func) in _BLOCKING_SUBPROCESS
            and node.args
            and runs_task_command(module, node.args[0], contract.SUBCOMMANDS)
            and not _forks(module, node)
        ):
            return "the steps run in a subprocess"
        if name in ("wait", "communicate") and _waits_for_flow_process(module, node):
            return f"{name}() waits for the flow's process to end"
        if depth < _MAX_CHAIN:
            found = _called_function(module, node)
            if found is not None:
                owner, helper = found
                for inner in helper.body:
                    reason = _blocking_reason(owner, inner, depth + 1)
                    if reason is not None:
                        return f"{name}() -> {reason}"
    return None


def _waits_for_child(module: ModuleModel, call: ast.Call) -> bool:
    """A blocking wait for a child process: ``os.wait()``, ``os.waitpid(pid, 0)``. Trigger
    starts no child that it may wait for but the run; the one exception is a double fork,
    where the parent waits for the first child, which exits at once (that function forks)."""
    name = dotted_name(call.func)
    if name not in ("os.wait", "os.waitpid"):
        return False
    if name == "os.waitpid":
        flags = call.args[1] if len(call.args) == 2 else None
        if not (isinstance(flags, ast.Constant) and flags.value == 0):
            return False  # WNOHANG and other flags return at once
    return not _forks(module, call)


def _forks(module: ModuleModel, node: ast.AST) -> bool:
    """The function around ``node`` forks: what it runs or waits for may be the child's (a
    double fork runs the flow in a grandchild and waits only for the first child)."""
    function = module.enclosing_function(node)
    return function is not None and any(
        isinstance(n, ast.Call) and dotted_name(n.func) in ("os.fork", "fork")
        for n in ast.walk(function)
    )


def _waits_for_flow_process(module: ModuleModel, call: ast.Call) -> bool:
    """``proc.wait()`` / ``proc.communicate()`` (also ``await``-ed, also on the call itself)
    where ``proc`` is, on every path, a process started on the flow's command line."""
    if not isinstance(call.func, ast.Attribute) or _forks(module, call):
        return False
    found = values_of(module).alternatives(call.func.value)
    return bool(found) and all(_flow_process(module, value) for value in found)


def _flow_process(module: ModuleModel, expr: ast.expr) -> bool:
    return starts_command_process(module, expr, contract.SUBCOMMANDS)


def _called_function(
    module: ModuleModel, call: ast.Call
) -> Optional[tuple[ModuleModel, FunctionNode]]:
    """The function a call runs and the module it is in: this module's (``f()``,
    ``self.f()``), or the one function of that name in the project's other modules when the
    call goes through an import (``from .runner import run_all; run_all(...)``,
    ``runner.run_all(...)``)."""
    helper = module.local_function(call)
    if helper is not None:
        return module, helper
    name = call_name(call)
    if (
        module.project is None
        or not name
        or name in module.functions
        or not _imported(module, call)
    ):
        return None
    defined = module.project.defining(name, seen_from=module.path)
    defined = [(other, f) for other, f in defined if other is not module]
    return defined[0] if len(defined) == 1 else None


def _imported(module: ModuleModel, call: ast.Call) -> bool:
    """The called name (or the module it is an attribute of) is bound by an import."""
    func = call.func
    root = func.value if isinstance(func, ast.Attribute) else func
    return isinstance(root, ast.Name) and root.id in module.imported_names


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _inherited_pipes(module: ModuleModel, function: FunctionNode) -> Iterator[Finding]:
    """A background ``Popen`` that keeps trigger's stdout/stderr open and is never waited for."""
    waited = {
        n.func.value.id
        for n in ast.walk(function)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("wait", "communicate")
        and isinstance(n.func.value, ast.Name)
    }
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call) and dotted_name(node.func) in ("subprocess.Popen", "Popen")
        ):
            continue
        redirected = {k.arg for k in node.keywords if k.arg in ("stdout", "stderr")}
        if redirected == {"stdout", "stderr"} or any(k.arg is None for k in node.keywords):
            continue
        parent = module.parent(node)
        target = None
        if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
            target = parent.targets[0].id
        if target in waited or isinstance(parent, ast.withitem):
            continue
        missing = " and ".join(p for p in ("stdout", "stderr") if p not in redirected)
        yield Finding(
            node,
            f"background process inherits trigger's {missing}: Deployer.trigger() waits for "
            "those pipes to close, i.e. for the whole run; redirect them (e.g. to a log file)",
        )
