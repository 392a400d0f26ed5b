"""Output formats. Each takes a Report and returns the text to print.

A format's module is imported only when it is used (SARIF and JUnit pull in more of the
standard library than a text run needs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from mfkit_lint.report.base import Report

_FORMATS: dict[str, str] = {
    "text": "text:render_text",
    "concise": "text:render_concise",
    "json": "json:render_json",
    "sarif": "sarif:render_sarif",
    "github": "github:render_github",
    "junit": "junit:render_junit",
}
FORMAT_NAMES: tuple[str, ...] = tuple(sorted(_FORMATS))


def renderer(name: str) -> Callable[[Report], str]:
    """The function that renders format ``name``."""
    module, function = _FORMATS[name].split(":")
    return getattr(importlib.import_module(f"mfkit_lint.report.{module}"), function)


__all__ = ["FORMAT_NAMES", "Report", "renderer"]
