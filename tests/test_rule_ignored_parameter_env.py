"""MFK203 ignored-parameter-env."""

import textwrap

import pytest
from conftest import codes, fix, fixes_in_generated_code, lint

POSITIVE = {
    "JSON of all parameters in the init environment (prefect)": """
        import json, os
        def init_env(parameters):
            init_env = os.environ.copy()
            if parameters:
                init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)
            return init_env
    """,
    "one variable per parameter, %-formatted key": """
        import os
        def env_for(params):
            env = dict(os.environ)
            for k, v in params.items():
                env["METAFLOW_PARAMETER_%s" % k.upper()] = str(v)
            return env
    """,
    "dict comprehension with an f-string key": """
        def env_for(params):
            return {f"METAFLOW_PARAMETER_{k.upper()}": str(v) for k, v in params.items()}
    """,
    "setdefault on os.environ": """
        import os
        os.environ.setdefault("METAFLOW_PARAMETER_ALPHA", "0.9")
    """,
    "export line in a bash script": '''
        SCRIPT = """#!/bin/bash
        set -e
        export METAFLOW_PARAMETER_ALPHA="$1"
        python flow.py init --run-id "$RUN_ID" --task-id params
        """
    ''',
    "Kubernetes env entry": """
        from kubernetes import client
        def container_env(params):
            return [client.V1EnvVar(name="METAFLOW_PARAMETERS", value=params)]
    """,
    "generated code in a returned list of lines": """
        import json
        _INDENT = "    "
        def start_lines():
            return [
                "init_env: dict[str, str] = os.environ.copy()",
                "if parameters:",
                _INDENT + 'init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)',
                "_run_cmd(init_cmd, extra_env=init_env)",
            ]
        def write_start(out):
            out.write("\\n".join(start_lines()))
    """,
    "generated code in a multi-line template": '''
        TEMPLATE = """
        import os, subprocess
        env = dict(os.environ)
        env["METAFLOW_PARAMETER_" + name.upper()] = value
        subprocess.run(cmd, env=env)
        """
        def render(**values):
            return TEMPLATE.format(**values)
    ''',
}

NEGATIVE = {
    "the extension reads its own variable back": '''
        import json, os
        def env_for(params):
            return {"METAFLOW_PARAMETERS": json.dumps(params)}
        ENTRYPOINT = """
        params = json.loads(os.environ["METAFLOW_PARAMETERS"])
        cmd += [a for k, v in params.items() for a in ("--" + k, str(v))]
        """
    ''',
    "read back in a shell entry point": '''
        import json
        def env_for(params):
            return {"METAFLOW_PARAMETERS": json.dumps(params)}
        ENTRY = """
        ARGS=$(python -c 'import json,os; print(json.loads(os.environ["X"]))' "${METAFLOW_PARAMETERS}")
        """
    ''',
    "docstring and help text that mention the variable": '''
        import click
        def build():
            """Do not use METAFLOW_PARAMETERS='{"a": 1}' python flow.py init: it is ignored."""
        @click.option("--params", help="METAFLOW_PARAMETER_ALPHA=1 is never read")
        def cli(params):
            pass
    ''',
    "a message, not an assignment": """
        def warn():
            raise ValueError("export METAFLOW_PARAMETER_ALPHA=1 is ignored by Metaflow")
    """,
    "Metaflow's Step Functions way: its helper exports METAFLOW_INIT_* from the JSON": """
        def batch_env(self, param_file):
            env = {}
            env["METAFLOW_PARAMETERS"] = "$.Parameters"
            export_params = (
                "python -m metaflow.plugins.aws.step_functions.set_batch_environment "
                "parameters %s && . `pwd`/%s" % (param_file, param_file)
            )
            return env, export_params
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK203") == ["MFK203"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK203") == []


def test_message_says_what_metaflow_reads():
    (diag,) = lint(POSITIVE["JSON of all parameters in the init environment (prefect)"], "MFK203")
    assert "never reads METAFLOW_PARAMETERS" in diag.message
    assert "METAFLOW_INIT_<NAME>" in diag.message
    assert (diag.location.row, diag.location.column) == (6, 18)


def test_position_inside_generated_lines():
    (diag,) = lint(POSITIVE["generated code in a returned list of lines"], "MFK203")
    # The returned lines are generated code: the key is reported from its quote, as a key in
    # plain code is.
    assert (diag.location.row, diag.location.column) == (8, 29)


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        (
            "one variable per parameter, %-formatted key",
            'env["METAFLOW_PARAMETER_%s" % k.upper()]',
            'env["METAFLOW_INIT_%s" % k.upper()]',
        ),
        (
            "dict comprehension with an f-string key",
            'f"METAFLOW_PARAMETER_{k.upper()}"',
            'f"METAFLOW_INIT_{k.upper()}"',
        ),
        (
            "setdefault on os.environ",
            '"METAFLOW_PARAMETER_ALPHA", "0.9"',
            '"METAFLOW_INIT_ALPHA", "0.9"',
        ),
        (
            "export line in a bash script",
            'export METAFLOW_PARAMETER_ALPHA="$1"',
            'export METAFLOW_INIT_ALPHA="$1"',
        ),
    ],
)
def test_unsafe_fix_renames_the_prefix(name, before, after):
    code = POSITIVE[name]
    assert fix(code, "MFK203") == fix(code, "MFK203", unsafe=False)  # unsafe only
    fixed = fix(code, "MFK203", unsafe=True)
    assert before not in fixed and after in fixed
    assert codes(fixed, "MFK203") == []
    assert fix(fixed, "MFK203", unsafe=True) == fixed


def test_generated_code_fixes_are_written_back_or_explained():
    fixes_in_generated_code(POSITIVE["generated code in a multi-line template"], "MFK203")
    (diag,) = fixes_in_generated_code(
        POSITIVE["generated code in a returned list of lines"], "MFK203"
    )
    assert diag.fix is not None


# The JSON of all parameters: each item is also exported as METAFLOW_INIT_<NAME> right where
# the JSON is written, in the shapes extensions write it.
JSON_FIXES = {
    "assignment to the init env (prefect)": (
        POSITIVE["JSON of all parameters in the init environment (prefect)"],
        """
        import json, os
        def init_env(parameters):
            init_env = os.environ.copy()
            if parameters:
                init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)
                init_env.update(
                    {
                        "METAFLOW_INIT_" + name.upper().replace("-", "_"): (
                            value if isinstance(value, str) else json.dumps(value)
                        )
                        for name, value in parameters.items()
                        if value is not None
                    }
                )
            return init_env
        """,
    ),
    "os.environ of a method, the dict an attribute, single quotes": (
        """
        import json, os
        class Runner:
            def run_init(self):
                os.environ['METAFLOW_PARAMETERS'] = json.dumps(self.params)  # for init
                return os.environ
        """,
        """
        import json, os
        class Runner:
            def run_init(self):
                os.environ['METAFLOW_PARAMETERS'] = json.dumps(self.params)  # for init
                os.environ.update(
                    {
                        'METAFLOW_INIT_' + name.upper().replace('-', '_'): (
                            value if isinstance(value, str) else json.dumps(value)
                        )
                        for name, value in self.params.items()
                        if value is not None
                    }
                )
                return os.environ
        """,
    ),
    "dict display with the entry first": (
        """
        import json, os
        def init_env(params):
            return {"METAFLOW_PARAMETERS": json.dumps(params), **os.environ}
        """,
        """
        import json, os
        def init_env(params):
            return {"METAFLOW_PARAMETERS": json.dumps(params), **{"METAFLOW_INIT_" + name.upper().replace("-", "_"): value if isinstance(value, str) else json.dumps(value) for name, value in params.items() if value is not None}, **os.environ}
        """,
    ),
    "dict() keyword": (
        """
        import json, os
        def init_env(params):
            return dict(os.environ, METAFLOW_PARAMETERS=json.dumps(params))
        """,
        """
        import json, os
        def init_env(params):
            return dict(os.environ, METAFLOW_PARAMETERS=json.dumps(params), **{"METAFLOW_INIT_" + name.upper().replace("-", "_"): value if isinstance(value, str) else json.dumps(value) for name, value in params.items() if value is not None})
        """,
    ),
    "generated lines, written back on the line (one literal)": (
        POSITIVE["generated code in a returned list of lines"],
        """
        import json
        _INDENT = "    "
        def start_lines():
            return [
                "init_env: dict[str, str] = os.environ.copy()",
                "if parameters:",
                _INDENT + 'init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters); init_env.update({"METAFLOW_INIT_" + name.upper().replace("-", "_"): value if isinstance(value, str) else json.dumps(value) for name, value in parameters.items() if value is not None})',
                "_run_cmd(init_cmd, extra_env=init_env)",
            ]
        def write_start(out):
            out.write("\\n".join(start_lines()))
        """,
    ),
}


@pytest.mark.parametrize(("before", "after"), JSON_FIXES.values(), ids=JSON_FIXES.keys())
def test_json_items_are_also_exported_as_init_reads_them(before, after):
    assert fix(before, "MFK203") == textwrap.dedent(before)  # unsafe only
    fixed = fix(before, "MFK203", unsafe=True)
    assert fixed == textwrap.dedent(after)
    assert codes(fixed, "MFK") == []
    assert fix(fixed, "MFK203", unsafe=True) == fixed


NO_JSON_FIX = {
    "the JSON made elsewhere": (
        """
        import os
        def init_env(parameters_json):
            return {**os.environ, "METAFLOW_PARAMETERS": parameters_json}
        """,
        "is not written as json.dumps",
    ),
    "a call that is not dict()": (
        """
        import json
        def init_env(make_env, params):
            return make_env(METAFLOW_PARAMETERS=json.dumps(params))
        """,
        "a call that is not dict() or update()",
    ),
    "a container env entry": (
        POSITIVE["Kubernetes env entry"],
        "not written as json.dumps",
    ),
    "dict() with another ** (a name in both would be a TypeError)": (
        """
        import json, os
        def init_env(params, extra):
            return dict(METAFLOW_PARAMETERS=json.dumps(params), **extra)
        """,
        "a call that is not dict() or update()",
    ),
}


@pytest.mark.parametrize(("code", "reason"), NO_JSON_FIX.values(), ids=NO_JSON_FIX.keys())
def test_no_json_fix_says_why(code, reason):
    (diag,) = lint(code, "MFK203")
    assert diag.fix is None and reason in diag.no_fix_reason


def test_safe_fix_run_leaves_it():
    code = POSITIVE["setdefault on os.environ"]
    assert "METAFLOW_PARAMETER_ALPHA" in fix(code, "MFK203")
