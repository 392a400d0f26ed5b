"""ruff's JSON shape: a list of objects with code, message, filename, locations, fix, url."""

from __future__ import annotations

import json
import os

from mfkit_lint.engine.diagnostic import Diagnostic, Location
from mfkit_lint.report.base import Report


def _location(loc: Location) -> dict:
    return {"row": loc.row, "column": loc.column}


def _filename(name: str) -> str:
    return name if name == "-" else os.path.abspath(name)


def diagnostic_to_dict(diag: Diagnostic) -> dict:
    fix = None
    if diag.fix is not None and diag.fix.edits:
        fix = {
            "applicability": diag.fix.applicability.value,
            "message": diag.fix.message,
            "edits": [
                {
                    "content": e.content,
                    "location": _location(e.location),
                    "end_location": _location(e.end_location),
                }
                for e in diag.fix.edits
            ],
        }
    return {
        "code": diag.code,
        "message": diag.message,
        "filename": _filename(diag.filename),
        "location": _location(diag.location),
        "end_location": _location(diag.end_location),
        "noqa_row": diag.location.row,
        "fix": fix,
        "url": diag.url,
    }


def render_json(report: Report) -> str:
    return json.dumps([diagnostic_to_dict(d) for d in report.diagnostics], indent=2) + "\n"
