"""What the code does with a string: generated code, or data.

A string literal that holds Python is generated code only when the extension uses it as code:
it renders it (``%``, ``.format``, ``string.Template``), writes it out (``f.write``,
``write_text``, a code writer's ``emit``), hands it to ``exec``/``compile`` or to
``python -c``, or makes it part of generated lines (``"\\n".join([...])``). A test snippet held
in a string and handed to a test helper, a rule's example, a dict of cases: data. The string
is followed through the names it is assigned to, the functions that return it and the
wrappers that keep it text (``textwrap.dedent``, ``.strip()``, concatenation).
"""

from __future__ import annotations

import ast
from typing import Optional

from mfkit_lint.model.module import ModuleModel, call_name, per_module
from mfkit_lint.model.values import values_of

# Methods that write text out as it is: a file's, a path's, a code writer's.
_WRITERS = frozenset({"write", "writelines", "write_text", "emit", "writeline", "add_line"})
# Calls that run or compile source text.
_RUNNERS = frozenset({"exec", "compile", "eval"})
# Methods that render a template.
_RENDERERS = frozenset({"format", "format_map", "substitute", "safe_substitute", "render"})
# Calls and methods whose result is the same text, reshaped.
_WRAPPERS = frozenset({"dedent", "indent", "cleandoc", "strip", "lstrip", "rstrip", "replace"})
_TEMPLATE_CLASSES = frozenset({"Template"})
_MAX_DEPTH = 24


def used_as_code(module: ModuleModel, node: ast.expr) -> bool:
    """The string expression ``node`` (or the list of lines it is an element of) ends up as
    code (see the module docstring)."""
    if is_test_module(module):
        return False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return True  # rendered with % where it is written
    if isinstance(node, ast.Call) and call_name(node) in _RENDERERS:
        return True
    return _reaches_code(module, node, 0)


def is_test_module(module: ModuleModel) -> bool:
    """A pytest test module (``test_*.py``, ``*_test.py``, ``conftest.py``: the files pytest
    collects): what it writes out, renders or runs is the input of a test, not code the
    extension generates for its workers."""
    path = module.path
    if path is None or module.generated:
        return False
    name = path.name
    return name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    )


@per_module
def _function_result_as_code(module: ModuleModel, function: ast.AST, depth: int) -> bool:
    """A call of ``function`` somewhere in the module is used as code."""
    name = getattr(function, "name", None)
    if not name or len(module.functions.get(name, ())) != 1:
        return False
    return any(
        _reaches_code(module, call, depth + 1) for call in module.calls_by_name.get(name, ())
    )


def _reaches_code(module: ModuleModel, node: ast.AST, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    parent = module.parent(node)
    if parent is None:
        return False
    if isinstance(parent, ast.BinOp):
        if isinstance(parent.op, ast.Mod) and parent.left is node:
            return True  # rendered with %
        return isinstance(parent.op, ast.Add) and _reaches_code(module, parent, depth + 1)
    if isinstance(parent, (ast.FormattedValue, ast.JoinedStr)):
        return _reaches_code(module, parent, depth + 1)  # part of a larger text
    if isinstance(parent, ast.Attribute) and parent.value is node:
        call = module.parent(parent)
        if not (isinstance(call, ast.Call) and call.func is parent):
            return False
        if parent.attr in _RENDERERS:
            return True
        if parent.attr in _WRAPPERS:
            return _reaches_code(module, call, depth + 1)
        return False
    if isinstance(parent, ast.Call):
        return _argument_use(module, parent, node, depth)
    if isinstance(parent, (ast.List, ast.Tuple)):
        return _element_use(module, parent, node, depth)
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and parent.value is node:
        return _name_use(module, parent, depth)
    if isinstance(parent, ast.Return):
        function = module.enclosing_function(parent)
        return function is not None and _function_result_as_code(module, function, depth)
    if isinstance(parent, ast.Starred):
        return _reaches_code(module, parent, depth + 1)  # ``[*lines, ...]``
    if isinstance(parent, ast.comprehension) and parent.iter is node:
        # ``[indent + line for line in lines]``: the new list carries the same lines.
        return _reaches_code(module, module.parent(parent), depth + 1)
    if isinstance(parent, ast.IfExp) and parent.test is not node:
        return _reaches_code(module, parent, depth + 1)
    return False


def _argument_use(module: ModuleModel, call: ast.Call, node: ast.AST, depth: int) -> bool:
    if node not in call.args:
        return False
    name = call_name(call) or ""
    if name in _RUNNERS and isinstance(call.func, ast.Name):
        return True
    if name in _WRITERS and isinstance(call.func, ast.Attribute) and len(call.args) == 1:
        return True
    if name in _TEMPLATE_CLASSES:
        return _template_rendered(module, call, depth)
    if name in _WRAPPERS or name == "str":
        return _reaches_code(module, call, depth + 1)
    if name == "join" and _joins_lines(call):
        return True
    func = call.func
    if name in ("append", "extend", "insert") and isinstance(func, ast.Attribute):
        # A line added to a list: the list's own uses decide.
        return isinstance(func.value, ast.Name) and any(
            _reaches_code(module, use, depth + 1) for use in _uses_of(module, func.value)
        )
    return False


def _template_rendered(module: ModuleModel, call: ast.Call, depth: int) -> bool:
    """``Template(text)`` whose ``substitute``/``render`` is called (directly or through the
    name it is assigned to)."""
    parent = module.parent(call)
    if isinstance(parent, ast.Attribute) and parent.attr in _RENDERERS:
        return True
    if isinstance(parent, ast.Assign) and parent.value is call:
        return any(
            isinstance(module.parent(use), ast.Attribute) and module.parent(use).attr in _RENDERERS
            for use in reads_of(module, parent)
        )
    return False


def _element_use(module: ModuleModel, container: ast.AST, node: ast.AST, depth: int) -> bool:
    """An element of a list: the code of ``python -c`` when it follows ``"-c"``; otherwise the
    list's own uses decide (generated lines when it is joined with a newline)."""
    elements = container.elts
    index = next(i for i, e in enumerate(elements) if e is node)
    if index and _constant(elements[index - 1]) == "-c":
        return True
    return _reaches_code(module, container, depth + 1)


def _name_use(module: ModuleModel, statement: ast.stmt, depth: int) -> bool:
    """``NAME = <string>``: some read of the name uses it as code."""
    return any(_reaches_code(module, use, depth + 1) for use in reads_of(module, statement))


def reads_of(module: ModuleModel, statement: ast.stmt) -> list[ast.Name]:
    """The reads of the name a statement assigns, in the scope it is assigned in (a module
    constant: anywhere in the module)."""
    target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
    if not isinstance(target, ast.Name):
        return []
    return _uses_of(module, target)


def _uses_of(module: ModuleModel, name: ast.Name) -> list[ast.Name]:
    """The reads of the variable ``name`` stands for (same scope of binding)."""
    values = values_of(module)
    scope, _ = values.lookup(name.id, name)
    if scope is None:
        return []
    return [
        use
        for use in _names(module).get(name.id, ())
        if use is not name and values.lookup(name.id, use)[0] is scope
    ]


@per_module
def _names(module: ModuleModel) -> dict[str, list[ast.Name]]:
    out: dict[str, list[ast.Name]] = {}
    for node in module.nodes_of(ast.Name):
        if isinstance(node.ctx, ast.Load):
            out.setdefault(node.id, []).append(node)
    return out


def _joins_lines(call: ast.Call) -> bool:
    """``"\\n".join(...)`` (any separator with a newline)."""
    func = call.func
    separator = _constant(func.value) if isinstance(func, ast.Attribute) else None
    return isinstance(separator, str) and "\n" in separator


def _constant(node: Optional[ast.AST]) -> object:
    return node.value if isinstance(node, ast.Constant) else None


# The nodes whose first statement may be a docstring.
_DOCSTRING_HOLDERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


@per_module
def prose_nodes(module: ModuleModel) -> set[int]:
    """Strings that are prose, not scripts: docstrings, ``help=``/``description=`` texts, and
    messages handed to print, logging, warnings or exceptions."""
    out: set[int] = set()
    for kind in _DOCSTRING_HOLDERS:  # one class at a time: a set needs no walk order
        for holder in module.nodes_of(kind):
            body = holder.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    for keyword in module.nodes_of(ast.keyword):
        if keyword.arg in ("help", "description", "msg"):
            out.add(id(keyword.value))
    # The calls by the name they call (a call without one is no message).
    for name, calls in module.calls_by_name.items():
        if name in _MESSAGE_CALLS or name.endswith(("Error", "Exception", "Warning")):
            out.update(id(a) for call in calls for a in call.args)
    return out


_MESSAGE_CALLS = frozenset(
    {"print", "echo", "secho", "warn", "info", "debug", "warning", "error", "exception", "fail"}
)


def only_a_message(module: ModuleModel, node: ast.expr) -> bool:
    """Every use of the string is a message (an exception's, a log line, help text): a
    command line shown to a reader, not one that is run."""
    return _message_only(module, node, 0)


def _message_only(module: ModuleModel, node: ast.AST, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if id(node) in prose_nodes(module):
        return True
    parent = module.parent(node)
    if isinstance(parent, ast.BinOp) and (
        isinstance(parent.op, ast.Add) or (isinstance(parent.op, ast.Mod) and parent.left is node)
    ):
        return _message_only(module, parent, depth + 1)
    if isinstance(parent, (ast.FormattedValue, ast.JoinedStr)):
        return _message_only(module, parent, depth + 1)
    if isinstance(parent, ast.Assign) and parent.value is node:
        uses = reads_of(module, parent)
        return bool(uses) and all(_message_only(module, use, depth + 1) for use in uses)
    return False
