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
    sets_env_var,
)
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    option_env_vars,
)
from mfkit_lint.model.module import ModuleModel, call_name, per_module

# Metaflow's builder of step command lines that adds ``--config-value`` itself.
_CONFIG_BUILDERS = frozenset({"CLIArgs"})
# click's names for --config-value/--config (keywords of the click API, dict_to_cli_options).
_CONFIG_DESTS = frozenset({"config_value", "config"})
# click's environment variables for them (METAFLOW_FLOW_CONFIG_VALUE, METAFLOW_FLOW_CONFIG).
CONFIG_ENV_VARS = option_env_vars(None, "--config-value", "--config")
# Strings of code (not prose) that pass them: the variable, or the options.
_CONFIG_WORDS = ("METAFLOW_FLOW_CONFIG", "--config-value", "--config")
_CONFIG_OPTIONS = ("--config-value", "--config")
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
        # A backend's own ``<name> step`` launcher is not a step process: the runtime gives
        # it the flow's top-level options (--config-value) and it forwards them to the task.
        # (The step commands first: without one, how configs travel in the project does
        # not matter.)
        steps = [
            c
            for c in commands_of(module)
            if c.name == "step"
            and c.subcommand.span.file is None  # built here, not in another module
            and plugin_name(c) is None
            and not any(c.has_option(o) for o in _CONFIG_OPTIONS)  # e.g. from a helper's words
        ]
        if not steps or _passes_configs(module):
            return
        # Generated code gets its commands and configs from the module that generates it:
        # judged only together with it (and, through it, the rest of the project).
        if module.generated and (module.generator is None or _passes_configs(module.generator)):
            return
        if not _passes_an_environment(module, steps):
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
    """The code hands the flow's configs on, as far as what it does shows: it gives a process
    ``METAFLOW_FLOW_CONFIG_VALUE`` (any spelling of an environment write, here or, in project
    mode, in another module of the project), a command it builds carries ``--config-value``
    or ``--config``, Metaflow's ``CLIArgs`` builds the command (it adds ``--config-value``),
    a click API call or ``dict_to_cli_options`` gets ``config_value=``, or a string of code
    (a template, generated lines) names the variable or the options. Reading the configs
    (``FlowStateItems.CONFIGS``, a plan's ``"config_value"``), a decorator's
    ``get_top_level_options()`` (the ``@project`` options) and comments, docstrings and
    messages are no hand-over."""
    # What the module's own nodes show first, the project's modules (parsed for the
    # question) last.
    prose = prose_nodes(module)
    for node in module.nodes:
        if _names_config_builder(node) or _gives_config_option(node):
            return True
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in prose
            and any(w in node.value for w in _CONFIG_WORDS)
        ):
            return True
    if any(c.has_option("--config-value") or c.has_option("--config") for c in commands_of(module)):
        return True
    return sets_env_var(module, CONFIG_ENV_VARS)


def _names_config_builder(node: ast.AST) -> bool:
    """Metaflow's ``CLIArgs`` used by its own name (called, or handed on)."""
    if isinstance(node, ast.Name):
        return node.id in _CONFIG_BUILDERS
    return isinstance(node, ast.Attribute) and node.attr in _CONFIG_BUILDERS


def _gives_config_option(node: ast.AST) -> bool:
    """``config_value=`` to a call (the click API), or a dict with that key turned into
    options by ``dict_to_cli_options``."""
    if not isinstance(node, ast.Call):
        return False
    if any(k.arg in _CONFIG_DESTS for k in node.keywords):
        return True
    return call_name(node) == "dict_to_cli_options" and any(
        isinstance(a, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value in _CONFIG_DESTS for k in a.keys)
        for a in node.args
    )


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
