"""How the CI formats name a file: relative to the current directory when it lies below it."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Optional
from urllib.parse import quote

STDIN = "-"


def relative_path(name: str) -> Optional[str]:
    """``name`` as a POSIX path relative to the current directory, or None when it lies
    outside it (or is stdin without a name)."""
    if name == STDIN:
        return None
    try:
        rel = os.path.relpath(os.path.abspath(name))
    except ValueError:  # another drive on Windows
        return None
    if rel == os.curdir or rel.split(os.sep)[0] == os.pardir:
        return None
    return PurePath(rel).as_posix()


def display_path(name: str) -> str:
    """A repository-relative path where possible (what GitHub annotations need)."""
    return relative_path(name) or name


def artifact_location(name: str) -> dict:
    """A SARIF artifactLocation: relative to %SRCROOT% (the current directory) when the file
    lies below it, an absolute ``file:`` URI otherwise."""
    rel = relative_path(name)
    if rel is not None:
        return {"uri": quote(rel), "uriBaseId": "%SRCROOT%"}
    if name == STDIN:
        return {"uri": STDIN}
    return {"uri": Path(os.path.abspath(name)).as_uri()}


def srcroot_uri() -> str:
    return Path(os.getcwd()).as_uri().rstrip("/") + "/"
