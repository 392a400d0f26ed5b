"""One lint (and fix) run over paths: discovery, linting, fixing, writing. No output here.

Every file is read once, up front; files whose bytes (and settings) the cache knows are not
linted again, the others are linted in this process or in worker processes (engine/workers.py),
and the results are handled in the order of the files. Fixing and writing happen here, in this
process, one file at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from mfkit_lint.engine.cache import Cache, content_digest, project_context
from mfkit_lint.engine.collector import file_done
from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.engine.discovery import FileFinder, RealPaths, forget_projects
from mfkit_lint.engine.linter import FileResult, Linter, read_source_bytes
from mfkit_lint.engine.registry import UndecodableFileRule
from mfkit_lint.engine.source import DecodeError, Source
from mfkit_lint.engine.workers import describe_error, lint_files, lint_one

STDIN = "-"


@dataclass
class RunOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    need_fix_edits: bool = False  # e.g. JSON output shows each fix's edits
    stdin_filename: Optional[str] = None
    # Library defaults: no cache directory is created, nothing runs outside this process.
    # The command line turns both on (--no-cache, --jobs N).
    cache: bool = False
    jobs: int = 1
    force_exclude: bool = False  # exclude patterns apply to files named explicitly too


@dataclass
class RunOutcome:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixed: int = 0
    fixed_diagnostics: list[Diagnostic] = field(default_factory=list)  # what --fix changed
    would_fix: int = 0  # under --diff: how many findings the diffs fix
    diffs: list[str] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    stdin_output: Optional[str] = None  # the fixed text of stdin under --fix
    files: int = 0


class Session:
    def __init__(self, linter: Linter, options: RunOptions) -> None:
        self.linter = linter
        self.options = options
        self._fixed_project_stamp: Optional[bytes] = None
        self._real_path = RealPaths()  # which file of its project a file is (see ``_key``)
        self._stamps: dict[str, Optional[bytes]] = {}  # project stamps by directory, this run
        self._cache: Optional[Cache] = None

    def run(self, paths: list[str], stdin: Optional[bytes] = None) -> RunOutcome:
        """Lint (and fix) ``paths``; ``-`` is ``stdin``. A KeyboardInterrupt stops the worker
        processes and propagates; a file being written is then left whole (old or new)."""
        outcome = RunOutcome()
        forget_projects()  # files may have come or gone since a previous run in this process
        jobs: list[_Job] = []
        file_paths = [Path(p) for p in paths if p != STDIN]
        if file_paths:
            finder = FileFinder(self.linter.settings, force_exclude=self.options.force_exclude)
            found = finder.find(file_paths)
            outcome.errors.extend(f"{p}: {reason}" for p, reason in found.errors)
            jobs.extend(_Job(str(path), path) for path in found.files)
        if STDIN in paths:
            jobs.append(_Job(self.options.stdin_filename or STDIN, None, stdin or b""))
        self._real_path = RealPaths()
        self._stamps.clear()
        results = self._results(jobs)
        try:
            for job, result in results:
                self._one(result, outcome, job.path)
        finally:
            results.close()  # stops the workers at once if we are leaving early
        if self._cache is not None:
            self._cache.flush()
            self._cache.prune()
        outcome.diagnostics.sort(key=Diagnostic.sort_key)
        return outcome

    def _results(self, jobs: list[_Job]) -> Iterator[tuple[_Job, FileResult]]:
        """Each job's result, in order: from the cache, or linted (maybe in workers)."""
        cache = self._cache = Cache.for_linter(self.linter) if self.options.cache else None
        if cache is not None:
            self.linter.listing_store = cache.directory
        for job in jobs:
            if job.raw is None:
                assert job.path is not None
                job.raw, error = read_source_bytes(job.path)
                if error is not None:
                    job.result = FileResult(job.filename, errors=[error])
        todo: list[_Job] = []
        for job in jobs:
            if job.result is not None:
                continue
            if cache is not None:
                job.stamp = self._project_stamp(job.filename, job.path is not None)
                # A pack with no entries (a first run) answers no file: the file's key is then
                # computed when its result is stored, while the workers lint.
                diagnostics = (
                    cache.get(self._key(job, cache), job.filename, cache.pack_for(job.stamp))
                    if cache.has_entries(job.stamp)
                    else None
                )
                if diagnostics is not None:
                    codes = self.linter.checked_codes(job.filename)
                    source = _cached_source(job.raw or b"", codes, diagnostics)
                    job.result = FileResult(job.filename, diagnostics, source, cached=True)
                    continue
            todo.append(job)
        linted = lint_files(
            self.linter, [(j.filename, j.raw or b"") for j in todo], self.options.jobs
        )
        try:
            for job in jobs:
                result = job.result
                if result is None:
                    result = next(linted)
                    if cache is not None and not result.errors:
                        pack = cache.pack_for(job.stamp)
                        cache.put(self._key(job, cache), result.diagnostics, pack)
                job.raw = job.result = None  # the Source keeps what is still needed
                yield job, result
        finally:
            linted.close()

    def _key(self, job: _Job, cache: Cache) -> str:
        """The job's entry in the cache: its bytes, the codes checked in it and, as rules may
        read the other files of its project, the project's state and which file it is."""
        if job.key is None:
            context = b""
            if job.stamp is not None:
                context = job.stamp + self._real_path(job.filename).encode()
            codes = self.linter.checked_codes(job.filename)
            job.key = cache.key_for(content_digest(job.raw or b""), codes, context)
        return job.key

    def _project_stamp(self, filename: str, on_disk: bool) -> Optional[bytes]:
        """The state on disk of the project ``filename`` belongs to (None: no project).
        ``on_disk``: the file was just read, so it exists and its project is the one of its
        directory, looked up once per directory and run."""
        if self.linter.project is not None:
            if self._fixed_project_stamp is None:
                self._fixed_project_stamp = project_context(self.linter.project.files)
            return self._fixed_project_stamp
        directory = os.path.dirname(filename)
        if on_disk and directory in self._stamps:
            return self._stamps[directory]
        listing = self.linter.project_listing(filename)
        stamp = listing.stamp() if listing is not None else None
        if on_disk:
            self._stamps[directory] = stamp
        return stamp

    def _one(self, result: FileResult, outcome: RunOutcome, path: Optional[Path]) -> None:
        outcome.files += 1
        fixing = self.options.fix or self.options.diff
        if result.cached and result.source is not None and self._needs_fix_data(result):
            # Cached diagnostics carry no fix data: compute it for real, in this process.
            result = lint_one(self.linter, result.filename, result.source.raw)
        outcome.errors.extend(result.errors)
        source = result.source
        diagnostics = result.diagnostics
        if source is not None:
            outcome.sources[result.filename] = source
            if fixing and any(d.fix_allowed(self.options.unsafe_fixes) for d in diagnostics):
                try:
                    diagnostics = self._fix(result, path, outcome)
                except Exception as exc:  # a broken fixer must not take the whole run down
                    outcome.errors.append(
                        f"{result.filename}: fixes not applied: internal error: "
                        f"{describe_error(exc)}"
                    )
                    if path is None and self.options.fix:
                        outcome.stdin_output = source.text
            elif path is None and self.options.fix:
                outcome.stdin_output = source.text
            if self.options.need_fix_edits and any(d.fix for d in diagnostics):
                from mfkit_lint.fixers.apply import compute_edits

                try:
                    compute_edits(outcome.sources[result.filename], diagnostics)
                except Exception as exc:
                    outcome.errors.append(
                        f"{result.filename}: fix edits not computed: internal error: "
                        f"{describe_error(exc)}"
                    )
        outcome.diagnostics.extend(diagnostics)
        file_done()  # fixing makes cyclic garbage too (libcst)

    def _needs_fix_data(self, result: FileResult) -> bool:
        if self.options.fix or self.options.diff:
            return any(d.fix_allowed(self.options.unsafe_fixes) for d in result.diagnostics)
        return self.options.need_fix_edits and any(d.fix for d in result.diagnostics)

    def _fix(
        self, result: FileResult, path: Optional[Path], outcome: RunOutcome
    ) -> list[Diagnostic]:
        from mfkit_lint.engine.writer import WriteError, write_atomic
        from mfkit_lint.fixers.apply import fix_text

        source = result.source
        assert source is not None
        fixed = fix_text(
            source,
            lambda s: self.linter.lint_source(s, result.filename),
            result.diagnostics,
            self.options.unsafe_fixes,
        )
        if not fixed.fixed:
            if path is None and self.options.fix:
                outcome.stdin_output = source.text
            return fixed.remaining
        if self.options.diff:
            outcome.diffs.append(_unified_diff(result.filename, source.text, fixed.text))
            outcome.would_fix += len(fixed.fixed)
            return result.diagnostics
        if path is None:
            outcome.stdin_output = fixed.text
        else:
            try:
                write_atomic(path, source.encode(fixed.text), source.raw)
            except WriteError as exc:
                outcome.errors.append(f"{result.filename}: fixes not written: {exc}")
                return result.diagnostics
        outcome.fixed += len(fixed.fixed)
        outcome.fixed_diagnostics.extend(fixed.fixed)
        new_source = Source(fixed.text, source.encoding, source.encode(fixed.text))
        outcome.sources[result.filename] = new_source
        return fixed.remaining


@dataclass
class _Job:
    filename: str
    path: Optional[Path]  # None: stdin
    raw: Optional[bytes] = None
    stamp: Optional[bytes] = None  # of the file's project (see ``Session._project_stamp``)
    key: Optional[str] = None  # in the cache
    result: Optional[FileResult] = None


def _cached_source(
    raw: bytes, codes: tuple[str, ...], diagnostics: list[Diagnostic]
) -> Optional[Source]:
    """The Source of a file answered by the cache (None: its bytes do not decode). Where MFK002
    is checked, bytes that do not decode have it among their cached diagnostics, and the
    others are decoded only if their text is used."""
    if UndecodableFileRule.code not in codes:
        return _decode(raw)
    if any(d.code == UndecodableFileRule.code for d in diagnostics):
        return None
    return Source.decoded_later(raw)


def _decode(raw: bytes) -> Optional[Source]:
    try:
        return Source.from_bytes(raw)
    except DecodeError:
        return None


def _unified_diff(filename: str, old: str, new: str) -> str:
    import difflib

    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=filename,
            tofile=filename,
        )
    )
