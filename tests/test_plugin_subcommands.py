"""Whose command it is: ``python <flow> <plugin> step ...`` is a plugin's own subcommand.

Metaflow's ``batch step``, ``kubernetes step`` and a third-party backend's ``<name> step`` take
the plugin's click options, not those of the core ``step``: the core-step rules (MFK104,
MFK105, MFK108, MFK109, MFK201) stay silent on them, however the command is spelled and also
when the flow file is a variable. The core ``step`` keeps every check, also next to a plugin's
command and when a decorator is named with ``--with batch``.
"""

import pytest
from conftest import codes

CORE_STEP_RULES = ("MFK104", "MFK105", "MFK108", "MFK109", "MFK201")

PLUGIN = {
    "list literal, flow file a variable": """
        import subprocess, sys
        def launch(flow_file, step, run_id, task_id, split_index, env):
            cmd = [sys.executable, flow_file, "--no-pylint", "mybackend", "step", step,
                   "--run-id", run_id, "--task-id", task_id, "--cpu", "2", "--image", "img"]
            subprocess.run(cmd, env=env, check=True)
    """,
    "list built piece by piece": """
        import subprocess, sys
        def launch(flow_file, step, run_id, task_id, split_index, env):
            cmd = [sys.executable, flow_file, "--quiet"]
            cmd += ["kubernetes", "step", step]
            cmd.extend(["--run-id", run_id, "--task-id", task_id, "--retry-count", "0"])
            cmd.append("--namespace-label")
            cmd.append("team")
            subprocess.run(cmd, env=env, check=True)
    """,
    "f-string with a literal flow file": """
        import subprocess
        def launch(step, run_id, split_index, env):
            subprocess.run(
                f"python flow.py --no-pylint batch step {step} --run-id {run_id} "
                f"--task-id 1 --retry-count 0 --queue q --cpu 2",
                shell=True, env=env,
            )
    """,
    "%-formatted shell line": """
        import subprocess
        def launch(flow_file, step, run_id, split_index, env):
            line = "python %s slurm step %s --run-id %s --task-id 1 --partition p" % (
                flow_file, step, run_id,
            )
            subprocess.run(line, shell=True, env=env)
    """,
}


@pytest.mark.parametrize("code", PLUGIN.values(), ids=PLUGIN.keys())
@pytest.mark.parametrize("rule", CORE_STEP_RULES)
def test_plugin_subcommand_is_not_judged_as_the_core_step(code, rule):
    assert codes(code, rule) == []


CORE = {
    "--with names a decorator, the step is the core one": (
        """
        import subprocess, sys
        def launch(flow_file, step, run_id, task_id, env):
            cmd = [sys.executable, flow_file, "--no-pylint", "--with", "batch", "step", step,
                   "--run-id", run_id, "--task-id", task_id, "--cpu", "2"]
            subprocess.run(cmd, env=env, check=True)
        """,
        {"MFK104", "MFK108", "MFK109", "MFK201"},
    ),
    "a core step next to a plugin's step in the same module": (
        """
        import subprocess, sys
        def launch(flow_file, step, run_id, task_id, env, remote):
            if remote:
                cmd = [sys.executable, flow_file, "batch", "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--queue", "q"]
            else:
                cmd = [sys.executable, flow_file, "--no-pylint", "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--queue", "q"]
            subprocess.run(cmd, env=env, check=True)
        """,
        {"MFK104", "MFK108", "MFK109", "MFK201"},
    ),
}


@pytest.mark.parametrize("code, expected", CORE.values(), ids=CORE.keys())
def test_core_step_keeps_every_check(code, expected):
    assert set(codes(code)) & set(CORE_STEP_RULES) == expected
