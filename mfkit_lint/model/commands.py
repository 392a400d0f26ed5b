"""Metaflow command lines, however an extension writes them.

Recognises ``python flow.py [TOP-LEVEL OPTIONS] step NAME [OPTIONS]`` (and ``init``, ``run``,
``resume``) built as list literals, lists grown piece by piece (``+``, ``+=``, ``append``,
``extend``, ``insert``, ``*`` unpacking, pieces added under ``if``/``for``), lists returned by a
helper in the same module, and shell command lines inside strings (f-strings, ``%``,
``.format``, concatenation, multi-line bash templates). Each invocation becomes a Command of
Tokens that point back to the source, so rules ask questions instead of grepping text.
"""

from __future__ import annotations

import ast
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.engine.source import DecodeError, Source
from mfkit_lint.model.module import call_name, dotted_name, per_module
from mfkit_lint.model.project import import_candidates, imported
from mfkit_lint.model.shell import split_commands
from mfkit_lint.model.templates import (
    HOLE,
    Template,
    completed_template,
    is_stringish,
    is_template_text,
    template_of,
    with_alternatives,
)
from mfkit_lint.model.usage import only_a_message, used_as_code
from mfkit_lint.model.values import Assigned, values_of

if TYPE_CHECKING:
    from pathlib import Path

    from mfkit_lint.model.module import FunctionNode, ModuleModel

_MAX_INLINE_DEPTH = 3


class Presence(Enum):
    """Where an option is over the paths that build a command (a word added under an ``if``,
    a conditional piece of a string, ``${VAR:+...}`` is there on some paths only). Whether an
    absent option could still hide in an unseen word is the visibility questions' part
    (``model/invocation.py``): there the answer is "cannot tell"."""

    EVERY = "on every path"
    SOME = "on some path"
    NONE = "on no path"


@dataclass
class Token:
    """One argv word of a command.

    ``text`` is the word with HOLE characters for parts known only at run time; it is None for
    a *spread*: an unknown number of words (``*args``, ``cmd.extend(extra)``, an unknown list).
    ``expr`` is the expression that produces a whole-word value (a list element or an f-string
    field standing alone), so rules can ask the value model about it.
    """

    text: Optional[str]
    span: Span
    node: ast.AST
    expr: Optional[ast.expr] = None
    conditional: bool = False
    # The list literal holding this word as element ``index`` (None for words inside strings).
    container: Optional[ast.List] = None
    index: Optional[int] = None

    @property
    def spread(self) -> bool:
        return self.text is None

    @property
    def known(self) -> bool:
        return self.text is not None and HOLE not in self.text

    def is_option(self) -> bool:
        return self.text is not None and self.text.startswith("--")

    @property
    def option_name(self) -> Optional[str]:
        if not self.is_option():
            return None
        return self.text.split("=", 1)[0]


@dataclass
class Option:
    name: str
    flag: Token
    value: Optional[Token]  # None for flags, or when the value is not visible
    inline_value: Optional[str] = None  # the text after "=" in --opt=value
    top_level: bool = True
    values: list[Token] = field(default_factory=list)  # all values (``nargs`` > 1)

    @property
    def conditional(self) -> bool:
        return self.flag.conditional


@dataclass
class Command:
    tokens: list[Token]
    sub_index: int  # index of the subcommand token in ``tokens``
    kind: str  # "list" or "string"
    anchor: ast.AST  # the list variable's defining node, or the string expression
    function: Optional[FunctionNode] = None
    template: Optional[Template] = None
    _options: Optional[list[Option]] = field(default=None, repr=False)

    @property
    def subcommand(self) -> Token:
        return self.tokens[self.sub_index]

    @property
    def name(self) -> str:
        return self.subcommand.text or ""

    @property
    def top_level(self) -> list[Token]:
        return self.tokens[: self.sub_index]

    @property
    def arguments(self) -> list[Token]:
        return self.tokens[self.sub_index + 1 :]

    @property
    def options(self) -> list[Option]:
        if self._options is None:
            self._options = list(_parse_options(self.top_level, True)) + list(
                _parse_options(self.arguments, False)
            )
        return self._options

    def option(self, name: str) -> Optional[Option]:
        return next((o for o in self.options if o.name == name), None)

    def presence(self, name: str) -> Presence:
        found = [o for o in self.options if o.name == name]
        if any(not o.conditional for o in found):
            return Presence.EVERY
        return Presence.SOME if found else Presence.NONE

    def has_option(self, name: str) -> bool:
        """The command passes the option on some path at least: how every rule that asks
        "is it missing" reads a conditional option (``if branch: cmd += ["--branch", b]``)."""
        return self.presence(name) is not Presence.NONE

    @property
    def top_level_complete(self) -> bool:
        """True when every word before the subcommand is visible: no spreads, and no unknown
        word that could hold options (a word taken as an option's value is fine)."""
        if any(t.spread for t in self.top_level):
            return False
        values = {id(v) for o in self.options if o.top_level for v in o.values}
        return not any(
            tok.text.startswith(HOLE) and tok.expr is None and id(tok) not in values
            for tok in self.top_level
            if not tok.is_option()
        )

    @property
    def complete(self) -> bool:
        return self.top_level_complete and not any(t.spread for t in self.arguments)


def _parse_options(tokens: list[Token], top_level: bool) -> Iterator[Option]:
    """Options the way click reads them: ``--opt=value``, flags, and options that take one
    value (or ``nargs`` values, like ``--config NAME PATH``)."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name = tok.option_name
        i += 1
        if name is None:
            continue
        if "=" in tok.text:
            yield Option(name, tok, None, tok.text.split("=", 1)[1], top_level)
            continue
        if name in contract.FLAGS:
            yield Option(name, tok, None, None, top_level)
            continue
        values: list[Token] = []
        while len(values) < contract.NARGS.get(name, 1) and i < len(tokens):
            nxt = tokens[i]
            if nxt.spread or nxt.is_option():
                break
            values.append(nxt)
            i += 1
        yield Option(name, tok, values[0] if values else None, None, top_level, values)


# -- recognising Metaflow invocations ---------------------------------------------------------


def _subcommand_index(tokens: list[Token]) -> Optional[int]:
    """Index of the ``step``/``init``/``run``/``resume`` word when the words are a Metaflow
    invocation: ``step``/``init`` followed by a task option, ``run``/``resume`` after a .py file."""
    for i, tok in enumerate(tokens):
        if tok.text not in contract.SUBCOMMANDS:
            continue
        prev = tokens[i - 1] if i else None
        if (
            prev is not None
            and prev.is_option()
            and "=" not in prev.text
            and prev.option_name not in contract.FLAGS
        ):
            continue  # the word is the value of the option before it
        rest = tokens[i + 1 :]
        if tok.text in ("step", "init"):
            if any(t.option_name in contract.TASK_OPTIONS for t in rest):
                return i
        elif any(t.known and t.text.endswith(".py") for t in tokens[:i]) or _runs_flow_variable(
            tokens[:i]
        ):
            return i
    return None


# Top-level options no other program's command line takes before ``run``/``resume``.
_FLOW_ONLY_TOP_LEVEL = frozenset(
    {"--no-pylint", "--datastore", "--datastore-root", "--environment", "--package-suffixes"}
)
_INTERPRETER = re.compile(r"(?:^|/)(?:python[\d.]*|pypy3?)(?:\.exe)?$")


def _runs_flow_variable(words: list[Token]) -> bool:
    """``python <flow file> [options]`` with the flow file in a variable: the interpreter,
    then one computed word that is a flow file, by its variable's name (``obj.flow_file``)
    or by a top-level option only Metaflow's flow command line takes (``--no-pylint``).
    Other tools' ``run`` (``docker run``, ``poetry run``, ``python -m x run``) have no such
    word after the interpreter."""
    for i, word in enumerate(words[:-1]):
        if not _is_interpreter(word):
            continue
        script = words[i + 1]
        if script.text != HOLE or script.expr is None:
            return False
        name = (dotted_name(script.expr) or "").rsplit(".", 1)[-1]
        rest = words[i + 2 :]
        expect_value = False
        for word in rest:
            if word.is_option():
                expect_value = "=" not in word.text and word.option_name not in contract.FLAGS
            elif not expect_value and word.known:
                return False  # a positional word between the file and ``run``: not the flow's
            else:
                expect_value = False
        return _names_a_flow(name) or any(w.option_name in _FLOW_ONLY_TOP_LEVEL for w in rest)
    return False


# The words of a variable name (snake_case or camelCase), so ``workflow_file`` is not a flow.
_NAME_WORDS = re.compile(r"_+|(?<=[a-z0-9])(?=[A-Z])")


def _names_a_flow(name: str) -> bool:
    """``flow_file``, ``flowPath``, ``flowfile``: a name with the word flow (not a word that
    merely contains it, like ``workflow``)."""
    words = [w.lower() for w in _NAME_WORDS.split(name) if w]
    return any(w == "flow" or (w.startswith("flow") and w[4:] in ("file", "path")) for w in words)


def _is_interpreter(word: Token) -> bool:
    if word.known:
        return bool(_INTERPRETER.search(word.text))
    return word.expr is not None and dotted_name(word.expr) == "sys.executable"


def _make_command(tokens, kind, anchor, function, template=None) -> Optional[Command]:
    index = _subcommand_index(tokens)
    if index is None:
        return None
    if kind == "string" and not _invocation_prefix(tokens[:index]):
        return None  # prose that happens to mention "step" and an option, not a command line
    tokens = list(tokens)
    if index == 0:
        # Only the subcommand part is built here (``step_args = ["step", name, ...]``); the
        # program and top-level options come from elsewhere: unknown, not absent.
        tokens.insert(0, Token(None, tokens[0].span, tokens[0].node))
        index = 1
    return Command(tokens, index, kind, anchor, function, template)


# Words that may precede the interpreter on a shell line.
_LAUNCHERS = frozenset({"exec", "env", "nohup", "time", "command"})


def _invocation_prefix(words: list[Token]) -> bool:
    """The words before the subcommand read as ``[VAR=x] python flow.py [options]``: every
    word is a launcher, an assignment, the interpreter, a path, a template field, an option
    or an option's value. A plain English word means prose."""
    if not words:
        return False
    expect_value = False
    for word in words:
        text = word.text or HOLE
        if expect_value:
            expect_value = False
            continue
        if word.is_option():
            expect_value = "=" not in text and word.option_name not in contract.FLAGS
            continue
        if (
            HOLE in text
            or text in _LAUNCHERS
            or text.startswith(("$", "{", "%", "/", "./", "~"))
            or "python" in text
            or ".py" in text
            or "=" in text
        ):
            continue
        return False
    return True


# -- strings ----------------------------------------------------------------------------------


def _template_words(module: ModuleModel, template: Template) -> list[list[Token]]:
    """Shell commands in a template, as lists of Tokens with spans in the real file."""
    out = []
    for words in split_commands(template.text):
        tokens = []
        for word in words:
            token = _word_token(module, template, word.text, word.start, word.end)
            token.conditional = token.conditional or word.conditional
            tokens.append(token)
        out.append(tokens)
    return out


def _word_token(module, template: Template, text: str, start: int, end: int) -> Token:
    span = _chars_span(module, template, start, end)
    expr = _hole_expr(template, text, start, end)
    return Token(text, span, template.node, expr, template.is_conditional(start, end))


def _hole_expr(template: Template, text: str, start: int, end: int) -> Optional[ast.expr]:
    """The expression a word that is one hole stands for (None for other words)."""
    if text != HOLE:
        return None
    return template.hole_expr(
        start if template.text[start] == HOLE else _first_hole(template, start, end)
    )


def _first_hole(template: Template, start: int, end: int) -> int:
    found = template.text.find(HOLE, start, end)
    return found if found >= 0 else start


def _chars_span(module, template: Template, start: int, end: int) -> Span:
    return template.span(module, start, end) or module.span(template.node)


# -- lists ------------------------------------------------------------------------------------


class _ListBuilder:
    """Follows list variables through one function body, statement by statement."""

    def __init__(self, module: ModuleModel, function, depth: int = 0) -> None:
        self.module = module
        self.function = function
        self.depth = depth
        self.lists: dict[str, tuple[list[Token], ast.AST]] = {}
        self.line_lists: set[str] = _lines_variables(module).get(function, set())
        self.fragment_lists: set[str] = source_fragment_lists(module).get(function, set())
        self.found: list[Command] = []
        self.emitted: list[list[Token]] = []  # every finished word list, command or not
        self.consumed: set[int] = set()  # ids of list nodes already part of a tracked list
        self.returned: Optional[list[Token]] = None
        # ``" ".join(parts)`` (any separator, ``shlex.join``) of a tracked list: its words at
        # that point, by the id of the join call (a string that pastes them elsewhere).
        self.joined: dict[int, list[Token]] = {}
        self.finished: dict[str, list[Token]] = {}  # each list's words when it was done
        self.helpers: dict[int, Optional[tuple[ModuleModel, list[Token]]]] = {}  # by call id
        # Whether the run asked for a helper's words (the inline depth then plays a part), and
        # whether every helper asked had its words worked out (see ``_built``).
        self.asked = False
        self.exact = True
        shape = _shape(module)
        self.relevant = shape.relevant
        self.hot = shape.hot

    # public ----------------------------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> None:
        self._block(body, False)
        for name in list(self.lists):
            self._finish(name)

    # statements ------------------------------------------------------------------------------
    def _block(self, body: Iterable[ast.stmt], conditional: bool) -> None:
        hot = self.hot
        for stmt in body:
            if id(stmt) in hot or (self.lists and self._names_a_list(stmt)):
                self._statement(stmt, conditional)

    def _names_a_list(self, stmt: ast.stmt) -> bool:
        """Whether a statement that is not hot (no list literal, ``+``, join or possible
        helper call in it: see ``_Shape.hot``) can still change what the builder follows:
        it binds, extends or returns a followed list, or holds statements that may. The
        others would make ``_statement`` do nothing."""
        lists = self.lists
        kind = stmt.__class__
        if kind is ast.Assign or kind is ast.AnnAssign:
            target = stmt.targets[0] if kind is ast.Assign else stmt.target
            value = stmt.value
            return value is not None and (
                (target.__class__ is ast.Name and target.id in lists) or _is_listish(value, lists)
            )
        if kind is ast.AugAssign:
            return stmt.target.__class__ is ast.Name and stmt.target.id in lists
        if kind is ast.Expr:
            func = getattr(stmt.value, "func", None)
            return (
                func.__class__ is ast.Attribute
                and func.value.__class__ is ast.Name
                and func.value.id in lists
            )
        if kind is ast.Return:
            return stmt.value is not None and _is_listish(stmt.value, lists)
        return kind in _COMPOUND

    def _statement(self, stmt: ast.stmt, cond: bool) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            self._assign(stmt.targets[0], stmt.value, cond)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self._assign(stmt.target, stmt.value, cond)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            target = stmt.target
            if isinstance(target, ast.Name) and target.id in self.lists:
                self._extend(target.id, self._expand(stmt.value, cond), stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            if not self._mutation(stmt.value, cond):
                self._expressions(stmt, cond)
        elif isinstance(stmt, ast.Return) and stmt.value is not None:
            if self._listish(stmt.value):
                self.returned = self._expand(stmt.value, cond)
                if not (isinstance(stmt.value, ast.Name) and stmt.value.id in self.lists):
                    self._emit(self.returned, stmt.value)
                self._mark(stmt.value)
            self._expressions(stmt, cond)
        elif isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
            self._expressions_of(
                stmt.test if isinstance(stmt, (ast.If, ast.While)) else stmt.iter, cond
            )
            self._block(stmt.body, True)
            self._block(stmt.orelse, True)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self._expressions_of(item.context_expr, cond)
            self._block(stmt.body, cond)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._block(stmt.body, cond)
            for handler in stmt.handlers:
                self._block(handler.body, True)
            self._block(stmt.orelse, True)
            self._block(stmt.finalbody, cond)
        elif hasattr(ast, "Match") and isinstance(stmt, ast.Match):
            for case in stmt.cases:
                self._block(case.body, True)
        else:
            self._expressions(stmt, cond)

    def _assign(self, target: ast.expr, value: ast.expr, cond: bool) -> None:
        if not isinstance(target, ast.Name) or target.id in self.line_lists:
            self._expressions_of(value, cond)
            return
        name = target.id
        if self._listish(value):
            tokens = self._source(name, self._expand(value, cond))
            self._mark(value)
            if name in self.lists and _refers_to(value, name):
                self.lists[name] = (tokens, self.lists[name][1])
                return
            if name in self.lists:
                self._finish(name)
            self.lists[name] = (tokens, value)
            return
        self._expressions_of(value, cond)
        if name in self.lists:
            self._finish(name)

    def _mutation(self, call: ast.Call, cond: bool) -> bool:
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return False
        name = func.value.id
        if name not in self.lists or func.attr not in ("append", "extend", "insert"):
            return False
        tokens, _ = self.lists[name]
        if func.attr == "append" and len(call.args) == 1:
            self._extend(name, self._element(call.args[0], cond, None, None), call.args[0])
        elif func.attr == "extend" and len(call.args) == 1:
            self._extend(name, self._expand(call.args[0], cond), call.args[0])
        elif func.attr == "insert" and len(call.args) == 2:
            position = values_of(self.module).const(call.args[0])
            new = self._element(call.args[1], cond, None, None)
            if (
                isinstance(position, int)
                and not isinstance(position, bool)
                and 0 <= position <= len(tokens)
                and not any(t.spread for t in tokens[:position])
            ):
                tokens[position:position] = new
            else:
                tokens.extend(replace(t, text=None) for t in new)
        else:
            return False
        return True

    def _extend(self, name: str, new: list[Token], value: ast.AST) -> None:
        self.lists[name][0].extend(self._source(name, new))
        self._mark(value)

    def _source(self, name: str, tokens: list[Token]) -> list[Token]:
        """The words of a list of Python source fragments (see ``source_fragment_lists``):
        a quoted literal (``'"step"'``) is its word, ``repr(x)`` the value of ``x``, any other
        fragment (``'sys.executable'``) an expression whose value is one word, or any number of
        words when starred."""
        if name not in self.fragment_lists:
            return tokens
        out = []
        for tok in tokens:
            node = tok.expr
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "repr"
                and len(node.args) == 1
                and not node.keywords
            ):
                out.append(replace(tok, expr=node.args[0]))  # the literal of the value itself
                continue
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                out.append(tok)
                continue
            try:
                word = ast.literal_eval(node.value.strip())
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                word = None
            if isinstance(word, str):
                out.append(replace(tok, text=word))
            elif node.value.strip().startswith("*"):
                out.append(replace(tok, text=None))
            else:
                out.append(replace(tok, text=HOLE))
        return out

    def _finish(self, name: str) -> None:
        tokens, anchor = self.lists.pop(name)
        self.finished.setdefault(name, tokens)
        self._emit(tokens, anchor)

    def _emit(self, tokens: list[Token], anchor: ast.AST) -> bool:
        self.emitted.append(tokens)
        command = _make_command(tokens, "list", anchor, self.function)
        if command is not None:
            self.found.append(command)
        return command is not None

    # expressions -----------------------------------------------------------------------------
    def _expressions(self, stmt: ast.stmt, cond: bool) -> None:
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self._expressions_of(child, cond)

    def _expressions_of(self, expr: Optional[ast.expr], cond: bool) -> None:
        """Stand-alone list commands inside an expression, e.g. ``subprocess.run([...])``."""
        relevant = self.relevant
        if expr is None or id(expr) not in relevant:
            return  # no list literal, ``+`` or join inside: nothing to find (see ``_shape``)
        todo = [expr]
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.Lambda,)):
                continue
            joined = joined_name(node)
            if joined in self.lists:
                self.joined[id(node)] = [
                    replace(t, conditional=t.conditional or cond) for t in self.lists[joined][0]
                ]
            if (
                id(node) not in self.consumed
                and isinstance(node, (ast.List, ast.BinOp))
                and _is_listish(node, self.lists)
                and not self._is_lines(node)
            ):
                emitted = self._emit(self._expand(node, cond), node)
                self._mark(node)
                if emitted:
                    continue
            todo.extend(c for c in ast.iter_child_nodes(node) if id(c) in relevant)

    def _is_lines(self, node: ast.AST) -> bool:
        parent = self.module.parent(node)
        return _is_newline_join(parent)

    def _listish(self, node: ast.AST) -> bool:
        """A list literal, list arithmetic, a tracked list, or a helper that returns a list."""
        if _is_listish(node, self.lists):
            return True
        return isinstance(node, ast.Call) and self._helper_words(node) is not None

    def _mark(self, node: ast.AST) -> None:
        """Record the list literals and ``+`` inside ``node`` as consumed. Only the relevant
        nodes (see ``_Shape``) can hold them: the walk goes down those alone."""
        relevant = self.relevant
        if id(node) not in relevant:
            return
        consumed = self.consumed
        todo = [node]
        while todo:
            sub = todo.pop()
            if sub.__class__ is ast.List or sub.__class__ is ast.BinOp:
                consumed.add(id(sub))
            todo.extend(c for c in ast.iter_child_nodes(sub) if id(c) in relevant)

    def _expand(self, node: ast.expr, cond: bool) -> list[Token]:
        """The words of a list-valued expression; unknown parts become spreads."""
        module = self.module
        if isinstance(node, ast.List):
            tokens: list[Token] = []
            for index, elt in enumerate(node.elts):
                tokens.extend(self._element(elt, cond, node, index))
            return tokens
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._expand(node.left, cond) + self._expand(node.right, cond)
        if isinstance(node, ast.Name) and node.id in self.lists:
            return [replace(t, conditional=t.conditional or cond) for t in self.lists[node.id][0]]
        if isinstance(node, ast.Name) and self.function is not None:
            words = _constant_list(module, node)
            if words is _UNFINISHED:
                self.exact = False  # (a run of this scope at another time may get them)
            elif words is not None:
                return [replace(t, conditional=t.conditional or cond) for t in words]
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in ("list", "tuple") and len(node.args) == 1:
                return self._expand(node.args[0], cond)
            inlined = self._inline(node, cond)
            if inlined is not None:
                return inlined
        if isinstance(node, ast.IfExp):
            return [replace(t, conditional=True) for t in self._expand(node.body, cond)] + [
                replace(t, conditional=True) for t in self._expand(node.orelse, cond)
            ]
        return [Token(None, module.span(node), node, node, cond)]

    def _element(self, elt: ast.expr, cond: bool, container, index) -> list[Token]:
        module = self.module
        if isinstance(elt, ast.Starred):
            return self._expand(elt.value, cond)
        if module.is_placeholder(elt):
            return [Token(None, module.span(elt), elt, elt, cond)]  # a hole: any number of words
        if is_stringish(elt):
            template = template_of(module, elt)
            if template is not None:
                # The words' places in the template are read only for a two-word element:
                # one word is the whole element, more are one command word of their own.
                commands = split_commands(template.text)
                words = [w for c in commands for w in c]
                if len(commands) == 1 and len(words) == 1:
                    text, start, end = words[0].text, words[0].start, words[0].end
                    hole = HOLE in text
                    expr = _hole_expr(template, text, start, end) if hole else elt
                    span = module.span(elt)
                    return [Token(text, span, template.node, expr, cond, container, index)]
                if len(words) <= 2:
                    tokens = [_word_token(module, template, w.text, w.start, w.end) for w in words]
                    for token in tokens:
                        token.conditional = cond  # (as the element is: its words are new)
                    return tokens
                # A whole command line inside one argv word (``bash -c "..."``) is its own command.
                return [Token(HOLE, module.span(elt), elt, elt, cond, container, index)]
            if isinstance(elt, ast.Constant):
                return [Token(elt.value, module.span(elt), elt, elt, cond, container, index)]
        return [Token(HOLE, module.span(elt), elt, elt, cond, container, index)]

    def _inline(self, call: ast.Call, cond: bool) -> Optional[list[Token]]:
        """Words a same-module helper (``self._base_command()``) returns, if it returns a list."""
        found = self._helper_words(call)
        if found is None:
            return None
        owner, returned = found
        if owner is not self.module:
            # Words of another module: they keep their place there (its findings are its own).
            return [
                replace(t, span=_in_file(t.span, owner), conditional=t.conditional or cond)
                for t in returned
            ]
        return [replace(t, conditional=t.conditional or cond) for t in returned]

    def _helper_words(self, call: ast.Call) -> Optional[tuple[ModuleModel, list[Token]]]:
        """The module of the helper ``call`` calls and the words it returns (None: not a
        helper that returns a list), found once per call: ``_listish`` asks before ``_expand``
        reads the words."""
        key = id(call)
        if key not in self.helpers:
            self.helpers[key] = self._find_helper_words(call)
        return self.helpers[key]

    def _find_helper_words(self, call: ast.Call) -> Optional[tuple[ModuleModel, list[Token]]]:
        self.asked = True
        if self.depth >= _MAX_INLINE_DEPTH:
            return None
        func = call.func
        names = _call_names(func)
        if names is None:
            return None
        defs = self.module.functions.get(names[0], [])
        owner = self.module
        if not defs:
            if not _may_import_helper(self.module, func, names[1]):
                return None  # what the dearer lookup below would find: no one function
            owner, defs = values_of(self.module).imported_function(func)
        if len(defs) != 1:
            return None
        returned = _helper_returned(owner, defs[0], self.depth + 1)
        if returned is _UNFINISHED:
            self.exact = False  # (a run of this scope at another time may get its words)
            return None
        return None if returned is None else (owner, returned)


# Statements that hold statements: what a builder follows may change inside them.
_COMPOUND = frozenset(
    getattr(ast, name)
    for name in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match")
    if hasattr(ast, name)
)


# -- where lists can be built ----------------------------------------------------------------
# A _ListBuilder finds words only where a list literal is, or a helper's list is inlined; most
# functions have neither, and most expressions hold no list, ``+`` or join. These structural
# facts let the builders skip them: what is skipped could add nothing, and no helper's words
# are asked for that a builder would not have asked for (their cache keeps its order).


@dataclass
class _Shape:
    # Ids of the expressions (and their parts: keywords, comprehensions) that are or hold a
    # list literal, a ``+`` or a ``"...".join(name)``: the only ones ``_expressions_of`` reads.
    relevant: set[int]
    # The scopes (functions; None: the module level) with a list literal of their own.
    with_lists: set[Optional[ast.AST]]
    # The scopes with a call that may name a helper whose words ``_inline`` would ask for (the
    # one function of that name in the module, or, when the module has none, an imported
    # name: which module that is, is asked only where a builder needs it), where a builder
    # reads them (see ``_words_read``).
    with_helpers: set[Optional[ast.AST]]
    # Ids of the nodes above a list literal, ``+``, join or possible helper call, up to (not
    # including) its function: the "hot" statements. A builder reads the others only when
    # they name a list it follows (see ``_ListBuilder._names_a_list``).
    hot: dict[int, Optional[ast.AST]]


@per_module
def _shape(module: ModuleModel) -> _Shape:
    relevant: set[int] = set()
    scopes: dict[int, Optional[ast.AST]] = {}
    shape = _Shape(relevant, set(), set(), scopes)
    parent = module.parent
    functions = module.functions
    imported_names = module.imported_names
    seeds: list[ast.AST] = [n for n in module.nodes_of(ast.BinOp) if n.op.__class__ is ast.Add]
    for node in seeds:
        _scope(module, node, scopes)  # the statements above it are hot
    for node in module.nodes_of(ast.List):
        shape.with_lists.add(_scope(module, node, scopes))
        seeds.append(node)
    for call in module.nodes_of(ast.Call):
        func = call.func
        joined = func.__class__ is ast.Attribute and func.attr == "join"
        if joined and joined_name(call) is not None:
            _scope(module, call, scopes)
            seeds.append(call)
        names = _call_names(func)
        if names is None:
            continue
        defs = functions.get(names[0])
        if (len(defs) == 1 if defs else names[1] in imported_names) and _words_read(module, call):
            shape.with_helpers.add(_scope(module, call, scopes))
    for node in seeds:
        current = node
        while current is not None and id(current) not in relevant:
            if current.__class__ in _STATEMENTS:
                break
            relevant.add(id(current))
            current = parent(current)
    return shape


def _words_read(module: ModuleModel, call: ast.Call) -> bool:
    """Whether a builder can ask ``_inline`` for the words of ``call``: the call is, through
    ``list()``, ``tuple()`` and the branches of conditional expressions, the value of an
    assignment or a ``return``, the argument of ``extend``, or a part of a ``+`` or of a
    ``*`` unpacking (the only places ``_listish`` and ``_expand`` read). Elsewhere (a call
    made for its effect, an argument, a condition) no builder reads its words."""
    parent = module.parent
    node: ast.AST = call
    above = parent(node)
    while True:
        kind = above.__class__
        if kind is ast.Starred or (kind is ast.BinOp and above.op.__class__ is ast.Add):
            return True
        if (kind is ast.IfExp and node is not above.test) or (
            kind is ast.Call
            and above.func.__class__ is ast.Name
            and above.func.id in ("list", "tuple")
            and node in above.args
        ):
            node, above = above, parent(above)
            continue
        break
    if kind in (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return):
        return above.value is node
    return (
        kind is ast.Call
        and above.func.__class__ is ast.Attribute
        and above.func.attr == "extend"
        and node in above.args
    )


def _scope(module: ModuleModel, node: ast.AST, known: dict[int, Optional[ast.AST]]):
    """The function ``node`` is in (like ``enclosing_function``), remembering it for every
    node on the way up in ``known``, so a module's nodes are each walked past once."""
    path = []
    parent = module.parent
    current = parent(node)
    while current is not None and current.__class__ not in _FUNCTIONS:
        if id(current) in known:
            current = known[id(current)]
            break
        path.append(current)
        current = parent(current)
    for passed in path:
        known[id(passed)] = current
    return current


def _builds_lists(module: ModuleModel, scope: Optional[ast.AST]) -> bool:
    """A builder over ``scope`` can find a list: it has a list literal, or a call that may
    name a helper (see ``_Shape``)."""
    shape = _shape(module)
    return scope in shape.with_lists or scope in shape.with_helpers


def _call_names(func: ast.expr) -> Optional[tuple[str, str]]:
    """For a call of ``func`` that ``_inline`` follows (None for the others): the function
    name it looks up in the module (``helper()`` and ``self.helper()``: helper; ""
    for ``common.helper()``, a function of another module), and the name an import would bind
    for ``imported_function`` to follow the call (helper of ``helper()``, common of
    ``common.helper()``). (Parsed trees hold no subclasses of the node classes.)"""
    kind = func.__class__
    if kind is ast.Name:
        return func.id, func.id
    if kind is ast.Attribute and func.value.__class__ is ast.Name:
        bound = func.value.id
        return (func.attr if bound in ("self", "cls") else ""), bound
    return None


# The node classes of statements and of functions (see ``_call_names``).
_STATEMENTS = frozenset(
    c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.stmt)
)
_FUNCTIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef})


def _may_import_helper(module: ModuleModel, func: ast.expr, name: str) -> bool:
    """Necessary for ``_inline`` to find words where ``imported_function`` leads: an import
    of the module binds the called name (``name``, see ``_call_names``) to a project module
    with a function of that name at its top level, one that can build a list. Cheaper than
    the scope lookup that tells which binding the call reads."""
    if name not in module.imported_names:
        return False
    return _imports_helper(module, name, func.attr if isinstance(func, ast.Attribute) else None)


@per_module
def _imports_helper(module: ModuleModel, name: str, attribute: Optional[str]) -> bool:
    for statement in module.imports_by_name.get(name, ()):
        # Necessary for the answer below, asked before any file is parsed: a file the import
        # may name holds the kind of thing called and can define the called function.
        if not any(
            (defined is None) != (attribute is None)
            and _may_define(module, path, defined or attribute)
            for path, defined in import_candidates(module, statement, name)
        ):
            continue
        found = imported(module, statement, name)
        if found is None:
            continue
        other, defined = found
        if (defined is None) == (attribute is None):
            continue  # a module called, or an attribute of a function: not followed
        wanted = defined or attribute
        if any(
            isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.name == wanted
            and _builds_lists(other, f)
            for f in other.tree.body
        ):
            return True
    return False


def _may_define(module: ModuleModel, path: Path, name: str) -> bool:
    """False when the project file ``path`` defines no function ``name``: no ``def`` is
    followed by the name in its text, read the way the parser reads identifiers."""
    text = _identifier_text(module, path)
    return text is not None and _def_of(text, name.encode())


@per_module
def _identifier_text(module: ModuleModel, path: Path) -> Optional[bytes]:
    """The text of the project file ``path`` as UTF-8 bytes in which every identifier is
    spelt as the parser names it (None: unreadable or undecodable, so not parsed either).
    An ASCII file without a coding declaration is its bytes. Any other is decoded as
    Python decodes it (BOM, PEP 263) and NFKC-normalised, as the parser normalises each
    identifier: ``def`` and the blanks and ``(`` around a function's name are ASCII, which
    the normalisation keeps apart from the name, so a name the parser reads is there."""
    raw = module.project.source_bytes(path)
    if raw is None:
        return None
    first = raw.find(b"\n")
    second = raw.find(b"\n", first + 1) if first >= 0 else -1
    if raw.isascii() and b"coding" not in (raw if second < 0 else raw[:second]):
        return raw  # (a coding declaration sits on one of the first two lines)
    try:
        text = Source.from_bytes(raw).text
    except DecodeError:
        return None
    return unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")


_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _def_of(raw: bytes, name: bytes) -> bool:
    """``def`` and ``name`` in ``raw``, apart by blanks and line continuations only (all the
    tokenizer lets stand between them), the name ending there. Each place the name is
    written is read backwards: a search for the name is much cheaper than a pattern."""
    at = raw.find(name)
    while at >= 0:
        end = at + len(name)
        if end == len(raw) or raw[end] not in _WORD_BYTES:
            i = at
            while True:
                if i > 0 and raw[i - 1] in b" \t\f":
                    i -= 1
                elif i > 1 and raw[i - 1] in b"\r\n" and raw[i - 2] == 92:  # a backslash
                    i -= 2
                elif i > 2 and raw[i - 3 : i] == b"\\\r\n":
                    i -= 3
                else:
                    break
            if (
                3 <= i < at
                and raw[i - 3 : i] == b"def"
                and (i == 3 or raw[i - 4] not in _WORD_BYTES)
            ):
                return True
        at = raw.find(name, at + 1)
    return False


def _in_file(span: Span, module: ModuleModel) -> Span:
    """The span, marked as lying in ``module``'s file (unless it is marked already)."""
    if span.file is not None or module.path is None:
        return span
    return Span(span.start, span.end, str(module.path))


def _returned_words(module: ModuleModel, function, depth: int) -> Optional[list[Token]]:
    words = _helper_returned(module, function, depth)
    return None if words is _UNFINISHED else words


# What a helper returns while its words are still being worked out (a recursive call).
_UNFINISHED: list[Token] = []


def _helper_returned(module: ModuleModel, function, depth: int) -> Optional[list[Token]]:
    """The words ``function`` returns, or ``_UNFINISHED`` (see ``_built``)."""
    # Keyed by the function alone (the first depth that asks wins).
    cache = module.analyses.setdefault(_returned_words, {})
    if function not in cache:
        cache[function] = _UNFINISHED  # guards against recursion
        if not _builds_lists(module, function):
            cache[function] = None
        else:
            cache[function] = _built(module, function, depth).returned
    return cache[function]


def _built(module: ModuleModel, function: Optional[FunctionNode], depth: int) -> _ListBuilder:
    """A builder run over ``function``'s body (None: the module's own statements) at
    ``depth``. A run that was given every helper's words it asked for (no helper still being
    worked out) is kept and stands for the later runs on the same side of the inline limit:
    those ask the same helpers, whose words are then known and the same (they are kept once
    found, by function), so they find the same lists. A run that asked for no helper's words
    stands for the runs at every depth."""
    kept = module.analyses.setdefault(_built, {})
    beyond = depth >= _MAX_INLINE_DEPTH
    builder = kept.get((function, beyond))
    if builder is None:
        builder = _ListBuilder(module, function, depth)
        builder.run(function.body if function is not None else module.tree.body)
        builder.helpers.clear()  # (only the run reads them)
        if builder.exact:
            kept[(function, beyond)] = builder
            if not builder.asked:
                kept.setdefault((function, not beyond), builder)
    return builder


def returned_words(module: ModuleModel, function: FunctionNode) -> Optional[list[Token]]:
    """The words of the list a helper of the module returns (None: not a list it builds)."""
    return _returned_words(module, function, 1)


def word_lists(module: ModuleModel, function: FunctionNode) -> list[list[Token]]:
    """Every word list a function builds, whether or not it reads as a Metaflow command yet
    (``parts += ["step", name]`` whose task options are added later in a string)."""
    if not _builds_lists(module, function):
        return []
    return _built(module, function, 0).emitted


def joined_name(node: ast.AST) -> Optional[str]:
    """``x`` of ``"<separator>".join(x)`` or ``shlex.join(x)`` for a bare name ``x``."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Name)
    ):
        return None
    joiner = node.func.value
    if (isinstance(joiner, ast.Constant) and isinstance(joiner.value, str)) or (
        isinstance(joiner, ast.Name) and joiner.id == "shlex"
    ):
        return node.args[0].id
    return None


@per_module
def joined_words(module: ModuleModel, call: ast.Call) -> Optional[list[Token]]:
    """The words of the list that ``call`` (``" ".join(parts)``, ``shlex.join(parts)``)
    joins, as they stand there; None when the list is not one the command model follows."""
    function = module.enclosing_function(call)
    return (_joins_in(module, function) or {}).get(id(call))


@per_module
def _joins_in(module: ModuleModel, function: Optional[FunctionNode]) -> dict[int, list[Token]]:
    if not _builds_lists(module, function):
        return {}
    return _built(module, function, 0).joined


def _constant_list(module: ModuleModel, name: ast.Name) -> Optional[list[Token]]:
    """The words of a module-level list that ``name`` reads, when nothing changes the list
    (``TOP_ARGS = [...]`` read by the functions that build commands, e.g. in generated code
    where the generator wrote the list out). ``_UNFINISHED`` while the module's lists are
    being followed (a helper that reads one is called at the module level): not known yet."""
    scope, bindings = values_of(module).lookup(name.id, name)
    if scope is not module.tree or len(bindings) != 1 or not isinstance(bindings[0], Assigned):
        return None
    lists = _module_lists(module)
    return _UNFINISHED if lists is None else lists.get(name.id)


@per_module
def _module_lists(module: ModuleModel) -> dict[str, list[Token]]:
    """Module-level list variables that are only read, by name, with their words."""
    if not any(
        isinstance(s, (ast.Assign, ast.AnnAssign)) and _is_listish(s.value, {})
        for s in module.tree.body
    ):
        return {}
    finished = _built(module, None, 0).finished
    return {name: words for name, words in finished.items() if _only_read(module, name)}


# Calls that read a list they are given without changing it.
_LIST_READERS = frozenset(
    {"list", "tuple", "len", "enumerate", "sorted", "set", "iter", "any", "all", "zip", "join"}
)


def _only_read(module: ModuleModel, name: str) -> bool:
    """Every use of the module-level ``name`` reads it: no method called on it, no item set,
    no ``global`` rebinding, not handed to code that could change it."""
    for node in module.nodes:
        if isinstance(node, ast.Global) and name in node.names:
            return False
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = module.parent(node)
        if isinstance(parent, (ast.Attribute, ast.keyword)):
            return False
        if isinstance(parent, ast.Subscript) and not isinstance(parent.ctx, ast.Load):
            return False
        if isinstance(parent, ast.Call) and call_name(parent) not in _LIST_READERS:
            return False
    return True


def _is_listish(node: ast.AST, lists: dict) -> bool:
    if isinstance(node, ast.List):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_listish(node.left, lists) or _is_listish(node.right, lists)
    if isinstance(node, ast.Name):
        return node.id in lists
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list":
        return len(node.args) == 1 and _is_listish(node.args[0], lists)
    return False


def _refers_to(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _is_newline_join(node: Optional[ast.AST]) -> bool:
    """Lines joined into text (``"\\n".join(lines)``, ``writelines``); a comma and a line
    break (``",\\n    ".join(parts)``) joins a list's elements, one per line, instead."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("join", "writelines")
        and (
            node.func.attr == "writelines"
            or (
                isinstance(node.func.value, ast.Constant)
                and "\n" in str(node.func.value.value)
                and str(node.func.value.value).strip() != ","
            )
        )
    )


@per_module
def source_fragment_lists(module: ModuleModel) -> dict[Optional[ast.AST], set[str]]:
    """Per function (None: module level), list variables of Python source fragments: joined
    with ``", "`` into the brackets of a list literal in generated code (``"cmd = [%s]" %
    ", ".join(args)``), or among the elements of one (``[sys.executable, %(top)s, ...]``
    filled with a helper's ``return ", ".join(args)``): each piece is one element there."""
    return {scope: set(names) for scope, names in _fragment_pastes(module).items()}


@per_module
def whole_fragment_lists(module: ModuleModel) -> dict[Optional[ast.AST], set[str]]:
    """The source fragment lists pasted as a whole list (``[%s]``): the generated list holds
    exactly these pieces, nothing completes it where it is pasted."""
    return {
        scope: {name for name, whole in names.items() if whole}
        for scope, names in _fragment_pastes(module).items()
    }


@per_module
def _fragment_pastes(module: ModuleModel) -> dict[Optional[ast.AST], dict[str, bool]]:
    out: dict[Optional[ast.AST], dict[str, bool]] = {}
    for node in module.nodes_of(ast.Call):
        if not (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and str(node.func.value.value).strip() == ","
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
        ):
            continue
        pastes = [_paste_kind(module, user) for user in _result_users(module, node)]
        if any(kind is not None for kind in pastes):
            scope = module.enclosing_function(node)
            names = out.setdefault(scope, {})
            names[node.args[0].id] = names.get(node.args[0].id, False) or "whole" in pastes
    return out


def _result_users(module: ModuleModel, node: ast.expr) -> list[ast.expr]:
    """Where the value of ``node`` is pasted: the expression itself, or, when a helper of
    the module returns it, each call of that helper."""
    parent = module.parent(node)
    if not isinstance(parent, ast.Return):
        return [node]
    function = module.enclosing_function(parent)
    if function is None:
        return []
    return [
        call
        for call in module.calls_by_name.get(function.name, ())
        if module.local_function(call) is function
    ]


def _paste_kind(module: ModuleModel, node: ast.expr) -> Optional[str]:
    """How ``node`` fills a hole of a string template: as the whole of a list literal
    (``[%s]``: "whole"), or, in generated code, as elements among the others of one
    ("among"); None otherwise."""
    outer: ast.AST = node
    parent = module.parent(outer)
    while parent is not None and (
        isinstance(parent, (ast.FormattedValue, ast.Tuple, ast.Dict, ast.keyword))
        or is_stringish(parent)
        or (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod))
        or (isinstance(parent, ast.Call) and call_name(parent) == "format")
    ):
        outer, parent = parent, module.parent(parent)
    template = template_of(module, outer) if isinstance(outer, ast.expr) else None
    if template is None:
        return None
    holes = [i for i, c in enumerate(template.text) if c == HOLE]
    pasted = [h for h, e in zip(holes, template.exprs) if e is node]
    if len(pasted) != 1:
        return None
    if _whole_list(template.text, pasted[0]):
        return "whole"
    if among_elements(template.text, pasted[0]) and used_as_code(module, outer):
        return "among"
    return None


def among_elements(text: str, hole: int) -> bool:
    """The hole stands where list elements go: after ``[`` or ``,`` and before ``,`` or
    ``]`` (line breaks and indentation aside)."""
    before = text[:hole].rstrip()
    after = text[hole + 1 :].lstrip()
    return before[-1:] in ("[", ",") and after[:1] in (",", "]")


def _whole_list(text: str, hole: int) -> bool:
    """The hole is the whole of a list literal (``[%s]``, ``[\n    %s,\n]``) that nothing
    extends on its line (followed by the line's end, a ``)`` or a ``,``)."""
    before = text[:hole].rstrip()
    after = text[hole + 1 :].lstrip()
    if after.startswith(","):
        after = after[1:].lstrip()
    if not (before.endswith("[") and after.startswith("]")):
        return False
    rest = after[1:].lstrip(" \t")
    return not rest or rest[0] in "\n),"


@per_module
def _lines_variables(module: ModuleModel) -> dict[Optional[ast.AST], set[str]]:
    """Per function (None: module level), variables that hold lines of text
    (``"\\n".join(lines)``), not argv words."""
    out: dict[Optional[ast.AST], set[str]] = {}
    for node in module.nodes_of(ast.Call):
        func = node.func
        if func.__class__ is not ast.Attribute or func.attr not in ("join", "writelines"):
            continue  # (what ``_is_newline_join`` asks first, for every call of the module)
        if _is_newline_join(node) and node.args and isinstance(node.args[0], ast.Name):
            scope = module.enclosing_function(node)
            out.setdefault(scope, set()).add(node.args[0].id)
    return out


# -- the whole module -------------------------------------------------------------------------


def string_lists(module: ModuleModel) -> list[list[ast.expr]]:
    """Per list variable or writer object of a scope that is filled with strings (``x =
    [...]``, ``append``, ``extend``, ``+=``, ``cb.emit(...)``, ``out.write(...)``), and per
    ``"\\n".join([...])`` literal or returned list literal: the string expressions, in source
    order. Lines of generated
    code are among them (argv lists too: callers tell)."""
    pieces: dict[tuple[Optional[ast.AST], str], list[ast.expr]] = {}
    out: list[list[ast.expr]] = []
    for node in _adding_nodes(module):
        added = _strings_added(node)
        if added is not None:
            key = (module.enclosing_function(node), added[0])
            pieces.setdefault(key, []).extend(added[1])
        elif _is_newline_join(node) and node.args and isinstance(node.args[0], ast.List):
            out.append(list(node.args[0].elts))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.List):
            out.append(list(node.value.elts))  # a helper returning generated lines
    for elements in pieces.values():
        strings = [e for e in elements if is_stringish(e)]
        if len(strings) >= 2:
            out.append(sorted(strings, key=lambda n: (n.lineno, n.col_offset)))
    return out


def _adding_nodes(module: ModuleModel) -> list[ast.AST]:
    """The nodes ``string_lists`` reads, in the order of ``nodes``: calls of one of
    ``_ADDING_METHODS`` and list displays assigned or returned. The other calls (most of
    them) are left out before the loop."""
    found = [
        n
        for n in module.nodes_of(ast.Call)
        if n.func.__class__ is ast.Attribute and n.func.attr in _ADDING_METHODS
    ]
    for holder in _LIST_HOLDERS:
        found += [n for n in module.nodes_of(holder) if n.value.__class__ is ast.List]
    return module.ordered(found)


# The statements whose list display ``string_lists`` reads (and calls: see _ADDING_METHODS).
_LIST_HOLDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)
# Nodes whose first statement may be a docstring.
BODY_HOLDERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# The node classes a string expression (``is_stringish``) can have.
STRING_EXPRESSIONS = (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)

# Methods that add one line to generated text: a list's append, a code writer's emit, a file's
# write (generated lines are written one call at a time as often as they are collected).
_LINE_WRITERS = frozenset({"append", "emit", "write", "writeline", "add_line"})
# Every method whose call ``string_lists`` reads: the writers, ``extend`` and the joins.
_ADDING_METHODS = _LINE_WRITERS | {"extend", "join", "writelines"}


def _strings_added(node: ast.AST) -> Optional[tuple[str, list[ast.expr]]]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.List):
            return target.id, list(value.elts)
    if (
        isinstance(node, (ast.AnnAssign, ast.AugAssign))
        and isinstance(node.target, ast.Name)
        and isinstance(node.value, ast.List)
    ):
        return node.target.id, list(node.value.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and len(node.args) == 1:
        receiver = dotted_name(node.func.value)
        if receiver is None:
            return None
        if node.func.attr in _LINE_WRITERS:
            return receiver, [node.args[0]]
        if node.func.attr == "extend" and isinstance(node.args[0], ast.List):
            return receiver, list(node.args[0].elts)
    return None


def docstring_nodes(module: ModuleModel) -> set[int]:
    out = set()
    for node in module.nodes_of(*BODY_HOLDERS):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            out.add(id(body[0].value))
    return out


@per_module
def crossing_spans(module: ModuleModel) -> frozenset[Span]:
    """Where the words are of this module's commands that mix words of several files (a
    helper of another module completes them), file marks dropped: a fix computed for one file
    may not see the whole command."""
    return frozenset(
        Span(t.span.start, t.span.end)
        for c in commands_of(module) or ()  # None: the analysis gave up (too deep)
        if len({t.span.file for t in c.tokens}) > 1
        for t in c.tokens
    )


@per_module
def commands_of(module: ModuleModel) -> list[Command]:
    """Every Metaflow command line the module builds, and (project mode) the commands of
    other modules that words of this module's helpers complete (computed once per module).
    Words of another file carry that file in their span: findings there are its own."""
    return [*own_commands(module), *_completed_elsewhere(module)]


def _completed_elsewhere(module: ModuleModel) -> list[Command]:
    """Commands built in other modules of the project with words a helper of this module
    returns (``cmd = top_args(...)`` in the caller, ``--tag`` written in ``top_args``)."""
    project = module.project
    if project is None or module.generated or module.path is None:
        return []
    here = os.path.realpath(module.path)
    helpers = [
        f.name
        for f in module.tree.body
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _returned_words(module, f, 1) is not None
    ]
    out: list[Command] = []
    seen: set[int] = set()
    for name in helpers:
        for other in project.modules_mentioning(name, besides=module.path):
            for command in own_commands(other) or ():
                files = {t.span.file for t in command.tokens}
                if (
                    id(command) in seen
                    or None not in files  # the helper's list alone: this module's own command
                    or not any(f is not None and os.path.realpath(f) == here for f in files)
                ):
                    continue
                seen.add(id(command))
                tokens = [replace(t, span=_in_file(t.span, other)) for t in command.tokens]
                out.append(replace(command, tokens=tokens, _options=None))
    return out


@per_module
def own_commands(module: ModuleModel) -> list[Command]:
    """The Metaflow command lines this module builds itself."""
    commands: list[Command] = []
    consumed: set[int] = set()
    scopes: list[Optional[FunctionNode]] = [None]  # (None: the module's own statements)
    scopes += [f for fs in module.functions.values() for f in fs]
    for function in scopes:
        if not _builds_lists(module, function):
            continue
        builder = _built(module, function, 0)
        commands.extend(builder.found)
        consumed |= builder.consumed
    commands.extend(_string_commands(module, consumed))
    return commands


def _string_commands(module: ModuleModel, consumed: set[int]) -> Iterator[Command]:
    skip = docstring_nodes(module)
    holding = _holding_command_text(module)
    candidates = module.ordered(
        node
        for kind in STRING_EXPRESSIONS
        for node in module.nodes_of(kind)
        if id(node) in holding  # a command has an option or a .py file
    )
    for node in candidates:
        if id(node) in skip or not is_stringish(node):
            continue
        parent = module.parent(node)
        if (
            is_stringish(parent)
            or (isinstance(parent, ast.Attribute) and is_stringish(module.parent(parent)))
            or is_template_text(module, node)
        ):
            continue  # only the outermost string expression is a template
        if isinstance(parent, ast.List) and id(parent) in consumed and _single_word(module, node):
            continue  # an argv word of a list command
        if only_a_message(module, node):
            continue  # a command shown in a message or help text, never run
        template = completed_template(module, node) or template_of(module, node)
        if template is None:
            continue
        template = with_alternatives(module, template)
        if not any(s in template.text for s in contract.SUBCOMMANDS):
            continue
        function = module.enclosing_function(node) or _sole_user(module, node)
        for words in _template_words(module, template):
            command = _make_command(_pasted(module, words), "string", node, function, template)
            if command is not None:
                yield command


def _pasted(module: ModuleModel, words: list[Token]) -> list[Token]:
    """The words with each whole-word hole that pastes a joined list (``{init_cmd}`` filled
    with ``" ".join(parts)``, on every path) replaced by that list's words: the shell splits
    the joined text into them again."""
    if not any(w.text == HOLE and w.expr is not None for w in words):
        return words
    values = values_of(module)
    out: list[Token] = []
    for word in words:
        pasted = None
        if word.text == HOLE and word.expr is not None:
            (value, *others) = values.alternatives(word.expr)
            if not others and joined_name(value) is not None:
                pasted = joined_words(module, value)
        if pasted is None:
            out.append(word)
        else:
            out.extend(replace(t, conditional=t.conditional or word.conditional) for t in pasted)
    return out


def _sole_user(module: ModuleModel, node: ast.expr) -> Optional[FunctionNode]:
    """For a module constant (``STEP_SCRIPT = "..."``) that one function alone reads
    (writes it to the script it runs, formats it): that function, where the command is
    built and whose values it is built from."""
    statement = module.parent(node)
    if not (
        isinstance(statement, ast.Assign)
        and module.parent(statement) is module.tree
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return None
    name = statement.targets[0].id
    readers = {
        module.enclosing_function(n)
        for n in module.nodes_of(ast.Name)
        if n.id == name and isinstance(n.ctx, ast.Load)
    }
    if len(readers) != 1 or module.name_loads.get(name, 0) == 0:
        return None
    return readers.pop()


@per_module
def _holding_command_text(module: ModuleModel) -> set[int]:
    """Ids of the nodes with a string literal holding ``--`` or ``.py`` in them (the literal
    and every node above it): the only string expressions that can hold a command line,
    found from the module's few such literals instead of a walk under every string."""
    found: set[int] = set()
    parent = module.parent
    for node in module.nodes_of(ast.Constant):
        text = node.value
        if isinstance(text, str) and ("--" in text or ".py" in text):
            current: Optional[ast.AST] = node
            while current is not None and id(current) not in found:
                found.add(id(current))
                current = parent(current)
    return found


def _single_word(module: ModuleModel, node: ast.expr) -> bool:
    template = template_of(module, node)
    if template is None:
        return True
    return sum(len(c) for c in split_commands(template.text)) <= 2
