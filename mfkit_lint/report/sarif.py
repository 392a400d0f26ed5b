"""SARIF 2.1.0: one run, a rule descriptor for every rule that reports, fixes as SARIF fixes.

Columns: mfkit-lint counts columns in characters (code points); SARIF counts them in UTF-16
code units unless ``run.columnKind`` says otherwise, and GitHub code scanning reads them that
way. Every column is therefore converted using the file's line (a character outside the Basic
Multilingual Plane, such as most emoji, is two UTF-16 code units), and the run states
``"columnKind": "utf16CodeUnits"``. Regions are 1-based, ``endColumn`` is exclusive.

Paths: a file below the current directory gets a URI relative to ``%SRCROOT%`` (the current
directory, given in ``originalUriBaseIds``): run mfkit-lint from the repository root in CI.
Other files get an absolute ``file:`` URI.
"""

from __future__ import annotations

import inspect
import json
from typing import Optional

from mfkit_lint import __version__
from mfkit_lint.engine.diagnostic import DOCS_URL, Diagnostic, Location
from mfkit_lint.report.base import Report
from mfkit_lint.report.paths import artifact_location, srcroot_uri

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = DOCS_URL.split("/blob/")[0]
# A file that cannot be checked at all is an error; every other finding is a warning.
ERROR_CODES = frozenset({"MFK001", "MFK002"})


def level(code: str) -> str:
    return "error" if code in ERROR_CODES else "warning"


def utf16_column(line: Optional[str], column: int) -> int:
    """A 1-based character column as a 1-based UTF-16 code unit column on ``line``."""
    if line is None or line.isascii():
        return column
    before = line[: column - 1]
    extra = column - 1 - len(before)  # a column past the end of the line (at the newline)
    return len(before.encode("utf-16-le")) // 2 + extra + 1


def _region(report: Report, filename: str, start: Location, end: Location) -> dict:
    source = report.sources.get(filename)

    def line(row: int) -> Optional[str]:
        return source.line(row) if source is not None else None

    return {
        "startLine": start.row,
        "startColumn": utf16_column(line(start.row), start.column),
        "endLine": end.row,
        "endColumn": utf16_column(line(end.row), end.column),
    }


def _rule_descriptor(diag: Diagnostic) -> dict:
    from mfkit_lint.engine.docs import pitfall_page
    from mfkit_lint.engine.registry import RegistryError, rule_by_code

    descriptor: dict = {"id": diag.code, "name": diag.name}
    try:
        rule = rule_by_code(diag.code)
    except RegistryError:  # not a registered rule: describe it from the finding alone
        rule = None
    summary = rule.summary if rule is not None else diag.name
    doc = inspect.cleandoc(rule.__doc__) if rule is not None and rule.__doc__ else summary
    descriptor["shortDescription"] = {"text": summary}
    descriptor["fullDescription"] = {"text": doc}
    if diag.url:
        descriptor["helpUri"] = diag.url
    help_text = f"{doc}\n\nSee {diag.url}" if diag.url else doc
    descriptor["help"] = {"text": help_text}
    if rule is not None:
        descriptor["help"]["markdown"] = pitfall_page(rule)
    descriptor["defaultConfiguration"] = {"level": level(diag.code)}
    tags = ["metaflow", "correctness"]
    properties: dict = {"tags": tags}
    if rule is not None and rule.fix is not None:
        properties["fix"] = rule.fix.applicability.value
    descriptor["properties"] = properties
    return descriptor


def _fix(report: Report, diag: Diagnostic) -> Optional[dict]:
    if diag.fix is None or not diag.fix.edits:
        return None
    return {
        "description": {"text": diag.fix.message},
        "artifactChanges": [
            {
                "artifactLocation": artifact_location(diag.filename),
                "replacements": [
                    {
                        "deletedRegion": _region(
                            report, diag.filename, edit.location, edit.end_location
                        ),
                        "insertedContent": {"text": edit.content},
                    }
                    for edit in diag.fix.edits
                ],
            }
        ],
        "properties": {"applicability": diag.fix.applicability.value},
    }


def _result(report: Report, diag: Diagnostic, rule_index: int) -> dict:
    result: dict = {
        "ruleId": diag.code,
        "ruleIndex": rule_index,
        "level": level(diag.code),
        "message": {"text": diag.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(diag.filename),
                    "region": _region(report, diag.filename, diag.location, diag.end_location),
                }
            }
        ],
    }
    fix = _fix(report, diag)
    if fix is not None:
        result["fixes"] = [fix]
    return result


def render_sarif(report: Report) -> str:
    rules: list[dict] = []
    index: dict[str, int] = {}
    for diag in sorted(report.diagnostics, key=lambda d: d.code):
        if diag.code not in index:
            index[diag.code] = len(rules)
            rules.append(_rule_descriptor(diag))
    run = {
        "tool": {
            "driver": {
                "name": "mfkit-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": report.errors == 0}],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": srcroot_uri()}},
        "columnKind": "utf16CodeUnits",
        "results": [_result(report, d, index[d.code]) for d in report.diagnostics],
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
