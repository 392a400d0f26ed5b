"""MFK106 init-without-task-id."""

import textwrap

import pytest
from conftest import codes, fix, fixes_in_generated_code, lint

POSITIVE = {
    "list literal": """
        import sys
        def init_cmd(flow_file, run_id):
            return [sys.executable, flow_file, "--no-pylint", "init", "--run-id", run_id]
    """,
    "list grown piece by piece": """
        import sys
        def init_cmd(flow_file, run_id, tags):
            cmd = [sys.executable, flow_file, "--quiet", "--datastore", "local"]
            cmd += ["init", "--run-id", run_id]
            for tag in tags:
                cmd += ["--tag", tag]
            return cmd
    """,
    "f-string": """
        def init_line(flow, run_id):
            return f"python {flow} --no-pylint init --run-id {run_id}"
    """,
    "bash template": '''
        RUNNER = """#!/usr/bin/env bash
        RUN_ID="sched-$(date +%s)"
        {python} {flow_file} --no-pylint init --run-id "$RUN_ID"
        """
    ''',
    "generated lines": """
        def init_lines():
            return "\\n".join([
                "_init = [sys.executable, FLOW_FILE, '--no-pylint']",
                "_init += ['init', '--run-id', run_id]",
                "subprocess.run(_init, check=True)",
            ])
    """,
}

NEGATIVE = {
    "task id given inline": """
        def init_line(flow, run_id, task_id):
            return f"python {flow} init --run-id={run_id} --task-id={task_id}"
    """,
    "words after init the linter cannot see": """
        def init_cmd(flow, run_id, param_args, params):
            a = ["python", flow, "init", "--run-id", run_id] + param_args
            b = ["python", flow, "init", "--run-id", run_id]
            for name, value in params.items():
                b += ["--%s" % name, str(value)]
            return a, b
    """,
    "task id through METAFLOW_INIT_TASK_ID": """
        import os, subprocess
        def run_init(flow, run_id):
            env = dict(os.environ, METAFLOW_INIT_TASK_ID="params")
            subprocess.run(["python", flow, "init", "--run-id", run_id], env=env, check=True)
    """,
    "messages about init": """
        def check(found):
            if found:
                return "init command found with --run-id but missing --task-id"
            return "init command includes --task-id"
    """,
    "another tool's init --run-id": """
        import subprocess, sys
        def test_cli(tmp_path, controller, path):
            command = [sys.executable, str(controller), "--db", str(path)]
            subprocess.run(command + ["init", "--run-id", "run-1", "--initiative", "demo"])
            return _run(["--ledger-dir", str(tmp_path), "init", "--run-id", "run-1"])
        def plain(ctl):
            return [sys.executable, ctl, "init", "--run-id", "run-1", "--repo", "."]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK106") == ["MFK106"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK106") == []


def test_message_quotes_the_click_error():
    (diag,) = lint(POSITIVE["list literal"], "MFK106")
    assert "Missing option '--task-id'" in diag.message
    assert diag.location.row == 4


def _fixed(code):
    after = fix(code, "MFK106")
    assert codes(after, "MFK106") == []
    assert fix(after, "MFK106") == after
    return after


def test_fix_inserts_after_the_run_id_pair():
    after = _fixed(POSITIVE["list literal"])
    assert '"init", "--run-id", run_id, "--task-id", "1"]' in after


def test_fix_inserts_after_init_when_the_run_id_is_elsewhere():
    code = """
        def init_cmd(flow, run_id):
            cmd = ["python", flow, "--no-pylint", "init"]
            cmd += ["--run-id", run_id]
            return cmd
    """
    assert 'cmd = ["python", flow, "--no-pylint", "init", "--task-id", "1"]' in _fixed(code)


def test_fix_in_a_list_laid_out_one_element_per_line():
    code = """
        import sys
        from metaflow import util
        def init_cmd(flow_file, run_id):
            return [
                sys.executable,
                flow_file,
                'init',
                '--run-id',
                run_id,
            ]
    """
    after = _fixed(code)
    assert "        run_id,\n        '--task-id',\n        '1',\n    ]" in after


def test_fix_uses_the_parameters_task_the_input_paths_name():
    code = """
        def cmds(flow, run_id):
            init = ["python", flow, "init", "--run-id", run_id]
            start = ["python", flow, "step", "start", "--run-id", run_id, "--task-id", "s",
                     "--input-paths", "%s/_parameters/params" % run_id]
            return init, start
    """
    after = _fixed(code)
    assert '"init", "--run-id", run_id, "--task-id", "params"]' in after


def test_fix_in_strings_inserts_after_the_init_word():
    after = _fixed(POSITIVE["f-string"])
    assert 'f"python {flow} --no-pylint init --task-id 1 --run-id {run_id}"' in after
    after = _fixed(POSITIVE["bash template"])
    assert '{flow_file} --no-pylint init --task-id 1 --run-id "$RUN_ID"' in after


def test_fix_keeps_the_rest_of_the_file():
    code = POSITIVE["list literal"] + "\n\n# a comment\nX = 1\n"
    after = fix(code, "MFK106")
    assert after.endswith("# a comment\nX = 1\n")
    assert after.count("\n") == textwrap.dedent(code).count("\n")


def test_fix_in_generated_lines_is_written_back_or_explained():
    (diag,) = fixes_in_generated_code(POSITIVE["generated lines"], "MFK106")
    assert diag.code == "MFK106"
