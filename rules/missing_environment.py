"""MFK108 missing-environment: see docs/pitfalls/missing-environment.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    names_env_var,
    option_env_vars,
    task_commands,
    top_level_visible,
    uses_metaflow_builders,
    whole_command,
)
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# click's variable for --environment, and the configuration value that is its default.
ENVIRONMENT_ENV_VARS = (
    *option_env_vars(None, "--environment"),
    "METAFLOW_DEFAULT_ENVIRONMENT",
)
# Names under which extensions keep the environment type ("conda", "pypi", "local").
ENVIRONMENT_TYPE_NAMES = (
    "environment_type",
    "_environment_type",
    "env_type",
    "ENVIRONMENT_TYPE",
    "ENVIRONMENT",
    "environment",
)
# Names under which they keep Metaflow's environment object (its type is ``.TYPE``).
ENVIRONMENT_OBJECT_NAMES = ("environment", "_environment", "flow_environment")


class MissingEnvironment(Rule):
    """A ``step`` command is built without the top-level ``--environment`` option.

    The step then runs with the default environment ``local``. A flow with ``@conda`` or
    ``@pypi`` needs the environment it was deployed with: Metaflow refuses the step with
    ``Incompatible environment: @pypi decorator requires --environment=conda or
    --environment=pypi or --environment=fast-bakery``.
    """

    code = "MFK108"
    name = "missing-environment"
    summary = "step command built without --environment (breaks @conda/@pypi)"
    capability = Cap.CONDA
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.UNSAFE,
        "Insert --environment before the subcommand, with the environment value in scope",
        "missing_environment:InsertEnvironment",
    )

    VALID = (
        Valid(
            """
            def step_cmd(flow, step, run_id, paths, env_type):
                cmd = ["python", flow]
                if env_type and env_type != "local":
                    cmd += ["--environment", env_type]
                cmd += ["step", step, "--run-id", run_id, "--input-paths", paths]
                return cmd
            """
        ),
        Valid(
            """
            HELP = \"\"\"Run a single task:
                python flow.py step start --run-id 1 --task-id 2
            \"\"\"
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            def step_cmd(flow_file, step, run_id, task_id, paths):
                return [sys.executable, flow_file, "--no-pylint", "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--input-paths", paths]
            """,
            line=4,
            column=55,
        ),
        Invalid(
            """
            import sys
            def step_cmd(flow_file, step, run_id, task_id, paths, environment_type="local"):
                return [sys.executable, flow_file,
                        "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--input-paths", paths]
            """,
            line=5,
            column=13,
            fixed="""
            import sys
            def step_cmd(flow_file, step, run_id, task_id, paths, environment_type="local"):
                return [sys.executable, flow_file,
                        *(["--environment", environment_type] if environment_type else []),
                        "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--input-paths", paths]
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        commands = list(task_commands(module, "step", "init"))
        known = [e for e in (_environment_value(c) for c in commands) if e is not None]
        for command in commands:
            if command.name != "step" or command.has_option("--environment"):
                continue
            if not top_level_visible(module, command) or not whole_command(module, command):
                continue
            if uses_metaflow_builders(module, command):
                continue
            if names_env_var(module, ENVIRONMENT_ENV_VARS):
                return
            value = _environment_in_scope(module, command, known)
            hint = f" ({value[0]} is at hand)" if value is not None else ""
            yield Finding(
                command.subcommand.span,
                "'step' command without --environment: the task runs in the local environment "
                "and @conda/@pypi steps fail ('Incompatible environment'); pass the deployed "
                f"environment type before the subcommand{hint}",
                _environment_fix_data(module, command, value),
            )


def _environment_value(command: Command) -> Optional[ast.expr]:
    """The expression another command passes as --environment (``--environment X`` or
    ``f"--environment={X}"``)."""
    option = command.option("--environment")
    if option is None or not option.top_level:
        return None
    if option.value is not None:
        return option.value.expr
    flag = option.flag.node
    if option.inline_value == HOLE and isinstance(flag, ast.JoinedStr):
        fields = [v for v in flag.values if isinstance(v, ast.FormattedValue)]
        if len(fields) == 1 and fields[0].format_spec is None and fields[0].conversion == -1:
            return fields[0].value
    return None


def _environment_in_scope(
    module: ModuleModel, command: Command, known: list[ast.expr]
) -> Optional[tuple[str, bool]]:
    """Source text of an environment type value visible where the command is built, and
    whether it needs a guard (a name may be None; ``X.TYPE`` and literals cannot)."""
    function = command.function
    local = values_of(module).bindings(function) if function is not None else {}
    for expr in known:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return repr(expr.value), False
        if isinstance(expr, ast.Name) and (expr.id in local or values_of(module).is_global(expr)):
            return expr.id, True
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id == "self" and "self" in local:
            text = ast.unparse(expr)
            return text, not text.endswith(".TYPE")
    for name in ENVIRONMENT_TYPE_NAMES:
        if name in local or (name.isupper() and name in values_of(module).bindings(module.tree)):
            if name in ENVIRONMENT_OBJECT_NAMES and _reads_type_of(module, name):
                return f"{name}.TYPE", False
            return name, True
    if "self" in local:
        for name in ENVIRONMENT_OBJECT_NAMES:
            if name in module.self_assignments and _reads_type_of(module, f"self.{name}"):
                return f"self.{name}.TYPE", False
        for name in ("environment_type", "_environment_type", "env_type"):
            if name in module.self_assignments:
                return f"self.{name}", True
    return None


def _reads_type_of(module: ModuleModel, owner: str) -> bool:
    """The module reads ``<owner>.TYPE`` somewhere: ``owner`` is an environment object."""
    return any(
        isinstance(n, ast.Attribute) and n.attr == "TYPE" and dotted_name(n.value) == owner
        for n in module.nodes
    )


def _environment_fix_data(
    module: ModuleModel, command: Command, value: Optional[tuple[str, bool]]
) -> Optional[dict]:
    sub = command.subcommand
    if value is None or command.kind != "list" or sub.container is None:
        return None
    text, guarded = value
    if guarded:
        elements = f'*(["--environment", {text}] if {text} else [])'
    else:
        elements = f'"--environment", {text}'
    return fixes.InsertedElements(module.position(sub.container), sub.index, elements).to_data()
