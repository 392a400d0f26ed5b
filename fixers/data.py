"""Typed fix data, and where a rule finds it (ast only: rules import this, never libcst).

One coordinate convention for positions in fix data: a ``Position`` is (1-based line, 0-based
character column) of a node's first character, as libcst's PositionProvider counts it and as
``ModuleModel.position`` returns it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from mfkit_lint.model.commands import Token
    from mfkit_lint.model.module import ModuleModel

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
