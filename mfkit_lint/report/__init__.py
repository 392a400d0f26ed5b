"""Output formats. Each takes a Report and returns the text to print."""

from __future__ import annotations

from collections.abc import Callable

from mfkit_lint.report.base import Report
from mfkit_lint.report.github import render_github
from mfkit_lint.report.json import render_json
from mfkit_lint.report.junit import render_junit
from mfkit_lint.report.sarif import render_sarif
from mfkit_lint.report.text import render_concise, render_text

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "concise": render_concise,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
    "junit": render_junit,
}

__all__ = ["FORMATS", "Report"]
