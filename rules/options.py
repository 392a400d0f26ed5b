"""Rules on the options of Metaflow command lines: known, on the right side, right values."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.backends import (
    missing_runtime_options,
    module_backend_steps,
    plugin_name,
    plugin_option_verdict,
)
from mfkit_lint.model.commands import Command, Option, Token
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.templates import HOLE, is_stringish, template_of

# A file can hold a misplaced or unknown option only if it holds an option: the task options of
# step/init commands, and the options people misplace on run/resume lines.
COMMAND_TRIGGERS = (
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
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_REDIRECT = re.compile(r"^[0-9]*[<>]")
# Options click accepts on every command.
_EVERYWHERE = frozenset({"--help"})
# Subcommands that take one ``--<name>`` option per flow Parameter.
_PARAMETER_SUBCOMMANDS = ("init", "run")


# -- which commands to trust -----------------------------------------------------------------


def checked_commands(module: ModuleModel) -> Iterator[Command]:
    """Commands whose words parse cleanly as ``[wrapper] FLOW [options] SUB [args/options]``.

    Prose that merely mentions ``step ... --input-paths`` (an error message, help text) and
    wrapper commands the model took for top-level options (``docker run --rm ...``) leave
    words that are neither options, option values nor arguments: such a line is not judged.
    """
    for command in module.commands:
        if _flow_start(command) is not None:
            yield command


def flow_options(command: Command) -> list[Option]:
    """The command's options, without those of a wrapper in front of the flow file."""
    start = _flow_start(command) or 0
    wrapper = {id(t) for t in command.top_level[:start]}
    return [o for o in command.options if id(o.flag) not in wrapper]


def _flow_start(command: Command) -> Optional[int]:
    """Index of the first word after the flow file, when the command parses cleanly."""
    values = {id(v) for o in command.options for v in o.values}
    top = command.top_level
    flow_files = [i for i, t in enumerate(top) if t.known and t.text.endswith(".py")]
    if flow_files:
        start = flow_files[-1] + 1
    else:
        start = next((i for i, t in enumerate(top) if t.is_option()), len(top))
        if not any(t.spread or HOLE in t.text for t in top[:start]):
            return None  # no flow file before the options
    if _stray_words(top[start:], values, 0) is None:
        return None
    allowed = len(contract.SUBCOMMAND_ARGUMENTS.get(command.name, ()))
    if _stray_words(command.arguments, values, allowed) is None:
        return None
    return start


def _stray_words(tokens: list[Token], values: set[int], allowed: int) -> Optional[int]:
    """Positional words left over (None when more than ``allowed``)."""
    count = 0
    for tok in tokens:
        if tok.spread or tok.is_option() or id(tok) in values or _unknown_word(tok.text):
            continue
        if _REDIRECT.match(tok.text):
            break  # ``> log 2>&1``: the rest is the shell's
        count += 1
        if count > allowed:
            return None
    return count


def _unknown_word(text: str) -> bool:
    """A word known only at run time: a template hole or a shell expansion (``"$@"``)."""
    return HOLE in text or "$" in text or "`" in text


def _span_key(span: Span) -> tuple[int, int, int, int]:
    return (span.start.row, span.start.column, span.end.row, span.end.column)


def _position(span: Span) -> tuple[int, int]:
    """A span's start as fixers count it: (row, 0-based column)."""
    return (span.start.row, span.start.column - 1)


def _owners(name: str) -> list[str]:
    return sorted(s for s, opts in contract.SUBCOMMAND_OPTIONS.items() if name in opts)


def _only(names: list[str]) -> str:
    """``only 'step' takes it`` / ``only 'run' and 'step' take it``."""
    quoted = [repr(n) for n in names]
    if len(quoted) == 1:
        return f"only {quoted[0]} takes it"
    return f"only {', '.join(quoted[:-1])} and {quoted[-1]} take it"


# -- MFK107 -----------------------------------------------------------------------------------


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

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        seen: set[tuple[int, int, int, int]] = set()
        for command in checked_commands(module):
            for option in flow_options(command):
                key = _span_key(option.flag.span)
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
        if sub in _PARAMETER_SUBCOMMANDS:
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
    if command.name not in _PARAMETER_SUBCOMMANDS or option.top_level:
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


def _end(span: Span) -> tuple[int, int]:
    return (span.end.row, span.end.column - 1)


# -- MFK109 -----------------------------------------------------------------------------------


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
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.SAFE,
        "Move the option (and its value) across the subcommand",
        "move:MoveWords",
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
                key = _span_key(option.flag.span)
                if key in seen:
                    continue  # one helper list shared by several commands: report it once
                seen.add(key)
                fix_data = _move_fix_data(module, command, option, side) if side else None
                yield Finding(option.flag.span, message, fix_data)
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
    sub_options = contract.SUBCOMMAND_OPTIONS.get(sub, {})
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
    if sub in _PARAMETER_SUBCOMMANDS:
        return None  # may be a flow Parameter (``init --alpha 0.5``)
    hint = (
        " (flow parameters go to init; steps read them from _parameters)" if sub == "step" else ""
    )
    return (
        f"{name} is not an option of {sub!r} in Metaflow {contract.METAFLOW_VERSION}: "
        f"{rejected}; remove it{hint}",
        None,
    )


def _move_fix_data(
    module: ModuleModel, command: Command, option: Option, side: str
) -> Optional[dict]:
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
) -> Optional[dict]:
    containers = {id(t.container) for t in words}
    if any(t.container is None for t in (*words, anchor)) or len(containers) != 1:
        return None
    indexes = [t.index for t in words]
    if indexes != list(range(indexes[0], indexes[0] + len(indexes))):
        return None
    for container in (words[0].container, anchor.container):
        if module.enclosing_function(container) is not command.function:
            return None  # a helper's list may be shared by other commands
    return {
        "kind": "list",
        "pair": [{"list": module.position(t.container), "index": t.index} for t in words],
        side: {"list": module.position(anchor.container), "index": anchor.index},
    }


def _string_move(
    module: ModuleModel, command: Command, words: list[Token], anchor: Token, side: str
) -> Optional[dict]:
    template = command.template
    if template is None or template.offsets is None:
        return None
    whole = module.span(template.node)
    if any(t.span == whole for t in (*words, anchor)):
        return None  # a word whose characters could not be located
    return {
        "kind": "string",
        "string": module.position(template.node),
        "pair": [_span_key(t.span) for t in words],
        side: _span_key(anchor.span),
    }


# -- MFK110 -----------------------------------------------------------------------------------


class BranchFormattedName(Rule):
    """``--branch`` is given the formatted ``@project`` branch instead of the user's value.

    ``@project`` turns the raw ``--branch X`` into ``test.X`` (or ``prod.X``, ``user.<name>``,
    ``prod``) and exposes that as ``current.branch_name``. Handing the formatted name back as
    ``--branch`` makes Metaflow format it again: a dot is not allowed in a branch name, so the
    process stops with ``The branch name must contain only lowercase alphanumeric characters
    and underscores.``, and a formatted ``prod`` silently becomes ``test.prod``.
    """

    code = "MFK110"
    name = "branch-formatted-name"
    summary = "--branch given the formatted @project branch (test.x) instead of the raw value"
    capability = Cap.PROJECT_BRANCH
    triggers = (b"--branch",)

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        seen: set[int] = set()
        for token, expr in _branch_values(module):
            if id(expr) in seen:
                continue  # the same value seen as a command word and as a list element
            seen.add(id(expr))
            reason = _formatted(module, expr)
            if reason is None:
                continue
            yield Finding(
                token.span if token is not None else expr,
                f"--branch is given {reason}, the formatted @project branch (test.<x>, "
                "user.<name>, prod): Metaflow formats it again and rejects it (The branch "
                "name must contain only lowercase alphanumeric characters and underscores.); "
                "pass the raw branch the user gave",
            )


def _branch_values(module: ModuleModel) -> Iterator[tuple[Optional[Token], ast.expr]]:
    """The expressions given to ``--branch``: in recognised commands, and as the element
    after a ``"--branch"`` element of any list literal (top-level option lists of helpers)."""
    for command in checked_commands(module):
        for option in flow_options(command):
            if option.name != "--branch":
                continue
            token = option.value if option.inline_value is None else option.flag
            if token is None:
                continue
            expr = _whole_word_expr(module, token)
            if expr is not None:
                yield token, expr
    for node in module.nodes:
        if not isinstance(node, ast.List):
            continue
        for index, element in enumerate(node.elts):
            if isinstance(element, ast.Constant) and element.value == "--branch":
                if index + 1 < len(node.elts):
                    yield None, node.elts[index + 1]
            elif isinstance(element, ast.JoinedStr) and len(element.values) == 2:
                head, field = element.values
                if (
                    isinstance(head, ast.Constant)
                    and head.value == "--branch="
                    and isinstance(field, ast.FormattedValue)
                ):
                    yield None, field.value


def _whole_word_expr(module: ModuleModel, token: Token) -> Optional[ast.expr]:
    """The expression that makes up the value word (``X`` in ``"--branch", X``,
    ``f"--branch={X}"``, ``"--branch %s" % X``)."""
    text = token.text or ""
    if text == HOLE:
        return token.expr
    if text != "--branch=" + HOLE:
        return None
    source = module.source
    start, end = source.offset(token.span.start), source.offset(token.span.end)
    node: Optional[ast.AST] = token.node
    while node is not None and is_stringish(node):
        template = template_of(module, node)
        if template is not None and template.offsets is not None:
            for i, ch in enumerate(template.text):
                if ch == HOLE and start <= template.offsets[i][0] < template.offsets[i][1] <= end:
                    return template.hole_expr(i)
        node = module.parent(node)
    return None


_MAX_DEPTH = 4


def _formatted(module: ModuleModel, expr: ast.expr, depth: int = 0) -> Optional[str]:
    """Why ``expr`` holds the formatted branch (a short description), or None."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Call) and _is_str_call(expr):
        return _formatted(module, expr.args[0], depth + 1)
    if isinstance(expr, ast.Attribute):
        if expr.attr == "branch_name":
            if _is_self(expr.value):
                return _self_attribute(module, expr, depth, default=True)
            return dotted_name(expr) or ".branch_name"
        if _is_self(expr.value):
            return _self_attribute(module, expr, depth, default=False)
        return None
    if isinstance(expr, ast.Call):
        return _formatted_call(expr)
    if isinstance(expr, ast.Subscript):
        return _formatted_subscript(expr)
    if isinstance(expr, ast.Name):
        return _formatted_name(module, expr, depth)
    return None


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _is_str_call(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "str"
        and len(call.args) == 1
        and not call.keywords
    )


def _constant_arg(call: ast.Call, index: int) -> Optional[object]:
    if len(call.args) > index and isinstance(call.args[index], ast.Constant):
        return call.args[index].value
    return None


def _formatted_call(call: ast.Call) -> Optional[str]:
    func = call.func
    # current.get("branch_name"), getattr(current, "branch_name")
    if isinstance(func, ast.Attribute) and func.attr == "get":
        key = _constant_arg(call, 0)
        owner = dotted_name(func.value) or ""
        if key == "branch_name" and owner.split(".")[-1].lstrip("_") == "current":
            return f"{owner}.get('branch_name')"
        if key == "branch" and _is_project_info(func.value):
            return f"{owner}.get('branch')"
    if (
        isinstance(func, ast.Name)
        and func.id == "getattr"
        and _constant_arg(call, 1) == "branch_name"
    ):
        return "getattr(..., 'branch_name')"
    return None


def _is_project_info(node: ast.AST) -> bool:
    name = dotted_name(node)
    return name is not None and name.split(".")[-1].lstrip("_") == "project_info"


def _formatted_subscript(node: ast.Subscript) -> Optional[str]:
    key = node.slice
    key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
    if not isinstance(key, ast.Constant):
        return None
    if key.value == "branch" and _is_project_info(node.value):
        return f"{dotted_name(node.value)}['branch']"
    if key.value == 1 and isinstance(node.value, ast.Call) and _is_format_name(node.value):
        return "format_name(...)[1]"
    return None


def _is_format_name(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "format_name"


def _formatted_name(module: ModuleModel, name: ast.Name, depth: int) -> Optional[str]:
    """A name every binding of which is a formatted branch."""
    _, bindings = module.values.lookup(name.id, name)
    if not bindings:
        return None
    reasons = []
    for binding in bindings:
        if binding[0] == "assign":
            reason = _formatted(module, binding[1], depth + 1)
        elif binding[0] == "other" and isinstance(binding[1], ast.Name):
            reason = _unpacked_format_name(module, binding[1])
        else:
            reason = None
        if reason is None:
            return None
        reasons.append(reason)
    return f"{name.id} (= {reasons[0]})"


def _unpacked_format_name(module: ModuleModel, target: ast.Name) -> Optional[str]:
    """``_, branch = format_name(...)``: Metaflow's formatter returns (flow name, branch)."""
    parent = module.parent(target)
    if not isinstance(parent, ast.Tuple) or len(parent.elts) != 2 or parent.elts[1] is not target:
        return None
    assign = module.parent(parent)
    if (
        isinstance(assign, ast.Assign)
        and isinstance(assign.value, ast.Call)
        and _is_format_name(assign.value)
    ):
        return "format_name(...)"
    return None


def _self_attribute(
    module: ModuleModel, attr: ast.Attribute, depth: int, default: bool
) -> Optional[str]:
    """``self.X`` whose every assignment in the module is a formatted branch (``default``
    decides when the module never assigns it)."""
    values = [
        node.value
        for node in module.nodes
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == attr.attr and _is_self(target.value)
    ]
    label = f"self.{attr.attr}"
    if not values:
        return label if default else None
    reasons = [_formatted(module, v, depth + 1) for v in values]
    if any(r is None for r in reasons):
        return None
    return f"{label} (= {reasons[0]})"
