"""MFK107 run-param-option: see docs/pitfalls/run-param-option.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command, Option, Token
from mfkit_lint.model.fixdata import span_tuple
from mfkit_lint.model.invocation import (
    PARAMETER_SUBCOMMANDS,
    checked_commands,
    flow_options,
)
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.templates import HOLE

_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class RunParamOption(Rule):
    """``--run-param name=value`` is passed to ``init`` (or another flow subcommand).

    Open-source Metaflow has no ``--run-param`` option: click rejects the command before any
    user code runs (``Error: no such option: --run-param``). Flow parameters reach ``init`` as
    one ``--<name> value`` option per parameter, or as ``METAFLOW_INIT_<NAME>`` environment
    variables; steps read them from the ``_parameters`` task.
    """

    code = "MFK107"
    name = "run-param-option"
    summary = "--run-param passed to a flow subcommand: Metaflow has no such option"
    capability = Cap.RUN_PARAMS
    triggers = (b"--run-param",)
    fix = FixSpec(
        Applicability.SAFE,
        "Pass the parameter as --<name> value",
        "run_param_option:ReplaceRunParam",
    )

    VALID = (
        Valid(
            """
            def init_cmd(flow, run_id, params):
                cmd = ["python", flow, "init", "--run-id", run_id, "--task-id", "p"]
                for k, v in params.items():
                    cmd += ["--%s" % k, str(v)]
                return cmd
            """
        ),
        Valid(
            """
            import os, subprocess

            def init(flow, run_id, params):
                env = dict(os.environ)
                for k, v in params.items():
                    env["METAFLOW_INIT_%s" % k.upper()] = str(v)
                subprocess.run(["python", flow, "init", "--run-id", run_id, "--task-id", "p"],
                               env=env)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import sys

            def init_cmd(flow, run_id):
                return [sys.executable, flow, "init", "--run-id", run_id, "--task-id", "p",
                        "--run-param", "alpha=0.5"]
            """,
            line=6,
            column=13,
            fixed="""
            import sys

            def init_cmd(flow, run_id):
                return [sys.executable, flow, "init", "--run-id", run_id, "--task-id", "p",
                        "--alpha", "0.5"]
            """,
        ),
        Invalid(
            """
            def run_cmd():
                return ["python", "flow.py", "run", "--run-param", "alpha=1"]
            """,
            line=3,
            column=41,
            fixed="""
            def run_cmd():
                return ["python", "flow.py", "run", "--alpha", "1"]
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        seen: set[tuple[int, int, int, int]] = set()
        for command in checked_commands(module):
            for option in flow_options(command):
                key = span_tuple(option.flag.span)
                if option.name != "--run-param" or key in seen:
                    continue
                seen.add(key)
                yield Finding(
                    option.flag.span,
                    self._message(command, option),
                    _run_param_fix(module, command, option),
                )

    @staticmethod
    def _message(command: Command, option: Option) -> str:
        sub = command.name
        pair = _literal_pair(option)
        if sub in PARAMETER_SUBCOMMANDS:
            env = f"METAFLOW_{sub.upper()}_<NAME>"
            how = (
                f"pass it as --{pair[0]} {pair[1]}"
                if pair is not None
                else f"pass each flow parameter as --<name> value or as {env}"
            )
            return f"Metaflow has no --run-param option (no such option: --run-param): {how}"
        return (
            f"Metaflow has no --run-param option (no such option: --run-param), and {sub!r} "
            "takes no flow parameters: pass them to init as --<name> value or "
            "METAFLOW_INIT_<NAME>; steps read them from the _parameters task"
        )


def _literal_pair(option: Option) -> Optional[tuple[str, str]]:
    """(name, value) when the option's value is a constant ``name=value``."""
    if option.inline_value is not None:
        text = option.inline_value
    elif option.value is not None and option.value.known:
        text = option.value.text
    else:
        return None
    name, eq, value = text.partition("=")
    if not eq or not _PARAMETER_NAME.match(name) or HOLE in value:
        return None
    return name, value


def _plain_source(module: ModuleModel, token: Token) -> Optional[str]:
    """The token's source text when it is exactly the word (no quotes, escapes or fields)."""
    source = module.source
    text = source.text[source.offset(token.span.start) : source.offset(token.span.end)]
    return text if text == token.text else None


def _literal_source(module: ModuleModel, token: Token) -> Optional[str]:
    """The source of a list element that is a plain string literal holding the word."""
    node = token.expr
    if not isinstance(node, ast.Constant) or node is not token.node:
        return None
    source = module.source
    span = module.span(node)
    text = source.text[source.offset(span.start) : source.offset(span.end)]
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0] or text[1:-1] != token.text:
        return None  # prefixes, triple quotes, escapes, implicit concatenation
    return text


def _run_param_fix(module: ModuleModel, command: Command, option: Option) -> Optional[dict]:
    if command.name not in PARAMETER_SUBCOMMANDS or option.top_level:
        return None
    pair = _literal_pair(option)
    if pair is None:
        return None
    name, value = pair
    flag = option.flag
    edits: list[list] = []
    if option.inline_value is not None:
        words = [(flag, f"--{name}={value}")]
    else:
        words = [(flag, f"--{name}"), (option.value, value)]
    if command.kind == "list":
        for token, new in words:
            text = _literal_source(module, token)
            if text is None:
                return None
            edits.append([*_position(token.span), *_end(token.span), text[0] + new + text[0], text])
        containers = {id(t.container) for t, _ in words}
        if len(words) == 1 and flag.container is None:
            anchor = flag.expr  # a word appended on its own: ``cmd.append("--run-param=a=1")``
        elif len(containers) == 1 and flag.container is not None:
            anchor = flag.container
        else:
            return None
    else:
        for token, new in words:
            text = _plain_source(module, token)
            if text is None:
                return None
            edits.append([*_position(token.span), *_end(token.span), new, text])
        anchor = command.template.node if command.template is not None else None
    if anchor is None:
        return None
    return {"node": module.position(anchor), "edits": edits}


def _position(span: Span) -> tuple[int, int]:
    """A span's start as fixers count it: (row, 0-based column)."""
    return (span.start.row, span.start.column - 1)


def _end(span: Span) -> tuple[int, int]:
    return (span.end.row, span.end.column - 1)
