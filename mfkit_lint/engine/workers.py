"""Linting many files on several CPUs, or in this process when that is faster.

Files are linted in worker processes only when there is enough work to pay for starting them:
at least ``MIN_FILES_PER_WORKER`` files and ``MIN_BYTES_PER_WORKER`` bytes of source per worker
(four times as many bytes where workers are spawned rather than forked, since each then imports
mfkit-lint again). Below that, and with ``jobs=1``, everything runs in-process. Results come back
in the order of the input whatever the number of workers.

Workers ignore SIGINT: on Ctrl-C the terminal signals the whole process group, and only the main
process reacts, by terminating the workers and raising KeyboardInterrupt. A worker that dies (a
crash, the OOM killer) turns the files it had not returned into errors, never a hang.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

from mfkit_lint.engine.collector import collect_between_files, collecting_between_files, file_done
from mfkit_lint.engine.linter import FileResult, Linter
from mfkit_lint.engine.source import DecodeError, Source

if TYPE_CHECKING:
    import multiprocessing.context
    import multiprocessing.sharedctypes
    from concurrent.futures import ProcessPoolExecutor

    SharedInts = Union["_ForkedInts", multiprocessing.sharedctypes.SynchronizedArray]

MIN_FILES_PER_WORKER = 16
MIN_BYTES_PER_WORKER = 256 * 1024
SPAWN_COST_FACTOR = 4  # spawned workers import everything again

Item = tuple[str, bytes]  # (filename, raw bytes)


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def _context() -> multiprocessing.context.BaseContext:
    # fork is by far the cheapest start (the workers inherit the loaded rules), but forking a
    # process that runs other threads (an embedding application) can deadlock.
    import multiprocessing
    import threading

    if (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    ):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def plan_workers(files: int, size: int, jobs: int, start_method: str = "fork") -> int:
    """How many worker processes to use for ``files`` files of ``size`` bytes in total
    (1: lint in this process)."""
    min_bytes = MIN_BYTES_PER_WORKER * (1 if start_method == "fork" else SPAWN_COST_FACTOR)
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER, size // min_bytes))


def lint_one(linter: Linter, filename: str, raw: bytes) -> FileResult:
    """Lint one file's bytes; an unexpected engine error becomes an error, not a traceback."""
    try:
        return linter.lint_bytes(raw, filename)
    except Exception as exc:
        return FileResult(filename, errors=[f"{filename}: internal error: {describe_error(exc)}"])
    finally:
        file_done()


def lint_files(linter: Linter, items: Sequence[Item], jobs: int) -> Iterator[FileResult]:
    """A FileResult for each item, in order. Close the iterator to stop early."""
    size = sum(len(raw) for _, raw in items)
    workers = plan_workers(len(items), size, jobs)  # (multiprocessing is imported only if > 1)
    if workers > 1:
        context = _context()
        workers = plan_workers(len(items), size, jobs, context.get_start_method())
    if workers <= 1:
        for filename, raw in items:
            yield lint_one(linter, filename, raw)
        return
    linter.rules  # noqa: B018 - load the rules once here, so that forked workers inherit them
    yield from _in_workers(linter, items, workers, context)


# -- worker processes ----------------------------------------------------------------------------
# Which files a worker lints: the input is cut into one run of neighbouring files per worker
# (about the same number of bytes each), which the worker lints from its first file on. Files
# that import each other are mostly neighbours (the same package), and a worker's project index
# parses the modules its files ask about: within a run, the tree the linter parsed is the one
# the index asks for (see ``ProjectIndex.lend``), while the other workers rarely need it. A
# worker that has finished its run takes files from the end of the run with the most bytes
# left, one at a time, so that all end together; within a run, its big files come first, so
# that the files left when the workers meet are small and none waits long for the other at the
# end (a 100 KB module takes ~50 ms). Workers claim their files themselves, through
# counters shared with the other workers; a task lints files until it has read a share of the
# bytes and sends their results back, so that results arrive while the work goes on.
_LINTER: Optional[Linter] = None
_ITEMS: Sequence[Item] = ()
_ENDS: Sequence[int] = ()  # _ENDS[i]: bytes of the items before item i (and the total, at the end)
_CLAIMS: Optional[SharedInts] = None  # [start, end) per run
_SLOT = 0  # the run of this worker


BIG_FILE_BYTES = 32 * 1024


class _ForkedInts:
    """Integers that forked workers share, behind one lock, as multiprocessing's synchronized
    Array offers them (``get_lock``, indexing, ``len``): kept in an anonymous shared mapping,
    which a forked process inherits. (An Array costs a cold run ~5 ms before the workers start:
    ctypes is imported, and a temporary file is made to be mapped.)"""

    def __init__(self, values: Sequence[int], lock: Any) -> None:
        import mmap

        self._lock = lock
        memory = mmap.mmap(-1, 8 * max(len(values), 1))  # MAP_SHARED: not copied on fork
        self._values = memoryview(memory).cast("q")[: len(values)]
        for index, value in enumerate(values):
            self._values[index] = value

    def get_lock(self) -> Any:
        return self._lock

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: int) -> int:
        return self._values[index]

    def __setitem__(self, index: int, value: int) -> None:
        self._values[index] = value


def _shared_ints(context: multiprocessing.context.BaseContext, values: Sequence[int]) -> SharedInts:
    """``values``, shared by the workers: where they are forked, in memory they inherit; else
    in multiprocessing's Array, which is sent to each spawned worker."""
    if context.get_start_method() == "fork":
        return _ForkedInts(values, context.Lock())
    return context.Array("q", values)


class _Schedule:
    """How the items are cut into runs, one per worker, and the order the workers take them
    in: ``order[position]`` is the index of the item at that position, ``ends`` and
    ``claims`` count positions."""

    def __init__(self, items: Sequence[Item], workers: int) -> None:
        ends = [0]
        for _, raw in items:
            ends.append(ends[-1] + len(raw))
        cuts = [0]
        for run in range(1, workers):
            wanted = ends[-1] * run // workers
            cut = bisect.bisect_left(ends, wanted)  # the first cut at or after ``wanted`` bytes
            if cut > 0 and wanted - ends[cut - 1] <= ends[cut] - wanted:
                cut -= 1  # the one before is nearer
            cuts.append(max(cuts[-1], cut))
        cuts.append(len(items))
        # The first file of each run and the end of its run, as the shared counters hold them.
        self.claims = [cut for run in range(workers) for cut in (cuts[run], cuts[run + 1])]
        self.order: list[int] = []
        for run in range(workers):
            indexes = range(cuts[run], cuts[run + 1])
            self.order += [i for i in indexes if len(items[i][1]) >= BIG_FILE_BYTES]
            self.order += [i for i in indexes if len(items[i][1]) < BIG_FILE_BYTES]
        self.ends = [0]
        for index in self.order:
            self.ends.append(self.ends[-1] + len(items[index][1]))


def _init_worker(
    linter: Linter,
    between_files: bool,
    items: Sequence[Item],
    ends: Sequence[int],
    claims: SharedInts,
    slots: SharedInts,
) -> None:
    global _LINTER, _ITEMS, _ENDS, _CLAIMS, _SLOT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _LINTER, _ITEMS, _ENDS, _CLAIMS = linter, items, ends, claims
    with slots.get_lock():
        _SLOT = slots[0] % (len(claims) // 2)
        slots[0] += 1
    if between_files:  # (again in a forked worker: what it inherits is never walked)
        collect_between_files()


def _claim() -> Optional[int]:
    """The position of the next item this worker lints: the next one of its own run, else the
    last one of the run with the most bytes left; None when every item is taken."""
    assert _CLAIMS is not None
    claims, ends = _CLAIMS, _ENDS
    with claims.get_lock():
        own = 2 * _SLOT
        if claims[own] < claims[own + 1]:
            claims[own] += 1
            return claims[own] - 1
        _, left, run = max(
            (ends[claims[i + 1]] - ends[claims[i]], claims[i + 1] - claims[i], i)
            for i in range(0, len(claims), 2)
        )
        if not left:
            return None
        claims[run + 1] -= 1
        return claims[run + 1]


def _lint_claimed(share: int) -> tuple[list[tuple[int, FileResult, bool]], bool]:
    """Lint claimed items until ``share`` bytes were read: (position, result, whether the
    bytes decoded) for each, and whether items may be left."""
    assert _LINTER is not None
    out = []
    read = 0
    while read < share:
        position = _claim()
        if position is None:
            return out, False
        filename, raw = _ITEMS[position]
        result = lint_one(_LINTER, filename, raw)
        decoded = result.source is not None
        result.source = None  # the parent decodes its own copy: no need to send the text back
        out.append((position, result, decoded))
        read += len(raw) + 1
    return out, True


def _in_workers(
    linter: Linter,
    items: Sequence[Item],
    workers: int,
    context: multiprocessing.context.BaseContext,
) -> Iterator[FileResult]:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    schedule = _Schedule(items, workers)
    claims = _shared_ints(context, schedule.claims)
    # A task returns its results after about an eighth of a worker's share of the bytes: a
    # round trip to this process costs little next to that, and results arrive all along.
    share = max(1, schedule.ends[-1] // (workers * 8))
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(
            linter,
            collecting_between_files(),
            [items[index] for index in schedule.order],
            schedule.ends,
            claims,
            _shared_ints(context, [0]),  # the next worker's run
        ),
    )
    results: dict[int, FileResult] = {}
    done = 0  # items yielded
    finished = False
    try:
        try:
            # One task waiting per worker beyond the running ones, so that none waits for this
            # process between two tasks.
            pending = {executor.submit(_lint_claimed, share) for _ in range(2 * workers)}
            while pending:
                ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    linted, more = future.result()
                    for position, result, decoded in linted:
                        index = schedule.order[position]
                        if decoded:
                            result.source = _decode(items[index][1])
                        results[index] = result
                    if more:
                        pending.add(executor.submit(_lint_claimed, share))
                while done in results:
                    yield results.pop(done)
                    done += 1
        except BrokenProcessPool as exc:
            reason = str(exc) or "a worker process died"
            for index in range(done, len(items)):
                result = results.pop(index, None)
                if result is None:
                    filename = items[index][0]
                    result = FileResult(
                        filename,
                        errors=[
                            f"{filename}: not linted: {reason} "
                            "(--jobs 1 lints in one process and shows which file fails)"
                        ],
                    )
                yield result
        finished = True
    finally:
        if finished:
            executor.shutdown(wait=True)
        else:  # Ctrl-C, or the caller stopped early: stop the workers now
            _terminate(executor)


def _terminate(executor: ProcessPoolExecutor) -> None:
    _quiet_manager_thread(executor)
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        with contextlib.suppress(Exception):
            terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    # Futures are not cancelled: the executor's thread then fails them all as "broken"
    # (cancelling them as well makes it trip over the cancelled ones before Python 3.12).
    with contextlib.suppress(Exception):
        executor.shutdown(wait=False)
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


def _quiet_manager_thread(executor: ProcessPoolExecutor) -> None:
    """The pool is torn down on purpose: the executor's manager thread may then fail futures
    that ``executor.map`` already cancelled (``InvalidStateError`` before Python 3.12). Keep
    that thread's traceback off the user's terminal; other threads report as usual."""
    manager = getattr(executor, "_executor_manager_thread", None)
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if manager is None or args.thread is not manager:
            previous(args)

    threading.excepthook = hook


def _decode(raw: bytes) -> Optional[Source]:
    try:
        return Source.from_bytes(raw)
    except DecodeError:
        return None


def describe_error(exc: BaseException) -> str:
    """``Type: message`` for an internal error, short, even when ``str(exc)`` itself fails."""
    try:
        detail = str(exc)
    except Exception:
        detail = ""
    if len(detail) > 200:
        detail = detail[:200] + "..."
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
