"""How an extension is put together: its classes (DeployerImpl, DeployedFlow subclasses) and
how Metaflow finds it (``metaflow_extensions/<org>/<extension point>/mfextinit_*.py``).

The layout facts mirror ``metaflow/extension_support/__init__.py`` and ``plugins.py`` of
Metaflow 2.19.39, which decide what is loaded: a *configuration file* of an extension point is
a file directly in ``metaflow_extensions/<org>/<point>/`` whose name matches
``mfextinit_[a-zA-Z0-9_-]+.py``, or that directory's ``__init__.py``; a second one in the same
directory raises ``RuntimeError: ... defines more than one configuration file``; an
``__init__.py`` directly in ``metaflow_extensions/`` raises ``RuntimeError: ... is not an
implicit namespace package``; descriptor paths starting with ``.`` are relative to the
configuration file's package.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from mfkit_lint.contract.schedulers import AttemptCounter
    from mfkit_lint.model.module import ModuleModel

EXT_PKG = "metaflow_extensions"
# In Metaflow's order: more specific points first.
EXTENSION_POINTS = (
    "plugins.env_escape",
    "plugins.cards",
    "plugins.datatools",
    "plugins",
    "config",
    "exceptions",
    "toplevel",
    "cmd",
    "alias",
)
CONFIG_FILE = re.compile(r"^mfextinit_[a-zA-Z0-9_-]+\.py$")
INIT = "__init__.py"
DEPLOYER_DESC = "DEPLOYER_IMPL_PROVIDERS_DESC"


# -- classes ----------------------------------------------------------------------------------


def base_name(node: ast.expr) -> Optional[str]:
    """The last component of a base class expression: ``a.b.DeployerImpl`` -> ``DeployerImpl``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):  # Generic[...]-style bases
        return base_name(node.value)
    return None


def module_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def derives_from(tree: ast.Module, cls: ast.ClassDef, root: str) -> bool:
    """``cls`` has ``root`` among its bases, directly or through classes of the same module."""
    classes = module_classes(tree)
    seen: set[str] = set()
    todo = [cls]
    while todo:
        current = todo.pop()
        for base in current.bases:
            name = base_name(base)
            if name == root:
                return True
            if name in classes and name not in seen:
                seen.add(name)
                todo.append(classes[name])
    return False


def chain(tree: ast.Module, cls: ast.ClassDef, root: str) -> Optional[list[ast.ClassDef]]:
    """``cls`` and the same-module classes between it and ``root``, when every base on the
    way is known (``root`` itself or a class of this module); None when a base is unknown."""
    classes = module_classes(tree)
    out = [cls]
    current = cls
    while True:
        names = [base_name(b) for b in current.bases]
        if root in names:
            return out
        local = [n for n in names if n in classes and classes[n] not in out]
        if len(local) != 1 or len(names) != 1:
            return None
        current = classes[local[0]]
        out.append(current)


def _binds(stmt: ast.stmt, attr: str) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return stmt.name == attr
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id == attr
    return False


def class_level_bindings(cls: ast.ClassDef, attr: str) -> Iterator[ast.stmt]:
    """Statements of the class body that bind ``attr`` (assignments, defs)."""
    return (stmt for stmt in cls.body if _binds(stmt, attr))


def methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}


def string_constant(cls: ast.ClassDef, attr: str) -> Optional[str]:
    """A class attribute assigned one string literal (``TYPE = "kestra"``), or None."""
    for stmt in class_level_bindings(cls, attr):
        value = getattr(stmt, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


# -- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionFile:
    """A file inside a ``metaflow_extensions`` tree: the directory holding
    ``metaflow_extensions`` (the import root) and the path parts below it."""

    root: Path
    parts: tuple[str, ...]  # e.g. ("kestra", "plugins", "mfextinit_kestra.py")

    @classmethod
    def of(cls, path: Path) -> Optional[ExtensionFile]:
        parts = path.parts
        if EXT_PKG not in parts[:-1]:
            return None
        # The innermost metaflow_extensions directory is the one Python imports from.
        index = len(parts) - 1 - parts[::-1].index(EXT_PKG, 1)
        return cls(Path(*parts[:index]) if index else Path("."), tuple(parts[index + 1 :]))

    @property
    def directory(self) -> Path:
        return self.root.joinpath(EXT_PKG, *self.parts[:-1])

    def point(self) -> Optional[str]:
        """The extension point the file belongs to, as Metaflow matches it, or None."""
        for point in EXTENSION_POINTS:
            words = tuple(point.split("."))
            if len(self.parts) > len(words) + 1 and self.parts[1 : 1 + len(words)] == words:
                return point
        return None

    def is_config(self) -> bool:
        """Metaflow reads this file as the configuration of an extension point."""
        point = self.point()
        if point is None:
            return False
        name = self.parts[-1]
        return len(self.parts) == len(point.split(".")) + 2 and (
            CONFIG_FILE.match(name) is not None or name == INIT
        )

    def package(self) -> str:
        """The dotted package the file sits in (descriptor paths are relative to it)."""
        return ".".join((EXT_PKG, *self.parts[:-1]))


def config_files(directory: Path) -> list[Path]:
    """The files Metaflow would take as configuration in ``directory``."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.is_file())
    except OSError:
        return []
    return [directory / n for n in names if CONFIG_FILE.match(n) or n == INIT]


# -- descriptors ------------------------------------------------------------------------------


@dataclass
class Descriptor:
    variable: str  # e.g. DEPLOYER_IMPL_PROVIDERS_DESC
    name: str
    path: str
    node: ast.expr  # the (name, path) pair


def descriptor_assignments(tree: ast.Module) -> Iterator[tuple[str, ast.Assign]]:
    """Top-level ``X_DESC = ...`` assignments of a configuration module."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id.endswith("_DESC"):
                    yield target.id, stmt


def pair(node: ast.expr) -> Optional[tuple[str, str]]:
    """A ``("name", "path")`` tuple or list of two string literals."""
    if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 2:
        first, second = node.elts
        if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            return first.value, second.value  # type: ignore[union-attr]
    return None


def descriptors(tree: ast.Module) -> Iterator[Descriptor]:
    """Every well-formed descriptor pair of a configuration module."""
    for variable, stmt in descriptor_assignments(tree):
        if isinstance(stmt.value, (ast.List, ast.Tuple)):
            for element in stmt.value.elts:
                found = pair(element)
                if found is not None:
                    yield Descriptor(variable, found[0], found[1], element)


def resolve(package: str, class_path: str) -> Optional[str]:
    """The absolute dotted path of a descriptor path, as Metaflow resolves it; None when the
    relative path climbs out of the package (Metaflow raises ``ValueError`` then)."""
    if not class_path.startswith("."):
        return class_path
    dots = len(class_path) - len(class_path.lstrip("."))
    components = package.split(".")
    if dots > len(components):
        return None
    kept = components[: len(components) - dots + 1]
    return ".".join(kept) + "." + class_path[dots:]


def scheduler_of(module: ModuleModel) -> Optional[AttemptCounter]:
    """The scheduler whose package the module imports (or, for a module that generates the
    scheduler's file, whose package that generated code imports); None when none or several."""
    from mfkit_lint.contract.schedulers import by_import
    from mfkit_lint.model.embedded import embedded_of

    trees = [module.tree]
    if not module.generated:
        trees += [e.tree for e in embedded_of(module)]
    for tree in trees:
        found = {id(row): row for name in _imported(tree) if (row := by_import(name)) is not None}
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            return None
    return None


def _imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
