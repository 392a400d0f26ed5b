"""MFK303 attribute-file-after-run."""

import textwrap

import pytest
from conftest import codes, lint

POSITIVE = {
    "in-process executor, then the write (Dagster shape)": """
        import json
        def trigger(obj, run_params, deployer_attribute_file=None):
            result = execute_job(obj.job, run_config=build(run_params))
            if deployer_attribute_file:
                with open(deployer_attribute_file, "w") as f:
                    json.dump({"pathspec": obj.pathspec}, f)
    """,
    "polling loop until the run ends (remote poll shape)": """
        import json, time
        def trigger(obj, deployer_attribute_file=None):
            execution = obj.remote.execute(obj.workflow)
            while not execution.is_done:
                time.sleep(5)
                execution = obj.remote.sync(execution)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": execution.id}, f)
    """,
    "steps run in a same-module helper": """
        import json, subprocess, sys
        def _run_all(flow, run_id):
            for step in ("start", "end"):
                subprocess.run([sys.executable, flow, "step", step, "--run-id", run_id,
                                "--task-id", "1", "--input-paths", run_id + "/_parameters/1"], check=True)
        def trigger(obj, run_id, deployer_attribute_file=None):
            _run_all(obj.flow_file, run_id)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.name + "/" + run_id}, f)
    """,
    "waits through a wait_for helper, writes with a helper": """
        def trigger(obj, deployer_attribute_file=None):
            run = obj.client.start()
            obj.client.wait_for_completion(run)
            write_attribute_file(deployer_attribute_file, run)
    """,
    "nested: poll inside try, write after it in one branch; the other branch is fine": """
        import json, subprocess, time as _time
        def trigger(obj, endpoint=None, deployer_attribute_file=None):
            if endpoint:
                try:
                    ex = obj.remote.fetch(endpoint)
                    while True:
                        ex = obj.remote.sync(ex)
                        if ex.is_done:
                            break
                        _time.sleep(10)
                except Exception as err:
                    raise RuntimeError(err) from err
                if deployer_attribute_file:
                    with open(deployer_attribute_file, "w") as f:
                        json.dump({"pathspec": obj.pathspec}, f)
            else:
                if deployer_attribute_file:
                    with open(deployer_attribute_file, "w") as f:
                        json.dump({"pathspec": obj.pathspec}, f)
                subprocess.run(["pyflyte", "run", obj.file], check=True)
    """,
    "the flow run with the flow file in a variable": """
        import json, subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            subprocess.run([sys.executable, obj.flow_file, "--no-pylint", "run"], check=True)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.pathspec}, f)
    """,
    "the flow run as a shell line, the file in a variable, an option before run": """
        import subprocess
        def trigger(obj, deployer_attribute_file=None):
            subprocess.check_call(f"python {obj.flow_path} --with retry run", shell=True)
            open(deployer_attribute_file, "w").write("{}")
    """,
    "the flow started with Popen and waited for": """
        import json, subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            proc = subprocess.Popen([sys.executable, obj.flow_file, "--no-pylint", "run"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if proc.wait() != 0:
                raise SystemExit(1)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.pathspec}, f)
    """,
    "the flow started by asyncio in a coroutine, awaited to the end": """
        import asyncio, json, sys
        async def _run(obj):
            cmd = [sys.executable, obj.flow_file, "--no-pylint", "run"]
            proc = await asyncio.create_subprocess_exec(*cmd)
            await proc.communicate()
        def trigger(obj, deployer_attribute_file=None):
            asyncio.run(_run(obj))
            open(deployer_attribute_file, "w").write("{}")
    """,
    "background runner keeps the pipes": """
        import json, subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.pathspec}, f)
            subprocess.Popen([sys.executable, obj.runner_file])
    """,
}

NEGATIVE = {
    "write first, then run synchronously": """
        import json
        def trigger(obj, deployer_attribute_file=None):
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.pathspec}, f)
            execute_job(obj.job)
    """,
    "asyncio.run of a start call": """
        import asyncio, json
        def trigger(obj, deployer_attribute_file=None):
            handle = asyncio.run(obj.client.start_workflow("wf", {}))
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": handle.id}, f)
    """,
    "background runner with output redirected": """
        import subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            subprocess.Popen([sys.executable, obj.worker], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            open(deployer_attribute_file, "w").write("{}")
    """,
    "a foreground Popen that is waited for": """
        import subprocess
        def trigger(obj, deployer_attribute_file=None):
            open(deployer_attribute_file, "w").write("{}")
            proc = subprocess.Popen(["pyflyte", "run", "--remote", obj.file])
            proc.wait()
    """,
    "another program's run subcommand after the interpreter": """
        import subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            subprocess.run([sys.executable, "-m", "prefect", "run"], check=True)
            subprocess.run([sys.executable, obj.cli_script, "run"], check=True)
            subprocess.run([sys.executable, obj.workflow_file, "run"], check=True)
            subprocess.run(["docker", "run", "--rm", obj.image], check=True)
            subprocess.run(["python", obj.flow_file, "deploy", "run"], check=True)
            subprocess.run([sys.executable, obj.workflow_script, "run"], check=True)
            subprocess.run([sys.executable, obj.overflowPath, "run"], check=True)
            open(deployer_attribute_file, "w").write("{}")
    """,
    "a Popen of the flow, detached and only its pid kept": """
        import json, subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            proc = subprocess.Popen([sys.executable, obj.flow_file, "--no-pylint", "run"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pid": proc.pid}, f)
    """,
    "a waited Popen that may be another tool's on one path": """
        import subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            if obj.remote:
                proc = subprocess.Popen(["kubectl", "apply", "-f", obj.manifest])
            else:
                proc = subprocess.Popen([sys.executable, obj.flow_file, "--no-pylint", "run"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            proc.wait()
            open(deployer_attribute_file, "w").write("{}")
    """,
    "the flow run and waited for in a double-forked grandchild": """
        import os, subprocess, sys
        def trigger(obj, deployer_attribute_file=None):
            if os.fork() == 0:
                if os.fork() == 0:
                    subprocess.run([sys.executable, obj.flow_file, "--no-pylint", "run"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                os._exit(0)
            os.wait()
            open(deployer_attribute_file, "w").write("{}")
    """,
    "a subprocess that is not the flow (a quick CLI call)": """
        import subprocess
        def trigger(obj, deployer_attribute_file=None):
            subprocess.run(["kubectl", "apply", "-f", obj.manifest], check=True)
            open(deployer_attribute_file, "w").write("{}")
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK303") == ["MFK303"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK303") == []


def test_message_names_the_blocking_call():
    (diag,) = lint(POSITIVE["in-process executor, then the write (Dagster shape)"], "MFK303")
    assert "execute_job() runs the whole job in-process, line 4" in diag.message
    assert diag.location.row == 5


def test_no_fix_moving_the_write_would_not_unblock_trigger():
    # Deployer.trigger() also waits for the command to exit: moving the write up silences
    # nothing real. The finding says what to restructure instead.
    for text in POSITIVE.values():
        for diag in lint(text, "MFK303"):
            assert diag.fix is None
            assert "start_new_session=True" in diag.no_fix_reason
            assert "log file" in diag.no_fix_reason
    (diag,) = lint(POSITIVE["steps run in a same-module helper"], "MFK303")
    assert "start the run detached" in diag.message


def test_no_fix_when_the_write_needs_the_result():
    (diag,) = lint(POSITIVE["polling loop until the run ends (remote poll shape)"], "MFK303")
    assert diag.fix is None  # execution is reassigned inside the loop the write would pass


def test_no_fix_for_inherited_pipes():
    (diag,) = lint(POSITIVE["background runner keeps the pipes"], "MFK303")
    assert "stdout and stderr" in diag.message
    assert diag.fix is None


def test_nested_write_is_reported_where_it_is():
    (diag,) = lint(
        POSITIVE["nested: poll inside try, write after it in one branch; the other branch is fine"],
        "MFK303",
    )
    assert diag.location.row == 14
    assert "a polling loop, line 5" in diag.message


CREATE = {
    "create waits for the scheduler to index the deployment, then writes": """
        import json, time
        def create(obj, deployer_attribute_file=None):
            client = obj.client
            client.register(obj.flow_name)
            while not client.indexed(obj.flow_name):
                time.sleep(1)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"name": obj.flow_name}, f)
    """,
    "a click command named create": """
        import json, subprocess, sys
        @scheduler.command(name="create")
        def _create_command(obj, deployer_attribute_file=None):
            subprocess.run([sys.executable, "deploy.py", "--flow", obj.flow_name], check=True)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"name": obj.flow_name}, f)
    """,
}


@pytest.mark.parametrize("code", CREATE.values(), ids=CREATE.keys())
def test_create_is_not_trigger(code):
    assert codes(code, "MFK303") == []


def test_trigger_waiting_through_a_chain_of_helpers():
    code = """
        import json, time
        def _poll(client, run_id):
            while client.status(run_id) == "RUNNING":
                time.sleep(5)
        def _launch_and_wait(client, name):
            run_id = client.start(name)
            _poll(client, run_id)
            return run_id
        def _submit(obj):
            return _launch_and_wait(obj.client, obj.flow_name)
        def trigger(obj, deployer_attribute_file=None):
            run_id = _submit(obj)
            with open(deployer_attribute_file, "w") as f:
                json.dump({"pathspec": obj.flow_name + "/" + run_id}, f)
    """
    (diag,) = lint(code, "MFK303")
    assert "_submit() -> _launch_and_wait() -> _poll() -> a polling loop" in diag.message


def test_trigger_waiting_in_another_module(tmp_path):
    from mfkit_lint.engine.config import Settings
    from mfkit_lint.engine.linter import Linter
    from mfkit_lint.engine.registry import Selection
    from mfkit_lint.model.project import ProjectIndex

    runner = tmp_path / "runner.py"
    runner.write_text(
        textwrap.dedent(
            """
            import time
            def run_to_completion(client, name):
                run_id = client.start(name)
                while client.status(run_id) == "RUNNING":
                    time.sleep(5)
                return run_id
            """
        )
    )
    cli = tmp_path / "cli.py"
    cli.write_text(
        textwrap.dedent(
            """
            import json
            from .runner import run_to_completion
            def trigger(obj, deployer_attribute_file=None):
                run_id = run_to_completion(obj.client, obj.flow_name)
                with open(deployer_attribute_file, "w") as f:
                    json.dump({"pathspec": obj.flow_name + "/" + run_id}, f)
            """
        )
    )
    linter = Linter(Settings(), Selection(("MFK303",)))
    linter.project = ProjectIndex([runner, cli])
    (diag,) = linter.lint_path(cli).diagnostics
    assert "run_to_completion() -> a polling loop" in diag.message
