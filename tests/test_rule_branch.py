"""MFK102 missing-branch."""

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "env var only mentioned in a comment": """
        # TODO: maybe use METAFLOW_FLOW_BRANCH one day
        def cmd(step, run_id, branch):
            return ["python", "flow.py", "step", step, "--run-id", run_id]
    """,
    "branch parameter unused by the step command": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths, branch=None):
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]
    """,
    "init misses the branch the step command passes": """
        import sys
        class Compiler:
            def step_cmd(self, step, run_id):
                cmd = [sys.executable, self.flow_file]
                if self.branch:
                    cmd += ["--branch", self.branch]
                cmd += ["step", step, "--run-id", run_id, "--task-id", "1"]
                return cmd

            def init_cmd(self, run_id):
                return [sys.executable, self.flow_file, "init", "--run-id", run_id, "--task-id", "p"]
    """,
    "module-level branch constant in generated helpers": """
        import sys
        PROJECT_BRANCH = None
        def _step_cmd(step, run_id):
            cmd = [sys.executable, "flow.py"]
            if PROJECT_BRANCH:
                cmd += ["--branch", PROJECT_BRANCH]
            cmd += ["step", step, "--run-id", run_id, "--task-id", "1"]
            return cmd
        def _init_cmd(run_id):
            init = [sys.executable, "flow.py", "--no-pylint"]
            init += ["init", "--run-id", run_id, "--task-id", "params"]
            return init
    """,
    "f-string init with a branch local": """
        def init_line(flow, run_id, options):
            branch = options.get("branch")
            return f"python {flow} init --run-id {run_id} --task-id params"
    """,
    "self.branch set in __init__": """
        class Deployer:
            def __init__(self, branch=None):
                self.branch = branch
            def cmd(self, step, run_id):
                return ["python", "flow.py", "step", step, "--run-id", run_id, "--task-id", "1"]
    """,
}

NEGATIVE = {
    "branch passed before the subcommand": """
        def cmd(step, run_id, branch=None):
            cmd = ["python", "flow.py"]
            if branch:
                cmd += ["--branch", branch]
            cmd += ["step", step, "--run-id", run_id]
            return cmd
    """,
    "no branch known anywhere": """
        def cmd(step, run_id):
            return ["python", "flow.py", "step", step, "--run-id", run_id, "--task-id", "1"]
    """,
    "top-level options from Metaflow's own helpers": """
        from metaflow.util import dict_to_cli_options
        def cmd(flow, step, run_id, branch):
            top = {}
            for deco in flow._flow_decorators.values():
                top.update(deco.get_top_level_options())
            return ["python", "flow.py", *dict_to_cli_options(top), "step", step, "--run-id", run_id]
    """,
    "top-level args built elsewhere (cannot see them)": """
        def cmd(step, run_id, top_args, branch=None):
            return ["python", "flow.py"] + top_args + ["step", step, "--run-id", run_id]
    """,
    "branch travels through METAFLOW_FLOW_BRANCH": """
        import os
        def run(step, run_id, branch):
            env = dict(os.environ, METAFLOW_FLOW_BRANCH=branch)
            return ["python", "flow.py", "step", step, "--run-id", run_id], env
    """,
    "--production instead of --branch": """
        def cmd(step, run_id, branch):
            return ["python", "flow.py", "--production", "step", step, "--run-id", run_id]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK102") == ["MFK102"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK102") == []


def test_message_names_the_branch_value():
    (diag,) = lint(POSITIVE["init misses the branch the step command passes"], "MFK102")
    assert "'init' command without --branch" in diag.message
    assert "self.branch" in diag.message
    assert diag.location.row == 12


def test_fix_inserts_a_guarded_branch_before_the_subcommand():
    after = fix(POSITIVE["branch parameter unused by the step command"], "MFK102", unsafe=True)
    assert 'flow_file, *(["--branch", branch] if branch else []), "step", step' in after
    assert codes(after, "MFK102") == []
    assert fix(after, "MFK102", unsafe=True) == after


def test_fix_in_a_piecewise_list_inserts_into_the_piece_holding_the_subcommand():
    after = fix(
        POSITIVE["module-level branch constant in generated helpers"], "MFK102", unsafe=True
    )
    assert 'init += [*(["--branch", PROJECT_BRANCH] if PROJECT_BRANCH else []), "init",' in after
    assert codes(after, "MFK102") == []


def test_fix_uses_the_attribute_the_other_command_passes():
    after = fix(POSITIVE["init misses the branch the step command passes"], "MFK102", unsafe=True)
    assert '*(["--branch", self.branch] if self.branch else []), "init"' in after


def test_no_fix_for_string_commands():
    (diag,) = lint(POSITIVE["f-string init with a branch local"], "MFK102")
    assert diag.fix is None


PLAN_FUNCTIONS = """
    import sys
    def init_cmd(plan, run_id):
        top = [sys.executable, plan["flow_file"]]
        if plan["project"].get("branch"):
            top.extend(["--branch", plan["project"]["branch"]])
        return top + ["init", "--run-id", run_id, "--task-id", "params"]
    def step_cmd(plan, step, run_id, task_id):
        return [sys.executable, plan["flow_file"], "step", step,
                "--run-id", run_id, "--task-id", task_id]
"""


def test_the_branch_another_command_reads_from_a_plan_dict_is_in_reach():
    (diag,) = lint(PLAN_FUNCTIONS, "MFK102")
    assert diag.location.row == 9
    assert "available as \"plan['project']['branch']\"" in diag.message
    # the entry may be absent where ``.get("branch")`` was tested first: no fix
    assert diag.fix is None and ".get()" in diag.no_fix_reason


def test_a_plan_entry_out_of_reach_of_the_step_command_is_silent():
    code = PLAN_FUNCTIONS.replace(
        "def step_cmd(plan, step, run_id, task_id):",
        "def step_cmd(flow_file, step, run_id, task_id):",
    ).replace('[sys.executable, plan["flow_file"], "step"', '[sys.executable, flow_file, "step"')
    assert "plan" not in code.split("def step_cmd")[1]
    assert codes(code, "MFK102") == []
