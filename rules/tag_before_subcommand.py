"""MFK103 tag-before-subcommand: see docs/pitfalls/tag-before-subcommand.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command, Option, commands_of
from mfkit_lint.model.fixdata import in_own_string
from mfkit_lint.model.module import ModuleModel

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")


class TagBeforeSubcommand(Rule):
    """``--tag`` is placed before the ``step``/``init``/``run`` subcommand.

    ``--tag`` is an option of the subcommand, not of the flow's top-level command group, so
    click rejects it there: ``Error: no such option: --tag`` (exit code 2), before any user
    code runs.
    """

    code = "MFK103"
    name = "tag-before-subcommand"
    summary = "--tag placed before the subcommand, where Metaflow does not accept it"
    triggers = (b"--tag",)
    fix = FixSpec(
        Applicability.SAFE,
        "Move --tag and its value after the subcommand",
        "tag_position:MoveTagAfterSubcommand",
    )

    VALID = (
        Valid(
            """
            def cmd(flow, step, run_id, tag):
                return ["python", flow, "step", step, "--run-id", run_id, "--tag", tag]
            """
        ),
        Valid(
            """
            def cmd(run_id):
                \"\"\"Never write `python flow.py --tag x step start --run-id 1`.\"\"\"
                # python flow.py --tag x step start --run-id 1
                return ["python", "flow.py", "step", "start", "--run-id", run_id]
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            def cmd(flow, step, run_id, tag):
                return ["python", flow, "--tag", tag, "step", step, "--run-id", run_id]
            """,
            line=3,
            column=29,
            fixed="""
            def cmd(flow, step, run_id, tag):
                return ["python", flow, "step", step, "--tag", tag, "--run-id", run_id]
            """,
        ),
        Invalid(
            """
            def run_cmd(tag):
                return ["python", "flow.py", "--tag", tag, "run"]
            """,
            line=3,
            column=34,
            fixed="""
            def run_cmd(tag):
                return ["python", "flow.py", "run", "--tag", tag]
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in commands_of(module):
            for option in command.options:
                if option.name != "--tag" or not option.top_level:
                    continue
                message = (
                    f"--tag must come after the {command.name!r} subcommand: Metaflow rejects "
                    "it as a top-level option (no such option: --tag)"
                )
                fix_data = _move_fix_data(module, command, option)
                if fix_data is not None:
                    yield Finding(option.flag.span, message, fix_data)
                    continue
                # ``for tag in tags: cmd += ["--tag", tag]``: move that statement instead.
                words = [option.flag] + ([option.value] if option.value is not None else [])
                moved = fixes.statement_fix(module, words, command.subcommand, "after")
                yield Finding(
                    option.flag.span,
                    message,
                    moved.to_data() if moved else None,
                    codemod=fixes.StatementFix.CODEMOD if moved else None,
                )


def _move_fix_data(module: ModuleModel, command: Command, option: Option) -> Optional[dict]:
    """Where to move the pair: both words and the insertion point must be list elements
    (list commands) or sit in one string literal with known positions (string commands)."""
    after = command.subcommand
    if command.name in ("step",) and command.sub_index + 1 < len(command.tokens):
        after = command.tokens[command.sub_index + 1]
    pair = [option.flag] + ([option.value] if option.value is not None else [])
    if command.kind == "list":
        if any(t.container is None or t.conditional for t in (*pair, after)):
            return None
        return fixes.WordsMove(
            "after",
            elements=tuple(fixes.ElementRef.of(module, t) for t in pair),
            anchor_element=fixes.ElementRef.of(module, after),
        ).to_data()
    template = command.template
    if not in_own_string(module, command, [*pair, after]) or option.inline_value is not None:
        return None
    return fixes.WordsMove(
        "after",
        string=module.position(template.node),
        words=tuple(fixes.span_positions(t.span) for t in pair),
        anchor_word=fixes.span_positions(after.span),
    ).to_data()
