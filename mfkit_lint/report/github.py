"""GitHub Actions workflow commands: one ``::warning``/``::error`` annotation per finding.

``::warning file=PATH,line=R,col=C,endLine=R2,endColumn=C2,title=CODE::message``. Paths are
relative to the current directory (run mfkit-lint from the repository root); columns are
1-based characters. Escaping follows GitHub's toolkit: in the message ``%``, CR and LF become
``%25``, ``%0D`` and ``%0A``; in property values ``:`` and ``,`` also become ``%3A`` and
``%2C``.
"""

from __future__ import annotations

from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.report.base import Report
from mfkit_lint.report.paths import display_path
from mfkit_lint.report.sarif import level


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diag: Diagnostic) -> str:
    start, end = diag.location, diag.end_location
    properties = {
        "file": display_path(diag.filename),
        "line": start.row,
        "col": start.column,
        "endLine": end.row,
        "endColumn": end.column,
        "title": diag.code,
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    message = f"{diag.code} {diag.message}"
    if diag.url:
        message += f"\n{diag.url}"
    return f"::{level(diag.code)} {props}::{escape_data(message)}"


def render_github(report: Report) -> str:
    return "".join(annotation(d) + "\n" for d in report.diagnostics)
