"""MFK112 params-not-forwarded-to-init."""

import textwrap

import pytest
from conftest import codes, fix, fixes_in_generated_code, lint

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
    assert "MF_PARAM_<P> (line 8)" in diag.message
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


# The fix: where the script sets the ignored per-parameter variable, it also exports the
# variable init reads, when the value is not empty (an empty METAFLOW_INIT_<NAME> is not
# "unset" for init: a string parameter would store "", a number would fail).
SHELL_FIXES = {
    "%-tuple in a generator joined into the script (windmill)": (
        WINDMILL,
        """'MF_PARAM_%s="$%s"; [ -z "$%s" ] || export METAFLOW_INIT_%s="$%s"'
                % (
                    pname.upper(),
                    pname, pname, pname.upper().replace("-", "_"), pname,
                )""",
    ),
    "f-string line per parameter in a loop": (
        """
        def init_script(flow_file, params):
            lines = ["#!/bin/bash", "set -e"]
            for name in params:
                lines.append(f'export MF_PARAM_{name.upper()}="${name}"')
            lines.append(f"python3 {flow_file} init --run-id $RUN_ID --task-id params")
            return "\\n".join(lines)
        """,
        """lines.append(f'export MF_PARAM_{name.upper()}="${name}"; [ -z "${name}" ] || export METAFLOW_INIT_{name.upper().replace("-", "_")}="${name}"')""",
    ),
    ".format with automatic fields and escaped braces": (
        """
        def init_script(flow_file, params):
            exports = "\\n".join(
                "export MF_PARAM_{}=\\"${{{}:-}}\\"".format(p.upper(), p) for p in params
            )
            return "#!/bin/bash\\n%s\\npython3 %s init --run-id $RUN_ID --task-id params\\n" % (
                exports,
                flow_file,
            )
        """,
        """"export MF_PARAM_{}=\\"${{{}:-}}\\"; [ -z \\"${{{}:-}}\\" ] || export METAFLOW_INIT_{}=\\"${{{}:-}}\\"".format(p.upper(), p, p, p.upper().replace("-", "_"), p)""",
    ),
    "one value right of %, a positional argument, into a template": (
        '''
        SCRIPT = """#!/bin/bash
        set -e
        {assigns}
        python3 flow.py --quiet init --run-id "$RUN_ID" --task-id params
        """
        def render(params):
            assigns = []
            for i, p in enumerate(params, start=1):
                assigns.append(('MF_PARAM_%s=${%d:-}' % (p.upper(), i)))
            return SCRIPT.format(assigns="\\n".join(assigns))
        ''',
        """('MF_PARAM_%s=${%d:-}; [ -z ${%d:-} ] || export METAFLOW_INIT_%s=${%d:-}' % (p.upper(), i, i, p.upper().replace("-", "_"), i))""",
    ),
}


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines())


@pytest.mark.parametrize(("code", "line"), SHELL_FIXES.values(), ids=SHELL_FIXES.keys())
def test_shell_assignments_also_export_what_init_reads(code, line):
    assert fix(code, "MFK112") == textwrap.dedent(code)  # unsafe only
    fixed = fix(code, "MFK112", unsafe=True)
    assert _lines(line) in _lines(fixed), fixed
    # The fix removes MFK112 and adds nothing (windmill's shape also passes --clone-run-id
    # to init, a finding of its own that the fix leaves as it is).
    assert codes(fixed, "MFK1") == [c for c in codes(code, "MFK1") if c != "MFK112"]
    assert "MFK112" in codes(code, "MFK1")
    assert fix(fixed, "MFK112", unsafe=True) == fixed


def test_the_generated_init_env_gets_the_json_items_on_its_own_line():
    code = POSITIVE["METAFLOW_PARAMETERS in generated lines next to the generated init (prefect)"]
    (diag,) = fixes_in_generated_code(code, "MFK112")
    assert diag.fix is not None
    fixed = fix(code, "MFK112", unsafe=True)
    assert (
        """'init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters); init_env.update({"METAFLOW_INIT_" """
        in fixed
    )
    assert codes(fixed, "MFK") == []


NO_SHELL_FIX = {
    "all parameters in one JSON text of the script": (
        ParamsNotForwardedToInit.INVALID[1].code,
        "holds all the parameters in one text of the script",
    ),
    "pieces joined with spaces: what follows each is unknown": (
        """
        def script(params):
            pairs = " ".join('MF_PARAM_%s="$%s"' % (p.upper(), p) for p in params)
            return "#!/bin/bash\\n%s echo ok\\npython flow.py init --run-id $R --task-id p" % pairs
        """,
        "what follows MF_PARAM_<P>'s assignment in the script is not known",
    ),
    "the variable set for init's command only": (
        """
        def script(name):
            return 'MF_PARAM_%s="$1" python flow.py init --run-id $R --task-id p' % name
        """,
        "is set for one command only",
    ),
    "the name pieced together by concatenation": (
        """
        def script(params):
            lines = ['MF_PARAM_' + p.upper() + '="$' + p + '"' for p in params]
            return "\\n".join(lines + ["python flow.py init --run-id $RUN_ID --task-id p"])
        """,
        "pieced together",
    ),
    "per-parameter variables written from Python (MFK203 renames them)": (
        POSITIVE["METAFLOW_PARAMETER_<NAME> env, init list without options"],
        "is written per parameter from Python",
    ),
}


@pytest.mark.parametrize(("code", "reason"), NO_SHELL_FIX.values(), ids=NO_SHELL_FIX.keys())
def test_no_fix_says_why(code, reason):
    (diag,) = lint(code, "MFK112")
    assert diag.fix is None and reason in diag.no_fix_reason, diag.no_fix_reason


def test_no_fix_repeats_a_call_that_may_do_something():
    code = """
        def init_script(inputs, params):
            lines = ['MF_PARAM_%s="%s"' % (p.upper(), next(inputs)) for p in params]
            lines.append("python flow.py init --run-id $RUN_ID --task-id params")
            return "\\n".join(lines)
    """
    (diag,) = lint(code, "MFK112")
    assert diag.fix is None and "not an expression the fix can repeat" in diag.no_fix_reason
    renamed = code.replace("next(inputs)", "inputs[p]")
    (diag,) = lint(renamed, "MFK112")
    assert diag.fix is not None
