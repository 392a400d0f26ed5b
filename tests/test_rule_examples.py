"""Every rule's own VALID/INVALID examples (fixit's way), and every pitfall page's examples.

A rule module carries its cases next to its logic; this one test runs them for every rule,
so a new rule file needs no test module of its own to be checked. A case is one module (linted
as a one-file project, so rules that need project mode, MFK210, are judged like the others) or
a small project given as {path: code} (written out and linted as a directory, as the CLI does).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.diagnostic import Applicability, Diagnostic
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import ENGINE_RULES, Selection, all_rules
from mfkit_lint.engine.rule import Scope, SourceKind
from mfkit_lint.engine.source import Source
from mfkit_lint.model.project import ProjectIndex

RULES = [r for r in all_rules() if r not in ENGINE_RULES]
PAGES = Path(__file__).resolve().parent.parent / "docs" / "pitfalls"


def _lint_project(tmp_path: Path, rule, files: dict) -> list[Diagnostic]:
    from mfkit_lint.engine.session import RunOptions, Session

    for name, code in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    linter = Linter(Settings(root=tmp_path), Selection((rule.code,)))
    outcome = Session(linter, RunOptions()).run([str(tmp_path)])
    assert outcome.errors == []
    for diag in outcome.diagnostics:
        diag.filename = Path(diag.filename).relative_to(tmp_path).as_posix()
    return [d for d in outcome.diagnostics if d.code == rule.code]


def _found(tmp_path: Path, rule, code) -> list[Diagnostic]:
    if isinstance(code, str):
        return _lint(tmp_path, rule, code)[2]
    return _lint_project(tmp_path, rule, dict(code))


def _lint(tmp_path: Path, rule, code: str) -> tuple[Linter, Path, list[Diagnostic]]:
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    linter = Linter(Settings(), Selection((rule.code,)))
    linter.project = ProjectIndex([path])
    result = linter.lint_path(path)
    assert result.errors == []  # a rule that crashes reports nothing: never a pass
    return linter, path, result.diagnostics


def _cases(kind: str) -> list:
    return [
        pytest.param(rule, case, id=f"{rule.code}-{i}")
        for rule in RULES
        for i, case in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_rule_carries_examples(rule):
    assert rule.VALID and rule.INVALID
    if rule.fix is not None and any(isinstance(case.code, str) for case in rule.INVALID):
        # (the fixes of project-layout rules are tested with several files in their own tests)
        assert any(case.fixed is not None for case in rule.INVALID), "no example of its fix"


@pytest.mark.parametrize("rule, case", _cases("VALID"))
def test_valid_examples_are_not_reported(tmp_path, rule, case):
    assert _found(tmp_path, rule, case.code) == []


@pytest.mark.parametrize("rule, case", _cases("INVALID"))
def test_invalid_examples_are_reported_where_expected(tmp_path, rule, case):
    if not isinstance(case.code, str):
        found = _found(tmp_path, rule, case.code)
        assert found, "not reported"
        first = found[0]
        assert (first.filename, first.location.row, first.location.column) == (
            case.file,
            case.line,
            case.column,
        )
        assert case.fixed is None  # fixes of project cases are tested with their rule
        return
    linter, path, found = _lint(tmp_path, rule, case.code)
    assert found, "not reported"
    first = found[0].location
    assert (first.row, first.column) == (case.line, case.column)
    if case.fixed is None:
        assert rule.fix is None or all(d.fix is None for d in found)
        return
    from mfkit_lint.fixers.apply import fix_text

    text = path.read_text(encoding="utf-8")
    source = Source(text, "utf-8", text.encode())
    outcome = fix_text(
        source,
        lambda s: linter.lint_source(s, str(path)),
        found,
        # A finding may carry an unsafe fix although the rule's usual fix is safe.
        any(d.fix is not None and d.fix.applicability is Applicability.UNSAFE for d in found),
    )
    assert outcome.text == textwrap.dedent(case.fixed)


def _blocks(rule, section: str) -> list[str]:
    page = (PAGES / f"{rule.name}.md").read_text(encoding="utf-8")
    body = page.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


# Project-scope rules judge a layout (which file sits where, mfextinit descriptors): one
# snippet on a page cannot show it; their INVALID cases are whole small projects. The workflow
# rules' pages show YAML, which their own cases check.
FILE_RULES = [r for r in RULES if r.scope is Scope.FILE and r.kind is SourceKind.PYTHON]


@pytest.mark.parametrize("rule", FILE_RULES, ids=[r.code for r in FILE_RULES])
def test_page_example_is_reported_and_its_correction_is_not(tmp_path, rule):
    examples, corrections = _blocks(rule, "Example"), _blocks(rule, "Use instead")
    assert examples and corrections
    for code in examples:
        assert _lint(tmp_path, rule, code)[2], f"the page's Example is not reported:\n{code}"
    for code in corrections:
        assert _lint(tmp_path, rule, code)[2] == [], f"'Use instead' is reported:\n{code}"
