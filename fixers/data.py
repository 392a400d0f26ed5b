"""Typed fix data, and where a rule finds it (ast only: rules import this, never libcst).

One coordinate convention for positions in fix data: a ``Position`` is (1-based line, 0-based
character column) of a node's first character, as libcst's PositionProvider counts it and as
``ModuleModel.position`` returns it.
"""

from __future__ import annotations

import ast
import io
import re
import string
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:
    from mfkit_lint.engine.diagnostic import Span
    from mfkit_lint.model.commands import Command, Option, Token
    from mfkit_lint.model.environment import EnvWrite
    from mfkit_lint.model.module import FunctionNode, ModuleModel
    from mfkit_lint.model.templates import Template

Position = tuple[int, int]


@dataclass(frozen=True)
class StatementFix:
    """Fix data of ``statements:MoveOrRemoveStatement``: move a statement right after (or
    right before) another statement of the same block, or remove it."""

    statement: Position
    after: Optional[Position] = None
    before: Optional[Position] = None

    CODEMOD = "statements:MoveOrRemoveStatement"

    def to_data(self) -> dict[str, Any]:
        return {
            "statement": list(self.statement),
            "after": list(self.after) if self.after else None,
            "before": list(self.before) if self.before else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StatementFix:
        def position(key: str) -> Optional[Position]:
            value = data.get(key)
            return (int(value[0]), int(value[1])) if value else None

        statement = position("statement")
        if statement is None:
            raise ValueError("no statement")
        return cls(statement, position("after"), position("before"))


def span_positions(span: Span) -> tuple[Position, Position]:
    """A reported span (1-based columns) as the (start, end) Positions of fix data."""
    return (span.start.row, span.start.column - 1), (span.end.row, span.end.column - 1)


def node_positions(module: ModuleModel, node: ast.AST) -> tuple[Position, Position]:
    """The (start, end) Positions of a node, as libcst counts them (without its parentheses)."""
    return span_positions(module.span(node))


def _position(value: Any) -> Position:
    return (int(value[0]), int(value[1]))


def _range(value: Any) -> tuple[Position, Position]:
    return (_position(value[0]), _position(value[1]))


@dataclass(frozen=True)
class ElementRef:
    """A list element: the list literal's start and the element's index in it."""

    list: Position
    index: int

    @classmethod
    def of(cls, module: ModuleModel, token: Token) -> ElementRef:
        return cls(module.position(token.container), token.index)

    def to_data(self) -> dict[str, Any]:
        return {"list": list(self.list), "index": self.index}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ElementRef:
        return cls(_position(data["list"]), int(data["index"]))


@dataclass(frozen=True)
class WordsMove:
    """Fix data of ``move:MoveWords`` (MFK103, MFK109): command-line words moved right after
    (``side`` "after") or right before ("before") an anchor word across the subcommand. In a
    list command the words are adjacent elements of one list and the anchor an element of the
    same or another list of the command; in a string command they are ranges of text inside
    the string literal that starts at ``string``."""

    side: str
    elements: tuple[ElementRef, ...] = ()
    anchor_element: Optional[ElementRef] = None
    string: Optional[Position] = None
    words: tuple[tuple[Position, Position], ...] = ()
    anchor_word: Optional[tuple[Position, Position]] = None

    CODEMOD = "move:MoveWords"

    @property
    def in_string(self) -> bool:
        return self.string is not None

    def to_data(self) -> dict[str, Any]:
        if self.in_string:
            return {
                "side": self.side,
                "string": list(self.string),
                "words": [[list(a), list(b)] for a, b in self.words],
                "anchor_word": [list(p) for p in self.anchor_word],
            }
        return {
            "side": self.side,
            "elements": [e.to_data() for e in self.elements],
            "anchor_element": self.anchor_element.to_data(),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> WordsMove:
        side = str(data["side"])
        if side not in ("after", "before"):
            raise ValueError(f"side {side!r}")
        if data.get("string") is not None:
            return cls(
                side,
                string=_position(data["string"]),
                words=tuple(_range(w) for w in data["words"]),
                anchor_word=_range(data["anchor_word"]),
            )
        return cls(
            side,
            elements=tuple(ElementRef.from_data(e) for e in data["elements"]),
            anchor_element=ElementRef.from_data(data["anchor_element"]),
        )


@dataclass(frozen=True)
class InsertedElements:
    """Fix data of ``missing_environment:InsertEnvironment`` (MFK108): the list elements
    ``elements`` (source text) are inserted before element ``index`` of the list literal that
    starts at ``list``."""

    list: Position
    index: int
    elements: str

    CODEMOD = "missing_environment:InsertEnvironment"

    def to_data(self) -> dict[str, Any]:
        return {"list": list(self.list), "index": self.index, "elements": self.elements}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> InsertedElements:
        return cls(_position(data["list"]), int(data["index"]), str(data["elements"]))


@dataclass(frozen=True)
class ExpressionRewrites:
    """Fix data of ``resources_merge:ReplaceExpressions`` (MFK604): each expression spanning
    (start, end) becomes the source text given with it."""

    rewrites: tuple[tuple[Position, Position, str], ...]

    CODEMOD = "resources_merge:ReplaceExpressions"

    def to_data(self) -> dict[str, Any]:
        return {"rewrites": [[list(a), list(b), text] for a, b, text in self.rewrites]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ExpressionRewrites:
        return cls(
            tuple((_position(a), _position(b), str(text)) for a, b, text in data["rewrites"])
        )


@dataclass(frozen=True)
class TupleToList:
    """Fix data of ``run_params:RunParamsAsList`` (MFK301): the run params expression spanning
    (``start``, ``end``) is handed on as a list."""

    start: Position
    end: Position

    CODEMOD = "run_params:RunParamsAsList"

    def to_data(self) -> dict[str, Any]:
        return {"start": list(self.start), "end": list(self.end)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TupleToList:
        return cls(_position(data["start"]), _position(data["end"]))


@dataclass(frozen=True)
class RemovedStatements:
    """Fix data of ``statements:RemoveStatements``: the statements starting at ``statements``
    are removed (each block keeps at least one statement)."""

    statements: tuple[Position, ...]

    CODEMOD = "statements:RemoveStatements"

    def to_data(self) -> dict[str, Any]:
        return {"statements": [list(p) for p in self.statements]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RemovedStatements:
        return cls(tuple((int(p[0]), int(p[1])) for p in data["statements"]))


def words_statement(module: ModuleModel, words: list[Token]) -> Optional[ast.stmt]:
    """The statement that adds exactly these words and nothing else: ``cmd += [...]``,
    ``cmd.extend([...])`` or ``cmd.append(x)``, together with an ``if``/``for`` whose whole body
    it is. None when the words share their statement with anything else."""
    container = words[0].container
    if container is not None:
        if any(t.container is not container for t in words) or len(container.elts) != len(words):
            return None
        node: ast.AST = container
    elif len(words) == 1 and words[0].expr is not None:
        node = words[0].expr
    elif len(words) == 1:
        # One word partly known (``args.append("--opt=%s" % x)``): the appended expression
        # is that word when it spans exactly the word.
        node = next(
            (
                n
                for n in (words[0].node, *module.ancestors(words[0].node))
                if isinstance(n, ast.expr) and module.span(n) == words[0].span
            ),
            None,
        )
        if node is None:
            return None
    else:
        return None
    statement = module.parent(node)
    if isinstance(statement, ast.Call):
        call = statement
        if not (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in ("extend", "append")
            and call.args == [node]
            and not call.keywords
        ):
            return None
        if call.func.attr == "append" and container is not None:
            return None  # appends one list as a single word
        statement = module.parent(call)
        if not isinstance(statement, ast.Expr):
            return None
    elif not (
        isinstance(statement, ast.AugAssign)
        and isinstance(statement.op, ast.Add)
        and statement.value is node
        and container is not None
    ):
        return None
    # A guard or loop that only exists for these words goes with them.
    while True:
        parent = module.parent(statement)
        if (
            isinstance(parent, (ast.If, ast.For))
            and parent.body == [statement]
            and not parent.orelse
        ):
            statement = parent
            continue
        return statement


def same_block_order(module: ModuleModel, first: ast.stmt, second: ast.stmt) -> Optional[int]:
    """-1/1 when ``first`` comes before/after ``second`` in the same statement list, else None."""
    parent = module.parent(first)
    if parent is None or parent is not module.parent(second):
        return None
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and first in block and second in block:
            return -1 if block.index(first) < block.index(second) else 1
    return None


def statement_fix(
    module: ModuleModel, words: list[Token], anchor: Optional[Token], side: Optional[str]
) -> Optional[StatementFix]:
    """Move the statement adding ``words`` to ``side`` ("after"/"before") of the statement
    adding ``anchor`` (the subcommand or its argument), or remove it (``side`` None)."""
    statement = words_statement(module, words)
    if statement is None:
        return None
    if side is None:
        return StatementFix(module.position(statement))
    if anchor is None:
        return None
    anchor_statement = module.enclosing_statement(anchor.node)
    if anchor_statement is None:
        return None
    order = same_block_order(module, statement, anchor_statement)
    if side == "after" and order == -1:
        return StatementFix(module.position(statement), after=module.position(anchor_statement))
    if side == "before" and order == 1:
        return StatementFix(module.position(statement), before=module.position(anchor_statement))
    return None


@dataclass(frozen=True)
class MethodStubs:
    """Fix data of ``stubs:AddMethodStubs``: append to the class whose ``class`` keyword is at
    ``cls`` one classmethod per ``(signature, message)`` that raises NotImplementedError(message).
    The signature is the text after ``def`` (``get_triggered_run(cls, identifier, run_id)``)."""

    cls: Position
    stubs: tuple[tuple[str, str], ...]

    CODEMOD = "stubs:AddMethodStubs"

    def to_data(self) -> dict[str, Any]:
        return {"cls": list(self.cls), "stubs": [list(s) for s in self.stubs]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MethodStubs:
        line, column = data["cls"]
        return cls((int(line), int(column)), tuple((str(s), str(m)) for s, m in data["stubs"]))


@dataclass(frozen=True)
class BackingAttribute:
    """Fix data of ``backing:BackAttributeWithProperty``: in the class whose ``class`` keyword
    is at ``cls``, the assignment targets at ``targets`` (``self.<name>``) store ``_<name>``
    instead, and a read-only ``<name>`` property returning it goes right after the method at
    ``after``."""

    cls: Position
    name: str
    targets: tuple[Position, ...]
    after: Position

    CODEMOD = "backing:BackAttributeWithProperty"

    def to_data(self) -> dict[str, Any]:
        return {
            "cls": list(self.cls),
            "name": self.name,
            "targets": [list(t) for t in self.targets],
            "after": list(self.after),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BackingAttribute:
        def position(value: Any) -> Position:
            return (int(value[0]), int(value[1]))

        return cls(
            position(data["cls"]),
            str(data["name"]),
            tuple(position(t) for t in data["targets"]),
            position(data["after"]),
        )


@dataclass(frozen=True)
class SkipItems:
    """Fix data of ``skip_items:SkipItemsInLoops``: every ``for`` statement or comprehension
    whose iterated expression starts at one of ``iters`` skips the items for which ``skip``
    holds; ``skip`` is a Python expression of the loop variable ``item`` bound there (the
    same name for every loop)."""

    iters: tuple[Position, ...]
    item: tuple[str, ...]  # the loop variable of each loop, in the order of ``iters``
    skip: str  # with ``{item}`` where the loop variable goes

    CODEMOD = "skip_items:SkipItemsInLoops"

    def to_data(self) -> dict[str, Any]:
        return {"iters": [list(p) for p in self.iters], "item": list(self.item), "skip": self.skip}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SkipItems:
        return cls(
            tuple((int(p[0]), int(p[1])) for p in data["iters"]),
            tuple(str(i) for i in data["item"]),
            str(data["skip"]),
        )

    def condition(self, index: int) -> str:
        return self.skip.format(item=self.item[index])


@dataclass(frozen=True)
class Wrapping:
    """Fix data of ``wrap:WrapExpression``: the reported expression becomes ``template`` with
    each ``{expr}`` replaced by the expression's own code."""

    template: str

    CODEMOD = "wrap:WrapExpression"

    def to_data(self) -> dict[str, Any]:
        return {"template": self.template}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Wrapping:
        return cls(str(data["template"]))


@dataclass(frozen=True)
class Insertion:
    """A statement (source text, unindented) to insert right after the statement at ``after``."""

    after: Position
    code: str


@dataclass(frozen=True)
class HelperOptionFix:
    """Fix data of ``statements:MoveToCallers``: the statement of a helper that adds an option
    for several commands is removed from the helper, and put back, renamed for each caller,
    after the subcommand of each command that takes the option on the other side."""

    statement: Position
    inserts: tuple[Insertion, ...]
    # Every command built with the helper still gets the option (none drops it): a pure move.
    kept_everywhere: bool = True

    CODEMOD = "statements:MoveToCallers"

    def to_data(self) -> dict[str, Any]:
        return {
            "statement": list(self.statement),
            "inserts": [{"after": list(i.after), "code": i.code} for i in self.inserts],
            "kept_everywhere": self.kept_everywhere,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> HelperOptionFix:
        inserts = tuple(
            Insertion((int(i["after"][0]), int(i["after"][1])), str(i["code"]))
            for i in data.get("inserts", ())
        )
        statement = data["statement"]
        kept = bool(data.get("kept_everywhere", True))
        return cls((int(statement[0]), int(statement[1])), inserts, kept)


# What a command does with an option its helper adds: "valid" where it is, "after"/"before"
# the subcommand, or "remove" (the command does not take it at all).
Judge = Callable[["Command", "Option"], str]


def helper_option_fix(
    module: ModuleModel, option: Option, judge: Judge
) -> Union[HelperOptionFix, str]:
    """The per-command move of an option that a helper adds for several commands, or why
    there is none. Every caller of the helper must be seen (a private helper of this module,
    only ever called), and for each the command its words go to must be known: the option is
    then removed from the helper, and added after the subcommand where that command takes it
    after the subcommand; a command that does not take it at all simply no longer gets it."""
    from mfkit_lint.contract import cli as contract

    words = [option.flag, *option.values]
    statement = words_statement(module, words)
    helper = module.enclosing_function(statement) if statement is not None else None
    if statement is None or helper is None:
        return "the option's words are built together with other words"
    listed = _added_to(statement)
    if listed is None or not _returns_only(helper, listed):
        return "the helper does not simply return the list it adds the option to"
    name = helper.name
    calls = module.calls_by_name.get(name, [])
    if (
        not name.startswith("_")
        or module.name_loads.get(name, 0) != len(calls)
        or any(module.local_function(c) is not helper for c in calls)
        or (module.project is not None and module.project.modules_mentioning(name, module.path))
    ):
        return f"{name}() may have callers the linter does not see"
    inserts: list[Insertion] = []
    callers: set[int] = set()
    dropped = False
    for call in calls:
        caller = module.enclosing_function(call)
        if caller is None or caller is helper or id(caller) in callers:
            return f"{name}() is called where its commands cannot be followed"
        callers.add(id(caller))
        found = _command_through(module, caller, option, contract.COMMANDS)
        if found is None:
            return (
                f"a command built with {name}() in {caller.name}() has no subcommand the "
                "linter knows, so what it does with the option is not known"
            )
        command, caller_option = found
        side = judge(command, caller_option)
        if side == "remove":
            dropped = True
            continue
        if side != "after":
            return f"the command built in {caller.name}() needs the option where {name}() puts it"
        insert = _insertion(module, helper, statement, listed, caller, call, command)
        if insert is None:
            return (
                f"{caller.name}() does not add the subcommand in a statement of its own that "
                "the option's statement can follow"
            )
        inserts.append(insert)
    return HelperOptionFix(module.position(statement), tuple(inserts), not dropped)


def _added_to(statement: ast.stmt) -> Optional[str]:
    """The list variable the statement (or the one statement inside its guard) adds to."""
    while isinstance(statement, (ast.If, ast.For)):
        statement = statement.body[0]
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id
    return None


def _returns_only(function: FunctionNode, name: str) -> bool:
    returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        isinstance(r.value, ast.Name) and r.value.id == name for r in returns
    )


def _command_through(
    module: ModuleModel, caller: FunctionNode, option: Option, subcommands: frozenset
) -> Optional[tuple[Command, Option]]:
    """The command (and its copy of ``option``) that ``caller`` builds with the helper's
    words: the first known subcommand word after them, with nothing unknown in between."""
    from mfkit_lint.model.commands import Command, word_lists

    matches = []
    for tokens in word_lists(module, caller):
        at = [i for i, t in enumerate(tokens) if t.span == option.flag.span]
        if not at:
            continue
        sub = next(
            (
                j
                for j in range(at[0] + 1, len(tokens))
                if tokens[j].text in subcommands and not _option_value(tokens[j - 1])
            ),
            None,
        )
        if sub is None:
            if any(t.spread for t in tokens[at[0] :]):
                return None  # unknown words may hold the subcommand
            continue  # the helper's words kept aside (``top = _helper()``), used below
        if any(t.spread for t in tokens[at[0] : sub]):
            return None
        command = Command(tokens, sub, "list", tokens[sub].node, caller)
        same = [o for o in command.options if o.flag.span == option.flag.span]
        if len(same) != 1 or not same[0].top_level:
            return None
        matches.append((command, same[0]))
    return matches[0] if len(matches) == 1 else None


def _option_value(previous: Token) -> bool:
    """The word after ``previous`` is that option's value (``--tag show``), not a command."""
    from mfkit_lint.contract import cli as contract

    return (
        previous.is_option()
        and "=" not in previous.text
        and previous.option_name not in contract.FLAGS
    )


def _insertion(
    module: ModuleModel,
    helper: FunctionNode,
    statement: ast.stmt,
    listed: str,
    caller: FunctionNode,
    call: ast.Call,
    command: Command,
) -> Optional[Insertion]:
    """The helper's statement, renamed for ``caller``, to follow the caller's statement that
    adds the subcommand's argument (or the subcommand)."""
    arguments = command.arguments
    anchor = arguments[0] if command.name == "step" and arguments else command.subcommand
    if anchor.spread or anchor.is_option():
        return None
    anchor_statement = module.enclosing_statement(anchor.node)
    if anchor_statement is None or module.parent(anchor_statement) is not caller:
        return None
    target = _added_to(anchor_statement)
    if target is None and isinstance(anchor_statement, ast.Assign):
        targets = anchor_statement.targets
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            target = targets[0].id
    if target is None:
        return None
    renames = _parameter_names(helper, call, caller)
    if renames is None:
        return None
    renames[listed] = target
    helper_locals, caller_locals = _bound_names(helper), _bound_names(caller)
    edits = []
    for node in ast.walk(statement):
        if not isinstance(node, ast.Name):
            continue
        if node.id in renames:
            if renames[node.id] is None:
                return None  # a parameter left to its default: no name for it in the caller
            edits.append((node, renames[node.id]))
        elif node.id in helper_locals or node.id in caller_locals:
            return None  # a local of either function: its value is not the same there
    code = _renamed(module, statement, edits)
    return Insertion(module.position(anchor_statement), code) if code else None


def _parameter_names(
    helper: FunctionNode, call: ast.Call, caller: FunctionNode
) -> Optional[dict[str, Optional[str]]]:
    """Helper parameter -> the caller's name passed for it (plain names only; None for a
    parameter left to its default)."""
    params = [a.arg for a in helper.args.posonlyargs + helper.args.args]
    out: dict[str, Optional[str]] = {}
    if isinstance(call.func, ast.Attribute):  # self._helper(...): both are methods
        caller_params = [a.arg for a in caller.args.posonlyargs + caller.args.args]
        if not params or not caller_params or call.func.value.id != caller_params[0]:
            return None
        out[params[0]] = caller_params[0]
        params = params[1:]
    if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if len(call.args) > len(params) or helper.args.vararg or helper.args.kwonlyargs:
        return None
    for param, arg in zip(params, call.args):
        if not isinstance(arg, ast.Name):
            return None
        out[param] = arg.id
    for param in params[len(call.args) :]:
        out[param] = None
    return out


def _bound_names(function: FunctionNode) -> set[str]:
    names = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
    return names


def _renamed(module: ModuleModel, statement: ast.stmt, edits: list) -> Optional[str]:
    """The statement's own text (its quoting kept), names replaced, indentation removed."""
    lines = module.source.text.splitlines(keepends=True)[
        statement.lineno - 1 : statement.end_lineno
    ]
    if not all(line.isascii() for line in lines):
        return None  # ast counts columns in bytes
    prefix = lines[0][: statement.col_offset]
    first_line = statement.lineno
    chars = [list(line) for line in lines]
    for node, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        row = chars[node.lineno - first_line]
        row[node.col_offset : node.end_col_offset] = list(new)
    text = "".join("".join(row) for row in chars)
    text = " " * len(prefix) + text[len(prefix) :]
    return textwrap.dedent(text).rstrip("\n") + "\n"


@dataclass(frozen=True)
class AttemptCounterFix:
    """Fix data of ``retry_count:ThreadAttemptCounter``: the constant retry count the finding
    reports becomes the attempt counter, either a variable of the enclosing function
    (``attempt``: ``"0"`` -> ``str(attempt)``, in an f-string ``{attempt}``) or, in a string
    the scheduler renders, its template expression (``template``: ``"0"`` -> ``"{{
    taskrun.attemptsCount }}"``). Exactly one of the two is set; where is the finding's span."""

    attempt: Optional[str] = None
    template: Optional[str] = None

    CODEMOD = "retry_count:ThreadAttemptCounter"

    def to_data(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "template": self.template}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AttemptCounterFix:
        attempt, template = data.get("attempt"), data.get("template")
        if (attempt is None) == (template is None):
            raise ValueError("one of attempt and template")
        return cls(
            str(attempt) if attempt is not None else None,
            str(template) if template is not None else None,
        )


@dataclass(frozen=True)
class CallArgumentFix:
    """Fix data of ``retry_count:PassAttemptCounter``: pass ``keyword=value`` in each call at
    ``calls`` (it is added after the last positional argument, on its line), and import
    ``module`` at the top level when the code does not yet."""

    calls: tuple[Position, ...]
    keyword: str
    value: str
    module: str

    CODEMOD = "retry_count:PassAttemptCounter"

    def to_data(self) -> dict[str, Any]:
        return {
            "calls": [list(c) for c in self.calls],
            "keyword": self.keyword,
            "value": self.value,
            "module": self.module,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CallArgumentFix:
        calls = tuple((int(c[0]), int(c[1])) for c in data["calls"])
        return cls(calls, str(data["keyword"]), str(data["value"]), str(data["module"]))


@dataclass(frozen=True)
class BranchFix:
    """Fix data of ``branch:InsertBranch``: insert the guarded ``--branch`` words before
    element ``index`` (the subcommand) of the list literal at ``list``. ``inline`` keeps them
    on the subcommand's line: in generated code a line is a literal of the template, and only
    an edit inside one literal can be written back."""

    list: Position
    index: int
    branch: str
    inline: bool = False

    CODEMOD = "branch:InsertBranch"

    def to_data(self) -> dict[str, Any]:
        return {
            "list": list(self.list),
            "index": self.index,
            "branch": self.branch,
            "inline": self.inline,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BranchFix:
        position = data["list"]
        return cls(
            (int(position[0]), int(position[1])),
            int(data["index"]),
            str(data["branch"]),
            bool(data.get("inline", False)),
        )


# -- parameters for init as METAFLOW_INIT_<NAME> (MFK203, MFK112) ----------------------------


@dataclass(frozen=True)
class StatementInsertion:
    """Fix data of ``init_env:InsertStatement``: the statement ``code`` goes right after the
    simple statement at ``after``. ``inline`` puts it on the same line, after ``; ``: in
    generated code a line is one literal of the template, and only an edit inside one literal
    can be written back."""

    after: Position
    code: str
    inline: bool = False

    CODEMOD = "init_env:InsertStatement"

    def to_data(self) -> dict[str, Any]:
        return {"after": list(self.after), "code": self.code, "inline": self.inline}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StatementInsertion:
        line, column = data["after"]
        return cls((int(line), int(column)), str(data["code"]), bool(data.get("inline", False)))


@dataclass(frozen=True)
class ExpressionEdits:
    """Fix data of ``run_param_option:ReplaceRunParam``: text ranges inside the expression that
    starts at ``node`` are replaced; each range must still hold ``old`` (an insertion is an
    empty range). Positions as everywhere here: (1-based line, 0-based column)."""

    node: Position
    edits: tuple[tuple[Position, Position, str, str], ...]  # (start, end, new, old)

    CODEMOD = "run_param_option:ReplaceRunParam"

    def to_data(self) -> dict[str, Any]:
        return {
            "node": list(self.node),
            "edits": [[*start, *end, new, old] for start, end, new, old in self.edits],
        }


InitEnvFix = Union[StatementInsertion, ExpressionEdits]
INIT_ENV_PREFIX = "METAFLOW_INIT_"


def init_env_fix(module: ModuleModel, write: EnvWrite) -> Union[InitEnvFix, str]:
    """Also give ``init`` what an ignored variable carries, as the ``METAFLOW_INIT_<NAME>``
    variables click reads for init's ``--<name>`` options, or why that cannot be decided.

    Verified on Metaflow 2.19.39: the name is the parameter's name upper-cased with ``-`` as
    ``_``; the value is parsed like the option's text (a string as is, ``3``, ``0.5``,
    ``true``, JSON for a JSONType parameter); an empty value is not "unset" (a string
    parameter stores ``""``, a number fails), so an empty or None value is not exported.
    Two shapes are decided: the parameters' dict written as ``json.dumps(<dict>)`` (each item
    exported next to it) and a shell ``NAME<P>=value`` assignment per parameter in a template
    (an export of ``METAFLOW_INIT_<P>`` beside it, when the value is not empty). The old
    variable stays: whatever reads it keeps working."""
    from mfkit_lint.model.templates import HOLE

    if write.shell:
        return _shell_init_env(module, write)
    if HOLE in write.name:
        return (
            f"{write.name.replace(HOLE, '<P>')} is written per parameter from Python: name it "
            f"{INIT_ENV_PREFIX}<NAME> (the parameter's name upper-cased, '-' as '_') with a value "
            "init can parse"
        )
    return _json_init_env(module, write)


def _json_init_env(module: ModuleModel, write: EnvWrite) -> Union[InitEnvFix, str]:
    from mfkit_lint.model.environment import subscript_key
    from mfkit_lint.model.module import dotted_name

    value = write.value
    if not (
        isinstance(value, ast.Call)
        and dotted_name(value.func) == "json.dumps"
        and len(value.args) == 1
        and isinstance(value.args[0], (ast.Name, ast.Attribute))
        and dotted_name(value.args[0]) is not None
    ):
        return (
            f"{write.name} is not written as json.dumps(<the parameters' dict>) here, so which "
            f"values it holds is unknown: export each parameter as {INIT_ENV_PREFIX}<NAME> "
            "where the dict is"
        )
    quote = _quote_of(module, write.key)
    dumps = dotted_name(value.func)
    mapping = dotted_name(value.args[0])
    name = (
        f"{quote}{INIT_ENV_PREFIX}{quote} + name.upper().replace({quote}-{quote}, {quote}_{quote})"
    )
    item = f"value if isinstance(value, str) else {dumps}(value)"
    loop, keep = f"for name, value in {mapping}.items()", "if value is not None"
    items = f"{{{name}: {item} {loop} {keep}}}"
    key, parent = write.where, module.parent(write.where)
    if isinstance(parent, ast.Subscript) and subscript_key(parent) is key:
        statement = module.parent(parent)
        if isinstance(statement, ast.Assign) and statement.targets == [parent]:
            target = ast.get_source_segment(module.source.text, parent.value)
            if target is not None and "\n" not in target:
                if module.generated:
                    code = f"{target}.update({items})"  # on the line (one literal) it follows
                else:
                    # Laid out as a formatter would (libcst indents it like its block).
                    lines = (f"{name}: (", f"    {item}", ")", loop, keep)
                    body = "".join(f"        {line}\n" for line in lines)
                    code = f"{target}.update(\n    {{\n{body}    }}\n)"
                return StatementInsertion(module.position(statement), code, module.generated)
    elif isinstance(parent, ast.Dict) and key in parent.keys:
        # The other items right after the entry: ``{..., KEY: json.dumps(p), **{...}}``.
        return _insert_after(module, parent, value, f", **{items}")
    elif (
        isinstance(key, ast.keyword)
        and isinstance(parent, ast.Call)
        and _dict_call(parent)
        and all(k.arg is not None for k in parent.keywords)
    ):
        # ``dict(os.environ, KEY=json.dumps(p), **{...})`` (no other ``**``: a name in two
        # of them would be a TypeError)
        return _insert_after(module, parent, value, f", **{items}")
    return (
        f"{write.name} is set in a form the fix does not extend (setdefault, putenv, an entry "
        "of a container's env list, a call that is not dict() or update() or that also "
        "unpacks another mapping): export each "
        f"parameter as {INIT_ENV_PREFIX}<NAME> there"
    )


def _dict_call(call: ast.Call) -> bool:
    """``dict(...)`` or ``<mapping>.update(...)``: keywords become entries."""
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "dict") or (
        isinstance(func, ast.Attribute) and func.attr == "update"
    )


def _insert_after(module: ModuleModel, node: ast.expr, after: ast.expr, text: str) -> InitEnvFix:
    end = module.span(after).end
    where = (end.row, end.column - 1)
    return ExpressionEdits(module.position(node), ((where, where, text, ""),))


def _quote_of(module: ModuleModel, key: Optional[ast.AST]) -> str:
    """The quote character the key literal is written with (so that generated code keeps
    its template's quoting), double by default."""
    if isinstance(key, ast.Constant):
        text = ast.get_source_segment(module.source.text, key) or ""
        text = text.lstrip("rRbBuUfF")
        if text[:1] in ("'", '"'):
            return text[0]
    return '"'


_ASSIGNMENT_WORDS = ("export", "declare", "-x", "readonly")


def _shell_init_env(module: ModuleModel, write: EnvWrite) -> Union[InitEnvFix, str]:
    from mfkit_lint.model.module import call_name
    from mfkit_lint.model.shell import split_commands
    from mfkit_lint.model.templates import HOLE

    template = write.template
    name = write.name
    if HOLE not in name:
        return (
            f"{name} holds all the parameters in one text of the script, and init needs one "
            f"{INIT_ENV_PREFIX}<NAME> per parameter: export each where the script is generated"
        )
    if template is None or template.offsets is None or not name.endswith(HOLE):
        return f"{name.replace(HOLE, '<P>')} is not one shell assignment per parameter"
    if name.count(HOLE) != 1:
        return f"the parameter's name in {name.replace(HOLE, '<P>')} is pieced together"
    command = next(
        (c for c in split_commands(template.text) if any(w.start == write.name_start for w in c)),
        None,
    )
    if command is None or not all(
        w.text in _ASSIGNMENT_WORDS or _ASSIGNMENT.match(w.text) for w in command
    ):
        return (
            f"{name.replace(HOLE, '<P>')} is set for one command only: export "
            f"{INIT_ENV_PREFIX}<NAME> for init's command"
        )
    word = next(w for w in command if w.start == write.name_start)
    raw = template.text[word.start : word.end]
    if not raw.startswith(name + "="):
        return f"the name {name.replace(HOLE, '<P>')} is quoted in the script"
    value = raw[len(name) + 1 :]
    name_expr = template.hole_expr(write.name_start + len(name) - 1)
    if name_expr is None:
        return "the parameter's name is not an expression of the template"
    spelling = _Spelling.of(module, template)
    if isinstance(spelling, str):
        return spelling
    # init's name for the parameter: upper-cased, '-' as '_' (the shell name already works
    # without a '-', so the replace only matters to a name a shell would have refused).
    if not _repeatable(name_expr):
        return "the parameter's name is computed by a call the fix would have to repeat"
    name_code = ast.get_source_segment(module.source.text, name_expr) or ""
    if not (isinstance(name_expr, ast.Call) and call_name(name_expr) == "upper"):
        name_code = f"({name_code}).upper()" if not _simple(name_expr) else f"{name_code}.upper()"
    quote = spelling.other if spelling.kind == "f" else '"'
    name_code += f".replace({quote}-{quote}, {quote}_{quote})"
    # "; [ -z V ] || export METAFLOW_INIT_<P>=V": an empty value stays unset for init.
    shown = _value_pieces(word.start + len(name) + 1, value)
    pieces: list[Piece] = ["; [ -z ", *shown, " ] || export " + INIT_ENV_PREFIX, (name_code, None)]
    pieces += ["=", *shown]
    at = command[-1].end
    if not _ends_line(module, template, at, spelling.literal):
        return (
            f"what follows {name.replace(HOLE, '<P>')}'s assignment in the script is not "
            "known: the piece is joined into the script in a way the fix cannot follow"
        )
    return spelling.insert(module, template, at, pieces)


def _ends_line(module: ModuleModel, template: Template, at: int, outer: ast.expr) -> bool:
    """The command ends a line of the script at ``at``: a line break or ``;`` follows it in
    the template, or the template is one line of a list joined with line breaks (an element,
    a comprehension's item, or appended to a list that is joined so)."""
    rest = template.text[at:].lstrip(" \t")
    if rest:
        return rest[0] in "\n;"
    parent = module.parent(outer)
    if isinstance(parent, (ast.GeneratorExp, ast.ListComp)) and parent.elt is not outer:
        return False
    if isinstance(parent, (ast.GeneratorExp, ast.ListComp, ast.List)):
        return _newline_join(module.parent(parent)) is parent or _list_joined(module, parent)
    if (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr == "append"
        and parent.args == [outer]
    ):
        return _list_joined(module, parent.func.value)
    return False


def _list_joined(module: ModuleModel, node: ast.AST) -> bool:
    """The list (a name, or a list display or comprehension assigned to one) is joined with
    line breaks in the same function (``"\\n".join(lines)``, ``"\\n".join(lines + [...])``)."""
    if isinstance(node, (ast.List, ast.ListComp)):
        statement = module.parent(node)
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            return False
        node = statement.targets[0]
    if not isinstance(node, ast.Name):
        return False
    scope = module.enclosing_function(node) or module.tree
    for call in ast.walk(scope):
        joined = _newline_join(call)
        if joined is not None and any(
            isinstance(n, ast.Name) and n.id == node.id for n in ast.walk(joined)
        ):
            return True
    return False


def _newline_join(call: Optional[ast.AST]) -> Optional[ast.expr]:
    """What ``"\\n".join(x)`` joins, or None for any other node."""
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "join"
        and isinstance(call.func.value, ast.Constant)
        and call.func.value.value == "\n"
        and len(call.args) == 1
        and not call.keywords
    ):
        return call.args[0]
    return None


# ``NAME=value`` (the name may hold a template hole, U+FFFC).
_ASSIGNMENT = re.compile("[A-Za-z_\ufffc][A-Za-z0-9_\ufffc]*=")


def _simple(node: ast.expr) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript))


# Calls that may be evaluated once more without changing anything.
_PURE_CALLS = frozenset({"upper", "lower", "strip", "replace", "str", "repr", "int", "format"})


_REPEATABLE = (
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.Subscript,
    ast.BinOp,
    ast.operator,
    ast.expr_context,
    ast.JoinedStr,
    ast.FormattedValue,
)


def _repeatable(node: ast.expr) -> bool:
    """The fix writes the expression a second time: only names, attributes, constants, indexing
    and string conversions, which give the same value and do nothing else."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in _PURE_CALLS:
                return False
        elif not isinstance(sub, _REPEATABLE):
            return False
    return True


# A piece of text to insert into a template: its own characters, or ("hole", index) for a copy
# of the template's field at ``index`` (with its expression), or (code, None) for a new field.
Piece = Union[str, tuple]


def _value_pieces(start: int, value: str) -> list[Piece]:
    """The value's characters, its holes as copies of the template's fields."""
    from mfkit_lint.model.templates import HOLE

    pieces: list[Piece] = []
    for k, char in enumerate(value):
        pieces.append(("hole", start + k) if char == HOLE else char)
    return pieces


@dataclass(frozen=True)
class _Spelling:
    """How text is written into a template's literal: its quote, its prefix, and how a field
    is filled (an f-string field, or a ``%``/``.format`` field with its argument)."""

    kind: str  # "f", "%" or "format"
    literal: ast.expr
    quote: str
    raw: bool
    arguments: Optional[ast.expr]  # the % right side, or the .format call

    @property
    def other(self) -> str:
        """The quote for Python code written inside the literal (an f-string field)."""
        return '"' if self.quote[0] == "'" else "'"

    @classmethod
    def of(cls, module: ModuleModel, template: Template) -> Union[_Spelling, str]:
        from mfkit_lint.model.templates import template_of

        literal = template.node
        parent = module.parent(literal)
        if isinstance(literal, ast.JoinedStr):
            kind, arguments, outer = "f", None, literal
        elif (
            isinstance(literal, ast.Constant)
            and isinstance(parent, ast.BinOp)
            and isinstance(parent.op, ast.Mod)
            and parent.left is literal
            and not isinstance(parent.right, ast.Dict)
            and "%(" not in literal.value
        ):
            kind, arguments, outer = "%", parent.right, parent
        elif (
            isinstance(literal, ast.Constant)
            and isinstance(parent, ast.Attribute)
            and parent.attr == "format"
            and isinstance(module.parent(parent), ast.Call)
            and _auto_fields(literal.value)
            and not any(isinstance(a, ast.Starred) for a in module.parent(parent).args)
        ):
            kind, arguments = "format", module.parent(parent)
            outer = arguments
        else:
            return "the script's text is pieced together in a way the fix cannot follow"
        whole = template_of(module, outer)
        if whole is None or whole.text != template.text:
            return "the script's text is pieced together in a way the fix cannot follow"
        code = ast.get_source_segment(module.source.text, literal) or ""
        if _string_tokens(code) != 1:
            return "the script's text is written in several literals"
        body = code.lstrip("rRbBuUfF")
        prefix = code[: len(code) - len(body)].lower()
        quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
        return cls(kind, outer, quote, "r" in prefix, arguments)

    def insert(
        self, module: ModuleModel, template: Template, at: int, pieces: list[Piece]
    ) -> Union[ExpressionEdits, str]:
        """Edits inserting ``pieces`` after character ``at - 1`` of the template."""
        from mfkit_lint.model.templates import HOLE

        source = module.source.text
        text, arguments = "", []
        for piece in pieces:
            if isinstance(piece, str):
                spelled = self._char(piece)
                if spelled is None:
                    return "the inserted text cannot be spelled in this literal"
                text += spelled
                continue
            if piece[0] == "hole":
                a, b = template.offsets[piece[1]]
                expr = template.hole_expr(piece[1])
                code = ast.get_source_segment(source, expr) if expr is not None else None
                if code is None or not _repeatable(expr):
                    return "a value of the script is not an expression the fix can repeat"
                field = source[a:b]
            else:
                code, field = piece[0], None
            if self.kind == "f":
                if field is None:
                    if self.quote[0] in code or "\\" in code:
                        return "the name cannot be written inside this f-string"
                    field = "{%s}" % code
            else:
                field = field or ("%s" if self.kind == "%" else "{}")
                arguments.append(code)
            text += field
        where = _after(module, template, at)
        edits = [(where, where, text, "")]
        if arguments:
            args = self._argument_edits(module, template.text.count(HOLE, 0, at), arguments)
            if isinstance(args, str):
                return args
            edits += args
        return ExpressionEdits(module.position(self.literal), tuple(edits))

    def _char(self, char: str) -> Optional[str]:
        if char == "\\" or char == "\n" or (len(self.quote) == 1 and char == self.quote):
            if self.raw:
                return None
            return {"\\": "\\\\", "\n": "\\n"}.get(char, "\\" + char)
        if self.kind == "%" and char == "%":
            return "%%"
        if self.kind != "%" and char in "{}":
            return char * 2
        return char

    def _argument_edits(self, module: ModuleModel, index: int, new: list[str]) -> Union[list, str]:
        """The new arguments go at position ``index`` of the ``%`` tuple or the ``.format``
        call, so every field keeps its own."""
        joined = ", ".join(new)
        if self.kind == "format":
            values = list(self.arguments.args)
        elif isinstance(self.arguments, ast.Tuple):
            values = list(self.arguments.elts)
        else:
            # One value right of ``%``: it becomes a tuple with the new ones.
            single = self.arguments
            if index not in (0, 1) or isinstance(single, ast.Starred):
                return "the values of the script's fields cannot be followed"
            start, end = _start(module, single), _end(module, single)
            if index == 0:
                return [(start, start, f"({joined}, ", ""), (end, end, ")", "")]
            return [(start, start, "(", ""), (end, end, f", {joined})", "")]
        if (
            not values
            or index > len(values)
            or any(isinstance(v, ast.Starred) for v in values[:index])
        ):
            return "the values of the script's fields cannot be followed"
        if index < len(values):
            where = _start(module, values[index])
            return [(where, where, f"{joined}, ", "")]
        where = _end(module, values[-1])
        return [(where, where, f", {joined}", "")]


def _start(module: ModuleModel, node: ast.AST) -> Position:
    return module.position(node)


def _end(module: ModuleModel, node: ast.AST) -> Position:
    end = module.span(node).end
    return (end.row, end.column - 1)


def _after(module: ModuleModel, template: Template, at: int) -> Position:
    location = module.source.location_at(template.offsets[at - 1][1])
    return (location.row, location.column - 1)


def _auto_fields(text: str) -> bool:
    """Every ``{}`` field of a ``.format`` text is numbered automatically."""
    try:
        return all(field in ("", None) for _, field, _, _ in string.Formatter().parse(text))
    except ValueError:
        return False


def _string_tokens(code: str) -> int:
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)}
    try:
        return sum(
            1 for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type in kinds
        )
    except (tokenize.TokenError, SyntaxError):
        return 0
