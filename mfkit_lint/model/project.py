"""Project mode: the other modules of the linted tree, read only when a question needs them.

A step command is often built in one module from parameters that callers in other modules
fill (``compiler.step_command(step, run_id, retry_count=...)``). When a module cannot answer
"what does this parameter always hold?" on its own, the value model asks the project: which
files call a function of that name, and with what. Files are searched as bytes first and parsed
only when they can hold such a call; nothing is imported.
"""

from __future__ import annotations

import ast
import os
import warnings
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Optional

from mfkit_lint.engine.discovery import RealPaths
from mfkit_lint.engine.source import DecodeError, Source

if TYPE_CHECKING:
    from mfkit_lint.model.module import ModuleModel

# How much source the trees of recently linted files may add up to while they wait for a
# question about them (bytes of source; a tree takes about 27 times as much memory). Files
# that import each other sit close together in a run, so most questions about a file come
# soon after it is linted; a question about an older file parses it again.
KEPT_SOURCE_BYTES = 128 * 1024


class ProjectIndex:
    def __init__(self, files: Sequence[Path]) -> None:
        # (a listing's files are paths already: making them again costs a parse of each)
        self.files = [f if isinstance(f, Path) else Path(f) for f in files]
        self._raw: dict[Path, Optional[bytes]] = {}
        self._models: dict[Path, Optional[ModuleModel]] = {}
        self._resolved: dict[Path, Path] = {}
        self._real_paths = RealPaths()
        # Trees the linter parsed itself, by resolved path, oldest first: the file being linted
        # and the most recently linted ones (see ``lend``).
        self._lent: dict[Path, _Lent] = {}
        self._lent_bytes = 0
        self._defining: dict[str, list] = {}
        # Which files' bytes hold a needle: asked again for each linted file of the project.
        self._holding: dict[bytes, list[Path]] = {}
        # owner() answers by id(node): (the node, weakly; the answer; how many modules were
        # parsed when it was given).
        self._owners: dict[int, tuple[weakref.ref, Optional[ModuleModel], int]] = {}
        self._named: dict[tuple, Optional[Path]] = {}
        # The files by resolved path and by file name (with the order of ``files``), built on
        # the first import question: each import is then answered without a walk over them all.
        self._by_resolved: Optional[dict[Path, list[Path]]] = None
        self._by_name: dict[str, list[tuple[int, Path, Path]]] = {}
        # Copies of one package in the project (see ``sees``): each package file's import
        # root (resolved) and the roots that provide a top-level package another root also
        # provides; None until first asked.
        self._import_roots: dict[Path, Path] = {}
        self._rivals: Optional[dict[Path, frozenset[Path]]] = None

    def __getstate__(self) -> dict:
        # Sent to worker processes: the file list only; each process reads what it needs.
        return {"files": self.files}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["files"])

    def _bytes(self, path: Path) -> Optional[bytes]:
        if path not in self._raw:
            try:
                self._raw[path] = path.read_bytes()
            except OSError:
                self._raw[path] = None
        return self._raw[path]

    def model(self, path: Path) -> Optional[ModuleModel]:
        """The parsed module of a project file, or None when it cannot be read or parsed."""
        if path not in self._models:
            self._models[path] = self._parse(path)
        return self._models[path]

    def parsed(self, path: Path, raw: bytes) -> Optional[ModuleModel]:
        """This index's model of ``path`` when it has parsed that file already, from the same
        bytes: a file asked about before it is linted is then parsed once."""
        if not self._models:
            return None
        for candidate in self._index().get(self._resolve(path), ()):
            model = self._models.get(candidate)
            if model is not None and self._raw.get(candidate) == raw:
                return model
        return None

    def lend(
        self, path: Path, source: Source, tree: ast.Module, module: Optional[ModuleModel]
    ) -> None:
        """The linter parsed ``path`` itself from ``source`` (and models it as ``module`` when a
        rule runs on it): a question about that file while it is linted, or soon after (the
        trees of the files linted last are kept, up to ``KEPT_SOURCE_BYTES`` of source), is
        answered from this tree and its facts instead of parsing the file again, when the file
        on disk holds the same bytes. Nobody changes a tree, so the two can share it."""
        key = self._resolve(path)
        self._forget(key)
        if self._lent:
            # The file linted last is kept whatever its size (the next file is often the one
            # importing it: ``x.py``, then ``x_cli.py``); older ones within the budget.
            last = len(next(reversed(self._lent.values())).source.raw)
            while len(self._lent) > 1 and (
                self._lent_bytes - last + len(source.raw) > KEPT_SOURCE_BYTES
            ):
                self._forget(next(iter(self._lent)))  # the oldest
        self._lent[key] = _Lent(source, tree, module)
        self._lent_bytes += len(source.raw)

    def _forget(self, key: Path) -> Optional[_Lent]:
        lent = self._lent.pop(key, None)
        if lent is not None:
            self._lent_bytes -= len(lent.source.raw)
        return lent

    def _parse(self, path: Path) -> Optional[ModuleModel]:
        from mfkit_lint.model.module import ModuleModel

        raw = self._bytes(path)
        if raw is None:
            return None
        lent = self._forget(self._resolve(path))
        if lent is not None and lent.source.raw == raw:
            model = ModuleModel(lent.source, lent.tree, project=self, path=path)
            if lent.module is not None:
                model.take_tree_facts(lent.module)
            return model
        try:
            source = Source.from_bytes(raw)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source.text)
        except (DecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return ModuleModel(source, tree, project=self, path=path)

    def _resolve(self, path: Path) -> Path:
        """``path.resolve()``, resolving each directory once: the index resolves every file of
        the project to answer imports."""
        resolved = self._resolved.get(path)
        if resolved is None:
            resolved = self._resolved[path] = Path(self._real_paths(path))
        return resolved

    def defining(self, name: str, seen_from: Optional[Path] = None) -> list:
        """(module, function) for every function named ``name`` in the project's modules
        (computed once per name), of those ``seen_from`` sees (see ``sees``)."""
        if name not in self._defining:
            self._defining[name] = [
                (module, function)
                for module in self.modules_mentioning("def " + name)
                for function in module.functions.get(name, ())
            ]
        found = self._defining[name]
        if seen_from is None or not self._copies():
            return found
        return [(module, f) for module, f in found if self.sees(seen_from, module.path)]

    def _files_holding(self, needle: bytes) -> list[Path]:
        """The readable files whose bytes contain ``needle``, in the order of ``files``."""
        found = self._holding.get(needle)
        if found is None:
            found = self._holding[needle] = [
                path for path in self.files if needle in (self._bytes(path) or b"")
            ]
        return found

    def any_file_contains(self, needle: bytes) -> bool:
        """A cheap question about the whole tree: does any file's text contain ``needle``?"""
        return bool(self._files_holding(needle))

    def modules_mentioning(self, name: str, besides: Optional[Path] = None) -> list[ModuleModel]:
        """Parsed project modules whose text contains ``name``, other than ``besides``, and
        none of another copy of ``besides``'s package tree (see ``sees``)."""
        return list(self.mentioning(name, besides))

    def mentioning(self, name: str, besides: Optional[Path] = None) -> Iterator[ModuleModel]:
        """The modules of ``modules_mentioning``, each parsed when the caller gets to it: a
        question that the first modules answer (``any``, a loop that returns) parses no more
        of them (a parse is most of what a question about another module costs)."""
        skip = self._resolve(besides) if besides is not None else None
        for path in self._files_holding(name.encode()):
            if skip is not None and (self._resolve(path) == skip or not self.sees(besides, path)):
                continue
            model = self.model(path)
            if model is not None:
                yield model

    # -- imports -------------------------------------------------------------------------------
    def module_named(
        self, importer: Optional[Path], dotted: str, level: int = 0
    ) -> Optional[ModuleModel]:
        """The project module an import names (``from .common import X``: level 1 and
        "common", seen from ``importer``), or None when it is not one of the project's files or
        more than one file could be meant."""
        path = self.path_named(importer, dotted, level)
        return self.model(path) if path is not None else None

    def path_named(self, importer: Optional[Path], dotted: str, level: int = 0) -> Optional[Path]:
        """The file of ``module_named``, found without parsing it."""
        key = (self._resolve(importer) if importer is not None else None, dotted, level)
        if key not in self._named:
            self._named[key] = self._find_module(key[0], dotted, level)
        return self._named[key]

    def source_bytes(self, path: Path) -> Optional[bytes]:
        """The bytes of a project file, read once (None: unreadable): for a question the
        bytes can answer without a parse."""
        return self._bytes(path)

    def _index(self) -> dict[Path, list[Path]]:
        if self._by_resolved is None:
            self._by_resolved = {}
            for i, path in enumerate(self.files):
                resolved = self._resolve(path)
                self._by_resolved.setdefault(resolved, []).append(path)
                self._by_name.setdefault(resolved.name, []).append((i, path, resolved))
        return self._by_resolved

    def _find_module(self, importer: Optional[Path], dotted: str, level: int) -> Optional[Path]:
        parts = [p for p in dotted.split(".") if p]
        endings = [(*parts[:-1], parts[-1] + ".py"), (*parts, "__init__.py")] if parts else []
        by_resolved = self._index()
        if level:
            if importer is None:
                return None
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            wanted = {base.joinpath(*ending) for ending in endings} or {base / "__init__.py"}
            found = [p for w in wanted for p in by_resolved.get(w, ())]
            return found[0] if len(found) == 1 else None
        found: list[tuple[Path, Path]] = []  # (file, the directory its package starts in)
        # The files named like the module's file, in the order of ``files`` (one file cannot
        # end both ways: the names differ).
        candidates = sorted(c for ending in endings for c in self._by_name.get(ending[-1], ()))
        for _, path, resolved in candidates:
            for ending in endings:
                if resolved.parts[-len(ending) :] == ending:
                    found.append((path, resolved.parents[len(ending) - 1]))
                    break
        if len(found) > 1 and importer is not None:
            # The same dotted name in two places (a vendored copy, a test fixture): the one
            # whose package root also holds the importer.
            found = [f for f in found if importer.is_relative_to(f[1])]
        return found[0][0] if len(found) == 1 else None

    def sees(self, viewpoint: Optional[Path], path: Path) -> bool:
        """Whether the file ``path`` belongs to what ``viewpoint`` (the file being linted)
        runs with. A project may hold two copies of one package (a vendored copy, a fixture,
        the same tree twice side by side): both define the same modules, and a program imports
        only the one on its own path. So from a file in one copy, the files of the other copy
        (of an import root that provides a top-level package the viewpoint's root provides
        too) are not seen; every other file is. From a file outside every copy nothing tells
        which copy it runs with, and all are seen (a question then finds each copy's answer,
        and the models that need one answer get none)."""
        if viewpoint is None:
            return True
        rivals = self._copies()
        if not rivals:
            return True
        own = self._import_roots.get(self._resolve(viewpoint))
        other = self._import_roots.get(self._resolve(path))
        return own is None or other is None or other not in rivals.get(own, ())

    def _copies(self) -> dict[Path, frozenset[Path]]:
        """For each import root that shares a top-level package name with another import
        root of the project, those other roots."""
        if self._rivals is None:
            by_resolved = self._index()
            # (strings, and each directory's answer once: every worker asks this once)
            packages = {os.path.dirname(str(r)) for r in by_resolved if r.name == "__init__.py"}
            tops: dict[str, str] = {}  # package directory -> its top-level package directory

            def top_of(directory: str) -> str:
                found = tops.get(directory)
                if found is None:
                    parent = os.path.dirname(directory)
                    found = tops[directory] = top_of(parent) if parent in packages else directory
                return found

            roots: dict[str, Path] = {}  # top-level package directory -> its import root
            providers: dict[str, set[Path]] = {}
            for resolved in by_resolved:
                directory = os.path.dirname(str(resolved))
                if directory not in packages:
                    continue  # a module outside any package: no copy can be told apart
                top = top_of(directory)
                root = roots.get(top)
                if root is None:
                    root = roots[top] = Path(os.path.dirname(top))
                    providers.setdefault(os.path.basename(top), set()).add(root)
                self._import_roots[resolved] = root
            rivals: dict[Path, set[Path]] = {}
            for same_name in providers.values():
                for root in same_name:
                    rivals.setdefault(root, set()).update(same_name - {root})
            self._rivals = {root: frozenset(r) for root, r in rivals.items() if r}
        return self._rivals

    def owner(self, node: ast.AST) -> Optional[ModuleModel]:
        """The parsed project module whose tree holds ``node``. An answer is remembered while
        it holds: the trees of linted files are freed (another node may then get the same
        id), and "none" holds only until another module is parsed (it may be this node's:
        the index takes over the tree the linter lent it)."""
        known = self._owners.get(id(node))
        if known is not None:
            ref, found, parsed = known
            if ref() is node and (found is not None or parsed == len(self._models)):
                return found
        found = next((m for m in self._models.values() if m is not None and m.owns(node)), None)
        self._owners[id(node)] = (weakref.ref(node), found, len(self._models))
        return found


class _Lent(NamedTuple):
    """A tree the linter parsed, with its model when it made one."""

    source: Source
    tree: ast.Module
    module: Optional[ModuleModel]


def imported(
    module: ModuleModel, statement: ast.AST, name: str
) -> Optional[tuple[ModuleModel, Optional[str]]]:
    """What ``name``, bound by the import ``statement`` of ``module``, is in the project:
    ``(other module, attribute)`` for ``from m import attribute``, ``(other module, None)``
    when the name is a module itself. None outside the project (Metaflow, the standard
    library), in generated code, or when it cannot be told."""
    for path, attribute in import_candidates(module, statement, name):
        other = module.project.model(path)
        if other is not None:
            return other, attribute
    return None


def import_candidates(
    module: ModuleModel, statement: ast.AST, name: str
) -> Iterator[tuple[Path, Optional[str]]]:
    """The project files ``imported`` may answer with, first choice first, found without
    parsing any: ``from m import x`` names the submodule ``m.x`` if it parses, else ``x`` of
    ``m``."""
    project = module.project
    if project is None or module.generated:
        return
    if isinstance(statement, ast.ImportFrom):
        alias = next((a for a in statement.names if (a.asname or a.name) == name), None)
        if alias is None or alias.name == "*":
            return
        base = statement.module or ""
        submodule = project.path_named(
            module.path, f"{base}.{alias.name}" if base else alias.name, statement.level
        )
        if submodule is not None:
            yield submodule, None
        other = project.path_named(module.path, base, statement.level) if base else None
        if other is not None:
            yield other, alias.name
    elif isinstance(statement, ast.Import):
        alias = next((a for a in statement.names if a.asname == name), None)
        if alias is None:
            return  # ``import a.b`` binds ``a``: attribute chains are not followed
        other = project.path_named(module.path, alias.name)
        if other is not None:
            yield other, None
