"""MFK206 auth-env-not-forwarded."""

import pytest
from conftest import codes, lint

POSITIVE = {
    "a dict literal built in the function": """
        import os, subprocess, sys
        def run_step(flow, step, run_id, task_id, paths, attempt):
            cmd = [sys.executable, flow, "step", step, "--run-id", run_id,
                   "--task-id", task_id, "--retry-count", str(attempt), "--input-paths", paths]
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data", "PATH": os.environ["PATH"]}
            subprocess.run(cmd, env=env, check=True)
    """,
    "dict() with keywords, list grown with +=": """
        import subprocess, sys
        def run_step(flow, step, run_id, task_id, tags):
            cmd = [sys.executable, flow, "--quiet"]
            cmd += ["step", step, "--run-id", run_id, "--task-id", task_id]
            for tag in tags:
                cmd += ["--tag", tag]
            proc = subprocess.Popen(cmd, env=dict(USERNAME="scheduler", METAFLOW_USER="ci"))
            return proc.wait()
    """,
    "asyncio exec of a command builder (temporal-like)": """
        import asyncio
        async def start(inp, params_task_id):
            proc = await asyncio.create_subprocess_exec(
                *_build_init_cmd(inp, params_task_id),
                env={"METAFLOW_DEFAULT_METADATA": "local"},
            )
            return await proc.wait()
    """,
    "entries added with update({...})": """
        import subprocess
        def run_init(flow_file, run_id, sysroot):
            env = {}
            env.update({"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot})
            env.update(USERNAME="scheduler")
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=env)
    """,
    "the env returned by a helper of the module, on every path": """
        import subprocess
        def _step_env(sysroot, user=None):
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot}
            if user:
                return {"USERNAME": user}
            return env
        def run_init(flow_file, run_id, sysroot):
            env = _step_env(sysroot)
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=env)
    """,
    "a bash script written to a file, then run with a scratch env": """
        import subprocess
        SCRIPT = '''#!/bin/bash
        python3 "$FLOW_FILE" step "$STEP" --run-id "$RUN_ID" --task-id "$TASK_ID"
        '''
        def run_step(script_path, sysroot):
            with open(script_path, "w") as f:
                f.write(SCRIPT)
            subprocess.run(["bash", script_path], env={"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot})
    """,
    "a joined list pasted into a template constant with .format, run by bash -c": """
        import subprocess, sys
        SCRIPT = "#!/bin/bash\\nset -e\\n{command}\\n"
        def run_step(flow, step, run_id, task_id):
            words = [sys.executable, flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            cmd = ["bash", "-c", SCRIPT.format(command=" ".join(words))]
            subprocess.run(cmd, env={"USERNAME": "x"})
    """,
}

NEGATIVE = {
    "a dict that spreads os.environ": """
        import os, subprocess, sys
        def run_step(flow, step, run_id, task_id, extra):
            subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                            "--task-id", task_id], env={**os.environ, **extra})
    """,
    "credentials forwarded on purpose": """
        import os, subprocess, sys
        def run_step(flow, step, run_id, task_id):
            env = {"PATH": os.environ["PATH"]}
            for key, value in os.environ.items():
                if key.startswith(("AWS_", "METAFLOW_")):
                    env[key] = value
            subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                            "--task-id", task_id], env=env)
    """,
    "update(os.environ) after building": """
        import os, subprocess
        def run_init(flow_file, run_id):
            env = {"USERNAME": "x"}
            env.update(os.environ)
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=env)
    """,
    "update with a dict that copies os.environ": """
        import os, subprocess
        def run_init(flow_file, run_id):
            env = {}
            env.update({**os.environ, "USERNAME": "x"})
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=env)
    """,
    "update naming credentials": """
        import os, subprocess
        def run_init(flow_file, run_id):
            env = {}
            env.update(AWS_PROFILE=os.environ["AWS_PROFILE"])
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=env)
    """,
    "a helper that inherits on one path": """
        import os, subprocess
        def _step_env(sysroot, inherit):
            if inherit:
                return dict(os.environ, METAFLOW_DATASTORE_SYSROOT_LOCAL=sysroot)
            return {"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot}
        def run_init(flow_file, run_id, sysroot):
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=_step_env(sysroot, True))
    """,
    "a helper that copies os.environ": """
        import os, subprocess
        def _step_env():
            env = os.environ.copy()
            env["USERNAME"] = "x"
            return env
        def run_init(flow_file, run_id):
            subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "p"],
                           env=_step_env())
    """,
    "a script file with other content run with a scratch env": """
        import subprocess, sys
        def run_step(script_path, flow, step, run_id, task_id):
            cmd = [sys.executable, flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            with open(script_path, "w") as f:
                f.write("echo ready")
            subprocess.run(["bash", script_path], env={"USERNAME": "x"})
            return cmd
    """,
    "the command only inside a manifest another tool applies": """
        import subprocess, sys, yaml
        def submit(flow, step, run_id, task_id):
            cmd = [sys.executable, flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            manifest = yaml.safe_dump({"command": cmd})
            subprocess.run(["kubectl", "apply", "-f", "-", manifest], env={"HOME": "/root"})
    """,
    "a fresh env for a command that is not a Metaflow step": """
        import subprocess
        def build_image(tag):
            subprocess.run(["docker", "build", "-t", tag, "."], env={"DOCKER_BUILDKIT": "1"})
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK206") == ["MFK206"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK206") == []


def test_reported_on_the_env_argument():
    (diag,) = lint(POSITIVE["a dict literal built in the function"], "MFK206")
    assert (diag.location.row, diag.location.column) == (7, 29)
    assert "dict(os.environ)" in diag.message
    assert "AWS_*" in diag.message
