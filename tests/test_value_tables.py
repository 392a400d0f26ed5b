"""A module-level dict literal read only by key is a table of constants, like module constants;
one that is written, updated or handed on is not."""

import pytest
from conftest import lint

STEP_WITH_TABLE = """
import sys

DEFAULTS = {"retry_count": "0", "environment": "local"}
%s

def step_cmd(flow_file, step_name, run_id, task_id, input_paths, max_retries):
    return [
        sys.executable, flow_file, "--environment", DEFAULTS["environment"],
        "step", step_name, "--run-id", run_id, "--task-id", task_id,
        "--input-paths", input_paths,
        "--retry-count", DEFAULTS["retry_count"],
        "--max-user-code-retries", str(max_retries),
    ]
"""


def test_an_entry_of_a_read_only_table_is_a_constant():
    found = [(d.code, d.location.row) for d in lint(STEP_WITH_TABLE % "", "MFK101")]
    assert found == [("MFK101", 12)]


@pytest.mark.parametrize(
    "change",
    [
        'DEFAULTS["retry_count"] = str(ATTEMPT)',
        "DEFAULTS.update(retry_count=str(ATTEMPT))",
        "configure(DEFAULTS)",
        'del DEFAULTS["retry_count"]',
        "DEFAULTS = load_defaults()",
    ],
)
def test_a_table_that_may_change_is_not_constant(change):
    assert lint(STEP_WITH_TABLE % change, "MFK101") == []
