"""MFK109 option-wrong-level: see docs/pitfalls/option-wrong-level.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    missing_runtime_options,
    module_backend_steps,
    plugin_name,
    plugin_option_verdict,
)
from mfkit_lint.model.commands import Command, Option, Token
from mfkit_lint.model.fixdata import in_own_string, span_tuple
from mfkit_lint.model.invocation import (
    PARAMETER_SUBCOMMANDS,
    checked_commands,
    flow_options,
)
from mfkit_lint.model.module import ModuleModel

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# A file can hold a misplaced or unknown option only if it holds an option: the task options of
# step/init commands, and the options people misplace on run/resume lines.
OPTION_TRIGGERS = (
    b"--run-id",
    b"--task-id",
    b"--retry-count",
    b"--input-paths",
    b"--tag",
    b"--namespace",
    b"--with",
    b"--branch",
    b"--clone-run-id",
)
_OPTION_NAME = re.compile(r"^--[A-Za-z][A-Za-z0-9_-]*$")


# Options click accepts on every command.
_EVERYWHERE = frozenset({"--help"})


def _owners(name: str) -> list[str]:
    return sorted(s for s, opts in contract.SUBCOMMAND_OPTIONS.items() if name in opts)


def _only(names: list[str]) -> str:
    """``only 'step' takes it`` / ``only 'run' and 'step' take it``."""
    quoted = [repr(n) for n in names]
    if len(quoted) == 1:
        return f"only {quoted[0]} takes it"
    return f"only {', '.join(quoted[:-1])} and {quoted[-1]} take it"


class OptionWrongLevel(Rule):
    """An option Metaflow does not know, or on the wrong side of the subcommand.

    Metaflow's flow command is a click group: options before the subcommand belong to the
    group (``--datastore``, ``--with``, ``@project``'s ``--branch``...), options after it to
    the subcommand (``step``'s ``--namespace``, ``--clone-run-id``...). click knows each
    option on one side only and stops the process with ``Error: no such option: --X``
    (exit code 2) before any user code runs.
    """

    code = "MFK109"
    name = "option-wrong-level"
    summary = "option unknown to Metaflow, or on the wrong side of the subcommand"
    triggers = OPTION_TRIGGERS
    fix = FixSpec(
        Applicability.SAFE,
        "Move the option (and its value) across the subcommand",
        "move:MoveWords",
    )

    VALID = (
        Valid(
            """
            import sys

            def step_cmd(flow, step, run_id, task_id, paths, ns, origin, branch, decos):
                cmd = [sys.executable, flow, "--quiet", "--no-pylint", "--datastore=local",
                       "--metadata", "local", "--environment", "local", "--branch", branch]
                for d in decos:
                    cmd += ["--with", d]
                cmd += ["--config-value", "cfg", "{}", "--production"]
                cmd += ["step", step, "--run-id", run_id, "--task-id", task_id,
                        "--input-paths", paths, "--namespace", ns, "--clone-run-id", origin,
                        "--retry-count", "0", "--max-user-code-retries", "2", "--tag", "t"]
                return cmd
            """
        ),
        Valid(
            """
            def cmd(flow):
                return ["python", flow, "step", "start", "--run-id", "1", "--help"]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys

            def _top_level_args(inp):
                args = ["--quiet", "--no-pylint", "--metadata=%s" % inp.metadata_type]
                if inp.namespace:
                    args.append("--namespace=%s" % inp.namespace)
                return args

            def _build_init_cmd(inp, params_task_id):
                top_level = _top_level_args(inp)
                init_args = ["init", "--run-id", inp.run_id, "--task-id", params_task_id]
                return [sys.executable, inp.flow_file] + top_level + init_args

            def _build_dump_cmd(inp, params_task_id):
                top_level = _top_level_args(inp)
                return [sys.executable, inp.flow_file] + top_level + [
                    "dump", "--max-value-size=0", "%s/_parameters/%s" % (inp.run_id, params_task_id)
                ]
            """,
            line=7,
            column=21,
            # Neither of the helper's commands (init, dump) takes the option: it leaves the helper.
            fixed="""
            import sys

            def _top_level_args(inp):
                args = ["--quiet", "--no-pylint", "--metadata=%s" % inp.metadata_type]
                return args

            def _build_init_cmd(inp, params_task_id):
                top_level = _top_level_args(inp)
                init_args = ["init", "--run-id", inp.run_id, "--task-id", params_task_id]
                return [sys.executable, inp.flow_file] + top_level + init_args

            def _build_dump_cmd(inp, params_task_id):
                top_level = _top_level_args(inp)
                return [sys.executable, inp.flow_file] + top_level + [
                    "dump", "--max-value-size=0", "%s/_parameters/%s" % (inp.run_id, params_task_id)
                ]
            """,
        ),
        Invalid(
            """
            def cmd(flow, step, run_id, branch):
                return ["python", flow, "step", step, "--run-id", run_id, "--branch", branch]
            """,
            line=3,
            column=63,
            fixed="""
            def cmd(flow, step, run_id, branch):
                return ["python", flow, "--branch", branch, "step", step, "--run-id", run_id]
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        seen: set[tuple[int, int, int, int]] = set()
        for command in checked_commands(module):
            plugin = plugin_name(command) is not None
            for option in flow_options(command):
                if plugin and not option.top_level:
                    # A backend's own ``<name> step``: its click declarations decide.
                    message = plugin_option_verdict(module, command, option)
                    verdict = (message, None) if message else None
                else:
                    verdict = _verdict(command, option)
                if verdict is None:
                    continue
                message, side = verdict
                key = span_tuple(option.flag.span)
                if key in seen:
                    continue  # one helper list shared by several commands: report it once
                seen.add(key)
                yield _wrong_level_finding(module, command, option, message, side)
        for backend in module_backend_steps(module):
            missing = missing_runtime_options(backend)
            if missing:
                yield Finding(
                    backend.function,
                    f"'{backend.group} step' does not declare {', '.join(missing)}: Metaflow's "
                    "runtime passes them to the step command it runs through the backend "
                    "(--split-index for foreach tasks, --tag for tagged runs) and click stops the "
                    "task (no such option); declare them",
                )


def _verdict(command: Command, option: Option) -> Optional[tuple[str, Optional[str]]]:
    """(message, side to move to or None) for an option Metaflow rejects here."""
    name = option.name
    sub = command.name
    if not _OPTION_NAME.match(name) or name in _EVERYWHERE or name == "--run-param":
        return None  # unreadable name, or MFK107's
    # Any core command the contract describes: a shared helper's words may also go to
    # ``dump`` or ``show`` (the per-command move asks what each command takes).
    sub_options = contract.COMMAND_OPTIONS.get(sub, {})
    top_level = name in contract.TOP_LEVEL_OPTIONS
    owners = [s for s in _owners(name) if s != sub]
    rejected = f"Metaflow rejects it (no such option: {name})"
    if option.top_level:
        if top_level or name == "--tag":  # --tag before the subcommand is MFK103's
            return None
        if name in sub_options:
            where = f"after '{sub} NAME'" if sub in contract.SUBCOMMANDS_WITH_ARGUMENT else ""
            return (
                f"{name} is an option of {sub!r}, not of the flow command: before the "
                f"subcommand {rejected}; move it {where or f'after {sub!r}'}",
                "after",
            )
        if owners:
            return (
                f"{name} is not a top-level option and {sub!r} does not take it either "
                f"({_only(owners)}): {rejected}; remove it from this command",
                None,
            )
        return (
            f"{name} is not an option of the flow command in Metaflow {contract.METAFLOW_VERSION} "
            f"(nor of a flow decorator it ships): {rejected}; remove it",
            None,
        )
    if name in sub_options:
        return None
    if top_level:
        return (
            f"{name} is a top-level option of the flow command: after {sub!r} {rejected}; "
            "move it before the subcommand",
            "before",
        )
    if owners:
        return (
            f"{sub!r} does not take {name} ({_only(owners)}): {rejected}; "
            f"remove it from the {sub} command",
            None,
        )
    if sub in PARAMETER_SUBCOMMANDS:
        return None  # may be a flow Parameter (``init --alpha 0.5``)
    if name.startswith("--code-package-"):
        # Metaflow 2.19.39: the code package is an argument of 'kubernetes step' (and Batch's):
        # backends fetch the code before running the task; the core step runs what is there.
        hint = (
            " (the code package is for backends that fetch the code before the task, such as "
            "'kubernetes step'; the core step runs the code already on the worker)"
        )
    elif sub == "step":
        hint = " (flow parameters go to init; steps read them from _parameters)"
    else:
        hint = ""
    return (
        f"{name} is not an option of {sub!r} in Metaflow {contract.METAFLOW_VERSION}: "
        f"{rejected}; remove it{hint}",
        None,
    )


def _wrong_level_finding(
    module: ModuleModel, command: Command, option: Option, message: str, side: Optional[str]
) -> Finding:
    """The finding, with a fix where one is certain: the words moved inside their list or
    string, or the statement that adds them (``if X: cmd += ["--opt", X]``) moved across the
    subcommand's statement; an option the command does not take at all, added by a statement
    of its own, is removed (unsafe: whatever the option was meant to do is then not done)."""
    moved = _move_fix_data(module, command, option, side) if side else None
    if moved is not None:
        return Finding(option.flag.span, message, moved.to_data())
    words = [option.flag, *option.values]
    complete = option.inline_value is not None or option.name in contract.FLAGS
    complete = complete or len(option.values) == contract.NARGS.get(option.name, 1)
    if not complete or any(t.spread for t in words):
        return Finding(option.flag.span, message, no_fix_reason=_NOT_ALONE)
    own = fixes.words_statement(module, words)
    subcommand_function = module.enclosing_function(command.subcommand.node)
    if own is not None and module.enclosing_function(own) is not subcommand_function:
        # A helper's words may serve other commands that take the option (a top-level list
        # shared by 'step' and 'init'): the option moves per command, or there is no fix.
        helper = fixes.helper_option_fix(module, option, _judge)
        if isinstance(helper, str):
            return Finding(
                option.flag.span,
                message,
                no_fix_reason=f"the option is added by a helper that other commands use too, "
                f"and {helper}: add it only where the subcommand takes it, in each command",
            )
        return Finding(
            option.flag.span,
            message,
            helper.to_data(),
            codemod=fixes.HelperOptionFix.CODEMOD,
            unsafe=not helper.kept_everywhere,
        )
    anchor = _anchor(command, side) if side else None
    statement = fixes.statement_fix(module, words, anchor, side)
    if statement is None:
        return Finding(option.flag.span, message, no_fix_reason=_NOT_ALONE)
    return Finding(
        option.flag.span,
        message,
        statement.to_data(),
        codemod=fixes.StatementFix.CODEMOD,
        unsafe=side is None,
    )


_NOT_ALONE = (
    "the option's words are built together with other words or in another function, so "
    "moving or removing them alone is not certain"
)


def _judge(command: Command, option: Option) -> str:
    """What ``command`` needs done with ``option``: "valid", "after", "before" or "remove"."""
    verdict = _verdict(command, option)
    if verdict is None:
        return "valid"
    return verdict[1] or "remove"


def _move_fix_data(
    module: ModuleModel, command: Command, option: Option, side: str
) -> Optional[fixes.WordsMove]:
    """Where to move the option's words: all of them and the anchor must be plain list
    elements built in the command's own function (lists), or text of one string literal."""
    words = [option.flag, *option.values]
    needs_values = option.inline_value is None and option.name not in contract.FLAGS
    if needs_values and len(option.values) != contract.NARGS.get(option.name, 1):
        return None  # a value the linter cannot see would stay behind
    anchor = _anchor(command, side)
    if anchor is None or any(t.spread or t.conditional for t in (*words, anchor)):
        return None
    if command.kind == "list":
        return _list_move(module, command, words, anchor, side)
    return _string_move(module, command, words, anchor, side)


def _anchor(command: Command, side: str) -> Optional[Token]:
    if side == "before":
        return command.subcommand
    if command.name in contract.SUBCOMMANDS_WITH_ARGUMENT:
        arguments = command.arguments
        if not arguments or arguments[0].spread or arguments[0].is_option():
            return None
        return arguments[0]
    return command.subcommand


def _list_move(
    module: ModuleModel, command: Command, words: list[Token], anchor: Token, side: str
) -> Optional[fixes.WordsMove]:
    containers = {id(t.container) for t in words}
    if any(t.container is None for t in (*words, anchor)) or len(containers) != 1:
        return None
    indexes = [t.index for t in words]
    if indexes != list(range(indexes[0], indexes[0] + len(indexes))):
        return None
    for container in (words[0].container, anchor.container):
        if module.enclosing_function(container) is not command.function:
            return None  # a helper's list may be shared by other commands
    return fixes.WordsMove(
        side,
        elements=tuple(fixes.ElementRef.of(module, t) for t in words),
        anchor_element=fixes.ElementRef.of(module, anchor),
    )


def _string_move(
    module: ModuleModel, command: Command, words: list[Token], anchor: Token, side: str
) -> Optional[fixes.WordsMove]:
    template = command.template
    if not in_own_string(module, command, [*words, anchor]):
        return None
    whole = module.span(template.node)
    if any(t.span == whole for t in (*words, anchor)):
        return None  # a word whose characters could not be located
    return fixes.WordsMove(
        side,
        string=module.position(template.node),
        words=tuple(fixes.span_positions(t.span) for t in words),
        anchor_word=fixes.span_positions(anchor.span),
    )
