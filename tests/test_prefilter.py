"""The byte prefilter: a rule runs only on files holding one of its trigger byte strings. It must
skip work, and it must never change a result."""

from __future__ import annotations

from pathlib import Path

import conftest
import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import ENGINE_RULES, all_rules
from mfkit_lint.engine.rule import Rule, Scope, SourceKind

ROOT = Path(__file__).resolve().parent.parent
RULES = [r for r in all_rules() if r not in ENGINE_RULES and r.scope == Scope.FILE]


def _samples() -> dict[str, bytes]:
    """Extension code with findings of many rules: the bundled example and the shared snippets."""
    samples = {
        str(p.relative_to(ROOT)): p.read_bytes() for p in sorted((ROOT / "examples").rglob("*.py"))
    }
    for name in dir(conftest):
        value = getattr(conftest, name)
        if name.isupper() and isinstance(value, str):
            samples[name] = value.encode()
    return samples


def test_a_rule_runs_only_where_its_triggers_occur(monkeypatch):
    ran: list[str] = []
    for rule in RULES:
        real = rule.check

        def spy(self, module, _real=real, _code=rule.code):
            ran.append(_code)
            return _real(self, module)

        monkeypatch.setattr(rule, "check", spy)
    linter = Linter(Settings())
    linter.lint_bytes(b"import os\n\nprint(os.getcwd())\n", "plain.py")
    assert ran == [r.code for r in RULES if not r.triggers]  # only rules without triggers
    for rule in RULES:
        for trigger in rule.triggers:
            ran.clear()
            text = trigger.decode("latin-1")
            if rule.kind is SourceKind.YAML:  # a workflow rule reads workflow files
                linter.lint_bytes(b"x: %r\n" % text, ".github/workflows/trigger.yml")
            else:
                linter.lint_bytes(b"x = %r\n" % text, "trigger.py")
            assert rule.code in ran, (rule.code, trigger)


@pytest.mark.parametrize("name", sorted(_samples()))
def test_the_prefilter_never_changes_a_result(name: str, monkeypatch):
    raw = _samples()[name]
    linter = Linter(Settings())
    with_prefilter = linter.lint_bytes(raw, name)
    monkeypatch.setattr(Rule, "might_apply", classmethod(lambda cls, raw, searched=None: True))
    without = linter.lint_bytes(raw, name)
    assert with_prefilter.diagnostics == without.diagnostics
    assert with_prefilter.errors == without.errors


@pytest.mark.parametrize("name", sorted(_samples()))
def test_one_search_per_trigger_gives_each_rule_its_own_answer(name: str):
    raw = _samples()[name]
    searched: dict[bytes, bool] = {}
    for rule in RULES:
        assert rule.might_apply(raw, searched) == any(t in raw for t in rule.triggers or [b""])
    assert searched == {t: t in raw for t in searched}
    assert set(searched) <= {t for rule in RULES for t in rule.triggers}
