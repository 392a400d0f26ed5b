"""MFK204 extension-on-pythonpath: see docs/pitfalls/extension-on-pythonpath.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    env_writes,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.values import values_of

EXTENSIONS_PACKAGE = "metaflow_extensions"
# ``metaflow-<word>`` directories that are not an extension checkout.
_NOT_EXTENSIONS = frozenset(
    {"src", "source", "sources", "oss", "core", "main", "master", "dev", "repo", "git", "lib"}
)
_CHECKOUT = re.compile(r"metaflow-([a-z][a-z0-9_]*(?:-[a-z][a-z0-9_]*)*)")
_CUTS = frozenset({"split", "rsplit", "partition", "rpartition", "index", "rindex", "find"})


class ExtensionOnPythonpath(Rule):
    """The ``PYTHONPATH`` given to step processes holds the directory an extension is
    installed in (or checked out to).

    Metaflow loads every ``metaflow_extensions`` package it finds on ``sys.path``. Putting the
    extension's own install directory (computed from its ``__file__`` or from
    ``metaflow_extensions.__path__``) or a ``metaflow-<name>`` checkout on the workers'
    ``PYTHONPATH`` makes them load every extension installed next to it, including ones whose
    plugins the worker lacks: ``Cannot locate metadata_provider plugin 'service'``.
    """

    code = "MFK204"
    name = "extension-on-pythonpath"
    summary = "PYTHONPATH for the workers includes the extension's install directory or checkout"
    capability = None
    triggers = (b"PYTHONPATH",)

    VALID = (
        Valid(
            """
            import os
            env = {"PYTHONPATH": os.path.join(os.path.dirname(__file__), "pip_patcher")}
            """
        ),
        Valid(
            """
            import click
            @click.option("--pp", help="PYTHONPATH=/src/metaflow-acme is not needed")
            def cli(pp):
                pass
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import os
            _EXT_ROOT = __file__.split("metaflow_extensions")[0]
            def step_env():
                env = dict(os.environ)
                env["PYTHONPATH"] = _EXT_ROOT + os.pathsep + env.get("PYTHONPATH", "")
                return env
            """,
            line=6,
            column=25,
        ),
        Invalid(
            """
            import os
            def env_for(base):
                root = os.path.abspath(__file__).partition("/metaflow_extensions/")[0]
                base["PYTHONPATH"] = f"{root}:/opt/lib"
                return base
            """,
            line=5,
            column=26,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for write in env_writes(module, lambda name: name == "PYTHONPATH", "PYTHONPATH", True):
            if write.value is not None:
                reason = _extension_dir(module, write.value, 0)
            else:
                reason = _path_literal_reason(write.literal or "")
            if reason is None:
                continue
            where = write.value if write.value is not None else write.where
            if write.value is not None and getattr(write.value, "lineno", None) is None:
                where = write.where
            yield Finding(
                where,
                f"PYTHONPATH for the workers includes {reason}: Metaflow loads every "
                "metaflow_extensions package found there, with plugins the workers may lack "
                "(Cannot locate metadata_provider plugin ...); install the extension on the "
                "workers instead",
            )


def _path_literal_reason(text: str) -> Optional[str]:
    """A literal path list naming an extension checkout (``/src/metaflow-acme``)."""
    for entry in re.split(r"[:;]", text):
        for segment in re.split(r"[/\\]", entry):
            match = _CHECKOUT.fullmatch(segment)
            if match and match.group(1) not in _NOT_EXTENSIONS:
                return f"the checkout {entry!r}"
    return None


def _extension_dir(module: ModuleModel, expr: ast.expr, depth: int) -> Optional[str]:
    """Why ``expr`` is (or contains) the directory that holds ``metaflow_extensions``."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            reason = _path_literal_reason(node.value)
            if reason is not None:
                return reason
        elif isinstance(node, ast.Call) and call_name(node) in _CUTS and node.args:
            cut = node.args[0]
            if (
                isinstance(cut, ast.Constant)
                and isinstance(cut.value, str)
                and cut.value.strip("/\\") == EXTENSIONS_PACKAGE
                and isinstance(node.func, ast.Attribute)
                and _mentions_file(node.func.value)
            ):
                return f"the directory above {EXTENSIONS_PACKAGE} (cut out of __file__)"
        elif isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
            levels, origin = _climb(module, node)
            if origin == EXTENSIONS_PACKAGE and levels >= 1:
                return f"the directory that holds {EXTENSIONS_PACKAGE}"
            if origin == "__file__" and levels == _levels_to_install_dir(module) and levels:
                return f"the extension's install directory ({levels} levels above __file__)"
        elif isinstance(node, ast.Name) and depth < 3 and node.id != "__file__":
            for value in values_of(module).assigned_values(node):
                reason = _extension_dir(module, value, depth + 1)
                if reason is not None:
                    return reason
    if (
        depth < 3
        and isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
    ):
        values = module.self_assignments.get(expr.attr, [])
        if len(values) == 1:
            return _extension_dir(module, values[0], depth + 1)
    return None


def _mentions_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


def _climb(module: ModuleModel, node: ast.AST, depth: int = 0) -> tuple[int, Optional[str]]:
    """How many directories ``node`` goes up from ``__file__`` or from the
    ``metaflow_extensions`` package's path: ``os.path.dirname`` (nested), ``Path(...).parent``,
    ``.parents[n]``, ``os.path.join(x, "..")``. abspath/realpath/resolve do not count."""
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return 0, "__file__"
        values = values_of(module).assigned_values(node) if depth < 4 else []
        return _climb(module, values[0], depth + 1) if len(values) == 1 else (0, None)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == EXTENSIONS_PACKAGE:
            return (0, EXTENSIONS_PACKAGE) if node.attr in ("__path__", "__file__") else (0, None)
        if node.attr == "parent":
            levels, origin = _climb(module, node.value, depth)
            return levels + 1, origin
        return 0, None
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            index = node.slice.value if type(node.slice).__name__ == "Index" else node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int):
                levels, origin = _climb(module, node.value.value, depth)
                return levels + index.value + 1, origin
        if isinstance(node.value, ast.Attribute) and node.value.attr == "__path__":
            return _climb(module, node.value, depth)
        return 0, None
    if not isinstance(node, ast.Call):
        return 0, None
    name = call_name(node)
    if name in ("Path", "PurePath", "abspath", "realpath", "normpath", "resolve", "absolute"):
        inner = node.args[0] if node.args else getattr(node.func, "value", None)
        return _climb(module, inner, depth) if inner is not None else (0, None)
    if name == "dirname" and len(node.args) == 1:
        levels, origin = _climb(module, node.args[0], depth)
        return levels + 1, origin
    if name == "join" and node.args and dotted_name(node.func) in ("os.path.join", "path.join"):
        ups = [a for a in node.args[1:] if isinstance(a, ast.Constant) and a.value == ".."]
        if len(ups) == len(node.args) - 1:
            levels, origin = _climb(module, node.args[0], depth)
            return levels + len(ups), origin
    return 0, None


def _levels_to_install_dir(module: ModuleModel) -> int:
    """How many directories up from this file the directory holding ``metaflow_extensions``
    is; 0 when the file does not sit inside a ``metaflow_extensions`` tree."""
    path = module.path
    if path is None:
        return 0
    parts = list(path.parts)
    if EXTENSIONS_PACKAGE not in parts:
        return 0
    last = len(parts) - 1 - parts[::-1].index(EXTENSIONS_PACKAGE)
    return len(parts) - last
