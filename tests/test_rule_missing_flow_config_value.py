"""MFK201 missing-flow-config-value."""

import pytest
from conftest import codes, invoke, lint

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
    "only the flow decorators' top-level options (@project's; none carries the configs)": """
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
    "the configs read into a plan, never handed to the step": """
        import json, os, subprocess, sys
        from metaflow.flowspec import FlowStateItems
        def compile_plan(flow):
            configs = flow._flow_state[FlowStateItems.CONFIGS] or {}
            return {"config_value": json.dumps({k: v for k, (v, _) in configs.items()})}
        def run_step(plan, step, run_id, task_id):
            env = dict(os.environ)
            subprocess.run([sys.executable, plan["flow_file"], "step", step, "--run-id", run_id,
                            "--task-id", task_id], env=env)
    """,
}

NEGATIVE = {
    "the variable written by a helper": """
        import json, os, subprocess, sys
        def config_env(configs):
            return {"METAFLOW_FLOW_CONFIG_VALUE": json.dumps(configs)}
        def run_step(flow_file, step, run_id, task_id, configs):
            env = dict(os.environ)
            env.update(config_env(configs))
            subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                            "--task-id", task_id], env=env)
    """,
    "--config-value from dict_to_cli_options": """
        import os, subprocess, sys
        from metaflow.util import dict_to_cli_options
        def run_step(flow_file, step, run_id, task_id, configs):
            top = dict_to_cli_options({"config_value": configs})
            subprocess.run([sys.executable, flow_file, *top, "step", step, "--run-id", run_id,
                            "--task-id", task_id], env=dict(os.environ))
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


def _two_modules(root, step_env: str):
    package = root / "ext"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "ext"\nversion = "0"\n')
    (package / "__init__.py").write_text("")
    (package / "envs.py").write_text(step_env)
    (package / "runner.py").write_text(
        "import subprocess, sys\n"
        "from .envs import step_env\n"
        "def run_step(flow_file, step, run_id, task_id, configs):\n"
        '    subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,\n'
        '                    "--task-id", task_id], env=step_env(configs))\n'
    )
    return root


@pytest.mark.parametrize(
    ("step_env", "found"),
    [
        (
            "import json, os\n"
            "def step_env(configs):\n"
            "    env = dict(os.environ)\n"
            '    env["METAFLOW_FLOW_CONFIG_VALUE"] = json.dumps(configs)\n'
            "    return env\n",
            "",
        ),
        (
            "import os\ndef step_env(configs):\n    return dict(os.environ)\n",
            "runner.py:4:",
        ),
    ],
    ids=["written there", "not written anywhere"],
)
def test_configs_passed_in_another_module_of_the_project(tmp_path, step_env, found):
    """The step environment is made in another module: what that module writes decides."""
    root = _two_modules(tmp_path, step_env)
    result = invoke("--select", "MFK201", "--no-cache", "--format", "concise", str(root))
    out = result.stdout.decode() if isinstance(result.stdout, bytes) else result.stdout
    assert (found in out and "MFK201" in out) if found else out == "", out


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
