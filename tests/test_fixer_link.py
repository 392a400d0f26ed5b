"""The rule -> fixer link: an importable reference, checked when the rules load, which a rule
plugin may point at its own fixer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mfkit_lint.engine.config import load_settings
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, codemod_target
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import (
    RegistryError,
    Selection,
    _codemod_problem,
    _rules_of,
    all_rules,
)
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.engine.source import Source
from mfkit_lint.fixers.apply import fix_text

PLUGIN_FIXER = """
import libcst as cst
from mfkit_lint.fixers.base import Codemod


class RenameBadName(Codemod):
    def leave_Name(self, original, updated):
        if self.is_reported(original):
            return self.mark(updated.with_changes(value="good_name"))
        return updated
"""


def _plugin_rule(codemod: str) -> type[Rule]:
    class BadName(Rule):
        code = "XYZ901"
        name = "bad-name"
        summary = "a name called bad_name"
        fix = FixSpec(Applicability.SAFE, "Rename it", codemod)

        def check(self, module):
            import ast

            for node in ast.walk(module.tree):
                if isinstance(node, ast.Name) and node.id == "bad_name":
                    yield Finding(node, "bad_name", {})

    return BadName


def test_every_builtin_fix_names_an_existing_codemod():
    """The built-in rules' links are checked here, not when the rules load (see
    ``registry._shipped_link``): each rule's fix and each kind of fix data a rule may report
    with its own codemod name a class its fixer module defines."""
    import inspect

    from mfkit_lint.fixers import data

    references = {rule.fix.codemod for rule in all_rules() if rule.fix is not None}
    assert len(references) >= 19
    for cls in vars(data).values():
        if inspect.isclass(cls) and cls.__module__ == data.__name__ and hasattr(cls, "CODEMOD"):
            references.add(cls.CODEMOD)
    for reference in sorted(references):
        module, cls = codemod_target(reference)
        assert module.startswith("mfkit_lint.fixers.") and cls
        assert _codemod_problem(reference) is None, reference


def test_loading_the_builtin_rules_reads_no_fixer(monkeypatch):
    import mfkit_lint.rules
    from mfkit_lint.engine import registry

    read: list[str] = []
    monkeypatch.setattr(registry, "_codemod_problem", lambda reference: read.append(reference))
    rules = _rules_of("builtin", mfkit_lint.rules)
    assert any(rule.fix is not None for rule in rules)
    assert read == []
    _rules_of("plugin", _plugin_rule("move:MoveWords"))  # a plugin's link is read
    assert read == ["move:MoveWords"]


def test_a_reference_to_a_missing_codemod_fails_when_rules_load():
    with pytest.raises(RegistryError, match="defines no NoSuchCodemod"):
        _rules_of("plugin", _plugin_rule("move:NoSuchCodemod"))
    with pytest.raises(RegistryError, match="no module"):
        _rules_of("plugin", _plugin_rule("no_such_fixer_module:Anything"))


def test_a_plugin_fix_runs_the_plugins_own_codemod(tmp_path: Path, monkeypatch):
    package = tmp_path / "xyz_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fixers.py").write_text(textwrap.dedent(PLUGIN_FIXER))
    monkeypatch.syspath_prepend(str(tmp_path))
    rule = _rules_of("plugin", _plugin_rule("xyz_plugin.fixers:RenameBadName"))[0]
    linter = Linter(load_settings(None, tmp_path), Selection(("XYZ",)))
    linter._rules = [rule]
    source = Source.from_bytes(b"x = bad_name + 1\n")
    diagnostics = linter.lint_source(source, "m.py")
    assert [d.code for d in diagnostics] == ["XYZ901"]
    outcome = fix_text(source, lambda s: linter.lint_source(s, "m.py"), diagnostics, False)
    assert outcome.text == "x = good_name + 1\n"


# Rules without a fix that the published extensions trigger: each says why, in its own words.
WHY_NO_FIX = ("MFK201", "MFK210", "MFK402", "MFK505", "MFK602", "MFK605")


@pytest.mark.parametrize("code", WHY_NO_FIX)
def test_rules_without_a_fix_give_their_own_reason(code):
    from conftest import lint_tree

    (rule,) = [r for r in all_rules() if r.code == code]
    assert rule.fix is None and rule.no_fix
    example = rule.INVALID[0].code
    found = lint_tree(example if isinstance(example, dict) else {"mod.py": example}, code)
    assert found and all(d.fix is None and d.no_fix_reason == rule.no_fix for d in found)
    assert "depends on how the extension is built" not in rule.no_fix
