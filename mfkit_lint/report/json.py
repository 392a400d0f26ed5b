"""ruff's JSON shape: a list of objects with code, name, severity, message, filename, cell,
locations, fix and url. A finding without a fix has ``"fix": null`` and says why in
``no_fix_reason``; ``cell`` is null (mfkit-lint reads no notebooks)."""

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
    item = {
        "cell": None,
        "code": diag.code,
        "name": diag.name,
        "severity": diag.severity,
        "message": diag.message,
        "filename": _filename(diag.filename),
        "location": _location(diag.location),
        "end_location": _location(diag.end_location),
        "noqa_row": diag.location.row,
        "fix": fix,
        "url": diag.url,
    }
    if fix is None:
        item["no_fix_reason"] = no_fix_reason(diag)
    return item


def no_fix_reason(diag: Diagnostic) -> str:
    """Why ``diag`` carries no fix edits."""
    if diag.fix is not None:
        return "the fix's edits were not computed (they are for --format json or sarif)"
    return diag.no_fix_reason or "no automatic fix for this finding"


def render_json(report: Report) -> str:
    return json.dumps([diagnostic_to_dict(d) for d in report.diagnostics], indent=2) + "\n"
