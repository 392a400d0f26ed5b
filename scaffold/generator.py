"""Render a new orchestrator or compute-backend extension from the template files.

The templates are ordinary files under ``templates/<kind>/`` (package data). A file's path and
its text may hold ``@@name``-style placeholders; ``.tmpl`` is stripped from the written name and
a leading ``dot-`` becomes ``.`` (so the package data needs no hidden files). ``@@`` is the
placeholder sign because it never occurs in Python, YAML or shell, so the templates need no
escaping of ``$`` or ``{{``.
"""

from __future__ import annotations

import keyword
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

KINDS = ("orchestrator", "backend")

# Names Metaflow 2.19 already uses for CLI groups, deployers, step and flow decorators and the
# flow's own commands: an extension of the same name would shadow or be shadowed by it.
# tests/test_scaffold.py checks this list against the installed Metaflow's plugin tables.
METAFLOW_BUILTINS = frozenset(
    {
        # CLI groups, trampoline CLIs and deployer implementations
        "package", "step-functions", "airflow", "argo-workflows", "card", "tag",
        "spot-metadata", "logs", "batch", "kubernetes",
        # step decorators
        "catch", "timeout", "environment", "secrets", "parallel", "retry", "resources",
        "argo-workflows-internal", "step-functions-internal",
        "unbounded-test-foreach-internal", "airflow-internal", "pytorch-parallel", "conda",
        "pypi", "uv", "exit-hook",
        # flow decorators
        "project", "schedule", "trigger", "trigger-on-finish", "conda-base", "pypi-base",
        "airflow-s3-key-sensor", "airflow-external-task-sensor", "airflow-s3-prefix-sensor",
        # the flow's own commands
        "run", "resume", "step", "init", "check", "show", "dump", "version", "help",
        "spin", "spin-step", "mode", "output-raw", "output-dot",
    }
)  # fmt: skip

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class ScaffoldError(Exception):
    """A request that cannot be carried out; the message says why and what to do."""


class _Placeholders(string.Template):
    delimiter = "@@"


@dataclass(frozen=True)
class PlannedFile:
    path: Path  # where it will be written
    text: str


def validate_name(name: str) -> None:
    """Raise ScaffoldError unless NAME can be a Metaflow extension name of its own."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a Python identifier: the name becomes a module, a CLI group and "
            "the Deployer method, so use letters, digits and underscores (e.g. my_scheduler)"
        )
    if not _NAME.match(name):
        raise ScaffoldError(
            f"{name!r} must be lowercase and start with a letter (e.g. my_scheduler): it is "
            "the CLI group name (python flow.py NAME ...) and the package name"
        )
    if name.replace("_", "-") in METAFLOW_BUILTINS:
        raise ScaffoldError(
            f"{name!r} is already a Metaflow built-in ({name.replace('_', '-')}); "
            "pick another name so the extension does not clash with it"
        )


def _class_prefix(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _template_files(kind: str) -> Iterator[tuple[str, str]]:
    """(relative template path with / separators, text) for every template of KIND."""
    root = resources.files("mfkit_lint.scaffold").joinpath("templates", kind)

    def walk(node, prefix: str) -> Iterator[tuple[str, str]]:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__":
                continue
            relative = f"{prefix}{child.name}"
            if child.is_dir():
                yield from walk(child, relative + "/")
            else:
                yield relative, child.read_text(encoding="utf-8")

    yield from walk(root, "")


def _output_path(relative: str, values: dict[str, str]) -> str:
    parts = []
    for part in relative.split("/"):
        part = _Placeholders(part).substitute(values)
        if part.startswith("dot-"):
            part = "." + part[len("dot-") :]
        if part.endswith(".tmpl"):
            part = part[: -len(".tmpl")]
        parts.append(part)
    return "/".join(parts)


def plan(kind: str, name: str, directory: Path) -> list[PlannedFile]:
    """The files a scaffold of KIND named NAME consists of, rendered, under DIRECTORY."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    validate_name(name)
    from mfkit_lint import __version__

    values = {
        "name": name,
        "Class": _class_prefix(name),
        "NAME": name.upper(),
        "decorator": "@" + name,  # "@@@name" would not parse: @@ is the placeholder sign
        "mfkit_version": __version__,
    }
    files = []
    for relative, text in _template_files(kind):
        try:
            rendered = _Placeholders(text).substitute(values)
        except (KeyError, ValueError) as exc:  # a broken template is our bug, say where
            raise ScaffoldError(f"template {kind}/{relative} is malformed: {exc}") from exc
        files.append(PlannedFile(directory / _output_path(relative, values), rendered))
    return files


def write(files: list[PlannedFile], directory: Path, force: bool) -> None:
    """Write FILES; refuse to touch an existing non-empty DIRECTORY unless FORCE."""
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise ScaffoldError(
            f"{directory} already exists and is not empty; use --force to overwrite the "
            "scaffold's files in it"
        )
    for planned in files:
        try:
            planned.path.parent.mkdir(parents=True, exist_ok=True)
            planned.path.write_text(planned.text, encoding="utf-8")
        except OSError as exc:
            raise ScaffoldError(f"cannot write {planned.path}: {exc.strerror or exc}") from exc
