"""MFK101 hardcoded-retry-count."""

import textwrap

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "list literal with a string zero": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths):
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--retry-count", "0", "--input-paths", paths]
    """,
    "list built piece by piece with str(0)": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths):
            cmd = [sys.executable, flow_file, "--no-pylint"]
            cmd += ["step", step]
            cmd.extend(["--run-id", run_id, "--task-id", task_id])
            cmd.append("--retry-count")
            cmd.append(str(0))
            return cmd
    """,
    "parameter default that no caller overrides (the kit scaffold)": """
        import sys
        class Deployer:
            def _build_step_command(self, step, run_id, task_id, paths, retry_count=0):
                cmd = [sys.executable, "flow.py", "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--retry-count", str(retry_count),
                       "--input-paths", paths]
                return cmd

            def compile(self, steps):
                return [self._build_step_command(s, "r1", "1", "r1/_parameters/1") for s in steps]
    """,
    "f-string command": """
        def step_line(flow_file, step, run_id):
            return f"python {flow_file} step {step} --run-id {run_id} --task-id 1 --retry-count 0 --input-paths {run_id}/_parameters/1"
    """,
    "multi-line bash template": '''
        SCRIPT = """#!/bin/bash
        set -e
        python {flow} --no-pylint step {step} \\\\
            --run-id "$RUN_ID" \\\\
            --task-id "$TASK_ID" \\\\
            --retry-count 0 \\\\
            --input-paths "$INPUT_PATHS"
        """
    ''',
    "--retry-count=0 in one word": """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count=0"]
    """,
    "percent-formatted shell line": """
        def line(flow, run_id):
            return "python %s step start --run-id %s --task-id 1 --retry-count %d" % (flow, run_id, 0)
    """,
    "Python-literal fragments for a generated script": """
        def step_args(step_name, max_retries):
            args = ['"step"', '"%s"' % step_name, '"--run-id"', 'run_id',
                    '"--retry-count"', '"0"', '"--max-user-code-retries"', '"%d"' % max_retries]
            return ", ".join(args)
    """,
    "a module constant": """
        RETRIES = "0"
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", RETRIES]
    """,
}

NEGATIVE = {
    "a parameter callers pass": """
        class D:
            def _cmd(self, step, run_id, retry_count=0):
                return ["python", "flow.py", "step", step, "--run-id", run_id,
                        "--retry-count", str(retry_count)]
            def run(self, ctx):
                return self._cmd("start", "r1", retry_count=ctx.retry_number)
    """,
    "a parameter with no caller in this module (cannot decide)": """
        def step_cmd(step, run_id, retry_count=0):
            return ["python", "flow.py", "step", step, "--run-id", run_id,
                    "--retry-count", str(retry_count)]
    """,
    "Argo-style template placeholder": """
        def cmd(run_id):
            return "python flow.py step start --run-id %s --retry-count {{retries}}" % run_id
    """,
    "bash variable": '''
        SCRIPT = """
        python flow.py step start --run-id "$RUN_ID" --task-id 1 --retry-count "$RETRY_COUNT"
        """
    ''',
    "no retries configured for the step": """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id,
                    "--retry-count", "0", "--max-user-code-retries", "0"]
    """,
    "option text in a docstring and a click declaration": '''
        import click
        @click.option("--retry-count", default=0)
        def step(retry_count):
            """Run `python flow.py step start --run-id 1 --retry-count 0` by hand."""
    ''',
    "a reassigned counter": """
        import os
        def cmd(run_id):
            retry = 0
            if os.environ.get("AWS_BATCH_JOB_ATTEMPT"):
                retry = int(os.environ["AWS_BATCH_JOB_ATTEMPT"]) - 1
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", str(retry)]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK101") == ["MFK101"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK101") == []


def test_points_at_the_value_and_says_what_to_do():
    (diag,) = lint(POSITIVE["list literal with a string zero"], "MFK101")
    assert (diag.location.row, diag.location.column) == (5, 52)
    assert "always 0" in diag.message and "attempt" in diag.message
    assert diag.fix is None  # no attempt counter in scope: nothing to thread


def test_fix_threads_the_attempt_parameter_in_a_list():
    before = """
        def cmd(run_id, attempt):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    after = fix(before, "MFK101", unsafe=True)
    assert '"--retry-count", str(attempt)]' in after
    assert codes(after, "MFK101") == []
    assert fix(after, "MFK101", unsafe=True) == after  # idempotent


def test_fix_threads_the_attempt_into_an_fstring():
    before = """
        def line(run_id, retry_count):
            return f"python flow.py step start --run-id {run_id} --retry-count 0 --input-paths x"
    """
    after = fix(before, "MFK101", unsafe=True)
    assert "--retry-count {retry_count} --input-paths" in after
    assert codes(after, "MFK101") == []


def test_fix_is_unsafe_only():
    before = """
        def cmd(run_id, attempt):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    assert fix(before, "MFK101", unsafe=False) == textwrap.dedent(before)


def test_no_fix_with_retries_meaning_the_maximum():
    code = """
        def build(step, run_id, retries):
            return ["python", "flow.py", "step", step, "--run-id", run_id,
                    "--retry-count", "0", "--max-user-code-retries", str(retries)]
    """
    (diag,) = lint(code, "MFK101")
    assert diag.fix is None


def test_no_fix_for_a_parameter_default():
    (diag,) = lint(
        POSITIVE["parameter default that no caller overrides (the kit scaffold)"], "MFK101"
    )
    assert diag.fix is None


def test_message_names_the_call_that_leaves_the_default():
    code = """
        def step_cmd(run_id, retry_count=0):
            return ["python", "flow.py", "step", "start", "--run-id", run_id,
                    "--retry-count", str(retry_count)]

        def fallback(run_id, retry_count=0):
            return step_cmd(run_id, retry_count=retry_count)

        def submit(run_id):
            return fallback(run_id)
    """
    (diag,) = lint(code, "MFK101")
    # The cause is the call of fallback() without retry_count (line 10), followed through
    # step_cmd(), which only hands fallback's own parameter on.
    assert "fallback() is called without 'retry_count' (line 10)" in diag.message


def test_message_for_a_literal_names_no_call():
    code = """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    (diag,) = lint(code, "MFK101")
    assert "called without" not in diag.message
