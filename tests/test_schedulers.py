"""Scheduler attempt-counter facts: shape, sources, and what fixes may rely on."""

from __future__ import annotations

import ast

import pytest

from mfkit_lint.contract import schedulers

ROWS = schedulers.COUNTERS


def test_every_scheduler_of_the_brief_has_a_row():
    names = {row.scheduler for row in ROWS}
    assert names >= {
        "aws-batch",
        "kubernetes",
        "airflow",
        "argo-workflows",
        "prefect",
        "temporal",
        "dagster",
        "flyte",
        "kestra",
        "windmill",
        "mage",
    }


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.scheduler)
def test_row_names_its_source_and_a_sane_base(row):
    assert row.source.strip()
    assert row.base in (0, 1, None)
    if not row.verified:
        assert row.note, "an unverified row says what could not be checked"
    if row.kind == "none":
        assert row.base is None and row.retry_count is None


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if r.kind in ("env", "attribute") and r.retry_count],
    ids=lambda r: r.scheduler,
)
def test_python_retry_count_expressions_parse(row):
    ast.parse(row.retry_count, mode="eval")


def test_one_based_counters_are_converted_to_zero_based():
    for row in schedulers.one_based():
        assert row.base == 1
        assert "- 1" in row.retry_count or "-1" in row.retry_count


def test_known_bases():
    assert schedulers.by_name("aws-batch").base == 1
    assert schedulers.by_name("airflow").base == 1
    assert schedulers.by_name("argo").base == 0
    assert schedulers.by_name("dagster").base == 0
    assert schedulers.by_name("flyte").base == 0
    assert schedulers.by_name("temporal").base == 1
    assert schedulers.by_name("prefect").base == 1
    assert schedulers.by_name("kestra").base == 0


def test_lookup_by_import_and_deployer_type():
    assert schedulers.by_import("prefect.runtime").scheduler == "prefect"
    assert schedulers.by_import("temporalio").scheduler == "temporal"
    assert schedulers.by_import("json") is None
    assert schedulers.by_name("Dagster").scheduler == "dagster"
    assert schedulers.by_name("nope") is None


def test_fixes_use_only_verified_counters():
    # Kestra's attemptsCount counts the attempts before the running one (checked in its source).
    assert (
        schedulers.usable_retry_count(schedulers.by_name("kestra")) == "{{ taskrun.attemptsCount }}"
    )
    assert schedulers.usable_retry_count(schedulers.by_name("windmill")) is None  # no counter
    assert schedulers.usable_retry_count(schedulers.by_name("kubernetes")) is None
    assert schedulers.usable_retry_count(None) is None
    assert schedulers.usable_retry_count(schedulers.by_name("dagster")) == "context.retry_number"
