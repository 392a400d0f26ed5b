"""MFK201 missing-flow-config-value: see docs/pitfalls/missing-flow-config-value.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import plugin_name
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.environment import (
    SUBPROCESS_CALLS,
    prose_nodes,
)
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
)
from mfkit_lint.model.module import ModuleModel, call_name, per_module

# Code that passes the flow's configs on: Metaflow's helpers that add ``--config-value``
# themselves, and names that hold the config values.
_CONFIG_HELPERS = frozenset({"get_top_level_options", "CLIArgs", "dump_config_values"})
# Strings of code (not prose) that pass them: the variable, or the options.
_CONFIG_WORDS = ("METAFLOW_FLOW_CONFIG", "--config-value", "--config")
_ENV_IN_TEXT = re.compile(
    r"(?:subprocess\.\w+|Popen|create_subprocess_\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\benv\s*="
)
_ENV_KEYS = frozenset({"env", "environment", "Environment", "envVars", "env_vars"})


class MissingFlowConfigValue(Rule):
    """Step processes get neither ``METAFLOW_FLOW_CONFIG_VALUE`` nor ``--config-value``.

    ``--config-value`` is a top-level option of every flow with a ``Config``; its environment
    variable is ``METAFLOW_FLOW_CONFIG_VALUE``. A step started without either evaluates the
    flow's configs from their defaults again: ``config_expr`` in decorators (``@project``
    names, ``@resources``, flow mutators) sees the defaults, not the values the flow was
    deployed with, while ``self.cfg`` inside the step still reads the deployed value.
    """

    code = "MFK201"
    name = "missing-flow-config-value"
    summary = "step processes get neither METAFLOW_FLOW_CONFIG_VALUE nor --config-value"
    capability = Cap.CONFIG_EXPR
    triggers = COMMAND_TRIGGERS
    no_fix = (
        "the config values exist only in the deploying process (Metaflow dumps them "
        "when the flow is loaded there): capture them at deploy time and carry them to "
        "every step process as METAFLOW_FLOW_CONFIG_VALUE or --config-value through "
        "whatever the scheduler offers (a compiled constant, a workflow variable); no "
        "local edit can do that"
    )

    VALID = (
        Valid(
            """
            import json, os, subprocess, sys
            def run_step(flow, step, run_id, task_id, configs):
                env = dict(os.environ)
                env["METAFLOW_FLOW_CONFIG_VALUE"] = json.dumps(configs)
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", task_id], env=env)
            """
        ),
        Valid(
            """
            import os, subprocess
            def build(tag):
                subprocess.run(["docker", "build", "-t", tag, "."], env=dict(os.environ))
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import os, subprocess, sys
            def run_step(flow, step, run_id, task_id, paths, attempt):
                env = dict(os.environ)
                env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/data"
                cmd = [sys.executable, flow, "--quiet", "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--retry-count", str(attempt), "--input-paths", paths]
                subprocess.run(cmd, env=env, check=True)
            """,
            line=6,
            column=45,
        ),
        Invalid(
            """
            class Compiler:
                def _step_args(self, step_name):
                    return ", ".join(['"step"', '"%s"' % step_name, '"--run-id"', "run_id",
                                      '"--task-id"', "task_id", '"--retry-count"', "str(attempt)"])

                def _script(self, step_name):
                    return \"\"\"
            env = dict(os.environ)
            env.update({"METAFLOW_KESTRA_EXECUTION_ID": "{{ execution.id }}"})
            cmd = [sys.executable, FLOW_FILE, %(step_args)s]
            result = subprocess.run(cmd, env=env, capture_output=True, text=True)
            \"\"\" % {"step_args": self._step_args(step_name)}
            """,
            line=4,
            column=27,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.generated:
            return  # generated helpers get their commands and configs from the extension
        if _passes_configs(module):
            return
        # A backend's own ``<name> step`` launcher is not a step process: the runtime gives
        # it the flow's top-level options (--config-value) and it forwards them to the task.
        steps = [c for c in commands_of(module) if c.name == "step" and plugin_name(c) is None]
        if not steps or not _passes_an_environment(module, steps):
            return
        first = min(steps, key=lambda c: (c.subcommand.span.start, c.subcommand.span.end))
        yield Finding(
            first.subcommand.span,
            "step processes started by this module get neither METAFLOW_FLOW_CONFIG_VALUE nor "
            "--config-value: they evaluate the flow's Configs from their defaults (config_expr "
            "in @project, @resources ...); put the deploy-time config values in the step "
            "environment as METAFLOW_FLOW_CONFIG_VALUE",
        )


@per_module
def _passes_configs(module: ModuleModel) -> bool:
    """The code hands the flow's configs on: it uses Metaflow's helpers (a class merely named
    like one, ``_RuntimeCLIArgs``, does not count), a name holding the config values
    (``config_value``, ``FlowStateItems.CONFIGS``), or a string of code with the variable or
    the options. Comments, docstrings and messages do not count."""
    prose = prose_nodes(module)
    for node in module.nodes:
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in prose and any(w in node.value for w in _CONFIG_WORDS):
                return True
            continue
        else:
            continue
        if name in _CONFIG_HELPERS or "config_value" in name.lower() or name == "CONFIGS":
            return True
    return False


def _passes_an_environment(module: ModuleModel, steps: list) -> bool:
    """The module also builds the environment its processes get: ``env=`` of a subprocess
    call, an ``env`` entry of a job spec, ``export NAME=`` next to a step command in a shell
    template, or ``env=`` of a subprocess call in generated code."""
    for node in module.nodes:
        if isinstance(node, ast.Call) and any(k.arg == "env" for k in node.keywords):
            if (call_name(node) or "") in SUBPROCESS_CALLS | {"execve", "execvpe", "spawn"}:
                return True
        elif isinstance(node, ast.Dict):
            if any(isinstance(k, ast.Constant) and k.value in _ENV_KEYS for k in node.keys):
                return True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "env" in node.value
            and _ENV_IN_TEXT.search(node.value)
        ):
            return True
    for command in steps:
        template = command.template
        if template is not None and re.search(r"(?m)^\s*export\s+\w+=", template.text):
            return True
    return False
