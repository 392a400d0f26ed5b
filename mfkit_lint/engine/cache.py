"""A content-addressed cache of each file's diagnostics, so unchanged files are not linted again.

Key: the SHA-256 of the file's bytes, combined with a fingerprint of everything else that decides
the result:

* the cache format and the Python version (``ast`` accepts and rejects different code in
  different versions);
* mfkit-lint's version and the source text of the analysis code: the engine, the model, the
  contract and every rule plugin's files (third-party plugins included), found without
  importing them. An edited rule in an editable install, or an upgraded plugin, therefore
  invalidates the entries;
* the codes checked in that file: the selection after per-file ignores, engine codes included;
* in project mode (a directory is linted, and rules may look at the other files of the tree):
  the path of the file and the paths and contents of every file of the tree, so that a change
  anywhere invalidates every entry of that tree.

Otherwise the file's name is not part of the key (rules never see it): a copy or a rename hits.
Settings that change only discovery (``exclude``) or the report (``unsafe-fixes``, formats) are
not in it.

Value: the diagnostics as JSON, without fix data (what a codemod needs to compute an edit). A
cached diagnostic still says whether a fix exists and how safe it is (``[*]``, counts), and a file
whose fixes are actually needed (``--fix``, ``--diff``, fix edits in JSON/SARIF) is linted again
for real. Results that came with errors (a rule crashed) are never stored.

Storage: the entries of the files of one project in one state (its stamp, see
``project_context``) are kept together in one pack file (``pack-<id>.json``), which a run reads
once and writes once at its end, merged with what other runs added meanwhile: a warm run reads
one file per project instead of one per linted file. Packs are written atomically (temporary
file + rename in the same directory), so concurrent runs never see half a pack; a pack or an
entry that cannot be read or understood is a miss and is written again. The cache never fails
a run: when the directory cannot be created or written (a read-only checkout), linting goes on
without it. It lives in ``.mfkit_lint_cache/`` in the configuration
root (``$MFKIT_LINT_CACHE_DIR`` overrides), holds a ``.gitignore`` of ``*`` and a
``CACHEDIR.TAG``, and can be deleted at any time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from mfkit_lint import __version__
from mfkit_lint.engine.diagnostic import Applicability, Diagnostic, Fix, Location, Span
from mfkit_lint.engine.registry import RuleInfo, plugin_modules, plugin_sources

if TYPE_CHECKING:
    from mfkit_lint.engine.config import Settings
    from mfkit_lint.engine.linter import Linter

CACHE_DIR_NAME = ".mfkit_lint_cache"
CACHE_DIR_ENV = "MFKIT_LINT_CACHE_DIR"
FORMAT = 3
GITIGNORE = "# Created by mfkit-lint: the lint cache, safe to delete.\n*\n"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by mfkit-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
# Packages whose code decides what a rule reports (report, fixers, cli and lsp do not).
_ANALYSIS_PACKAGES = (
    "mfkit_lint.engine",
    "mfkit_lint.model",
    "mfkit_lint.contract",
    "mfkit_lint.rules",
    "mfkit_lint.fixers",  # rules compute fix data with fixers/data.py: it decides the [*]
)


def cache_dir(root: Path) -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else root / CACHE_DIR_NAME


def fingerprint(directory: Optional[Path] = None, modules: Optional[Sequence[str]] = None) -> str:
    """A digest of the format, Python, mfkit-lint and the source of the analysis code and of
    every rule plugin (read as files: nothing is imported). ``directory`` is the cache, where
    the list of plugins and the digest are remembered (see ``_remembered_digest``);
    ``modules`` names the plugins instead."""
    digest = hashlib.sha256()
    for part in (f"format {FORMAT}", sys.version, sys.implementation.name, __version__):
        digest.update(part.encode() + b"\0")
    files = [path for name in _ANALYSIS_PACKAGES for path in _package_files(name)]
    if modules is None:
        modules = _plugin_modules(directory)
    digest.update(",".join(modules).encode() + b"\0")
    files += plugin_sources(modules)
    return _remembered_digest(directory, digest, files)


def _remembered_digest(directory: Optional[Path], digest: Any, files: Sequence[Path]) -> str:
    """``digest`` updated with the path and content of each file. Reading and hashing the
    analysis code costs a warm run more than its own cache entries do, so with a cache
    ``directory`` the result is kept there, keyed by what ``digest`` holds so far and by each
    file's path, size, inode and modification and change times (nanoseconds; the change time
    cannot be set back). As in git's index, a digest taken while a file had just changed is
    not kept: a change within the same tick of the file system's clock would not show."""
    remembered: Optional[str] = None  # where the digest is kept
    if directory is not None:
        key = digest.copy()
        newest = 0
        for path in files:
            try:
                info = os.stat(path)
                state = f"{info.st_size}:{info.st_ino}:{info.st_mtime_ns}:{info.st_ctime_ns}"
                newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
            except OSError:
                state = "-"
            key.update(f"{path}\0{state}\0".encode())
        remembered = os.path.join(directory, f"fingerprint-{key.hexdigest()[:32]}.json")
        try:
            with open(remembered, "rb") as fh:
                value = json.loads(fh.read())
            if isinstance(value, str) and len(value) == 64:
                return value
        except Exception:  # missing or unreadable: hash the files
            pass
        if newest > time.time_ns() - _RACY_NS:
            remembered = None
    for path in files:
        digest.update(str(path).encode() + b"\0")
        try:
            with open(path, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
        except OSError:
            digest.update(b"unreadable")
    value = digest.hexdigest()
    if remembered is not None and directory is not None and prepare_directory(directory):
        with contextlib.suppress(OSError):
            write_atomic(Path(remembered), json.dumps(value))
    return value


def _plugin_modules(directory: Optional[Path]) -> list[str]:
    """The rule plugins' modules. Reading the installed distributions' entry points costs more
    than a whole cached run, so the answer is kept in the cache directory, keyed by the import
    path and the modification times of its directories (installing or removing a distribution
    changes its site-packages directory)."""
    if directory is None:
        return plugin_modules()
    state = []
    for entry in sys.path:
        try:
            state.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            state.append(f"{entry}\0-")
    key = hashlib.sha256("\n".join(state).encode()).hexdigest()[:32]
    path = directory / f"plugins-{key}.json"
    try:
        with open(path, "rb") as fh:
            modules = json.loads(fh.read())
        if isinstance(modules, list) and all(isinstance(m, str) for m in modules):
            return modules
    except Exception:  # missing or unreadable: ask the distributions
        pass
    modules = plugin_modules()
    # (The directory is made here if need be: a first run that did not remember the list
    # would leave every later run to ask the distributions again.)
    if prepare_directory(directory):
        with contextlib.suppress(OSError):
            write_atomic(path, json.dumps(modules))
    return modules


def content_digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def project_context(files: Iterable[str | Path]) -> bytes:
    """A digest of a project's files as they are on disk (path, size, modification time): a
    cached result that depends on the project is valid while none of them changes."""
    digest = hashlib.sha256()
    for path in files:
        try:
            info = os.stat(path)
            stamp = f"{info.st_size}:{info.st_mtime_ns}"
        except OSError:
            stamp = "unreadable"
        digest.update(f"{path}\0{stamp}\0".encode())
    return digest.digest()


def _package_files(name: str) -> list[Path]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    return [path for location in locations for path in sorted(Path(location).glob("*.py"))]


# Pruning, at most once a day per cache directory: packs (and remembered rule lists) not
# written for MAX_AGE_DAYS go, then the oldest packs beyond MAX_ENTRIES entries in all;
# temporary files of a run that was killed mid-write go after an hour. A pack drops its own
# entries older than MAX_AGE_DAYS whenever it is written.
MAX_AGE_DAYS = 30
MAX_ENTRIES = 100_000
PRUNE_EVERY_SECONDS = 24 * 3600
_STALE_TMP_SECONDS = 3600
_PRUNE_MARKER = "last-prune"
_RACY_NS = 2_000_000_000  # a file changed this recently may change again unseen
PACK_PREFIX = "pack-"
RULES_PREFIX = "rules-"
_SALTS: dict[Path, str] = {}  # fingerprints by cache directory, this process
_RULE_INDEXES: dict[Path, tuple[RuleInfo, ...]] = {}  # rules to remember, by cache directory


class Cache:
    """Diagnostics by content; every method swallows I/O problems (a failure is a miss)."""

    def __init__(self, directory: Path, salt: Optional[str] = None) -> None:
        """``salt``: the fingerprint (see ``fingerprint``); None: taken when first needed."""
        self.directory = directory
        self._salt = None if salt is None else salt.encode()
        self._names: Optional[list[str]] = None  # the directory's files, listed once
        self._ready: Optional[bool] = None  # the directory exists with its marker files
        self._packs: dict[str, dict[str, Any]] = {}  # entries by pack, as read
        self._pack_ids: dict[Optional[bytes], str] = {}  # pack by project stamp
        self._new: dict[str, dict[str, Any]] = {}  # entries put and not yet written, by pack

    @classmethod
    def for_linter(cls, linter: Linter) -> Cache:
        return cls.for_settings(linter.settings)

    @classmethod
    def for_settings(cls, settings: Settings) -> Cache:
        return cls(cache_dir(settings.root))

    @property
    def salt(self) -> bytes:
        """The fingerprint, taken once per process and directory (it reads every analysis
        file) when first needed: a run whose directory holds nothing to look up (a first run)
        needs it only for what it stores, while the workers lint."""
        if self._salt is None:
            salt = _SALTS.get(self.directory)
            if salt is None:
                salt = _SALTS[self.directory] = fingerprint(self.directory)
            self._salt = salt.encode()
        return self._salt

    def _holds(self, prefix: str) -> bool:
        """Whether the directory held a file named ``prefix...`` when this object first looked
        (a file written meanwhile by another run is a miss, as a pack read once is)."""
        if self._names is None:
            try:
                self._names = os.listdir(self.directory)
            except OSError:  # (no directory yet: nothing to look up)
                self._names = []
        return any(name.startswith(prefix) for name in self._names)

    def _index_entry(self) -> str:
        return os.path.join(self.directory, f"{RULES_PREFIX}{self.salt.decode()[:32]}.json")

    def rule_index(self) -> Optional[list[RuleInfo]]:
        """The rules as they were when this fingerprint was seen, or None: lets a run whose
        files are all cached skip importing the rules."""
        if not self._holds(RULES_PREFIX):
            return None
        try:
            with open(self._index_entry(), "rb") as fh:
                items = json.loads(fh.read())
            return [RuleInfo(str(code), str(scope)) for code, scope in items]
        except Exception:
            return None

    def put_rule_index(self, infos: Sequence[RuleInfo]) -> None:
        """Remember the rules for later runs; written with the next ``flush`` in this process
        of a cache of the same directory (the entries' run: see ``salt``)."""
        _RULE_INDEXES[self.directory] = tuple(infos)

    def _write_rule_index(self) -> None:
        infos = _RULE_INDEXES.pop(self.directory, None)
        if infos is None or not self._prepare():
            return
        data = json.dumps([[i.code, i.scope] for i in infos], separators=(",", ":"))
        with contextlib.suppress(OSError):
            write_atomic(Path(self._index_entry()), data)

    def key(self, raw: bytes, codes: Sequence[str], context: bytes = b"") -> str:
        """The entry of a file with these bytes, checked for ``codes``; ``context`` is whatever
        else its result depends on (see ``project_context``)."""
        return self.key_for(content_digest(raw), codes, context)

    def key_for(self, content: bytes, codes: Sequence[str], context: bytes = b"") -> str:
        digest = hashlib.sha256(self.salt)
        digest.update(",".join(codes).encode() + b"\0")
        digest.update(hashlib.sha256(context).digest())
        digest.update(content)
        return digest.hexdigest()

    def pack_for(self, stamp: Optional[bytes]) -> str:
        """The pack that holds the entries of the files of a project in this state (``stamp``,
        see ``project_context``; None: files of no project): a run reads one file per
        project, not one per linted file. A project that changes starts a new pack, as its
        old entries can no longer match (their keys hold the old stamp)."""
        pack = self._pack_ids.get(stamp)
        if pack is None:
            digest = hashlib.sha256(self.salt)
            digest.update(b"-" if stamp is None else b"+" + stamp)
            pack = self._pack_ids[stamp] = digest.hexdigest()[:32]
        return pack

    def _pack_path(self, pack: str) -> str:
        return os.path.join(self.directory, f"{PACK_PREFIX}{pack}.json")  # (cheaper than Path)

    def _entries(self, pack: str) -> dict[str, Any]:
        entries = self._packs.get(pack)
        if entries is None:
            entries = self._packs[pack] = _read_pack(self._pack_path(pack))
        return entries

    def has_entries(self, stamp: Optional[bytes]) -> bool:
        """Whether the pack of the project in this state (see ``pack_for``) holds any entry
        (read once; a missing pack holds none, and a directory without packs needs no
        fingerprint to say so)."""
        return self._holds(PACK_PREFIX) and bool(self._entries(self.pack_for(stamp)))

    def get(self, key: str, filename: str, pack: str = "") -> Optional[list[Diagnostic]]:
        try:
            _written, items = self._entries(pack)[key]
            if not isinstance(items, list):
                return None
            return [_load(item, filename) for item in items]
        except Exception:  # missing, partial, corrupt or foreign: a miss
            return None

    def put(self, key: str, diagnostics: Sequence[Diagnostic], pack: str = "") -> None:
        """Remember an entry; ``flush`` writes it."""
        entry = [int(time.time()), [_dump(d) for d in diagnostics]]
        self._new.setdefault(pack, {})[key] = entry

    def flush(self, now: Optional[float] = None) -> None:
        """Write the entries ``put`` since the last flush into their packs. Each pack is read
        again first and merged (another run may have added to it meanwhile; when two write at
        once, the entries of the one that loses are misses next time, never wrong), its
        entries older than MAX_AGE_DAYS left out and at most MAX_ENTRIES of the newest kept."""
        self._write_rule_index()
        new, self._new = self._new, {}
        if not new or not self._prepare():
            return
        now = time.time() if now is None else now
        for pack, added in new.items():
            path = self._pack_path(pack)
            entries = {
                key: entry
                for key, entry in _read_pack(path).items()
                if _written(entry) > now - MAX_AGE_DAYS * 86400
            }
            entries.update(added)
            if len(entries) > MAX_ENTRIES:
                newest = sorted(entries.items(), key=lambda item: _written(item[1]))
                entries = dict(newest[len(entries) - MAX_ENTRIES :])
            self._packs[pack] = entries
            with contextlib.suppress(OSError):
                write_atomic(Path(path), json.dumps(entries, separators=(",", ":")))

    def prune(self, now: Optional[float] = None, force: bool = False) -> int:
        """Delete old files and orphaned temporary files; returns how many files went.
        Cheap when it is not due: one stat of the marker file."""
        now = time.time() if now is None else now
        marker = self.directory / _PRUNE_MARKER
        try:
            if not force and now - marker.stat().st_mtime < PRUNE_EVERY_SECONDS:
                return 0
        except OSError:
            if not self.directory.is_dir():
                return 0
        removed = 0
        packs: list[tuple[float, str]] = []
        for root, _dirs, files in os.walk(self.directory):
            for name in files:
                path = os.path.join(root, name)
                try:
                    mtime = os.stat(path).st_mtime
                except OSError:
                    continue
                age = now - mtime
                stale_tmp = name.startswith(".tmp-") and age > _STALE_TMP_SECONDS
                # (*.json: the packs, remembered rule lists and project listings, and the
                # one-file-per-entry layout of older versions)
                is_entry = name.endswith(".json")
                if stale_tmp or (is_entry and age > MAX_AGE_DAYS * 86400):
                    removed += _unlink(path)
                elif is_entry and name.startswith(PACK_PREFIX) and root == str(self.directory):
                    packs.append((mtime, path))
        # At most MAX_ENTRIES entries in all: the packs written last are kept.
        total = 0
        for _, path in sorted(packs, reverse=True):
            total += len(_read_pack(path))
            if total > MAX_ENTRIES:
                removed += _unlink(path)
        with contextlib.suppress(OSError):
            marker.touch()
            os.utime(marker, (now, now))
        return removed

    def _prepare(self) -> bool:
        if self._ready is None:
            self._ready = prepare_directory(self.directory)
        return self._ready


def prepare_directory(directory: Path) -> bool:
    """Make the cache directory with its marker files; False when it cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)):
            marker = directory / name
            if not marker.exists():
                write_atomic(marker, text)
    except OSError:
        return False
    return True


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except OSError:
        return 0
    return 1


def write_atomic(path: Path, text: str) -> None:
    """Write a temporary file beside ``path`` and rename it over ``path``: readers see the old
    entry or the new one, never a part (no fsync: after a crash an entry may be empty, a miss)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o644)  # mkstemp's 0600 would hide it from a team
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_pack(path: str) -> dict[str, Any]:
    """A pack's entries; a pack that is missing, partial or foreign holds none."""
    try:
        with open(path, "rb") as fh:
            entries = json.loads(fh.read())
    except Exception:
        return {}
    return entries if isinstance(entries, dict) else {}


def _written(entry: Any) -> float:
    """When a pack's entry was written (0: a malformed entry, the first to go)."""
    try:
        written = entry[0]
    except Exception:
        return 0
    return written if isinstance(written, (int, float)) else 0


def _dump(diag: Diagnostic) -> list[Any]:
    span = diag.span
    fix = None if diag.fix is None else [diag.fix.applicability.value, diag.fix.message]
    return [
        diag.code,
        diag.name,
        diag.message,
        [span.start.row, span.start.column, span.end.row, span.end.column],
        fix,
        diag.no_fix_reason,
    ]


def _load(item: Any, filename: str) -> Diagnostic:
    code, name, message, (r1, c1, r2, c2), fix, no_fix_reason = item
    if not all(isinstance(v, str) for v in (code, name, message)):
        raise ValueError("malformed entry")
    if no_fix_reason is not None and not isinstance(no_fix_reason, str):
        raise ValueError("malformed entry")
    if not all(type(v) is int for v in (r1, c1, r2, c2)):
        raise ValueError("malformed entry")
    diag = Diagnostic(code, name, message, filename, Span(Location(r1, c1), Location(r2, c2)))
    diag.no_fix_reason = no_fix_reason
    if fix is not None:
        applicability, fix_message = fix
        if not isinstance(fix_message, str):
            raise ValueError("malformed entry")
        diag.fix = Fix(Applicability(applicability), fix_message)
    return diag
