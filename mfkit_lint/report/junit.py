"""JUnit XML: one testsuite "mfkit-lint"; a failing testcase per finding, a passing one per
linted file without findings.

A finding is ``<testcase classname=PATH name="CODE at ROW:COL">`` with a ``<failure>`` whose
``message`` is the finding's message and whose ``type`` is its code. Errors that stopped a
full check (unreadable paths, internal errors: see stderr) are one more testcase with an
``<error>``, so that a CI dashboard never shows such a run as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.report.base import Report

SUITE = "mfkit-lint"
# Characters XML 1.0 cannot hold at all (control characters, lone surrogates from undecodable
# file names); ElementTree would write them as they are and produce a file no parser reads.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _finding_case(diag: Diagnostic) -> ET.Element:
    loc = diag.location
    case = ET.Element(
        "testcase", classname=_xml(diag.filename), name=f"{diag.code} at {loc.row}:{loc.column}"
    )
    case.set("time", "0")
    failure = ET.SubElement(case, "failure", message=_xml(diag.message), type=diag.code)
    body = f"{diag.filename}:{loc.row}:{loc.column}: {diag.code} {diag.message}"
    failure.text = _xml(f"{body}\n{diag.url}" if diag.url else body)
    return case


def render_junit(report: Report) -> str:
    cases = [_finding_case(d) for d in report.diagnostics]
    with_findings = {d.filename for d in report.diagnostics}
    for name in report.files:
        if name not in with_findings:
            cases.append(ET.Element("testcase", classname=_xml(name), name="no findings", time="0"))
    errors = 0
    if report.errors:
        errors = 1
        case = ET.Element("testcase", classname=SUITE, name="errors", time="0")
        message = (
            f"{report.errors} error{'s' * (report.errors != 1)} stopped a full check (see stderr)"
        )
        ET.SubElement(case, "error", message=message)
        cases.append(case)
    counts = {
        "tests": str(len(cases)),
        "failures": str(len(report.diagnostics)),
        "errors": str(errors),
        "skipped": "0",
        "time": "0",
    }
    root = ET.Element("testsuites", name=SUITE, **counts)
    suite = ET.SubElement(root, "testsuite", name=SUITE, **counts)
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
