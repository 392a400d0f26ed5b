"""The per-module model every rule shares: source, tree, parents, functions, calls.

This is the base of ``model/``: it imports no other part of it. The derived analyses (the
value model, the command model, embedded code) are memoised functions of a module defined in
their own modules (``values_of``, ``commands_of``, ``embedded_of``), computed once.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any, Optional, Protocol, TypeVar, Union

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.engine.source import Source

if TYPE_CHECKING:
    from pathlib import Path

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
T = TypeVar("T")


class Project(Protocol):
    """What a module may ask of the rest of its project (``model/project.py`` answers).

    Declared here so that this base module imports no other part of the model: the derived
    analyses (values, commands, embedded code, the project index) all build on it.
    """

    def any_file_contains(self, needle: bytes) -> bool: ...

    def modules_mentioning(
        self, name: str, besides: Optional[Path] = None
    ) -> list[ModuleModel]: ...

    def mentioning(self, name: str, besides: Optional[Path] = None) -> Iterator[ModuleModel]: ...

    def defining(self, name: str) -> list[tuple[ModuleModel, FunctionNode]]: ...

    def module_named(
        self, importer: Optional[Path], dotted: str, level: int = 0
    ) -> Optional[ModuleModel]: ...

    def owner(self, node: ast.AST) -> Optional[ModuleModel]: ...


class ModuleModel:
    def __init__(
        self,
        source: Source,
        tree: ast.Module,
        generated: bool = False,
        project: Optional[Project] = None,
        path: Optional[Path] = None,
        generator: Optional[ModuleModel] = None,
    ) -> None:
        self.source = source
        self.tree = tree
        # Code the extension generates for the workers (a virtual module taken from string
        # templates): there the name ``_`` stands for a template hole.
        self.generated = generated
        # In project mode, the rest of the linted tree (None inside flake8 or for stdin).
        self.project = project
        self.path = path
        # For generated code: the module whose templates it comes from (what the generated
        # code gets from the extension, e.g. its environment, is decided there).
        self.generator = generator
        # Results of memoised analyses (see ``per_module``), by analysis and arguments.
        self.analyses: dict[Callable, dict[tuple, Any]] = {}

    # Facts of the tree alone (neither its path nor its project): another model of the same
    # tree may take them over instead of walking the tree again.
    _TREE_FACTS = (
        "nodes",
        "_parent_of",
        "_by_class",
        "_position",
        "functions",
        "calls_by_name",
        "self_assignments",
        "imports_by_name",
        "imported_names",
        "name_loads",
    )

    def take_tree_facts(self, other: ModuleModel) -> None:
        """Reuse what ``other``, a model of this very tree, has computed about it."""
        if other.tree is self.tree:
            for name in self._TREE_FACTS:
                if name in other.__dict__:
                    self.__dict__[name] = other.__dict__[name]

    # -- positions ---------------------------------------------------------------------------
    def span(self, node: ast.AST) -> Span:
        start = self.source.location(node.lineno, node.col_offset)
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        end = self.source.location(end_line, end_col if end_col is not None else node.col_offset)
        return Span(start, end)

    def position(self, node: ast.AST) -> tuple[int, int]:
        """(1-based row, 0-based character column) of a node's start, as libcst counts them."""
        start = self.span(node).start
        return (start.row, start.column - 1)

    # -- structure ---------------------------------------------------------------------------
    @cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node once (``Load``/``Store`` contexts left out), with parent links and the
        nodes of each class filled in on the way: this walk is the model's hot path, so it
        reads only the fields that can hold nodes (see ``_child_fields``)."""
        parents: dict[ast.AST, ast.AST] = {}
        by_class: dict[type, list[ast.AST]] = {}
        self._parent_of = parents
        self._by_class = by_class
        out: list[ast.AST] = []
        todo: list[ast.AST] = [self.tree]
        fields_of = _CHILD_FIELDS
        while todo:
            node = todo.pop()
            out.append(node)
            cls = node.__class__
            bucket = by_class.get(cls)
            if bucket is None:
                bucket = by_class[cls] = []
            bucket.append(node)
            fields = fields_of.get(cls)
            if fields is None:
                fields = fields_of[cls] = _child_fields(cls)
            for field, many in fields:
                value = getattr(node, field, None)
                if value is None:
                    continue
                if many is None:  # a field whose type the signature did not tell
                    value, many = _children(value)
                if many:
                    for item in value:
                        if item is not None:  # (``Dict.keys`` holds None for ``**x``)
                            parents[item] = node
                            todo.append(item)
                else:
                    parents[value] = node
                    todo.append(value)
        return out

    def nodes_of(self, *classes: type) -> list[ast.AST]:
        """The nodes of exactly these classes (``ast`` parses into no subclasses of them), in
        the order of ``nodes``: an analysis that reads a few kinds of node skips the others."""
        self.nodes  # noqa: B018 - the walk fills the nodes of each class
        if len(classes) == 1:
            return self._by_class.get(classes[0], [])
        if any(issubclass(c, _SHARED) for c in classes):
            # One operator object stands for all of its uses: only the walk's order tells.
            wanted = frozenset(classes)
            return [node for node in self.nodes if node.__class__ in wanted]
        return self.ordered(chain.from_iterable(self._by_class.get(c, ()) for c in classes))

    def ordered(self, nodes: Iterable[ast.AST]) -> list[ast.AST]:
        """Nodes of this tree (no operators: see ``_SHARED``) in the order of ``nodes``."""
        found = list(nodes)
        if len(found) > 1:
            found.sort(key=self._position.__getitem__)
        return found

    @cached_property
    def _position(self) -> dict[ast.AST, int]:
        return {node: i for i, node in enumerate(self.nodes)}

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        self.nodes  # noqa: B018 - building the node list fills the parent map
        return self._parent_of.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    def enclosing_function(self, node: ast.AST) -> Optional[FunctionNode]:
        for anc in self.ancestors(node):
            if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return anc
        return None

    def enclosing_statement(self, node: ast.AST) -> Optional[ast.stmt]:
        if isinstance(node, ast.stmt):
            return node
        for anc in self.ancestors(node):
            if isinstance(anc, ast.stmt):
                return anc
        return None

    @cached_property
    def functions(self) -> dict[str, list[FunctionNode]]:
        """Functions and methods by name (a name can be defined more than once)."""
        out: dict[str, list[FunctionNode]] = defaultdict(list)
        for node in self.nodes_of(ast.FunctionDef, ast.AsyncFunctionDef):
            out[node.name].append(node)
        return out

    def local_function(self, call: ast.Call) -> Optional[FunctionNode]:
        """The function of this module that ``f(...)``, ``self.f(...)`` or ``cls.f(...)``
        calls, when the module defines exactly one function of that name."""
        func = call.func
        if isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            defs = self.functions.get(call_name(call) or "", [])
            if len(defs) == 1:
                return defs[0]
        return None

    @cached_property
    def calls_by_name(self) -> dict[str, list[ast.Call]]:
        """Calls by the called name: ``f(...)``, ``self.f(...)`` and ``obj.f(...)`` all under f."""
        out: dict[str, list[ast.Call]] = defaultdict(list)
        for node in self.nodes_of(ast.Call):
            name = call_name(node)
            if name:
                out[name].append(node)
        return out

    @cached_property
    def self_assignments(self) -> dict[str, list[ast.expr]]:
        """Values assigned to ``self.<attr>`` anywhere in the module, by attribute name."""
        out: dict[str, list[ast.expr]] = defaultdict(list)
        for node in self.nodes_of(ast.Assign, ast.AnnAssign):
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    out[target.attr].append(value)
        return out

    @cached_property
    def imports_by_name(self) -> dict[str, list[ast.stmt]]:
        """The import statements of the module by each name they bind (``import a.b`` binds
        ``a``), in the order of ``nodes``."""
        out: dict[str, list[ast.stmt]] = defaultdict(list)
        for node in self.nodes_of(ast.Import, ast.ImportFrom):
            for alias in node.names:
                out[(alias.asname or alias.name).split(".")[0]].append(node)
        return dict(out)

    @cached_property
    def imported_names(self) -> frozenset[str]:
        """Every name an import statement binds anywhere in the module: a name outside this
        set is never bound by an import."""
        return frozenset(self.imports_by_name)

    @cached_property
    def name_loads(self) -> dict[str, int]:
        """How often each bare name or attribute name is read anywhere in the module."""
        counts: dict[str, int] = defaultdict(int)
        for node in self.nodes_of(ast.Name, ast.Attribute):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                counts[node.id] += 1
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                counts[node.attr] += 1
        return counts

    def is_placeholder(self, node: ast.AST) -> bool:
        """A template hole in generated code: it may stand for any number of words."""
        return self.generated and isinstance(node, ast.Name) and node.id == "_"

    def owns(self, node: ast.AST) -> bool:
        """The node belongs to this module's tree (not to another module's)."""
        self.nodes  # noqa: B018 - building the node list fills the parent map
        return node is self.tree or node in self._parent_of

    def contains(self, text: str) -> bool:
        return text in self.source.text


def per_module(analysis: Callable[..., T]) -> Callable[..., T]:
    """Memoise an analysis of a module: ``analysis(module, *args)`` is computed once per module
    and (hashable) arguments, and the result lives as long as the module model does. A
    recursive call with the same arguments sees ``None`` (the guard against cycles)."""

    @functools.wraps(analysis)
    def memoised(module: ModuleModel, *args: Any) -> T:
        cache = module.analyses.setdefault(analysis, {})
        if args not in cache:
            cache[args] = None
            cache[args] = analysis(module, *args)
        return cache[args]

    return memoised


def call_name(call: ast.Call) -> Optional[str]:
    """The last name of the called expression: ``a.b.c(...)`` -> ``c``."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def dotted_name(node: ast.AST) -> Optional[str]:
    """``a.b.c`` -> "a.b.c" for names and attribute chains; None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


# ASDL field types that never hold a node the walk visits: names, numbers, constants, and the
# ``Load``/``Store`` contexts (left out of ``nodes``).
_LEAF_TYPES = frozenset({"identifier", "int", "string", "constant", "expr_context"})
_FIELD = re.compile(r"(\w+)([*?]?) (\w+)")
# Node classes whose parsed instances are shared (one ``ast.Add()`` for every ``+``).
_SHARED = (ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.expr_context)
# Per node class: (field, holds a list) for the fields that can hold nodes.
_CHILD_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _child_fields(cls: type) -> tuple[tuple[str, Optional[bool]], ...]:
    """The fields of a node class that can hold nodes, and whether each holds a list: read
    from the ASDL signature ``ast`` gives each class as its docstring (``Name(identifier id,
    expr_context ctx)``). When it cannot be read, every field, its kind unknown (None)."""
    fields: tuple[str, ...] = getattr(cls, "_fields", ())
    if not fields:
        return ()
    signature = re.fullmatch(r"\w+\((.*)\)", (cls.__doc__ or "").strip(), re.DOTALL)
    parts = signature.group(1).split(",") if signature else []
    found = [_FIELD.fullmatch(part.strip()) for part in parts]
    if not all(found) or tuple(m.group(3) for m in found if m) != fields:
        return tuple((name, None) for name in fields)
    return tuple(
        (m.group(3), m.group(2) == "*") for m in found if m and m.group(1) not in _LEAF_TYPES
    )


def _children(value: Any) -> tuple[Any, bool]:
    """A field value of unknown type as the walk reads it: a list of items, or one node."""
    if value.__class__ is list:
        return [item for item in value if isinstance(item, ast.AST)], True
    if isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
        return value, False
    return (), True
