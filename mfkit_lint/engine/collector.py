"""When the cycle collector runs in a process that only lints (the command line, its workers).

A file's syntax tree and models are tens of thousands of objects, freed by reference counting
once the file is linted (the linter drops the memoised analyses that point back at a model).
Python's automatic collector runs whenever enough objects were made and not yet freed, which
during a big file means walking that file's live tree again and again for nothing. A process
that lints file after file therefore turns it off and collects between files instead, when
enough objects have been kept since the last collection: what is left then is the project
index (kept on purpose) and a little cyclic garbage (recursive closures), so memory stays
bounded on big trees and a collection walks no live per-file object.

Long-lived embedders (the language server, flake8) keep Python's default: nothing here runs
unless ``collect_between_files`` is called.
"""

from __future__ import annotations

import gc

# Net container objects made since the last collection that start one (the young generation),
# and how many collections of a generation make one of the next: Python's own scheme
# (700, 10, 10 by default), scaled up because it now runs only between files.
YOUNG_LIMIT = 200_000
OLDER_EVERY = 10

_between_files = False


def collect_between_files() -> None:
    """From now on, collect cycles in this process only when ``file_done`` is called. The
    objects alive now (the loaded code) are never walked again."""
    global _between_files
    gc.freeze()
    gc.disable()
    _between_files = True


def collecting_between_files() -> bool:
    """Whether this process collects between files (worker processes do as their parent)."""
    return _between_files


def file_done() -> None:
    """A file was linted (or fixed): collect the generations that are due."""
    if not _between_files:
        return
    young, collections, older_collections = gc.get_count()
    if young < YOUNG_LIMIT:
        return
    generation = 0
    if collections >= OLDER_EVERY:
        generation = 2 if older_collections >= OLDER_EVERY else 1
    gc.collect(generation)
