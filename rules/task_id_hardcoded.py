"""MFK607: a ``step`` command that gives every task the same ``--task-id``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import project_models
from mfkit_lint.model.commands import Command, Option, commands_of
from mfkit_lint.model.invocation import option_constant
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.values import UNKNOWN, values_of


def _shell_expansion(text: str) -> bool:
    """``$TASK_ID``, ``${ID}``, a backquoted command: a shell template's value varies."""
    return "$" in text or "`" in text


def _quoted(node: object) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value[:1] in ("'", '"')
    )


def _code_reference(option: Option) -> bool:
    """Lists of *generated code* fragments (``['"--task-id"', 'task_id']``) quote their
    literals: there an unquoted element is a variable of the generated code, not a text."""
    return (
        option.value is not None
        and _quoted(option.flag.node)
        and isinstance(option.value.node, ast.Constant)
        and not _quoted(option.value.node)
    )


def _step_name_is_constant(module: ModuleModel, command: Command) -> bool:
    """The command runs one named step (``step start``): a constant id may then be right."""
    arguments = [t for t in command.arguments if not t.is_option()]
    if not arguments:
        return False
    token = arguments[0]
    if token.spread:
        return False
    if token.known:
        return not _shell_expansion(token.text)
    if token.expr is None:
        return False
    return values_of(module).const(token.expr) is not UNKNOWN or _named_by_every_caller(
        module, token.expr
    )


def _named_by_every_caller(module: ModuleModel, expr: ast.expr) -> bool:
    """``expr`` is a parameter of a builder that every call in the module passes a step name
    to: a text, or the variable of a ``for`` over a tuple or list of texts
    (``for step in ("start", "end"): step_command(step, ...)``)."""
    arg = values_of(module).parameter(expr)
    function = module.enclosing_function(expr)
    if arg is None or function is None:
        return False
    positional = [*function.args.posonlyargs, *function.args.args]
    index = next((i for i, a in enumerate(positional) if a is arg), None)
    method = bool(positional) and positional[0].arg in ("self", "cls")
    if index is None:
        return False
    seen = False
    for owner in project_models(module, function.name):
        calls = owner.calls_by_name.get(function.name, [])
        if owner.name_loads.get(function.name, 0) != len(calls):
            return False  # passed around, not only called
        for call in calls:
            seen = True
            offset = 1 if method and isinstance(call.func, ast.Attribute) else 0
            passed = next((k.value for k in call.keywords if k.arg == arg.arg), None)
            if passed is None and 0 <= index - offset < len(call.args):
                passed = call.args[index - offset]
            if passed is None or not _names_known_steps(owner, passed):
                return False
    return seen


def _names_known_steps(module: ModuleModel, node: ast.expr) -> bool:
    if isinstance(values_of(module).const(node), str):
        return True
    if not isinstance(node, ast.Name):
        return False
    for loop in module.ancestors(node):
        if (
            isinstance(loop, ast.For)
            and isinstance(loop.target, ast.Name)
            and loop.target.id == node.id
        ):
            return isinstance(loop.iter, (ast.Tuple, ast.List)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in loop.iter.elts
            )
    return False


def _splits_run_elsewhere(module: ModuleModel, command: Command) -> bool:
    """The command passes no ``--split-index`` while another ``step`` command of the module
    runs the foreach splits (it passes ``--split-index``) with an id that varies: the
    extension gives each split its own task there, and this command serves the steps that
    run once per run, for which one id is right."""
    if command.has_option("--split-index"):
        return False
    for other in commands_of(module):
        option = other.option("--task-id")
        if other.name != "step" or option is None or not other.has_option("--split-index"):
            continue
        value = option_constant(module, option)
        if value is UNKNOWN or _shell_expansion(str(value)):
            return True
    return False


class TaskIdHardcoded(Rule):
    """A ``step`` command (Metaflow's, or a backend's ``<name> step``) whose ``--task-id`` is a
    constant while the step it runs is not.

    Metaflow keeps a task's artifacts and metadata under ``run/step/task-id``. A command that
    serves any step with the same id makes every task of a foreach (and every node of
    ``@parallel``) write to the same place: the join sees one split's data several times and
    the Client one task instead of many. ``init``'s conventional ``--task-id 1`` (the
    ``_parameters`` task) and a command for one named single-task step (``step start``) are
    not this.
    """

    code = "MFK607"
    name = "task-id-hardcoded"
    summary = "step command with a constant --task-id for any step"
    capability = Cap.FOREACH
    triggers = (b"--task-id",)

    VALID = (
        Valid("""
        import sys

        def step_command(flow_file, step_name, run_id, task_id, input_paths):
            return [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", input_paths]
        """),
        Valid("""
        import sys

        def start_command(flow_file, run_id):
            return [sys.executable, flow_file, "step", "start", "--run-id", run_id,
                    "--task-id", "t-1", "--input-paths", f"{run_id}/_parameters/t-0"]
        """),
        Valid("""
        def init_command(flow_file, run_id):
            return f"python {flow_file} init --run-id {run_id} --task-id 1"
        """),
        Valid("""
        import sys

        def step_command(flow_file, step_name, run_id, paths):
            return [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
                    "--task-id", "sched-1", "--input-paths", paths]

        def split_command(flow_file, step_name, run_id, paths, split):
            return [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
                    "--task-id", f"sched-{split}", "--split-index", str(split),
                    "--input-paths", paths]
        """),
    )
    INVALID = (
        Invalid(
            """
        import sys

        def step_command(flow_file, step_name, run_id, paths):
            return [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
                    "--task-id", "sched-1", "--input-paths", paths]

        def split_command(flow_file, step_name, run_id, paths, split):
            return [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
                    "--task-id", "sched-2", "--split-index", str(split),
                    "--input-paths", paths]
        """,
            line=6,
            column=26,
        ),
        Invalid(
            """
        import sys

        def step_command(flow_file, step_name, run_id, input_paths):
            cmd = [sys.executable, flow_file, "step", step_name, "--run-id", run_id]
            cmd += ["--task-id", "1"]
            cmd += ["--input-paths", input_paths]
            return cmd
        """,
            line=6,
            column=26,
        ),
        Invalid(
            """
        TASK_ID = "t-0"

        def step_line(flow_file, step_name, run_id, paths):
            return (
                f"python {flow_file} step {step_name} --run-id {run_id} "
                f"--task-id {TASK_ID} --input-paths {paths}"
            )
        """,
            line=7,
            column=21,
        ),
        Invalid(
            """
        import sys

        def backend_command(flow_file, step_name, run_id, paths):
            return [sys.executable, flow_file, "mybackend", "step", step_name, "--run-id", run_id,
                    "--task-id=1", "--input-paths", paths]
        """,
            line=6,
            column=13,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in commands_of(module):
            if command.name != "step":
                continue
            option = command.option("--task-id")
            if option is None or option.top_level:
                continue
            value = option_constant(module, option)
            if value is UNKNOWN or value is None or _shell_expansion(str(value)):
                continue
            if _code_reference(option):
                continue
            if _step_name_is_constant(module, command):
                continue
            if _splits_run_elsewhere(module, command):
                continue
            where = option.value.span if option.value is not None else option.flag.span
            yield Finding(
                where,
                f"--task-id is always {str(value)!r} while the command runs any step: the "
                "tasks of a foreach (or @parallel nodes) share one id and overwrite each "
                "other's artifacts and metadata; pass the task id the runtime or scheduler "
                "gives each task",
            )
