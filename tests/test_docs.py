"""Every rule has a pitfall page in the agreed form, and every page belongs to a rule."""

import re
from pathlib import Path

import pytest
from conftest import run_cli

from mfkit_lint.engine.registry import all_rules

PAGES = Path(__file__).resolve().parent.parent / "docs" / "pitfalls"
SECTIONS = [
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "Capability",
]
RULES = all_rules()


def _page(rule) -> str:
    return (PAGES / f"{rule.name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_page_has_the_sections_in_order(rule):
    text = _page(rule)
    assert text.splitlines()[0] == f"# {rule.name} ({rule.code})"
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == SECTIONS


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_fix_safety_and_capability_match_the_rule(rule):
    text = _page(rule)
    fix_section = text.split("## Fix safety", 1)[1].split("##", 1)[0].strip()
    expected = rule.fix.applicability.value.capitalize() if rule.fix else "No fix"
    assert fix_section.startswith(expected)
    capability = text.split("## Capability", 1)[1]
    if rule.capability is not None:
        assert f"Cap.{rule.capability.value}" in capability


def test_every_page_belongs_to_a_rule_and_the_index_lists_them_all():
    names = {r.name for r in RULES}
    pages = {p.stem for p in PAGES.glob("*.md")} - {"README"}
    assert pages == names
    index = (PAGES / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"[{rule.name}]({rule.name}.md)" in index and rule.code in index


def test_pages_never_recommend_env_vars_metaflow_ignores():
    for page in PAGES.glob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            if "METAFLOW_PARAMETER" in line:
                assert re.search(r"ignor|not read|never", line, re.I), (page.name, line)


@pytest.mark.parametrize(
    "command", [("mfkit", "rule", "MFK103"), ("mfkit-lint", "--explain", "mfk103")]
)
def test_cli_prints_the_page(command):
    result = run_cli(*command[1:], tool=command[0])
    assert result.returncode == 0
    assert result.stdout.decode() == (PAGES / "tag-before-subcommand.md").read_text(
        encoding="utf-8"
    )
