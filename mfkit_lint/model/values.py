"""Values: what an expression always is, and what it may be on each path that reaches it.

``const`` is constant propagation: names through the assignments of their scope, function
parameter defaults (when no call site in the module passes the parameter), module constants,
read-only dict entries and ``self.<attr>`` that only ``__init__`` sets. Anything else is
UNKNOWN; rules treat UNKNOWN as "cannot decide" and stay silent.

``alternatives`` is the value as one of several spellings: one expression per path (each branch
of a conditional expression, each assignment that reaches the use, each return of a helper).
The command model splices option pieces from it, so that every rule asks one question of a
conditional piece: is it there on every path, on some path, or cannot it be told.
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Optional, Union

from mfkit_lint.model.module import per_module
from mfkit_lint.model.project import imported

if TYPE_CHECKING:
    from mfkit_lint.model.module import FunctionNode, ModuleModel


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()
_MAX_DEPTH = 8
_MAX_ALTERNATIVES = 8


@dataclass(frozen=True)
class Assigned:
    """``name = value`` (also ``name: T = value`` and ``(name := value)``)."""

    value: ast.expr


@dataclass(frozen=True)
class Param:
    """A function parameter, with its default expression when it has one."""

    arg: ast.arg
    default: Optional[ast.expr]


@dataclass(frozen=True)
class Bound:
    """Any other binding (loop or ``with`` target, ``+=``, import, unpacking, def/class):
    ``node`` is the target name or the binding statement. Its value is not followed."""

    node: ast.AST


# What binds a name in a scope.
Binding = Union[Assigned, Param, Bound]


def _scope_bindings(scope: ast.AST) -> dict[str, list[Binding]]:
    """Name bindings made directly in one function or module body (nested scopes excluded)."""
    out: dict[str, list[Binding]] = defaultdict(list)
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _bind_parameters(out, scope)
    todo: list[ast.AST] = list(getattr(scope, "body", []))
    while todo:
        node = todo.pop()
        if not _bind_node(out, node):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _bind_parameters(out: dict[str, list[Binding]], function: FunctionNode) -> None:
    args = function.args
    positional = [*getattr(args, "posonlyargs", []), *args.args]
    defaults: list[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(
        args.defaults
    )
    for arg, default in zip(positional, defaults):
        out[arg.arg].append(Param(arg, default))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        out[arg.arg].append(Param(arg, default))
    for arg in (args.vararg, args.kwarg):
        if arg is not None:
            out[arg.arg].append(Bound(arg))


def _bind_node(out: dict[str, list[Binding]], node: ast.AST) -> bool:
    """Record the bindings ``node`` makes in its scope; True when ``node`` opens a scope of
    its own (a nested function or class, a lambda), whose inside binds nothing here."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        out[node.name].append(Bound(node))
        return True  # a nested scope binds its own names
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Assign):
        for target in node.targets:
            _bind_target(out, target, node.value)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        _bind_target(out, node.target, node.value)
    elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)):
        _bind_target(out, node.target, None)
    elif isinstance(node, ast.NamedExpr):
        _bind_target(out, node.target, node.value)
    elif isinstance(node, (ast.withitem,)) and node.optional_vars is not None:
        _bind_target(out, node.optional_vars, None)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            out[(alias.asname or alias.name).split(".")[0]].append(Bound(node))
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        for name in node.names:
            out[name].append(Bound(node))
    elif isinstance(node, ast.ExceptHandler) and node.name:
        out[node.name].append(Bound(node))
    elif isinstance(node, ast.comprehension):
        _bind_target(out, node.target, None)
    return False


_UNSEEN = object()
# The node classes ``_bind_node`` records something for.
_BINDERS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.For,
    ast.AsyncFor,
    ast.NamedExpr,
    ast.withitem,
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.ExceptHandler,
    ast.comprehension,
)


def _module_bindings(module: ModuleModel) -> dict[ast.AST, dict[str, list[Binding]]]:
    """``_scope_bindings`` of the module and of each of its functions, from one pass over the
    module's binding nodes instead of one walk per scope. They come in the order of the node
    list, which visits each body in the order that walk does, so every name's bindings come in
    the same order."""
    tree = module.tree
    out: dict[ast.AST, dict[str, list[Binding]]] = {tree: defaultdict(list)}
    for function in module.nodes_of(ast.FunctionDef, ast.AsyncFunctionDef):
        out[function] = defaultdict(list)
        _bind_parameters(out[function], function)
    parent_of = module.parent
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    # The scope of what lies below a node (None: no scope of this model), for the nodes a
    # walk up has passed: the next walk from below stops there.
    below: dict[ast.AST, Optional[ast.AST]] = {}
    for node in module.nodes_of(*_BINDERS):
        # The scope whose body holds the node: the nearest function (entered through its
        # body, not its decorators, defaults or annotations) or the module; none inside a
        # class body or a lambda, which no scope of this model reads.
        passed = []
        child, up = node, parent_of(node)
        while True:
            if up is None:
                scope = None
                break
            scope = below.get(up, _UNSEEN)
            if scope is not _UNSEEN:
                break
            if up is tree:
                scope = tree
                break
            if up.__class__ in functions:
                scope = up if isinstance(child, ast.stmt) else None
                break
            if up.__class__ is ast.ClassDef or up.__class__ is ast.Lambda:
                scope = None
                break
            passed.append(up)
            child, up = up, parent_of(up)
        for ancestor in passed:
            below[ancestor] = scope
        if scope is not None:
            _bind_node(out[scope], node)
    return out


def _bind_target(out: dict[str, list[Binding]], target: ast.AST, value: Optional[ast.AST]) -> None:
    if isinstance(target, ast.Name):
        out[target.id].append(Assigned(value) if value is not None else Bound(target))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _bind_target(out, elt, None)
    elif isinstance(target, ast.Starred):
        _bind_target(out, target.value, None)


class Values:
    def __init__(self, module: ModuleModel) -> None:
        self.module = module
        self._bindings: Optional[dict[ast.AST, dict[str, list[Binding]]]] = None
        self._tables: dict[str, bool] = {}  # module-level dicts only ever read by key
        self._returns: dict[ast.AST, tuple[ast.expr, ...]] = {}  # helpers' returned values

    def bindings(self, scope: ast.AST) -> dict[str, list[Binding]]:
        if self._bindings is None:
            self._bindings = _module_bindings(self.module)
        if scope not in self._bindings:  # not a function of this module (a class, say)
            self._bindings[scope] = _scope_bindings(scope)
        return self._bindings[scope]

    def scope_of(self, node: ast.AST) -> ast.AST:
        return self.module.enclosing_function(node) or self.module.tree

    def _home(self, node: ast.AST) -> Optional[Values]:
        """The value model that can answer about ``node``: this module's, or (a word that a
        helper of another module contributes to a command) that module's; None if unknown."""
        if self.module.owns(node):
            return self
        project = self.module.project
        owner = project.owner(node) if project is not None else None
        return values_of(owner) if owner is not None else None

    def lookup(self, name: str, at: ast.AST) -> tuple[Optional[ast.AST], list[Binding]]:
        """The scope that binds ``name`` as seen from ``at``, and the bindings made there."""
        home = self._home(at)
        if home is not self:
            return home.lookup(name, at) if home is not None else (None, [])
        scope: Optional[ast.AST] = self.scope_of(at)
        while scope is not None:
            found = self.bindings(scope).get(name)
            if found:
                return scope, found
            if scope is self.module.tree:
                break
            scope = self.module.enclosing_function(scope) or self.module.tree
        return None, []

    def assigned_values(self, name: ast.Name) -> list[ast.expr]:
        """The expressions assigned to ``name`` in the scope it is bound in (other kinds of
        binding are left out)."""
        _, bindings = self.lookup(name.id, name)
        return [b.value for b in bindings if isinstance(b, Assigned)]

    def single_assignment(self, expr: ast.expr) -> ast.expr:
        """For a name bound exactly once, by an assignment: the assigned expression (one
        step). Anything else: ``expr`` itself."""
        if isinstance(expr, ast.Name):
            _, bindings = self.lookup(expr.id, expr)
            if len(bindings) == 1 and isinstance(bindings[0], Assigned):
                return bindings[0].value
        return expr

    def is_global(self, name: ast.Name) -> bool:
        """The name is a module global where it is used (bound at module level, or free in its
        function, as in generated code whose globals are defined in another template)."""
        scope, _ = self.lookup(name.id, name)
        return scope is None or scope is self.module.tree

    def readable_in(self, expr: ast.expr, scope: ast.AST) -> bool:
        """``expr`` can be read as it is inside ``scope`` (a function): the root of its
        attribute, subscript and ``.get(...)`` chain (``self.plan["project"]["branch"]``,
        ``plan.get("branch")``) is a name bound in ``scope`` or a module global, and the keys
        are constants."""
        node = expr
        while True:
            constant_key = isinstance(node, ast.Subscript) and isinstance(
                _subscript_key(node), ast.Constant
            )
            if isinstance(node, ast.Attribute) or constant_key:
                node = node.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 1
                and not node.keywords
                and isinstance(node.args[0], ast.Constant)
            ):
                node = node.func.value
            else:
                break
        if not isinstance(node, ast.Name):
            return False
        return node.id in self.bindings(scope) or (
            node.id not in ("self", "cls") and self.is_global(node)
        )

    def parameter(self, node: ast.AST) -> Optional[ast.arg]:
        """The parameter a bare name refers to, if it is a parameter that is never reassigned."""
        if not isinstance(node, ast.Name):
            return None
        _, bindings = self.lookup(node.id, node)
        if len(bindings) == 1 and isinstance(bindings[0], Param):
            return bindings[0].arg
        return None

    def const(self, node: Optional[ast.AST], depth: int = 0) -> Any:
        """The constant ``node`` always evaluates to, or UNKNOWN."""
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        home = self._home(node)
        if home is not self:
            return home.const(node, depth) if home is not None else UNKNOWN
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found = self._module_attribute(node, depth)
            if found is not UNKNOWN:
                return found  # else: not a module of the project (``self.x``, read below)
        if isinstance(node, ast.Name):
            return self._name_value(node, depth)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                value = self.const(
                    part.value if isinstance(part, ast.FormattedValue) else part, depth + 1
                )
                if value is UNKNOWN or (isinstance(part, ast.FormattedValue) and part.format_spec):
                    return UNKNOWN
                parts.append(str(value))
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.const(node.left, depth + 1), self.const(node.right, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            return UNKNOWN
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            return self._dict_entry(node, depth)
        if _self_attribute(node):
            return self._attribute_value(node, depth)
        if isinstance(node, ast.Call) and not node.keywords and len(node.args) == 1:
            return self._converted(node, depth)
        if isinstance(node, ast.Call) and _is_path_join(node.func) and not node.keywords:
            parts = [self.const(arg, depth + 1) for arg in node.args]
            if parts and all(isinstance(p, str) for p in parts):
                return os.path.join(*parts)
        return UNKNOWN

    def alternatives(self, expr: ast.expr, depth: int = 0) -> tuple[ast.expr, ...]:
        """The expressions ``expr`` evaluates as, one per path through the code that reaches
        it: each branch of a conditional expression, each assignment of a name that reaches
        the use (``opt = ""`` then ``if tag: opt = f"--tag {tag} "``). An expression that
        cannot be followed further (a parameter, a call) is its own only alternative, a value
        of its own; more than a few paths are not enumerated (the expression itself)."""
        found = self._alternatives(expr, depth)
        return found if len(found) <= _MAX_ALTERNATIVES else (expr,)

    def _alternatives(self, expr: ast.expr, depth: int) -> tuple[ast.expr, ...]:
        if depth > _MAX_DEPTH:
            return (expr,)
        if isinstance(expr, ast.IfExp):
            return self._alternatives(expr.body, depth + 1) + self._alternatives(
                expr.orelse, depth + 1
            )
        if isinstance(expr, ast.Call):
            returned = self._returned(expr)
            if not returned:
                return (expr,)
            out: tuple[ast.expr, ...] = ()
            for value in returned:
                out += self._alternatives(value, depth + 1)
            return out
        if _self_attribute(expr):
            # ``self.x = ...`` earlier in the same method: what it holds here (an attribute
            # set elsewhere could be set from outside too: its own value, not followed)
            reaching = _reaching_values(
                self.scope_of(expr), expr, self._around(expr), _walrus_targets(self.module)
            )
            if not reaching:
                return (expr,)
            return tuple(a for v in reaching for a in self._alternatives(v, depth + 1))
        if not isinstance(expr, ast.Name):
            return (expr,)
        scope, bindings = self.lookup(expr.id, expr)
        if scope is None or not bindings:
            return (expr,)
        if len(bindings) == 1 and isinstance(bindings[0], Assigned):
            return self._alternatives(bindings[0].value, depth + 1)
        if any(isinstance(b, Bound) for b in bindings) or scope is not self.scope_of(expr):
            return (expr,)  # bound in a way whose value is not followed, or in an outer scope
        reaching = _reaching_values(scope, expr, self._around(expr), _walrus_targets(self.module))
        if not reaching:
            return (expr,)
        found: tuple[ast.expr, ...] = ()
        for value in reaching:
            found += (expr,) if isinstance(value, ast.arg) else self._alternatives(value, depth + 1)
        return found

    def _around(self, node: ast.AST) -> set[int]:
        return {id(node), *(id(a) for a in self.module.ancestors(node))}

    def _returned(self, call: ast.Call) -> tuple[ast.expr, ...]:
        """What a helper returns, one expression per ``return``: a function of this module
        called by name (or as ``self.name``), or one of another project module called through
        an import, defined once, whose every path ends in a ``return`` with a value. Empty
        when that cannot be told."""
        func = call.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and _is_self(func.value):
            name = func.attr
        else:
            name = ""
        owner, defs = self, self.module.functions.get(name, [])
        if not defs:
            other, defs = self.imported_function(func)
            owner = values_of(other)
        if len(defs) != 1 or isinstance(defs[0], ast.AsyncFunctionDef) or not defs[0].body:
            return ()
        return owner._function_returns(defs[0])

    def _function_returns(self, function: FunctionNode) -> tuple[ast.expr, ...]:
        if function not in self._returns:
            nodes = _own_nodes(function)
            returns = [n for n in nodes if isinstance(n, ast.Return)]
            if (
                not _ends_in_return(function.body)
                or any(r.value is None for r in returns)
                or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes)
            ):
                returns = []
            returns.sort(key=lambda r: (r.lineno, r.col_offset))
            self._returns[function] = tuple(r.value for r in returns)
        return self._returns[function]

    def imported_function(self, func: ast.expr) -> tuple[ModuleModel, list[FunctionNode]]:
        """The module-level function of another project module that ``helper(...)``
        (imported with ``from .common import helper``) or ``common.helper(...)`` calls, with
        that module; (this module, []) when it is not one."""
        module = self.module
        if isinstance(func, ast.Name):
            name, attribute = func.id, None
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name, attribute = func.value.id, func.attr
        else:
            return module, []
        if name not in module.imported_names:
            return module, []  # bound otherwise (a local, a parameter, self): not a module
        _, bindings = self.lookup(name, func)
        if len(bindings) != 1 or not isinstance(bindings[0], Bound):
            return module, []
        found = imported(module, bindings[0].node, name)
        if found is None:
            return module, []
        other, defined = found
        if (defined is None) == (attribute is None):
            return module, []  # a module called, or an attribute of a function: not followed
        wanted = defined or attribute
        defs = [f for f in other.functions.get(wanted, []) if f in other.tree.body]
        return other, defs if len(defs) == len(other.functions.get(wanted, [])) else []

    def _attribute_value(self, node: ast.Attribute, depth: int) -> Any:
        """``self.<attr>`` read in a method of the class whose ``__init__`` sets it, once, and
        that nothing else sets: no other ``.<attr> =`` (on any object), ``del`` or
        ``setattr`` in this module or (project mode) another one that names the attribute.
        Without the project an outside module could set it: UNKNOWN."""
        module = self.module
        owner = next((a for a in module.ancestors(node) if isinstance(a, ast.ClassDef)), None)
        if owner is None or module.project is None:
            return UNKNOWN
        stores = _attribute_stores(module, node.attr)
        if len(stores) != 1 or _calls_setattr(module):
            return UNKNOWN
        statement = module.parent(stores[0])
        init = module.parent(statement)
        if not (
            isinstance(statement, ast.Assign)
            and statement.targets == [stores[0]]
            and _self_attribute(stores[0])
            and isinstance(init, ast.FunctionDef)
            and init.name == "__init__"
            and module.parent(init) is owner
        ):
            return UNKNOWN
        for other in module.project.mentioning(node.attr, besides=module.path):
            if _attribute_stores(other, node.attr) or _calls_setattr(other):
                return UNKNOWN
        return self.const(statement.value, depth + 1)

    def _converted(self, call: ast.Call, depth: int) -> Any:
        func = call.func
        if not isinstance(func, ast.Name) or func.id not in ("str", "int"):
            return UNKNOWN
        value = self.const(call.args[0], depth + 1)
        if value is UNKNOWN or isinstance(value, bool) or value is None:
            return UNKNOWN
        try:
            return str(value) if func.id == "str" else int(value)
        except (TypeError, ValueError):
            return UNKNOWN

    def _dict_entry(self, node: ast.Subscript, depth: int) -> Any:
        """``TABLE["key"]`` where ``TABLE`` is a module-level dict literal that the module
        only ever reads by key: the entry's value, like a module constant's."""
        name = node.value.id
        scope, bindings = self.lookup(name, node)
        if scope is not self.module.tree or len(bindings) != 1:
            return UNKNOWN
        table = bindings[0].value if isinstance(bindings[0], Assigned) else None
        if not isinstance(table, ast.Dict) or not self._read_only_table(name):
            return UNKNOWN
        key = self.const(node.slice, depth + 1)
        if not isinstance(key, (str, int)) or None in table.keys:  # None: a ** entry
            return UNKNOWN
        found = [v for k, v in zip(table.keys, table.values) if self.const(k, depth + 1) == key]
        return self.const(found[-1], depth + 1) if found else UNKNOWN

    def _read_only_table(self, name: str) -> bool:
        """Every use of the module-level ``name`` reads one entry (``name[key]``): never
        written, updated, deleted, or handed to code that could change it."""
        if name not in self._tables:
            module = self.module
            uses = [n for n in module.nodes_of(ast.Name) if n.id == name]
            stores = [u for u in uses if not isinstance(u.ctx, ast.Load)]
            self._tables[name] = len(stores) == 1 and all(
                isinstance(module.parent(use), ast.Subscript)
                and module.parent(use).value is use
                and isinstance(module.parent(use).ctx, ast.Load)
                for use in uses
                if use is not stores[0]
            )
        return self._tables[name]

    def _name_value(self, node: ast.Name, depth: int) -> Any:
        scope, bindings = self.lookup(node.id, node)
        return self._bound_value(scope, bindings, depth, node.id)

    def value_in(self, scope: ast.AST, name: str, depth: int = 0) -> Any:
        """The constant ``name`` always has inside ``scope`` (a function or the module)."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        return self._bound_value(scope, self.bindings(scope).get(name, []), depth, name)

    def _module_attribute(self, node: ast.Attribute, depth: int) -> Any:
        """``common.RETRY_COUNT`` where ``common`` is a module of the project: its constant."""
        _, bindings = self.lookup(node.value.id, node.value)
        if len(bindings) != 1 or not isinstance(bindings[0], Bound):
            return UNKNOWN
        found = imported(self.module, bindings[0].node, node.value.id)
        if found is None or found[1] is not None:
            return UNKNOWN
        other = found[0]
        return values_of(other).value_in(other.tree, node.attr, depth + 1)

    def _imported_value(self, binding: Bound, name: str, depth: int) -> Any:
        """``from .common import RETRY_COUNT``: the constant the other module defines."""
        found = imported(self.module, binding.node, name)
        if found is None or found[1] is None:
            return UNKNOWN
        other, attribute = found
        return values_of(other).value_in(other.tree, attribute, depth + 1)

    def _bound_value(
        self,
        scope: Optional[ast.AST],
        bindings: list[Binding],
        depth: int,
        name: Optional[str] = None,
    ) -> Any:
        if not bindings:
            return UNKNOWN
        if (
            name is not None
            and len(bindings) == 1
            and isinstance(bindings[0], Bound)
            and isinstance(bindings[0].node, (ast.Import, ast.ImportFrom))
        ):
            return self._imported_value(bindings[0], name, depth)
        values = []
        for binding in bindings:
            if isinstance(binding, Assigned):
                values.append(self.const(binding.value, depth + 1))
            elif isinstance(binding, Param) and len(bindings) == 1:
                values.append(self.parameter_value(scope, binding.arg, binding.default, depth))
            else:
                return UNKNOWN
        first = values[0]
        if first is UNKNOWN or any(v is UNKNOWN or v != first for v in values[1:]):
            return UNKNOWN
        return first

    def parameter_value(
        self, func: FunctionNode, arg: ast.arg, default: Optional[ast.expr], depth: int = 0
    ) -> Any:
        """The value a parameter always has: every call site in the module agrees on it.

        With no call site in the module the parameter could come from anywhere: UNKNOWN.
        """
        passed = self.passed_arguments(func, arg, default)
        if not passed:
            return UNKNOWN
        values = [owner.const(expr, depth + 1) for expr, owner in passed]
        first = values[0]
        if first is UNKNOWN or any(v is UNKNOWN or v != first for v in values[1:]):
            return UNKNOWN
        return first

    def origin(self, expr: ast.expr, depth: int = 0) -> Optional[tuple[ast.expr, Values]]:
        """The one expression ``expr``'s value comes from on every path, with the value model
        of its module: followed through assignments (``alternatives``), a parameter every
        caller fills from the same expression, and the unpacking of a tuple a helper returns
        (``a, b = self.helper()``). None when paths differ or a step cannot be followed."""
        if depth > _MAX_DEPTH:
            return None
        found = self.alternatives(expr)
        if len(found) != 1:
            return None
        (value,) = found
        if not isinstance(value, ast.Name):
            return value, self
        sole = self._sole_binding(value)
        if sole is None:
            return None
        binding, passed = sole
        if passed is not None:
            return _same(
                [owner.origin(arg, depth + 1) if arg is not None else None for arg, owner in passed]
            )
        if isinstance(binding, Bound) and isinstance(binding.node, ast.Name):
            return self._unpacked(binding.node, depth)
        return None

    def _sole_binding(
        self, name: ast.Name
    ) -> Optional[tuple[Binding, Optional[list[tuple[Optional[ast.expr], Values]]]]]:
        """The one binding ``name`` has where it is read, with what every caller passes when
        it is a function's parameter (else None in its place). None when it has several."""
        scope, bindings = self.lookup(name.id, name)
        if len(bindings) != 1:
            return None
        (binding,) = bindings
        if isinstance(binding, Param) and isinstance(
            scope, (ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            return binding, self.passed_arguments(scope, binding.arg, binding.default)
        return binding, None

    def _unpacked(self, target: ast.Name, depth: int) -> Optional[tuple[ast.expr, Values]]:
        """``target`` of ``a, b = helper(...)``: the same element of every tuple the helper
        returns."""
        pattern = self.module.parent(target)
        statement = self.module.parent(pattern) if pattern is not None else None
        if not (
            isinstance(pattern, ast.Tuple)
            and isinstance(statement, ast.Assign)
            and statement.targets == [pattern]
            and isinstance(statement.value, ast.Call)
            and not any(isinstance(e, ast.Starred) for e in pattern.elts)
        ):
            return None
        index = next(i for i, e in enumerate(pattern.elts) if e is target)
        returned = self._returned(statement.value)
        if not returned or any(
            not isinstance(r, ast.Tuple) or len(r.elts) != len(pattern.elts) for r in returned
        ):
            return None
        return _same([self.origin(r.elts[index], depth + 1) for r in returned])

    def passed_arguments(
        self, func: FunctionNode, arg: ast.arg, default: Optional[ast.expr]
    ) -> list[tuple[Optional[ast.expr], Values]]:
        """What each call site of ``func`` passes as parameter ``arg`` (``default`` where a
        call leaves it out), with the value model of the caller's module. Empty when the calls
        cannot all be read: none in sight, or one with ``*args``/``**kwargs``."""
        return [
            (passed, owner) if passed is not None else (default, self)
            for _, passed, owner in self.argument_sites(func, arg) or ()
        ]

    def argument_sites(
        self, func: FunctionNode, arg: ast.arg
    ) -> Optional[list[tuple[ast.Call, Optional[ast.expr], Values]]]:
        """Each call of ``func`` (in this module and, in project mode, the others) with the
        expression it passes as parameter ``arg`` (None where it leaves the parameter to its
        default) and the value model of the caller's module. ``[]`` when nothing calls it,
        None when the calls cannot all be read: the name defined twice or used other than by
        calling it, or a call with ``*args``/``**kwargs``."""
        positional = [*getattr(func.args, "posonlyargs", []), *func.args.args]
        index = next((i for i, a in enumerate(positional) if a is arg), None)
        sites = self._call_sites(func)
        if sites is None:
            return None
        out: list[tuple[ast.Call, Optional[ast.expr], Values]] = []
        for call, offset, owner in sites:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords
            ):
                return None
            passed = next((k.value for k in call.keywords if k.arg == arg.arg), None)
            if passed is None and index is not None and 0 <= index - offset < len(call.args):
                passed = call.args[index - offset]
            out.append((call, passed, owner))
        return out

    def counts_from_zero(self, expr: ast.expr, depth: int = 0) -> bool:
        """``expr`` is a loop index that starts at 0 (``for i in range(n)``, ``range(0, n)``,
        ``for i, x in enumerate(xs)``), directly, through one assignment, or through a
        parameter that every caller in sight passes such an index."""
        if depth > _MAX_DEPTH:
            return False
        expr = self.single_assignment(expr)
        if not isinstance(expr, ast.Name):
            return False
        sole = self._sole_binding(expr)
        if sole is None:
            return False
        binding, passed = sole
        if passed is not None:
            return bool(passed) and all(
                value is not None and owner.counts_from_zero(value, depth + 1)
                for value, owner in passed
            )
        if isinstance(binding, Bound) and isinstance(binding.node, ast.Name):
            return _zero_based_loop_index(self.module, binding.node)
        return False

    def _call_sites(self, func: FunctionNode) -> Optional[list[tuple[ast.Call, int, Values]]]:
        """Calls of ``func`` with the positional offset of their arguments and the value model
        of the module they are in: this module's, plus (project mode) the other modules'.

        None (cannot decide) when the name is defined twice or used other than by calling it.
        """
        module = self.module
        if len(module.functions.get(func.name, ())) != 1:
            return None
        args = func.args.args
        is_method = bool(args) and args[0].arg in ("self", "cls")
        others: Iterable[ModuleModel] = ()
        if module.project is not None and not func.name.startswith("__"):
            others = module.project.mentioning(func.name, besides=module.path)
        out = []
        # The first module that cannot be read ends the question: the other modules are
        # parsed only while it is open (this module first, it needs no parse).
        for owner in chain([module], others):
            if owner is not module and func.name in owner.functions:
                return None  # another module defines the same name: cannot tell them apart
            calls = owner.calls_by_name.get(func.name, [])
            if owner.name_loads.get(func.name, 0) != len(calls):
                return None  # passed around or stored, not only called
            for call in calls:
                # ``obj.f(...)`` passes self implicitly; ``Class.f(obj, ...)`` passes it first
                bound = isinstance(call.func, ast.Attribute) and not (
                    isinstance(call.func.value, ast.Name)
                    and call.func.value.id in _class_names(owner)
                )
                out.append((call, 1 if is_method and bound else 0, values_of(owner)))
        return out


def _same(
    origins: list[Optional[tuple[ast.expr, Values]]],
) -> Optional[tuple[ast.expr, Values]]:
    """The origin all paths agree on (the same expression), else None."""
    if not origins or any(o is None for o in origins):
        return None
    first = origins[0]
    return first if all(o[0] is first[0] for o in origins) else None


# What reaches a use of a name: the values assigned on the paths to it (an ``ast.arg`` for
# the parameter's own value), or None when some path binds it in a way not followed.
_Reaching = Optional[tuple[Union[ast.expr, ast.arg], ...]]


def _reaching_values(
    scope: ast.AST, use: ast.expr, around: set[int], walruses: frozenset[str]
) -> _Reaching:
    """The assignments of ``use``'s name (or ``self.<attr>``) that reach it, walking
    ``scope``'s statements in order: both branches of an ``if``, a loop body run or not,
    every part of a ``try``. ``around``: the ids of ``use`` and of the nodes holding it;
    ``walruses``: the names ``:=`` binds in the module of ``scope``."""
    name = _variable(use)
    found: list[_Reaching] = []

    def contains(node: ast.AST) -> bool:
        return id(node) in around

    def block(body: list[ast.stmt], defs: _Reaching) -> _Reaching:
        for stmt in body:
            if found:
                return defs
            defs = statement(stmt, defs)
        return defs

    def statement(stmt: ast.stmt, defs: _Reaching) -> _Reaching:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None if stmt.name == name else defs
        compound = isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try))
        compound = compound or isinstance(stmt, (ast.With, ast.AsyncWith))
        if not compound:
            if contains(stmt):
                found.append(defs)
                return defs
            return _after_simple(stmt, name, defs, name in walruses)
        if isinstance(stmt, ast.If):
            if contains(stmt.test):
                found.append(defs)
                return defs
            return _union(block(stmt.body, defs), block(stmt.orelse, defs))
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            if any(contains(item) for item in stmt.items):
                found.append(defs)
                return defs
            if any(_binds(item.optional_vars, name) for item in stmt.items):
                defs = None
            return block(stmt.body, defs)
        if isinstance(stmt, ast.Try):
            parts = [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
            for part in parts:
                defs = _union(defs, block(part, defs))
            return defs
        # loops: the body runs any number of times, a use inside it may see its own writes
        head = stmt.test if isinstance(stmt, ast.While) else stmt.iter
        if contains(head):
            found.append(defs)
            return defs
        if not isinstance(stmt, ast.While) and _binds(stmt.target, name):
            return None
        if contains(stmt) and any(_assigns_name(n, name) for n in ast.walk(stmt)):
            found.append(None)
            return None
        defs = _union(defs, block(stmt.body, defs))
        return block(stmt.orelse, defs)

    start: _Reaching = ()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = scope.args
        every = [*getattr(args, "posonlyargs", []), *args.args, *args.kwonlyargs]
        start = tuple(a for a in every if a.arg == name)
    block(list(getattr(scope, "body", [])), start)
    return found[0] if found else None


def _subscript_key(node: ast.Subscript) -> ast.AST:
    key = node.slice
    return key.value if type(key).__name__ == "Index" else key  # Python 3.8 wraps it


def _attribute_stores(module: ModuleModel, attr: str) -> list[ast.Attribute]:
    """Every ``<anything>.<attr>`` that is assigned, augmented or deleted in the module."""
    return [
        n
        for n in module.nodes_of(ast.Attribute)
        if n.attr == attr and not isinstance(n.ctx, ast.Load)
    ]


def _calls_setattr(module: ModuleModel) -> bool:
    return bool(module.calls_by_name.get("setattr"))


def _variable(node: ast.AST) -> str:
    """A name, or ``self.<attr>`` as one dotted variable name."""
    if isinstance(node, ast.Name):
        return node.id
    if _self_attribute(node):
        return "self." + node.attr
    return ""


def _self_attribute(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and _is_self(node.value)


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _ends_in_return(body: list[ast.stmt]) -> bool:
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return bool(last.orelse) and _ends_in_return(last.body) and _ends_in_return(last.orelse)
    return False


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, nested functions and classes left out."""
    out: list[ast.AST] = []
    todo = list(getattr(function, "body", []))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _after_simple(stmt: ast.stmt, name: str, defs: _Reaching, walrus: bool) -> _Reaching:
    """What reaches past a simple statement; ``walrus``: the module binds ``name`` with
    ``:=`` somewhere (else no statement of it does: no need to walk this one for it)."""
    if isinstance(stmt, ast.Assign):
        if any(_variable(t) == name for t in stmt.targets):
            return (stmt.value,)
        if any(_binds(t, name) for t in stmt.targets):
            return None
    elif isinstance(stmt, ast.AnnAssign) and _variable(stmt.target) == name:
        return (stmt.value,) if stmt.value is not None else defs
    elif isinstance(stmt, ast.AugAssign) and _binds(stmt.target, name):
        return None
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        if any((a.asname or a.name).split(".")[0] == name for a in stmt.names):
            return None
    elif isinstance(stmt, (ast.Global, ast.Nonlocal)) and name in stmt.names:
        return None
    if walrus and any(isinstance(n, ast.NamedExpr) and n.target.id == name for n in ast.walk(stmt)):
        return None
    return defs


def _binds(target: Optional[ast.AST], name: str) -> bool:
    return target is not None and any(_variable(n) == name for n in ast.walk(target))


def _assigns_name(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, (ast.Name, ast.Attribute))
        and _variable(node) == name
        and not isinstance(node.ctx, ast.Load)
    )


def _union(first: _Reaching, second: _Reaching) -> _Reaching:
    if first is None or second is None:
        return None
    return first + tuple(v for v in second if not any(v is f for f in first))


def _zero_based_loop_index(module: ModuleModel, target: ast.Name) -> bool:
    """``target`` is the index a ``for`` loop counts from 0."""
    loop = module.parent(target)
    index_of_pair = isinstance(loop, ast.Tuple) and loop.elts and loop.elts[0] is target
    if index_of_pair:
        loop = module.parent(loop)
    if not isinstance(loop, (ast.For, ast.AsyncFor, ast.comprehension)):
        return False
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)):
        return False
    if it.func.id == "range" and not index_of_pair and loop.target is target:
        return len(it.args) == 1 or (
            len(it.args) >= 2 and isinstance(it.args[0], ast.Constant) and it.args[0].value == 0
        )
    start = next((k.value for k in it.keywords if k.arg == "start"), None)
    start = start if start is not None else (it.args[1] if len(it.args) > 1 else None)
    return (
        it.func.id == "enumerate"
        and index_of_pair
        and (start is None or (isinstance(start, ast.Constant) and start.value == 0))
    )


def _is_path_join(func: ast.AST) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "join"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "path"
    )


@per_module
def _walrus_targets(module: ModuleModel) -> frozenset[str]:
    """The names ``:=`` binds anywhere in the module. The statements ``_reaching_values``
    walks are always of this module: the scope of a use of this module, or, for a use of
    another one, a scope here that holds no use (its walk finds nothing either way)."""
    return frozenset(n.target.id for n in module.nodes_of(ast.NamedExpr))


@per_module
def _class_names(module: ModuleModel) -> frozenset[str]:
    return frozenset(n.name for n in module.nodes_of(ast.ClassDef))


@per_module
def values_of(module: ModuleModel) -> Values:
    """The value model of a module (one per module: its scope bindings are cached)."""
    return Values(module)
