"""Every rule that carries VALID/INVALID cases: each INVALID case is reported by the rule,
no VALID case is. A case is a snippet (one file) or a dict of files (a small project,
linted as a directory)."""

import pytest
from conftest import lint, lint_tree

from mfkit_lint.engine.registry import all_rules

CASES = [
    (rule, kind, index, case)
    for rule in all_rules()
    for kind in ("VALID", "INVALID")
    for index, case in enumerate(getattr(rule, kind, ()))
]


def _codes(rule, case) -> list[str]:
    if isinstance(case, dict):
        return [d.code for d in lint_tree(case, rule.code)]
    return [d.code for d in lint(case, rule.code)]


@pytest.mark.parametrize(
    "rule,kind,index,case", CASES, ids=[f"{r.code}-{k}-{i}" for r, k, i, _ in CASES]
)
def test_rule_cases(rule, kind, index, case):
    found = _codes(rule, case)
    if kind == "VALID":
        assert rule.code not in found
    else:
        assert rule.code in found
