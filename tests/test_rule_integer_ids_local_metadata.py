"""MFK113 integer-ids-local-metadata."""

import pytest
from conftest import codes, invoke, lint

POSITIVE = {
    "enumerate counter as task id": """
        import subprocess, sys
        def run_steps(flow, run_id, steps):
            for i, step in enumerate(steps):
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", str(i + 1), "--input-paths", "x"], check=True)
    """,
    "range counter through a variable and an f-string": """
        import metaflow
        def commands(flow, run_id, steps):
            out = []
            for n in range(len(steps)):
                task_id = f"{n}"
                cmd = ["python", flow, "step", steps[n], "--run-id", run_id, "--task-id", task_id]
                out.append(cmd)
            return out
    """,
    "run id from the clock": """
        import time
        from metaflow import util
        def step_cmd(flow, step):
            run_id = str(int(time.time()))
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "t-1"]
    """,
    "run id formatted with %d, like the local provider's own": """
        import time
        def init_cmd(flow):
            run_id = "%d" % (time.time() * 1e6)
            return ["python", flow, "--no-pylint", "init", "--run-id", run_id, "--task-id", "1"]
    """,
    "itertools counter": """
        import itertools
        _ids = itertools.count(1)
        def step_line(flow, step, run_id):
            return f"python {flow} --quiet --no-pylint step {step} --run-id {run_id} --task-id {next(_ids)}"
    """,
    "digit literal in a bash template": '''
        SCRIPT = """
        python {flow} step start --run-id "$RUN_ID" --task-id 2 --input-paths "$RUN_ID/_parameters/1"
        """
    ''',
}

NEGATIVE = {
    "counter with a prefix": """
        def commands(flow, run_id, steps):
            return [["python", flow, "step", s, "--run-id", run_id, "--task-id", f"t-{i}"]
                    for i, s in enumerate(steps)]
    """,
    "ids the linter cannot follow": """
        import uuid
        def step_cmd(flow, step, run_id, task_id):
            return ["python", flow, "step", step, "--run-id", "argo-" + uuid.uuid4().hex,
                    "--task-id", task_id]
    """,
    "a float is no integer": """
        import time
        def step_cmd(flow, step):
            run_id = str(time.time())
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "t-1"]
    """,
    "the enumerated item, not the counter": """
        def commands(flow, run_id, ids):
            return [["python", flow, "step", "s", "--run-id", run_id, "--task-id", str(t)]
                    for i, t in enumerate(ids)]
    """,
    "shell variables": """
        def line(flow, step):
            return f'python {flow} step {step} --run-id "$RUN_ID" --task-id "$TASK_ID"'
    """,
    "another tool's ids": """
        import sys
        def cmd(tool, i):
            return [sys.executable, tool, "step", "build", "--run-id", str(i), "--task-id", "7"]
    """,
    "usage text": '''
        HELP = """Usage:
            python flow.py step start --run-id 1 --task-id 2 --input-paths 1/_parameters/0
        """
    ''',
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK113") == ["MFK113"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK113") == []


def test_reported_on_the_value():
    (diag,) = lint(POSITIVE["enumerate counter as task id"], "MFK113")
    assert (diag.location.row, diag.location.column) == (6, 38)  # str(i + 1)
    assert "task ids" in diag.message and "t-<n>" in diag.message


def test_run_and_task_ids_both_reported():
    code = """
        def step_cmd(flow, step):
            return ["python", flow, "step", step, "--run-id", "123", "--task-id", "4",
                    "--input-paths", "123/_parameters/1"]
    """
    found = lint(code, "MFK113")
    assert [d.message.split()[0] for d in found] == ["--run-id", "--task-id"]


def test_integer_passed_from_another_module_of_the_project(tmp_path):
    (tmp_path / "compiler.py").write_text(
        "import metaflow\n"
        "def step_command(flow, step, run_id, task_id):\n"
        '    return ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]\n'
    )
    (tmp_path / "cli.py").write_text(
        "from compiler import step_command\n"
        "def run(flow, run_id):\n"
        '    for step in ("start", "end"):\n'
        '        step_command(flow, step, run_id, "1")\n'
    )
    result = invoke(str(tmp_path), "--select", "MFK113", "--no-cache", "--format", "concise")
    assert result.returncode == 1
    assert b"compiler.py:3:" in result.stdout and b"every caller passes" in result.stdout
