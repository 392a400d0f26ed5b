"""MFK112 params-not-forwarded-to-init."""

import pytest
from conftest import codes, lint

from mfkit_lint.rules.params_not_forwarded_to_init import ParamsNotForwardedToInit

# The rule's own Invalid example: windmill's init joined into a bash script.
WINDMILL = ParamsNotForwardedToInit.INVALID[0].code

POSITIVE = {
    "MF_PARAM_* shell variables, init joined into a bash script (windmill)": WINDMILL,
    "METAFLOW_PARAMETERS in generated lines next to the generated init (prefect)": """
        _INDENT = "    "
        def start_init_lines():
            lines = [
                "init_cmd: list[str] = [",
                _INDENT + "sys.executable, FLOW_FILE,",
                _INDENT + '"--no-pylint",',
                "]",
                "init_cmd += [",
                _INDENT + '"init",',
                _INDENT + '"--run-id", run_id,',
                _INDENT + '"--task-id", param_task_id,',
                "]",
                "init_env: dict[str, str] = os.environ.copy()",
                "if parameters:",
                _INDENT + 'init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)',
                "_run_cmd(init_cmd, extra_env=init_env)",
            ]
            return lines
        def start_block():
            return "\\n".join(start_init_lines())
    """,
    "METAFLOW_PARAMETER_<NAME> env, init list without options": """
        import os, subprocess, sys
        def run_init(flow_file, run_id, params):
            env = dict(os.environ)
            for k, v in params.items():
                env["METAFLOW_PARAMETER_%s" % k.upper()] = str(v)
            cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "params"]
            subprocess.run(cmd, env=env, check=True)
    """,
}

NEGATIVE = {
    "init list extended with the parameter options": """
        import os, subprocess, sys
        def run_init(flow_file, run_id, params):
            env = {**os.environ, "METAFLOW_PARAMETERS": "x"}
            param_args = [a for k, v in params.items() for a in ("--" + k, str(v))]
            cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
            subprocess.run(cmd + param_args, env=env)
    """,
    "the script pastes more words after the init command": WINDMILL.replace(
        '{init_cmd} --clone-run-id "$ORIGIN_RUN_ID"', "{init_cmd} {param_flags}"
    ),
    "the variables are read back by the extension's entry point": '''
        import json
        def script(params):
            return """#!/bin/bash
        export MF_PARAMS='%s'
        ARGS=$(python -m acme.params_to_flags "$MF_PARAMS")
        python flow.py init --run-id "$RUN_ID" --task-id params
        """ % json.dumps(params)
    ''',
    "Metaflow's Airflow way: its helper turns the JSON into METAFLOW_INIT_*": """
        def init_cmds(run_id, param_file):
            env = {"METAFLOW_PARAMETERS": "{{ params }}"}
            export = (
                "python -m metaflow.plugins.airflow.plumbing.set_parameters %s && . `pwd`/%s"
                % (param_file, param_file)
            )
            init = ["python", "flow.py", "init", "--run-id", run_id, "--task-id", "params"]
            return env, export, init
    """,
    "an extension-named variable in a Python env (its entry point may read it)": """
        import json, os, subprocess, sys
        def run_init(flow_file, run_id, params):
            env = dict(os.environ, MF_PARAMS_JSON=json.dumps(params))
            subprocess.run([sys.executable, "-m", "acme.entry", flow_file, "init", "--run-id",
                            run_id, "--task-id", "p"], env=env)
    """,
    "no init command in the module": """
        import os
        def env_for(params):
            return {"MF_PARAM_" + k.upper(): str(v) for k, v in params.items()}
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK112") == ["MFK112"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK112") == []


def test_reported_on_init_naming_the_carrier():
    (diag,) = lint(WINDMILL, "MFK112")
    assert (diag.location.row, diag.location.column) == (16, 13)
    assert "MF_PARAM_<P> (line 9)" in diag.message
    assert "METAFLOW_INIT_<NAME>" in diag.message


def test_a_string_command_completed_later_is_left_alone():
    code = """
        def script(params):
            collect = "\\n".join('MF_PARAM_%s="$%s"' % (p.upper(), p) for p in params)
            init_line = "python flow.py init --run-id $RUN_ID --task-id params"
            return collect + "\\n" + init_line + " " + param_flags(params)
    """
    assert codes(code, "MFK112") == []
    complete = code.replace(' + " " + param_flags(params)', "")
    assert codes(complete, "MFK112") == ["MFK112"]
