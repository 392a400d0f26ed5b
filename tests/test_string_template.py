"""Commands written as string.Template(...).substitute(...): the fields are values the code
fills in, read like f-string fields."""

from conftest import lint

TEMPLATE_COMMAND = """
import string
import sys


def init_cmd(flow_file, run_id, namespace):
    return string.Template(
        "$python $flow_file --no-pylint --namespace $namespace "
        "init --run-id ${run_id} --task-id params"
    ).substitute(python=sys.executable, flow_file=flow_file, namespace=namespace, run_id=run_id)
"""


def test_fields_of_a_substituted_template_are_values():
    found = [(d.code, d.location.row) for d in lint(TEMPLATE_COMMAND, "MFK109")]
    assert found == [("MFK109", 8)]  # --namespace before init


def test_a_correct_template_command_is_silent():
    code = TEMPLATE_COMMAND.replace("--namespace $namespace ", "")  # init takes none
    assert lint(code, "MFK1") == []


def test_dollar_escape_and_mapping_argument():
    code = """
from string import Template


def step_cmd(flow_file, step, run_id, task_id, paths):
    return Template(
        "python $flow --no-pylint --environment local step $step --run-id $run --task-id $task "
        "--input-paths $paths --retry-count 0 --tag cost=$$5"
    ).safe_substitute({"flow": flow_file, "step": step, "run": run_id, "task": task_id,
                       "paths": paths})
"""
    assert [(d.code, d.location.row) for d in lint(code, "MFK101")] == [("MFK101", 8)]
