"""MFK206 auth-env-not-forwarded: see docs/pitfalls/auth-env-not-forwarded.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import SUBPROCESS_CALLS, fresh_environment
from mfkit_lint.model.invocation import (
    runs_task_command,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name

_SUBPROCESS_OWNERS = frozenset({"subprocess", "asyncio", "sp"})


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
        if env is None or not call.args:
            return None
        # The environment first: most are inherited, and then the command (which needs the
        # module's whole command model) does not matter.
        fresh = fresh_environment(module, env)
        if fresh is None or not runs_task_command(module, call.args[0]):
            return None
        return Finding(
            env,
            f"the step process gets only the variables of {fresh}: credentials of the "
            "scheduler and the cloud (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*, "
            "METAFLOW_SERVICE_*), HOME and PATH do not reach it; start from "
            "dict(os.environ) and add your variables",
        )
