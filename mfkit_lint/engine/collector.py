"""When the cycle collector runs in a process that only lints (the command line, its workers).

A file's syntax tree and models are tens of thousands of objects, freed by reference counting
once the file is linted (the linter drops the memoised analyses that point back at a model).
Python's automatic collector runs whenever enough objects were made and not yet freed, which
during a big file means walking that file's live tree again and again for nothing. A process
that lints file after file therefore turns it off and collects between files instead, when
enough objects have been kept since the last collection.

What is alive between files is the loaded code and the project index (the modules other files
import, kept until the process ends), plus a little cyclic garbage: on Metaflow's source a
collection walks ~190k objects (~80 ms of CPU) to free ~200. So a collection's survivors are
frozen (``gc.freeze``: never walked again, as the loaded code is at the start), and the limit is
high enough that a project of a few hundred files is linted without any collection: the bound
is on memory (about a million objects kept since the last collection), not a schedule.

Long-lived embedders (the language server, flake8) keep Python's default: nothing here runs
unless ``collect_between_files`` is called.
"""

from __future__ import annotations

import gc

# Container objects made and not freed since the last collection (Python's young generation)
# that start one. Python's own threshold is 700, for a process that does not clean up after
# itself; here a collection finds almost nothing, so it only bounds memory.
YOUNG_LIMIT = 1_000_000

_between_files = False


def collect_between_files() -> None:
    """From now on, collect cycles in this process only when ``file_done`` is called. The
    objects alive now (the loaded code; in a forked worker, all it inherits) are never walked
    again."""
    global _between_files
    gc.freeze()
    gc.disable()
    _between_files = True


def collecting_between_files() -> bool:
    """Whether this process collects between files (worker processes do as their parent)."""
    return _between_files


def file_done() -> None:
    """A file was linted (or fixed): collect if enough objects were kept since the last time,
    then freeze what survived (kept until the process ends: no collection needs to walk it
    again)."""
    if not _between_files or gc.get_count()[0] < YOUNG_LIMIT:
        return
    gc.collect()
    gc.freeze()
