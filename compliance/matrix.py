"""The capability matrix: one row per capability (pass / fail / skip with the reason), the
failures tied to pitfall pages and static rules, rendered as text, Markdown or HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Optional

from mfkit_lint.compliance.caps import is_required, known, rule_pages, rules_for_cap

_ORDER = {"failed": 0, "passed": 1, "skipped": 2}
NOT_SELECTED = "not selected"


@dataclass
class Finding:
    test: str
    message: str
    rules: list[str]  # codes this mfkit-lint knows, with their pages
    pages: dict[str, str]
    linted: Optional[dict[str, bool]] = None  # code -> reported by mfkit-lint on the source


@dataclass
class Row:
    cap: str
    required: bool
    declared: bool
    outcome: str  # passed / failed / skipped / "not tested"
    reason: str = ""
    tests: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Matrix:
    title: str
    rows: list[Row]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.outcome in ("passed", NOT_SELECTED) for row in self.rows if row.required)

    def codes_to_lint(self) -> set[str]:
        return {code for row in self.rows for f in row.findings for code in f.rules}


def build(
    kind: str,
    title: str,
    tests: Iterable[dict],
    declared: Optional[list[str]],
    selected: bool = False,
) -> Matrix:
    """`selected`: the run was narrowed (-k), so a capability without a test is not a failure."""
    by_cap: dict[str, list[dict]] = {}
    for test in tests:
        by_cap.setdefault(test["cap"] or "OTHER", []).append(test)
    rows = []
    for cap in sorted(known(kind) | set(by_cap), key=lambda c: (not is_required(kind, c), c)):
        results = by_cap.get(cap, [])
        row = Row(cap, is_required(kind, cap), cap in (declared or []), "not tested")
        if results:
            worst = min(results, key=lambda t: _ORDER.get(t["outcome"], 0))
            row.outcome = worst["outcome"]
            row.tests = [t["test"] for t in results]
            if row.outcome == "skipped":
                row.reason = worst["message"]
        elif selected:
            row.outcome = NOT_SELECTED
        else:
            row.reason = "no test for this capability in this suite"
        for test in results:
            if test["outcome"] != "failed":
                continue
            codes = rules_for_cap(cap) if test["rules"] is None else test["rules"]
            pages = rule_pages(codes)
            row.findings.append(Finding(test["test"], test["message"], sorted(pages), pages))
        if row.findings:
            row.reason = "; ".join("%s: %s" % (f.test, f.message) for f in row.findings)
        rows.append(row)
    return Matrix(title, rows)


def _rules_text(finding: Finding, link: bool) -> str:
    parts = []
    for code in finding.rules:
        page = finding.pages[code]
        name = (
            "[%s %s](https://github.com/mfkit/mfkit-lint/tree/main/docs/pitfalls/%s.md)"
            % (
                code,
                page,
                page,
            )
            if link
            else "%s %s (docs/pitfalls/%s.md, `mfkit rule %s`)" % (code, page, page, code)
        )
        if finding.linted is not None:
            verb = "reports" if finding.linted.get(code) else "does not report"
            name += " - mfkit-lint %s it on the extension" % verb
        parts.append(name)
    return "; ".join(parts) or "no static rule covers this (runtime-only)"


def _label(row: Row) -> str:
    return {"passed": "pass", "failed": "FAIL", "skipped": "skip"}.get(row.outcome, row.outcome)


def text(matrix: Matrix) -> str:
    lines = [matrix.title, ""]
    width = max(len(row.cap) for row in matrix.rows)
    for row in matrix.rows:
        need = _need(row).replace("optional, ", "")
        reason = row.reason if row.outcome != "failed" else ""
        lines.append("  %-*s  %-4s  %-8s  %s" % (width, row.cap, _label(row), need, reason))
    failures = [(row, f) for row in matrix.rows for f in row.findings]
    if failures:
        lines += ["", "Failures:"]
        for row, finding in failures:
            lines.append("  %s %s: %s" % (row.cap, finding.test, finding.message))
            lines.append("    static rule: %s" % _rules_text(finding, link=False))
    lines += ["", _verdict(matrix)]
    return "\n".join(lines)


def _verdict(matrix: Matrix) -> str:
    failed = [
        row.cap
        for row in matrix.rows
        if row.required and row.outcome not in ("passed", NOT_SELECTED)
    ]
    took = " in %.0f s" % matrix.seconds if matrix.seconds else ""
    if not failed:
        return "All required capabilities pass%s." % took
    return "Required capabilities not passing%s: %s." % (took, ", ".join(failed))


def _need(row: Row) -> str:
    return "required" if row.required else ("optional, declared" if row.declared else "optional")


def markdown(matrix: Matrix) -> str:
    lines = ["## %s" % matrix.title, ""]
    lines += ["| capability | result | required | reason / finding |", "|---|---|---|---|"]
    for row in matrix.rows:
        need = _need(row)
        reason = row.reason.replace("|", "\\|").replace("\n", " ")
        lines.append("| %s | %s | %s | %s |" % (row.cap, _label(row), need, reason))
    failures = [(row, f) for row in matrix.rows for f in row.findings]
    if failures:
        lines += ["", "### Failures and the static rules that catch them", ""]
        for row, finding in failures:
            lines.append("- **%s** `%s`: %s  " % (row.cap, finding.test, finding.message))
            lines.append("  static rule: %s" % _rules_text(finding, link=True))
    lines += [""] + ["%s  " % note for note in matrix.notes] + ["", _verdict(matrix), ""]
    return "\n".join(lines)


def html_page(matrix: Matrix) -> str:
    cells = []
    for row in matrix.rows:
        cells.append(
            "<tr class='%s'><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
            % (
                row.outcome,
                html.escape(row.cap),
                _label(row),
                "required" if row.required else "optional",
                html.escape(row.reason),
            )
        )
    title = html.escape(matrix.title)
    return (
        "<!doctype html><meta charset='utf-8'><title>%s</title>"
        "<style>.failed{background:#fdd}.passed{background:#dfd}.skipped{background:#eee}"
        "td{padding:2px 8px}</style><h2>%s</h2><table><tr><th>capability</th><th>result</th>"
        "<th>required</th><th>reason</th></tr>%s</table><p>%s</p>"
        % (title, title, "".join(cells), html.escape(_verdict(matrix)))
    )
