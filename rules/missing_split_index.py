"""MFK105 missing-split-index: see docs/pitfalls/missing-split-index.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command, commands_of
from mfkit_lint.model.invocation import (
    COMMAND_TRIGGERS,
    arguments_visible,
    names_env_var,
    option_env_vars,
    task_commands,
    uses_metaflow_builders,
    whole_command,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.values import UNKNOWN, values_of

# Names under which builders keep the index of a foreach child.
SPLIT_NAMES = (
    "split_index",
    "_split_index",
    "split_idx",
    "foreach_index",
    "foreach_idx",
    "foreach_split_index",
)
SPLIT_INDEX_ENV_VARS = option_env_vars("step", "--split-index")


class MissingSplitIndex(Rule):
    """A ``step`` command for a foreach child is built without ``--split-index``.

    The builder has the child's index (a ``split_index`` parameter, loop variable or local)
    but never passes it. Metaflow needs it to pick the child's item (``self.input``,
    ``self.index``) and refuses to run without it: ``Step body follows a split step but no
    split_index is specified.``
    """

    code = "MFK105"
    name = "missing-split-index"
    summary = "step command of a foreach child built without --split-index"
    capability = Cap.FOREACH
    triggers = COMMAND_TRIGGERS

    VALID = (
        Valid(
            """
            def step_cmd(flow, step, run_id, task_id, split_index=None):
                cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
                if split_index is not None:
                    cmd += ["--split-index", str(split_index)]
                return cmd
            """
        ),
        Valid(
            """
            def line(flow, step, run_id, split_index):
                return f"python {flow} step {step} --run-id {run_id} --split-index={split_index}"
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys
            def step_cmd(flow, step, run_id, task_id, input_paths, split_index=None):
                return [sys.executable, flow, "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--input-paths", input_paths]
            """,
            line=4,
            column=35,
        ),
        Invalid(
            """
            def child_cmd(flow, task):
                task_id = "%s-%s" % (task.step, task.split_index)
                return ["python", flow, "step", task.step, "--run-id", task.run_id,
                        "--task-id", task_id, "--input-paths", task.input_paths]
            """,
            line=4,
            column=29,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            if command.has_option("--split-index"):
                continue
            if not arguments_visible(command) or not whole_command(module, command):
                continue
            if uses_metaflow_builders(module, command):
                continue
            index = _split_index_in_scope(module, command)
            if index is None:
                continue
            if names_env_var(module, SPLIT_INDEX_ENV_VARS):
                return
            yield Finding(
                command.subcommand.span,
                f"'step' command without --split-index although the builder has {index!r}: a "
                "foreach child then fails ('... follows a split step but no split_index is "
                f"specified'); pass --split-index {index}",
            )


def _split_index_in_scope(module: ModuleModel, command: Command) -> Optional[str]:
    """A split index the builder has and does nothing with that could reach the command: a
    name (or ``x.split_index``) whose every use only feeds other words (``f"t-{split_index}"``)
    or is inside the command itself. None when another command of the same builder passes
    --split-index (this one is then the non-foreach case)."""
    scope = command.function or module.tree
    if any(
        other.function is command.function and other.has_option("--split-index")
        for other in commands_of(module)
    ):
        return None
    roots = {id(r): r for r in (command.anchor, *(t.container or t.node for t in command.tokens))}
    inside = {id(n) for root in roots.values() for n in ast.walk(root)}
    bindings = values_of(module).bindings(scope)
    reads: dict[str, list[ast.AST]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id in SPLIT_NAMES and node.id in bindings:
            if isinstance(node.ctx, ast.Load):
                reads.setdefault(node.id, []).append(node)
            else:
                reads.setdefault(node.id, [])
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in SPLIT_NAMES
            and isinstance(node.ctx, ast.Load)
            and dotted_name(node) is not None
        ):
            reads.setdefault(dotted_name(node), []).append(node)
    for name in bindings:
        if name in SPLIT_NAMES:
            reads.setdefault(name, [])
    for name, uses in reads.items():
        if "." not in name and values_of(module).value_in(scope, name) is not UNKNOWN:
            continue  # always the same constant (None when no caller passes one)
        if "." in name and not uses:
            continue
        if all(id(u) in inside or _only_feeds_words(module, u) for u in uses):
            return name
    return None


_FEEDS_WORDS = (ast.FormattedValue, ast.JoinedStr, ast.BinOp, ast.Tuple, ast.UnaryOp, ast.keyword)


def _only_feeds_words(module: ModuleModel, node: ast.AST) -> bool:
    """The use computes a string or number that is assigned to a plain name (a task id, a
    log line); it cannot add an option to a command."""
    for anc in module.ancestors(node):
        if isinstance(anc, ast.stmt):
            targets = anc.targets if isinstance(anc, ast.Assign) else [getattr(anc, "target", None)]
            return isinstance(anc, (ast.Assign, ast.AnnAssign)) and all(
                isinstance(t, ast.Name) for t in targets
            )
        if isinstance(anc, _FEEDS_WORDS):
            continue
        if isinstance(anc, ast.Call) and (
            call_name(anc) in ("str", "int", "repr", "format")
            and (isinstance(anc.func, ast.Name) or call_name(anc) == "format")
        ):
            continue
        return False
    return False
