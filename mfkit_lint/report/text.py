"""ruff-like text: ``path:row:col: CODE [*] message``, optional source, and a summary."""

from __future__ import annotations

from collections import Counter

from mfkit_lint.engine.diagnostic import Diagnostic
from mfkit_lint.report.base import Report


def _line(report: Report, diag: Diagnostic) -> str:
    marker = "[*] " if report.shows_fix(diag) else ""
    loc = diag.location
    return f"{diag.filename}:{loc.row}:{loc.column}: {diag.code} {marker}{diag.message}"


def _source_block(report: Report, diag: Diagnostic) -> list[str]:
    text = report.source_line(diag)
    if text is None:
        return []
    row = diag.location.row
    gutter = " " * len(str(row))
    start = diag.location.column - 1
    end = diag.end_location.column - 1 if diag.end_location.row == row else len(text)
    width = max(end - start, 1)
    return [
        f"{gutter} |",
        f"{row} | {text}",
        f"{gutter} | {' ' * start}{'^' * width}",
        "",
    ]


def render_concise(report: Report) -> str:
    return "".join(_line(report, d) + "\n" for d in report.diagnostics)


def render_text(report: Report) -> str:
    out: list[str] = []
    for diag in report.diagnostics:
        out.append(_line(report, diag))
        if report.show_source:
            out.extend(_source_block(report, diag))
    if report.quiet:
        return "".join(line + "\n" for line in out)
    if report.show_fixes:
        out.extend(show_fixes(report))
    out.extend(summary(report))
    return "\n".join(out) + "\n"


def show_fixes(report: Report) -> list[str]:
    """ruff's --show-fixes list (what was fixed, per file and rule), then every finding that
    has no fix and why."""
    lines: list[str] = []
    if report.fixed_diagnostics:
        lines.append(f"Fixed {_errors(len(report.fixed_diagnostics))}:")
        by_file: dict[str, Counter] = {}
        names = {}
        for diag in report.fixed_diagnostics:
            by_file.setdefault(diag.filename, Counter())[diag.code] += 1
            names[diag.code] = diag.name
        for filename in sorted(by_file):
            lines.append(f"- {filename}:")
            for code, n in sorted(by_file[filename].items()):
                lines.append(f"    {n} \N{MULTIPLICATION SIGN} {code} ({names[code]})")
        lines.append("")
    missing = report.without_fix()
    if missing:
        lines.append(f"No fix available ({len(missing)}):")
        for diag in missing:
            loc = diag.location
            reason = diag.no_fix_reason or "no automatic fix for this finding"
            lines.append(f"- {diag.filename}:{loc.row}:{loc.column}: {diag.code}: {reason}")
        lines.append("")
    return lines


def _errors(n: int) -> str:
    return f"{n} error{'s' * (n != 1)}"


def summary(report: Report) -> list[str]:
    count = len(report.diagnostics)
    fixable = sum(1 for d in report.diagnostics if report.shows_fix(d))
    lines = []
    if count == 0:
        if report.fixed:
            lines.append(f"Fixed {report.fixed} error{'s' * (report.fixed != 1)}.")
        elif report.errors:
            # Never "All checks passed!" when some paths could not be checked at all.
            lines.append(
                f"No findings, but {report.errors} error{'s' * (report.errors != 1)} "
                "stopped a full check (see stderr)."
            )
        else:
            lines.append("All checks passed!")
        return lines
    if report.fixed:
        lines.append(
            f"Found {count + report.fixed} errors ({report.fixed} fixed, {count} remaining)."
        )
    else:
        lines.append(f"Found {count} error{'s' * (count != 1)}.")
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    hidden = report.hidden_unsafe()
    if hidden:
        lines.append(
            f"{hidden} hidden fix{'es' * (hidden != 1)} can be enabled with the "
            "`--unsafe-fixes` option."
        )
    missing = len(report.without_fix())
    if missing:
        lines.append(
            f"{missing} finding{'s' * (missing != 1)} ha{'ve' if missing != 1 else 's'} no "
            "automatic fix (`--show-fixes` says why)."
        )
    return lines


def render_statistics(report: Report) -> str:
    counts = Counter(d.code for d in report.diagnostics)
    names = {d.code: d.name for d in report.diagnostics}
    fixable = {d.code for d in report.diagnostics if report.shows_fix(d)}
    width = max((len(str(n)) for n in counts.values()), default=1)
    rows = [
        f"{n:>{width}}\t{code}\t{'[*] ' if code in fixable else '    '}{names[code]}"
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if rows and not report.quiet:
        total = sum(counts.values())
        rows.append(f"Found {_errors(total)}.")
        n_fixable = sum(1 for d in report.diagnostics if report.shows_fix(d))
        if n_fixable:
            rows.append(f"[*] {n_fixable} fixable with the `--fix` option.")
    return "\n".join(rows) + ("\n" if rows else "")
