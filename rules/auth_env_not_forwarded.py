"""MFK206 auth-env-not-forwarded: see docs/pitfalls/auth-env-not-forwarded.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    SUBPROCESS_CALLS,
    subscript_key,
)
from mfkit_lint.model.invocation import (
    runs_task_command,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.templates import HOLE, is_stringish, template_of
from mfkit_lint.model.values import Assigned, values_of

_SUBPROCESS_OWNERS = frozenset({"subprocess", "asyncio", "sp"})
# Names of variables whose forwarding shows the env was chosen with credentials in mind.
_CREDENTIAL_PREFIXES = (
    "AWS_",
    "GOOGLE_",
    "GCP_",
    "GCLOUD",
    "CLOUDSDK_",
    "AZURE_",
    "ARM_",
    "KUBECONFIG",
    "METAFLOW_SERVICE",
)


class AuthEnvNotForwarded(Rule):
    """A step or init process is started with an environment built from scratch.

    ``subprocess.run(cmd, env={...})`` replaces the whole environment: the step sees only the
    variables in the dict. Credentials the scheduler or the cloud gives the worker
    (``AWS_*`` including IRSA's ``AWS_ROLE_ARN``/``AWS_WEB_IDENTITY_TOKEN_FILE``,
    ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_*``, ``METAFLOW_SERVICE_AUTH_KEY``) and ``HOME``
    and ``PATH`` never reach it, so datastore and metadata calls fail inside the step.
    """

    code = "MFK206"
    name = "auth-env-not-forwarded"
    summary = "step/init subprocess started with an environment built from scratch"
    capability = None
    triggers = (b"env=",)

    VALID = (
        Valid(
            """
            import os, subprocess, sys
            def run_step(flow, step, run_id, task_id):
                env = dict(os.environ)
                env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/data"
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", task_id], env=env)
            """
        ),
        Valid(
            """
            import subprocess, sys
            def run_step(self, flow, step, run_id, task_id):
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", task_id], env=self.step_env)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import os, subprocess, sys
            def run_step(flow, step, run_id, task_id, paths, attempt):
                cmd = [sys.executable, flow, "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--retry-count", str(attempt), "--input-paths", paths]
                env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data", "PATH": os.environ["PATH"]}
                subprocess.run(cmd, env=env, check=True)
            """,
            line=7,
            column=29,
        ),
        Invalid(
            """
            import subprocess
            def run_init(flow_file, run_id, sysroot):
                env = {}
                env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = sysroot
                env["USERNAME"] = "scheduler"
                subprocess.check_call(
                    ["python", flow_file, "init", "--run-id", run_id, "--task-id", "params"],
                    env=env,
                )
            """,
            line=9,
            column=13,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for call in module.calls_by_name.keys() & SUBPROCESS_CALLS:
            for node in module.calls_by_name[call]:
                finding = self._check_call(module, node)
                if finding is not None:
                    yield finding

    def _check_call(self, module: ModuleModel, call: ast.Call) -> Optional[Finding]:
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        if owner is not None and dotted_name(owner) not in _SUBPROCESS_OWNERS:
            return None
        if owner is None and call_name(call) != "Popen":
            return None  # a bare run()/call() is not known to be subprocess's
        env = next((k.value for k in call.keywords if k.arg == "env"), None)
        if env is None or not call.args or not runs_task_command(module, call.args[0]):
            return None
        fresh = _fresh_env(module, env)
        if fresh is None:
            return None
        return Finding(
            env,
            f"the step process gets only the variables of {fresh}: credentials of the "
            "scheduler and the cloud (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*, "
            "METAFLOW_SERVICE_*), HOME and PATH do not reach it; start from "
            "dict(os.environ) and add your variables",
        )


def _fresh_env(module: ModuleModel, env: ast.expr, depth: int = 0) -> Optional[str]:
    """A description of ``env`` when it is certainly built without the parent environment,
    else None (inherited, or cannot tell)."""
    if isinstance(env, ast.Dict):
        if any(k is None for k in env.keys) or _names_credentials(module, env):
            return None  # ``**spread`` of something, or credentials chosen explicitly
        return "a dict literal"
    if isinstance(env, ast.Call) and isinstance(env.func, ast.Name) and env.func.id == "dict":
        if env.args or any(k.arg is None for k in env.keywords):
            return None
        if any(_credential_name(k.arg) for k in env.keywords):
            return None
        return "dict(...)"
    if isinstance(env, ast.Name) and depth < 2:
        scope, bindings = values_of(module).lookup(env.id, env)
        if not bindings or scope is None or any(not isinstance(b, Assigned) for b in bindings):
            return None
        found = [_fresh_env(module, b.value, depth + 1) for b in bindings]
        if not all(found) or _fills_from_environ(module, scope, env.id):
            return None
        return f"{env.id!r}, a dict built from scratch"
    return None


def _credential_name(name: Optional[str]) -> bool:
    return bool(name) and name.upper().startswith(_CREDENTIAL_PREFIXES)


def _names_credentials(module: ModuleModel, node: ast.Dict) -> bool:
    for key in node.keys:
        if key is not None and is_stringish(key):
            template = template_of(module, key)
            if template is not None and _credential_name(template.text):
                return True
    return False


def _fills_from_environ(module: ModuleModel, scope: ast.AST, name: str) -> bool:
    """In ``scope`` the dict gets the parent environment (``update(os.environ)``), a loop over
    ``os.environ`` copies entries into it, or credentials are set by name."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == name and node.func.attr == "update":
                return True  # update(...) of anything: cannot tell what it brings
        if isinstance(node, (ast.For, ast.comprehension)) and "environ" in ast.dump(node.iter):
            return True
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    key = subscript_key(target)
                    template = template_of(module, key) if is_stringish(key) else None
                    if template is None or HOLE in template.text:
                        return True  # a computed key: cannot tell what it forwards
                    if _credential_name(template.text):
                        return True
    return False
