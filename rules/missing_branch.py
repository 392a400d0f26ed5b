"""MFK102 missing-branch: see docs/pitfalls/missing-branch.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command
from mfkit_lint.model.environment import sets_env_var
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    task_commands,
)
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.values import values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# Names under which extensions keep the raw, user-given @project branch.
BRANCH_NAMES = ("branch", "_branch", "project_branch", "_project_branch", "PROJECT_BRANCH")


class MissingBranch(Rule):
    """A ``step`` or ``init`` command is built without ``--branch`` although a branch is known.

    ``@project`` takes the branch from the top-level ``--branch`` option of every process.
    A step started without it runs on the default ``user.<name>`` branch: ``current.branch_name``
    and the ``project_branch:`` tag are wrong, and an ``init`` without it registers the whole run
    under ``user.<name>``, so branch-filtered lookups miss it.
    """

    code = "MFK102"
    name = "missing-branch"
    summary = "step/init command built without --branch while a @project branch is available"
    capability = Cap.PROJECT_BRANCH
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.UNSAFE,
        "Insert --branch before the subcommand, only when a branch is set",
        "branch:InsertBranch",
    )

    VALID = (
        Valid(
            """
            def step_args(step, run_id, branch):
                return ["step", step, "--run-id", run_id, "--task-id", "1"]
            """
        ),
        Valid(
            """
            def cmd(step, run_id, project):
                top = ["python", "flow.py"]
                if project.get("branch"):
                    top += ["--branch", project["branch"]]
                if project.get("production"):
                    top += ["--production"]
                return top + ["step", step, "--run-id", run_id, "--task-id", "1"]
            """
        ),
        Valid(
            """
            def cmd(step, run_id, branch_name):
                return ["python", "flow.py", "step", step, "--run-id", run_id]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            # TODO: maybe use METAFLOW_FLOW_BRANCH one day
            def cmd(step, run_id, branch):
                return ["python", "flow.py",
                        "step", step, "--run-id", run_id]
            """,
            line=5,
            column=13,
            fixed="""
            # TODO: maybe use METAFLOW_FLOW_BRANCH one day
            def cmd(step, run_id, branch):
                return ["python", "flow.py",
                        *(["--branch", branch] if branch else []),
                        "step", step, "--run-id", run_id]
            """,
        ),
        Invalid(
            """
            class Deployer:
                def __init__(self, branch=None):
                    self.branch = branch
                def cmd(self, step, run_id):
                    return ["python", "flow.py",
                            "step", step, "--run-id", run_id, "--task-id", "1"]
            """,
            line=7,
            column=17,
            fixed="""
            class Deployer:
                def __init__(self, branch=None):
                    self.branch = branch
                def cmd(self, step, run_id):
                    return ["python", "flow.py",
                            *(["--branch", self.branch] if self.branch else []),
                            "step", step, "--run-id", run_id, "--task-id", "1"]
            """,
        ),
        Invalid(
            """
            class Runner:
                def _top(self):
                    cmd = ["python", self.plan["flow_file"]]
                    if self.plan["production"]:
                        cmd += ["--production"]
                    return cmd

                def step_cmd(self, step, run_id, task_id):
                    return self._top() + ["step", step, "--run-id", run_id, "--task-id", task_id]
            """,
            line=10,
            column=31,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        commands = list(task_commands(module, "step", "init"))
        known = _branch_values(module, commands)
        via_env: Optional[bool] = None
        for command in commands:
            if command.has_option("--branch"):
                continue
            production = command.option("--production")
            if production is not None and not production.conditional:
                continue  # always the production branch: chosen, not forgotten
            if not command.top_level_complete:
                continue  # unseen words before the subcommand may carry --branch
            branch = _branch_in_scope(module, command, known)
            if branch is None and production is None:
                continue
            if via_env is None:
                via_env = _sets_branch_env(module)
            if via_env:
                return  # the branch travels through the environment (click's envvar)
            if branch is None:
                # --production forwarded from the deployment when it was given: the code hands
                # on the deploy-time @project options, and --branch is the other one of them.
                yield Finding(
                    command.subcommand.span,
                    f"{command.name!r} command forwards @project's --production but not "
                    "--branch: a flow deployed with --branch runs this process on another "
                    "branch (user.<name> or prod instead of test.<b> or prod.<b>); forward "
                    "--branch too, when it was given",
                    no_fix_reason="the branch's value is not in sight here: forward it from "
                    "where the deployment keeps its @project options",
                )
                continue
            message = (
                f"{command.name!r} command without --branch although the branch is available "
                f"as {branch!r}: @project runs it on the user.<name> branch instead"
            )
            if not _simple_reference(branch):
                yield Finding(
                    command.subcommand.span,
                    message,
                    no_fix_reason=f"{branch} may be absent where the code tests it with .get(): "
                    "pass --branch the way the other command does",
                )
                continue
            fix_data = _branch_fix_data(module, command, branch)
            yield Finding(command.subcommand.span, message, fix_data)


BRANCH_ENV_VARS = ("METAFLOW_FLOW_BRANCH", "METAFLOW_BRANCH")


def _simple_reference(text: str) -> bool:
    """A name or ``self.<name>``: a value the fix can test and pass as it is."""
    return all(part.isidentifier() for part in text.split(".")) and text.count(".") <= 1


def _sets_branch_env(module: ModuleModel) -> bool:
    """The code gives the processes click's environment variable for --branch."""
    return sets_env_var(module, BRANCH_ENV_VARS)


def _branch_values(module: ModuleModel, commands: list[Command]) -> list[ast.expr]:
    """Expressions other commands of this module already pass as --branch."""
    out = []
    for command in commands:
        option = command.option("--branch")
        if option is not None and option.value is not None and option.value.expr is not None:
            out.append(option.value.expr)
    return out


def _branch_in_scope(module: ModuleModel, command: Command, known: list[ast.expr]) -> Optional[str]:
    """How the branch can be read where ``command`` is built: an expression another command
    of the module passes as --branch (a name, ``self.<attr>``, or an entry of a plan dict such
    as ``self.plan["branch"]``) that reads the same here, or a variable named like a branch."""
    function = command.function
    values = values_of(module)
    local = values.bindings(function) if function is not None else {}
    for expr in known:
        if isinstance(expr, ast.Name) and (expr.id in local or values.is_global(expr)):
            return expr.id
        if function is not None and values.readable_in(expr, function):
            return ast.unparse(expr)
    for name in BRANCH_NAMES:
        if name in local:
            return name
    if "self" in local:
        for name in BRANCH_NAMES:
            if name in module.self_assignments:
                return f"self.{name}"
    return None


def _branch_fix_data(module: ModuleModel, command: Command, branch: str) -> Optional[dict]:
    sub = command.subcommand
    if command.kind != "list" or sub.container is None:
        return None
    fix = fixes.BranchFix(
        module.position(sub.container), sub.index, branch, inline=module.generated
    )
    return fix.to_data()
