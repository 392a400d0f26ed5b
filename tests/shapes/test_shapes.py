"""The metamorphic corpus: every bug variant is reported at its line, every correct variant gets
no finding of its rule. Variants the linter does not handle yet are strict xfails (listed with
their failure class in known_failures.txt), so a fix shows up as an XPASS failure until the
variant leaves the list."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import known_failures, run, variants
from generate import CASES, SEEDS, texts

from mfkit_lint.engine.registry import all_rules

VARIANTS = variants()
KNOWN = known_failures()


def _param(variant):
    marks = []
    if variant.id in KNOWN:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[variant.id]))
    return pytest.param(variant, id=variant.id, marks=marks)


@pytest.mark.parametrize("variant", [_param(v) for v in VARIANTS])
def test_variant(variant):
    outcome = run(variant)
    assert outcome.passed, outcome.describe()


def test_committed_cases_are_what_the_generator_writes():
    wanted = texts()
    present = {p: p.read_text(encoding="utf-8") for p in CASES.glob("*/*.txt")}
    assert sorted(present) == sorted(wanted), "run python tests/shapes/generate.py"
    stale = [str(p) for p in wanted if wanted[p] != present[p]]
    assert stale == [], "run python tests/shapes/generate.py"


def test_corpus_size_and_coverage():
    assert len(SEEDS) >= 40
    assert len(VARIANTS) >= 400
    kinds = Counter((s.rule, s.bug) for s in SEEDS)
    for rule in {s.rule for s in SEEDS}:
        assert kinds[(rule, True)] and kinds[(rule, False)], rule
    assert {s.rule for s in SEEDS} <= {r.code for r in all_rules()}


def test_known_failures_name_existing_variants():
    ids = {v.id for v in VARIANTS}
    assert sorted(set(KNOWN) - ids) == []
