"""MFK108 missing-environment."""

import pytest
from conftest import codes, fix, invoke, lint

POSITIVE = {
    "list literal, nothing at hand": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths):
            return [sys.executable, flow_file, "--no-pylint", "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]
    """,
    "environment type parameter unused": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths, environment_type="local"):
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]
    """,
    "init passes it, the step does not": """
        import sys
        class Compiler:
            def __init__(self, flow_file, environment):
                self.flow_file = flow_file
                self.environment = environment
            def init_cmd(self, run_id):
                return [sys.executable, self.flow_file, f"--environment={self.environment.TYPE}",
                        "init", "--run-id", run_id, "--task-id", "params"]
            def step_cmd(self, step, run_id, task_id, paths):
                cmd = [sys.executable, self.flow_file, "--quiet"]
                cmd += ["step", step, "--run-id", run_id, "--task-id", task_id,
                        "--input-paths", paths]
                return cmd
    """,
    "f-string": """
        def line(flow, step, run_id, paths):
            return f"python {flow} --quiet step {step} --run-id {run_id} --input-paths {paths}"
    """,
    "bash template": '''
        STEP = """
        {python} {flow} --no-pylint step {step} --run-id "$RUN_ID" --task-id "$TASK_ID" \\\\
            --input-paths "$INPUT_PATHS"
        """
    ''',
    "generated helper module": '''
        HELPERS = """
        import sys

        def _step_cmd(step_name, run_id, task_id, input_paths):
            cmd = [sys.executable, FLOW_FILE, "--datastore", DATASTORE_TYPE]
            cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
                    "--input-paths", input_paths]
            return cmd
        """
        def write_helpers(path):
            with open(path, "w") as f:
                f.write(HELPERS)
    ''',
}

NEGATIVE = {
    "passed inline": """
        def step_cmd(flow, step, run_id, paths, env):
            return ["python", flow, "--environment=%s" % env.TYPE, "step", step,
                    "--run-id", run_id, "--input-paths", paths]
    """,
    "top-level words the linter cannot see": """
        def step_cmd(flow, step, run_id, paths, top_args, options, env_flag):
            a = ["python", flow, *top_args, "step", step, "--run-id", run_id]
            b = ["python", flow] + top_args + ["step", step, "--run-id", run_id]
            c = ["python", flow]
            for key, value in options.items():
                c += ["--%s" % key, value]
            c += ["step", step, "--run-id", run_id]
            d = ["python", flow, "--quiet", env_flag, "step", step, "--run-id", run_id]
            e = f"python {flow} {top_args} step {step} --run-id {run_id}"
            return a, b, c, d, e
    """,
    "Metaflow's own top-level options": """
        from metaflow.util import dict_to_cli_options
        def step_cmd(flow, graph, step, run_id, paths):
            top = {}
            for deco in flow._flow_decorators.values():
                top.update(deco.get_top_level_options())
            return ["python", "flow.py", "--quiet", "step", step, "--run-id", run_id,
                    "--input-paths", paths], dict_to_cli_options(top)
    """,
    "environment through METAFLOW_ENVIRONMENT": """
        import os
        def run(flow, step, run_id, env_type):
            env = dict(os.environ)
            env["METAFLOW_ENVIRONMENT"] = env_type
            return ["python", flow, "step", step, "--run-id", run_id], env
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK108") == ["MFK108"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK108") == []


def test_no_fix_without_a_value():
    (diag,) = lint(POSITIVE["list literal, nothing at hand"], "MFK108")
    assert diag.fix is None and "Incompatible environment" in diag.message
    assert diag.location.row == 4


def _fixed(code):
    after = fix(code, "MFK108", unsafe=True)
    assert codes(after, "MFK108") == []
    assert fix(after, "MFK108", unsafe=True) == after
    return after


def test_fix_guards_a_name_that_may_be_none():
    after = _fixed(POSITIVE["environment type parameter unused"])
    assert (
        'flow_file, *(["--environment", environment_type] if environment_type else []), "step"'
        in after
    )


def test_fix_uses_what_the_other_command_passes():
    after = _fixed(POSITIVE["init passes it, the step does not"])
    assert 'cmd += ["--environment", self.environment.TYPE, "step", step,' in after


def test_fix_takes_type_of_an_environment_object():
    code = """
        import sys
        def step_cmd(flow_file, step, run_id, paths, environment):
            assert environment.TYPE
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--input-paths", paths]
    """
    after = _fixed(code)
    assert 'flow_file, "--environment", environment.TYPE, "step"' in after


def test_fix_needs_unsafe_fixes():
    code = POSITIVE["environment type parameter unused"]
    assert fix(code, "MFK108") == fix(code, "MFK108", unsafe=False)
    assert "--environment" not in fix(code, "MFK108")


def test_no_fix_for_strings():
    (diag,) = lint(POSITIVE["f-string"], "MFK108")
    assert diag.fix is None


STEP_MODULE = """
import sys
def step_cmd(flow_file, step, run_id, task_id, paths):
    return [sys.executable, flow_file, "--no-pylint", "step", step, "--run-id", run_id,
            "--task-id", task_id, "--input-paths", paths]
"""


def test_environment_set_by_another_module_of_the_project(tmp_path):
    (tmp_path / "compiler.py").write_text(STEP_MODULE)
    result = invoke(str(tmp_path), "--select", "MFK108", "--no-cache", "--format", "concise")
    assert result.returncode == 1 and b"compiler.py:4:" in result.stdout
    (tmp_path / "runner.py").write_text(
        "import os\nenv = dict(os.environ, METAFLOW_ENVIRONMENT='conda')\n"
    )
    result = invoke(str(tmp_path), "--select", "MFK108", "--no-cache", "--format", "concise")
    assert result.returncode == 0, result.stdout
