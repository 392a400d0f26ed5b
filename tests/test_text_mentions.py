"""A word that merely appears in a file never switches a rule off (issue 8, class 4).

Each rule that can be silenced by what the code does (an env var that carries the option, a
Metaflow helper that adds it, a hook that applies @environment's vars) is silenced by that and
only by that: the same word in a docstring, a help text, a message, a class merely named like
the helper, or a method that only *defines* the hook leaves the finding in place.
"""

import textwrap
from pathlib import Path

import pytest
from conftest import codes

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.model.project import ProjectIndex

STEP = """
import subprocess, sys
{extra}
def run_step(flow_file, step, run_id, task_id, env):
    cmd = [sys.executable, flow_file, "--no-pylint", "--environment", "local", "step", step,
           "--run-id", run_id, "--task-id", task_id]
    subprocess.run(cmd, env=env, check=True)
"""

# (rule, text that only mentions, code that really does it)
CASES = {
    "MFK104 input paths through click's variable": (
        "MFK104",
        '"""Tasks could also read METAFLOW_STEP_INPUT_PATHS, see the docs."""',
        'def env_for(paths):\n    return {"METAFLOW_STEP_INPUT_PATHS": paths}',
    ),
    "MFK201 configs through Metaflow's CLIArgs": (
        "MFK201",
        "class _RuntimeCLIArgs:\n    pass",
        "from metaflow.runtime import CLIArgs\nARGS = CLIArgs",
    ),
    "MFK201 the config value in the environment": (
        "MFK201",
        'import click\nOPTION = click.option("--cfg", help="sets METAFLOW_FLOW_CONFIG_VALUE")',
        'def env_for(value):\n    return {"METAFLOW_FLOW_CONFIG_VALUE": value}',
    ),
}


@pytest.mark.parametrize("rule, mention, code", CASES.values(), ids=CASES.keys())
def test_a_mention_does_not_silence_the_rule(rule, mention, code):
    assert codes(STEP.format(extra=mention), rule) == [rule]


@pytest.mark.parametrize("rule, mention, code", CASES.values(), ids=CASES.keys())
def test_what_the_code_does_silences_it(rule, mention, code):
    assert codes(STEP.format(extra=code), rule) == []


INIT = """
import subprocess, sys
{extra}
def run_init(flow_file, run_id, params):
    script = "export MF_PARAM_ALPHA=%s\\n" % params["alpha"]
    script += "python %s --no-pylint init --run-id %s --task-id p\\n" % (flow_file, run_id)
    subprocess.run(["bash", "-c", script], check=True)
"""


@pytest.mark.parametrize(
    "mention",
    [
        '"""Metaflow reads METAFLOW_INIT_<NAME> for init."""',
        'def warn():\n    print("METAFLOW_INIT_ALPHA is what init reads")',
    ],
)
def test_mfk112_mention_of_init_variables_does_not_silence(mention):
    assert codes(INIT.format(extra=mention), "MFK112") == ["MFK112"]


def test_mfk112_real_init_variable_silences():
    code = 'def env_for(v):\n    return {"METAFLOW_INIT_ALPHA": v}'
    assert codes(INIT.format(extra=code), "MFK112") == []


def _project(tmp_path: Path, files: dict) -> list[str]:
    paths = []
    for name, code in files.items():
        path = tmp_path / name
        path.write_text(textwrap.dedent(code))
        paths.append(path)
    linter = Linter(Settings(), Selection(("MFK210",)))
    linter.project = ProjectIndex(paths)
    return [d.code for p in paths for d in linter.lint_path(p).diagnostics]


BUILDER = STEP.format(extra="")


def test_mfk210_defining_the_hook_is_not_applying_it(tmp_path):
    decorator = """
        class MyDecorator:
            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
    """
    assert _project(tmp_path, {"builder.py": BUILDER, "deco.py": decorator}) == ["MFK210"]


def test_mfk210_calling_the_hook_applies_the_vars(tmp_path):
    caller = """
        def apply(step, cli_args):
            for deco in step.decorators:
                deco.runtime_step_cli(cli_args, 0, 0, None)
    """
    assert _project(tmp_path, {"builder.py": BUILDER, "hooks.py": caller}) == []
