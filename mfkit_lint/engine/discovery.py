"""Which files to lint: walk directories, skip default excludes and what .gitignore ignores."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

from mfkit_lint.engine.config import DEFAULT_EXCLUDE, Settings
from mfkit_lint.engine.source import is_yaml_file

if TYPE_CHECKING:
    import pathspec

PYTHON_SUFFIXES = (".py", ".pyi")
# Besides Python, a directory walk picks up the repository's CI workflows: YAML sources that
# the YAML rules read (only these: other YAML in a tree is data the linter has no view on).
WORKFLOW_DIR = (".github", "workflows")


def is_workflow_file(path: Path) -> bool:
    return is_yaml_file(path.name) and path.parent.parts[-2:] == WORKFLOW_DIR


@dataclass
class Discovered:
    files: list[Path]
    errors: list[tuple[Path, str]]  # paths that could not be listed, with the reason


def _spec(patterns: Sequence[str]) -> pathspec.PathSpec:
    # GitIgnoreSpec: gitignore semantics without the "gitwildmatch" factory pathspec 1.x deprecates.
    # (pathspec is imported when a pattern is first needed: files named on the command line
    # are never matched, and a cached run of them does not pay for the import.)
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


@lru_cache(maxsize=1)
def _defaults() -> pathspec.PathSpec:
    return _spec(DEFAULT_EXCLUDE)


class _Ignores:
    """.gitignore files from the repository root down to each directory being walked."""

    def __init__(self) -> None:
        self._cache: dict[Path, Optional[pathspec.GitIgnoreSpec]] = {}

    def _load(self, directory: Path) -> Optional[pathspec.GitIgnoreSpec]:
        if directory not in self._cache:
            spec = None
            path = directory / ".gitignore"
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    spec = _spec(list(fh))
            except OSError:
                pass
            self._cache[directory] = spec
        return self._cache[directory]

    def loaded(self) -> list[Path]:
        """The directories whose .gitignore was looked for (whether or not there was one)."""
        return list(self._cache)

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for directory in _repo_dirs(path.parent):
            spec = self._load(directory)
            if spec is None:
                continue
            rel = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
            if spec.match_file(rel):
                return True
        return False


def resolved(path: Path) -> Path:
    """``path.resolve()`` that survives symlink loops (before Python 3.13 ``resolve`` raises
    RuntimeError on them): the loop is left unresolved, and reading the file reports it."""
    return Path(os.path.realpath(path))


class RealPaths:
    """``os.path.realpath`` of many paths, each directory resolved once: resolving a path costs
    a system call per component, and a walk, a project index or a run asks about every file of
    a few directories. An entry that is no symbolic link is its resolved directory's entry of
    the same name. (A relative path is resolved against the working directory of the first
    question about its directory.)"""

    def __init__(self) -> None:
        self._directories: dict[str, str] = {}

    def __call__(self, path: Union[str, os.PathLike]) -> str:
        directory, name = os.path.split(path)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        joined = os.path.join(self.directory(directory), name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined

    def directory(self, directory: str) -> str:
        """``os.path.realpath`` of a directory (as ``os.path.split`` gives it), once."""
        real = self._directories.get(directory)
        if real is None:
            real = self._directories[directory] = os.path.realpath(directory or os.curdir)
        return real


def _stat(path: Path) -> Optional[os.stat_result]:
    """``os.stat(path)``, or None where the path cannot be followed (missing, a broken link,
    a loop, an invalid name)."""
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _identity(path: Path, info: Optional[os.stat_result] = None) -> object:
    """What makes two paths the same file, for linting each file once: its device and inode
    (one stat, cheaper than resolving every component), or for a path that cannot be
    followed (a broken link, a loop) the absolute path itself. ``info``: its stat, if known."""
    info = info or _stat(path)
    if info is None:
        return os.path.abspath(path)
    return (info.st_dev, info.st_ino)


@lru_cache(maxsize=4096)
def _repo_dirs(directory: Path) -> tuple[Path, ...]:
    """``directory`` and its parents up to the enclosing git repository's root (if any)."""
    if (directory / ".git").exists() or directory.parent == directory:
        return (directory,)
    parents = _repo_dirs(directory.parent)
    if (parents[-1] / ".git").exists():
        return (directory, *parents)
    return (directory,)


class FileFinder:
    def __init__(
        self,
        settings: Settings,
        respect_gitignore: bool = True,
        force_exclude: bool = False,
        as_named: bool = False,
    ) -> None:
        self.settings = settings
        # Walk each directory as one named on the command line even when it is not itself
        # excluded: inside it only the default excludes (see ``_walk``).
        self.as_named = as_named
        # ruff's --force-exclude: files named on the command line (pre-commit passes each
        # staged file) are excluded when they, or a directory above them, match.
        self.force_exclude = force_exclude
        self._exclude: Optional[pathspec.PathSpec] = None
        self.gitignore = _Ignores() if respect_gitignore else None
        self.walked: list[str] = []  # the directories listed, in the order of the walk
        self._real_paths = RealPaths()

    def excluded(self, path: Path, is_dir: bool, base: Optional[Path] = None) -> bool:
        # Exclude patterns are gitignore patterns matched against the path relative to the
        # config root: "build" excludes every directory called build, "/build" only the top one.
        # A path outside the root is matched relative to ``base``, the directory being walked
        # (never by its absolute path, where a parent named e.g. "build" would exclude it).
        real = Path(self._real_paths(path))
        try:
            rel = real.relative_to(self.settings.root).as_posix()
        except ValueError:
            rel = path.relative_to(base).as_posix() if base is not None else path.name
        if self._exclusions().match_file(rel + ("/" if is_dir else "")):
            return True
        return self.gitignore is not None and self.gitignore.ignored(real, is_dir)

    def _exclusions(self) -> pathspec.PathSpec:
        if self._exclude is None:
            self._exclude = _spec([*self.settings.exclude, *self.settings.extend_exclude])
        return self._exclude

    def find(self, paths: Sequence[Path]) -> Discovered:
        files: list[Path] = []
        errors: list[tuple[Path, str]] = []
        seen: set[object] = set()
        for path in paths:
            info = _stat(path)  # (one stat per named path: pre-commit names every file)
            if info is not None and stat.S_ISDIR(info.st_mode):
                for found in self._walk(path, errors):
                    key = _identity(found)
                    if key not in seen:
                        seen.add(key)
                        files.append(found)
            elif info is not None or path.is_symlink():
                # An explicitly named file is linted even when an exclude pattern matches it,
                # unless --force-exclude says otherwise.
                if self.force_exclude and self._excluded_with_parents(path):
                    continue
                key = _identity(path, info)
                if key not in seen:
                    seen.add(key)
                    files.append(path)
            else:
                errors.append((path, "no such file or directory"))
        return Discovered(files, errors)

    def _excluded_with_parents(self, path: Path) -> bool:
        if self.excluded(path, is_dir=False, base=path.parent):
            return True
        full = resolved(path)
        for parent in full.parents:
            if parent == self.settings.root or self.settings.root not in parent.parents:
                break
            if self.excluded(parent, is_dir=True):
                return True
        return False

    def _walk(self, root: Path, errors: list[tuple[Path, str]]) -> Iterator[Path]:
        def onerror(exc: OSError) -> None:
            errors.append((Path(exc.filename or root), exc.strerror or str(exc)))

        # A directory the user names is linted even when it is itself excluded or ignored
        # (e.g. a gitignored build tree); inside it only the default excludes still apply,
        # matched by name, since every other pattern matching it would skip it all.
        forced = self.as_named or self.excluded(root, is_dir=True, base=root.parent)

        for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
            self.walked.append(dirpath)
            current = Path(dirpath)
            skip = _DirectoryEntries(self, current, root).excluded if not forced else _by_name
            dirnames[:] = sorted(d for d in dirnames if not skip(d, True))
            for name in sorted(filenames):
                if (
                    name.endswith(PYTHON_SUFFIXES)
                    or (is_yaml_file(name) and is_workflow_file(current / name))
                ) and not skip(name, False):
                    yield current / name


class _DirectoryEntries:
    """``FileFinder.excluded`` for the entries of one walked directory, with what depends only
    on the directory worked out once: its real path, that path relative to the configuration
    root and to each directory whose .gitignore applies. An entry that is no symbolic link
    resolves to that real path joined with its name, so each of its relative paths is the
    directory's joined with its name. A symbolic link, and every entry of a directory outside
    the configuration root, is asked of ``excluded`` itself."""

    def __init__(self, finder: FileFinder, directory: Path, base: Path) -> None:
        self.finder = finder
        self.directory = directory
        self.base = base
        self.real = finder._real_paths.directory(str(directory))
        real = Path(self.real)
        try:
            self.prefix: Optional[str] = _child_prefix(real.relative_to(finder.settings.root))
        except ValueError:
            self.prefix = None  # (matched from the walked directory: ``excluded`` does that)
        self._ignores: Optional[list[tuple[pathspec.GitIgnoreSpec, str]]] = None

    def excluded(self, name: str, is_dir: bool) -> bool:
        if self.prefix is None or os.path.islink(os.path.join(self.real, name)):
            return self.finder.excluded(self.directory / name, is_dir, base=self.base)
        mark = "/" if is_dir else ""
        if self.finder._exclusions().match_file(self.prefix + name + mark):
            return True
        return any(spec.match_file(prefix + name + mark) for spec, prefix in self.ignores())

    def ignores(self) -> list[tuple[pathspec.GitIgnoreSpec, str]]:
        """The .gitignore patterns that apply, each with the directory's path relative to the
        .gitignore's (read when an entry is first asked about, as ``excluded`` reads them)."""
        if self._ignores is None:
            self._ignores = []
            if self.finder.gitignore is not None:
                real = Path(self.real)
                for parent in _repo_dirs(real):
                    spec = self.finder.gitignore._load(parent)
                    if spec is not None:
                        self._ignores.append((spec, _child_prefix(real.relative_to(parent))))
        return self._ignores


def _by_name(name: str, is_dir: bool) -> bool:
    """Whether a default exclude matches the entry's name (inside a directory that was named
    although excluded: see ``FileFinder._walk``)."""
    return _defaults().match_file(name + ("/" if is_dir else ""))


def _child_prefix(relative: Path) -> str:
    """What comes before a child's name in its path relative to the same directory."""
    posix = relative.as_posix()
    return "" if posix == "." else posix + "/"


# What marks the root of a project (ruff finds its project root the same way).
ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def project_root(path: Path, base: Optional[Path] = None) -> Path:
    """The project a file belongs to: the nearest directory at or above it that holds a
    ``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``.git``. Loose files (no marker
    above them) belong to ``base`` (the configuration root: where the run started) when they
    are below it, else to their own directory. The same answer however the file was named
    (a directory, its own path, stdin's ``--stdin-filename``, flake8, the language server)."""
    directory = os.path.dirname(os.path.abspath(path))
    found = _root_of(directory)
    if found is not None:
        return Path(found)
    if base is not None:
        top = os.path.abspath(base)
        if directory == top or directory.startswith(top.rstrip(os.sep) + os.sep):
            return Path(top)
    return Path(directory)


@lru_cache(maxsize=4096)
def _root_of(directory: str) -> Optional[str]:
    if any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS):
        return directory
    parent = os.path.dirname(directory)
    return None if parent == directory else _root_of(parent)


# A project's files by root and file selection: flake8, pre-commit batches and the language
# server lint file after file of one project. A listing is reused for a few seconds (a long
# lived language server sees new files soon after), and a CLI run starts afresh.
_PROJECT_FILES: dict[tuple, ProjectListing] = {}
_LISTING_TTL = 10.0


@dataclass(eq=False)
class ProjectListing:
    """The files of one project as listed at one time. Compared by identity: every file of a
    run asks for its project, and comparing hundreds of paths per file would cost more than
    linting it."""

    root: Path
    names: tuple[str, ...]  # the files' paths
    listed_at: float
    _stamp: Optional[bytes] = None

    @cached_property
    def files(self) -> tuple[Path, ...]:
        # (made when first asked for: a run answered by the cache needs only the stamp)
        return tuple(Path(name) for name in self.names)

    @cached_property
    def _directories(self) -> frozenset[str]:
        return frozenset(os.path.dirname(name) for name in self.names)

    @cached_property
    def _real_directories(self) -> frozenset[str]:
        real = RealPaths()
        return frozenset(real(directory) for directory in self._directories)

    def covers(self, path: Union[str, os.PathLike]) -> bool:
        """Whether the walk that made this listing lists files of ``path``'s directory (it
        may still skip ``path`` itself: a name no walk picks up, an excluded file name)."""
        directory = os.path.dirname(os.path.abspath(path))
        return directory in self._directories or (RealPaths()(directory) in self._real_directories)

    def stamp(self) -> bytes:
        """A digest of the files as they are on disk (path, size, modification time), taken
        once per listing: whatever depends on the project is valid while it is unchanged."""
        if self._stamp is None:
            from mfkit_lint.engine.cache import project_context

            self._stamp = project_context(self.names)
        return self._stamp


def package_root(path: Path, project: Path) -> Path:
    """The directory the package tree holding a file starts in: the directory above the
    highest package (a directory with ``__init__.py``) on the file's path, the one that must
    be on ``sys.path`` to import it; the file's own directory when no directory on its path
    is a package. Never ``project`` or above it: a package right inside ``project`` is its
    own tree."""
    return _package_root(os.path.dirname(os.path.abspath(path)), os.path.abspath(project))


@lru_cache(maxsize=4096)
def _package_root(directory: str, top: str) -> Path:
    # (once per directory: every file of a left-out tree asks, and most share a directory)
    below = top.rstrip(os.sep) + os.sep
    root = current = directory
    while current.startswith(below):
        parent = os.path.dirname(current)
        if os.path.isfile(os.path.join(current, "__init__.py")):
            root = parent if parent.startswith(below) else current
        current = parent
    return Path(root)


def project_listing(
    settings: Settings, root: Path, store: Optional[Path] = None, named: bool = False
) -> ProjectListing:
    """Every file under ``root`` that a run on the directory would lint (excludes and
    .gitignore applied; ``named``: as when the directory is named on the command line, inside
    it only the default excludes). With ``store`` (the cache directory) a listing is also kept
    on disk and reused by later runs while nothing it depends on changed (see
    ``_StoredListing``)."""
    key = (root, settings.root, settings.exclude, settings.extend_exclude, named)
    now = time.monotonic()
    listed = _PROJECT_FILES.get(key)
    if listed is None or now - listed.listed_at > _LISTING_TTL:
        stored = _StoredListing(store, key) if store is not None else None
        names = stored.load() if stored is not None else None
        if names is None:
            started = time.time_ns()
            finder = FileFinder(settings, as_named=named)
            found = finder.find([root])
            names = tuple(str(path) for path in found.files)
            if stored is not None and not found.errors:
                stored.save(names, finder, started)
        listed = _PROJECT_FILES[key] = ProjectListing(root, names, now)
    return listed


class _StoredListing:
    """A project listing kept in the cache directory. It depends on the entries of every
    directory walked (a file or directory added, removed or renamed changes the directory's
    modification time), on the .gitignore files read, and on whether the directories above
    the root hold a ``.git`` (which moves the repository root, whose .gitignore files then
    apply): the state of each is recorded, and the listing is reused only while all are
    unchanged. A listing taken while one of them had just changed is not kept: a change in the
    same tick of the file system's clock would not show (git's "racy" entries)."""

    RACY_NS = 2_000_000_000

    def __init__(self, store: Path, key: tuple) -> None:
        import hashlib

        self.path = store / f"listing-{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}.json"
        self.root = Path(key[0])

    def load(self) -> Optional[tuple[str, ...]]:
        import json

        try:
            with open(self.path, "rb") as fh:
                data = json.loads(fh.read())
            watched, files = data["watched"], data["files"]
            if any(_state(path) != state for path, state in watched):
                return None
            if not all(isinstance(f, str) for f in files):
                return None
            return tuple(files)
        except Exception:  # missing, partial or foreign: list again
            return None

    def save(self, names: tuple[str, ...], finder: FileFinder, started_ns: int) -> None:
        import contextlib
        import json

        from mfkit_lint.engine.cache import prepare_directory, write_atomic

        paths = [*finder.walked, *(os.path.join(p, ".git") for p in self.root.parents)]
        if finder.gitignore is not None:
            paths += [os.path.join(d, ".gitignore") for d in finder.gitignore.loaded()]
        watched = [(path, _state(path)) for path in paths]
        if any(state and state[0] > started_ns - self.RACY_NS for _, state in watched):
            return
        data = {"watched": watched, "files": list(names)}
        if prepare_directory(self.path.parent):
            with contextlib.suppress(OSError):
                write_atomic(self.path, json.dumps(data, separators=(",", ":")))


def _state(path: str) -> Optional[list[int]]:
    """What changes when a directory's entries or a file's content change: modification time
    and size (None: missing)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size]


def forget_projects() -> None:
    """Drop the remembered project listings (a new run lists the projects again)."""
    _PROJECT_FILES.clear()
