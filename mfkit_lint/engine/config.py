"""``[tool.mfkit-lint]`` settings: found upward from the linted paths, validated strictly."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

SECTION = "mfkit-lint"
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "__pypackages__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".mfkit_lint_cache",
    "build",
    "dist",
    "node_modules",
    "site-packages",
)


class ConfigError(Exception):
    """The configuration cannot be read or holds something mfkit-lint does not understand."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    root: Path = field(default_factory=Path.cwd)  # patterns are relative to this directory
    config_file: Optional[Path] = None


_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_KNOWN_KEYS = (*_LIST_KEYS, "per-file-ignores", "unsafe-fixes")


def find_config(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.mfkit-lint] table."""
    start = start.resolve()
    for directory in (start, *start.parents) if start.is_dir() else start.parents:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            tool = _read_toml(candidate).get("tool", {})
            if isinstance(tool, dict) and SECTION in tool:
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_settings(config_file: Optional[Path], start: Path) -> Settings:
    """Settings from ``config_file`` (any TOML; a pyproject.toml is read at [tool.mfkit-lint]),
    or from the nearest pyproject.toml above ``start``, or the defaults."""
    if config_file is None:
        config_file = find_config(start)
        if config_file is None:
            return Settings(root=(start if start.is_dir() else start.parent).resolve())
    data = _read_toml(config_file)
    if config_file.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get(SECTION, {}) if isinstance(tool, dict) else {}
        where = f"[tool.{SECTION}] in {config_file}"
    else:
        table = data
        where = str(config_file)
    return settings_from_table(table, where, config_file)


def settings_from_table(table: dict[str, Any], where: str, config_file: Path) -> Settings:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(_KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in {where}; known keys: {', '.join(_KNOWN_KEYS)}"
        )
    values: dict[str, Any] = {}
    for key in _LIST_KEYS:
        if key in table:
            items = _string_list(table[key], key, where)
            is_selector = "exclude" not in key
            values[key.replace("-", "_")] = (
                tuple(v.upper() for v in items) if is_selector else items
            )
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"'per-file-ignores' in {where} must be a table of pattern = [codes]")
        values["per_file_ignores"] = tuple(
            (
                pattern,
                tuple(c.upper() for c in _string_list(codes, f"per-file-ignores.{pattern}", where)),
            )
            for pattern, codes in pfi.items()
        )
    if "unsafe-fixes" in table:
        if not isinstance(table["unsafe-fixes"], bool):
            raise ConfigError(f"'unsafe-fixes' in {where} must be true or false")
        values["unsafe_fixes"] = table["unsafe-fixes"]
    return Settings(root=config_file.resolve().parent, config_file=config_file, **values)


def _string_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key!r} in {where} must be a list of strings")
    return tuple(value)
