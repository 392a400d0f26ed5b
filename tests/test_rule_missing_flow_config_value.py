"""MFK201 missing-flow-config-value."""

import pytest
from conftest import codes, lint

POSITIVE = {
    "subprocess with an env, no config anywhere": """
        import os, subprocess, sys
        def run_step(flow, step, run_id, task_id, paths, attempt):
            env = dict(os.environ)
            env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/data"
            cmd = [sys.executable, flow, "--quiet", "step", step, "--run-id", run_id,
                   "--task-id", task_id, "--retry-count", str(attempt), "--input-paths", paths]
            subprocess.run(cmd, env=env, check=True)
    """,
    "bash script with exports and the step command": '''
        def script(flow_file, step):
            return f"""#!/bin/bash
        set -e
        export METAFLOW_DATASTORE_SYSROOT_LOCAL=/shared
        export USERNAME=scheduler
        python {flow_file} --quiet step {step} --run-id "$RUN_ID" --task-id "$TASK_ID" \\\\
            --retry-count "$ATTEMPT" --input-paths "$INPUT_PATHS"
        """
    ''',
    "a job spec with an env list next to the command": """
        def container(flow_file, step, run_id, task_id, paths, sysroot):
            return {
                "image": "python:3.11",
                "command": ["python", flow_file, "step", step, "--run-id", run_id,
                            "--task-id", task_id, "--input-paths", paths],
                "env": [{"name": "METAFLOW_DATASTORE_SYSROOT_LOCAL", "value": sysroot}],
            }
    """,
}

NEGATIVE = {
    "top-level options from the flow decorators (Argo's way)": """
        import os, subprocess, sys
        from metaflow.decorators import flow_decorators
        from metaflow.util import dict_to_cli_options
        def run_step(flow, flow_file, step, run_id, task_id):
            top = {}
            for deco in flow_decorators(flow):
                top.update(deco.get_top_level_options())
            cmd = [sys.executable, flow_file, *dict_to_cli_options(top), "step", step,
                   "--run-id", run_id, "--task-id", task_id]
            subprocess.run(cmd, env=dict(os.environ))
    """,
    "--config-value on the command line": """
        import subprocess, sys
        def run_step(flow_file, step, run_id, task_id, cfg_json, env):
            subprocess.run([sys.executable, flow_file, "--config-value", "cfg", cfg_json,
                            "step", step, "--run-id", run_id, "--task-id", task_id], env=env)
    """,
    "a step command but no environment built here": """
        import subprocess, sys
        def run_step(flow_file, step, run_id, task_id):
            subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                            "--task-id", task_id], check=True)
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK201") == ["MFK201"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK201") == []


def test_one_finding_per_module_on_the_first_step_command():
    code = (
        POSITIVE["subprocess with an env, no config anywhere"]
        + """
        def run_other(flow, run_id, task_id):
            subprocess.run([sys.executable, flow, "step", "end", "--run-id", run_id,
                            "--task-id", task_id], env=dict(os.environ))
    """
    )
    (diag,) = lint(code, "MFK201")
    assert diag.location.row == 6
    assert "METAFLOW_FLOW_CONFIG_VALUE" in diag.message
