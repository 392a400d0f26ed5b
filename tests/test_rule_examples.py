"""Every rule's own VALID/INVALID examples (fixit's way), and every pitfall page's examples.

A rule module carries its cases next to its logic; this one test runs them for every rule,
so a new rule file needs no test module of its own to be checked. Cases are linted the way
the CLI lints a file of a project (the file is its own one-file project), so rules that need
project mode (MFK210) are judged like the others.
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
from mfkit_lint.engine.source import Source
from mfkit_lint.model.project import ProjectIndex

RULES = [r for r in all_rules() if r not in ENGINE_RULES]
PAGES = Path(__file__).resolve().parent.parent / "docs" / "pitfalls"


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
    if rule.fix is not None:
        assert any(case.fixed is not None for case in rule.INVALID), "no example of its fix"


@pytest.mark.parametrize("rule, case", _cases("VALID"))
def test_valid_examples_are_not_reported(tmp_path, rule, case):
    _, _, found = _lint(tmp_path, rule, case.code)
    assert found == []


@pytest.mark.parametrize("rule, case", _cases("INVALID"))
def test_invalid_examples_are_reported_where_expected(tmp_path, rule, case):
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
        rule.fix.applicability is Applicability.UNSAFE,
    )
    assert outcome.text == textwrap.dedent(case.fixed)


def _blocks(rule, section: str) -> list[str]:
    page = (PAGES / f"{rule.name}.md").read_text(encoding="utf-8")
    body = page.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_page_example_is_reported_and_its_correction_is_not(tmp_path, rule):
    examples, corrections = _blocks(rule, "Example"), _blocks(rule, "Use instead")
    assert examples and corrections
    for code in examples:
        assert _lint(tmp_path, rule, code)[2], f"the page's Example is not reported:\n{code}"
    for code in corrections:
        assert _lint(tmp_path, rule, code)[2] == [], f"'Use instead' is reported:\n{code}"
