"""MFK104 missing-input-paths."""

import pytest
from conftest import codes, lint

POSITIVE = {
    "list literal": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, attempt):
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--retry-count", str(attempt)]
    """,
    "list grown piece by piece": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, tags):
            cmd = [sys.executable, flow_file, "--no-pylint"]
            cmd += ["step", step, "--run-id", run_id, "--task-id", task_id]
            for tag in tags:
                cmd += ["--tag", tag]
            return cmd
    """,
    "f-string command line": """
        def step_line(flow, step, run_id, task_id):
            return f"python {flow} --no-pylint step {step} --run-id {run_id} --task-id {task_id}"
    """,
    "bash template filled with .format": '''
        SCRIPT = """#!/usr/bin/env bash
        set -e
        {python} {flow} --quiet step {step} --run-id "$RUN_ID" --task-id "$TASK_ID" --retry-count 0
        """
        def script(python, flow, step):
            return SCRIPT.format(python=python, flow=flow, step=step)
    ''',
    "run directly, and through a runner of the same module": """
        import subprocess, sys
        from metaflow.exception import MetaflowException
        def _run(cmd, env):
            return subprocess.run(cmd, env=env, check=True)
        def run_step(flow, step, run_id, task_id, env):
            cmd = [sys.executable, flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            _run(cmd, env)
    """,
}

NEGATIVE = {
    "--input-paths-filename": """
        def step_cmd(flow, step, run_id, task_id):
            return ["python", flow, "step", step, "--run-id %s" % run_id,
                    "--task-id %s" % task_id, "--input-paths-filename /tmp/mf-input-paths"]
    """,
    "bash $INPUT_PATHS and an inline value": """
        def lines(flow, step):
            a = f'python {flow} step {step} --run-id "$RUN_ID" --input-paths "$INPUT_PATHS"'
            b = f"python {flow} step {step} --run-id $RUN_ID --input-paths=$INPUT_PATHS"
            return a, b
    """,
    "words after the subcommand the linter cannot see": """
        def step_cmd(flow, step, run_id, extra, options):
            a = ["python", flow, "step", step, "--run-id", run_id, *extra]
            b = ["python", flow, "step", step, "--run-id", run_id]
            for key, value in options.items():
                b += ["--%s" % key, value]
            c = f"python {flow} step {step} --run-id {run_id} {extra}"
            return a, b, c
    """,
    "subcommand part pasted into generated code": """
        def step_args(step_name):
            args = ['"step"', repr(step_name), '"--run-id"', 'run_id', '"--task-id"', 'task_id']
            return ", ".join(args)
    """,
    "the list is completed by a longer one": """
        import sys
        def step_cmd(flow, step, run_id, input_paths):
            args = ["step", step, "--run-id", run_id]
            return [sys.executable, flow] + args + ["--input-paths", input_paths]
    """,
    "handed to code that may add words": """
        import sys
        def step_cmd(flow, step, run_id, input_paths):
            cmd = [sys.executable, flow, "step", step, "--run-id", run_id]
            add_inputs(cmd, input_paths)
            return cmd
    """,
    "through METAFLOW_STEP_INPUT_PATHS": """
        import os
        def step_cmd(flow, step, run_id, input_paths):
            env = dict(os.environ, METAFLOW_STEP_INPUT_PATHS=input_paths)
            return ["python", flow, "step", step, "--run-id", run_id], env
    """,
    "Metaflow's CLIArgs builds the options": """
        from metaflow.runtime import CLIArgs
        def step_cmd(task, flow, step, run_id):
            args = CLIArgs(task)
            return ["python", flow, "step", step, "--run-id", run_id] + list(args.get_args())
    """,
    "help text and messages": '''
        HELP = """Usage:
            python flow.py step start --run-id 1 --task-id 2
        """
        def check(found):
            if not found:
                raise ValueError("Add --input-paths to every step command including start.")
    ''',
    "another tool's step command": """
        import sys
        def deploy(tool, run_id, task_id):
            return [sys.executable, tool, "--profile", "ci", "step", "deploy", "--run-id",
                    run_id, "--task-id", task_id]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK104") == ["MFK104"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK104") == []


def test_reported_on_the_subcommand_with_what_to_pass():
    (diag,) = lint(POSITIVE["list literal"], "MFK104")
    assert (diag.location.row, diag.location.column) == (4, 40)
    assert "_parameters" in diag.message and diag.fix is None


def test_generated_helper_code_is_checked_too():
    code = '''
        HELPERS = """
        import subprocess, sys

        def _step_cmd(step_name, run_id, task_id):
            return [sys.executable, FLOW_FILE, "--no-pylint", "step", step_name,
                    "--run-id", run_id, "--task-id", task_id]
        """
        def write_helpers(out):
            out.write(HELPERS)
    '''
    (diag,) = lint(code, "MFK104")
    assert diag.location.row == 6
