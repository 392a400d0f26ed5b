"""Writing fixed files: atomically, keeping mode, and never over a file that changed meanwhile."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class WriteError(Exception):
    """The fixed text was not written; the original file is untouched."""


def write_atomic(path: Path, data: bytes, original: bytes) -> None:
    """Replace ``path`` with ``data`` if it still holds ``original``.

    The new content goes to a temporary file in the same directory, is flushed to disk and
    renamed over the original, so a crash leaves either the old file or the new one.
    """
    target = Path(os.path.realpath(path))  # keep symlinks pointing at the fixed file
    with _directory_lock(target.parent):
        _remove_stale_temporaries(target.parent)
        _replace(target, data, original)


STALE_SECONDS = 60.0  # a temporary file this old belongs to no running writer


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete the temporary files a killed run (SIGKILL, power loss) left in ``directory``.
    Writers here hold the directory lock while their temporary file exists, so these are
    orphans; the age check covers file systems where the lock is not available."""
    import time

    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and entry.name.endswith(".mfkit-tmp"):
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                        os.unlink(entry.path)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise mfkit-lint writers in one directory (two ``--fix`` runs at once), so that the
    check that the file is unchanged and the rename happen as one step. Best effort: where
    directories cannot be locked (Windows, some network file systems) writes go on unlocked."""
    fd = None
    try:
        import fcntl

        fd = os.open(directory, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except (ImportError, OSError):
        pass
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _replace(target: Path, data: bytes, original: bytes) -> None:
    try:
        info = target.stat()
        # The rename below only needs a writable directory, so check the file itself; and
        # root passes os.access() for any mode, so a file nobody may write counts as read-only.
        if not os.access(target, os.W_OK) or not info.st_mode & WRITE_BITS:
            raise WriteError("file is read-only")
        with open(target, "rb") as fh:
            if fh.read() != original:
                raise WriteError("file changed on disk since it was read")
    except OSError as exc:
        raise WriteError(exc.strerror or str(exc)) from exc
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mfkit-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        os.replace(tmp, target)
    except BaseException as exc:  # also KeyboardInterrupt: never leave the temp file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(exc.strerror or str(exc)) from exc
        raise
