"""MFK105 missing-split-index."""

import pytest
from conftest import codes, lint

POSITIVE = {
    "index only used for the task id": """
        def child_cmd(flow, step, run_id, parent, split_index):
            task_id = f"{step}-{split_index}"
            cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            cmd += ["--input-paths", f"{run_id}/start/{parent}"]
            return cmd
    """,
    "loop over the children": """
        import subprocess, sys
        def run_children(flow, step, run_id, parent, num_splits):
            for split_index in range(num_splits):
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", "t-%d" % split_index,
                                "--input-paths", parent], check=True)
    """,
    "f-string command with a foreach_index": """
        def child_line(flow, step, run_id, paths, foreach_index):
            return f"python {flow} step {step} --run-id {run_id} --task-id t-{foreach_index} --input-paths {paths}"
    """,
    "attribute of the task spec": """
        def child_cmd(flow, task):
            task_id = "%s-%s" % (task.step, task.split_index)
            return ["python", flow, "step", task.step, "--run-id", task.run_id,
                    "--task-id", task_id, "--input-paths", task.input_paths]
    """,
}

NEGATIVE = {
    "the non-foreach branch of the builder": """
        def step_cmd(flow, step, run_id, task_id, split_index=None):
            if split_index is None:
                return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id,
                    "--split-index", str(split_index)]
    """,
    "no caller ever passes one": """
        def _step_cmd(flow, step, run_id, task_id, split_index=None):
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
        def run(flow, steps, run_id):
            for step in steps:
                _step_cmd(flow, step, run_id, "t-1")
    """,
    "no foreach index in scope": """
        def step_cmd(flow, step, run_id, task_id, index):
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
    """,
    "index handed on with the list": """
        def step_cmd(flow, step, run_id, task_id, split_index):
            cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            add_split(cmd, split_index)
            return cmd
    """,
    "index travels in the environment": """
        import os
        def step_cmd(flow, step, run_id, task_id, split_index):
            env = dict(os.environ)
            env["METAFLOW_STEP_SPLIT_INDEX"] = str(split_index)
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id], env
    """,
    "index used for something the linter cannot follow": """
        def step_cmd(flow, step, run_id, task_id, split_index, scheduler):
            scheduler.register(step, split_index)
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK105") == ["MFK105"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK105") == []


def test_message_names_the_index():
    (diag,) = lint(POSITIVE["index only used for the task id"], "MFK105")
    assert "'split_index'" in diag.message and "--split-index split_index" in diag.message
    assert diag.location.row == 4 and diag.fix is None


def test_attribute_evidence_is_named():
    (diag,) = lint(POSITIVE["attribute of the task spec"], "MFK105")
    assert "'task.split_index'" in diag.message
