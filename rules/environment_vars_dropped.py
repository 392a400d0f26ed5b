"""MFK210 environment-vars-dropped: see docs/pitfalls/environment-vars-dropped.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.environment import subscript_key
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
)
from mfkit_lint.model.module import ModuleModel, call_name, per_module

# Code that applies @environment's vars: calling the decorators' hook, Metaflow's own command
# builder, the decorator class, or reading a decorator's "vars" attribute.
_HOOK = "runtime_step_cli"
_HANDLERS = frozenset({"CLIArgs", "EnvironmentDecorator", "environment_decorator"})
_MARKERS = (_HOOK, *_HANDLERS, "vars")


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
    no_fix = (
        "@environment's vars reach a hand-built step only where the extension has the "
        "step's decorators (compile time or run time), which differs per extension: "
        "apply each decorator's runtime_step_cli, or add its 'vars' to the step "
        "environment, there"
    )

    VALID = (
        Valid(
            """
            import subprocess, sys

            def run_step(flow_file, step, run_id, task_id, input_paths, env):
                cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--input-paths", input_paths]
                subprocess.run(cmd, env=env, check=True)

            def apply_decorators(step, cli_args):
                for deco in step.decorators:
                    deco.runtime_step_cli(cli_args, 0, 0, None)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import subprocess, sys

            def run_step(flow_file, step, run_id, task_id, input_paths, env):
                cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--input-paths", input_paths]
                subprocess.run(cmd, env=env, check=True)
            """,
            line=5,
            column=39,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.project is None:
            return  # the vars may be handled in a module this run does not see
        command = next((c for c in commands_of(module) if c.name == "step"), None)
        if command is None or _handles_environment(module):
            return
        yield Finding(
            command.subcommand.span,
            "step command built by hand, and nothing in the project applies @environment's "
            "vars (runtime_step_cli or the decorator's 'vars'): those variables never reach "
            "the task",
        )


def _handles_environment(module: ModuleModel) -> bool:
    """This module or another one of the project applies the vars (decided from code: a
    ``def runtime_step_cli`` that every backend decorator defines, or the words in a
    comment, do not count)."""
    if _applies_vars(module):
        return True
    return any(
        _applies_vars(other)
        for marker in _MARKERS
        for other in module.project.mentioning(marker, besides=module.path)
    )


@per_module
def _applies_vars(module: ModuleModel) -> bool:
    for node in module.nodes:
        if isinstance(node, ast.Call) and call_name(node) == _HOOK:
            return True  # deco.runtime_step_cli(cli_args, ...)
        if isinstance(node, ast.Name) and node.id in _HANDLERS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _HANDLERS:
            return True
        if isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in _HANDLERS:
            return True  # from metaflow.runtime import CLIArgs
        if isinstance(node, ast.Subscript) and _is_vars(subscript_key(node)):
            return True  # deco.attributes["vars"]
        if _reads_vars_with_get(node):
            return True  # deco.attributes.get("vars", {})
    return False


def _reads_vars_with_get(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and call_name(node) == "get"
        and bool(node.args)
        and _is_vars(node.args[0])
    )


def _is_vars(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "vars"
