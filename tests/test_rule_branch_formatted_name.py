"""MFK110 branch-formatted-name."""

import re
from pathlib import Path

import pytest
from conftest import codes, lint

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pitfalls" / "branch-formatted-name.md"

POSITIVE = {
    "current.branch_name in a list": """
        import sys
        from metaflow import current

        def step_cmd(flow, run_id):
            return [sys.executable, flow, "--branch", current.branch_name,
                    "step", "start", "--run-id", run_id, "--task-id", "1"]
    """,
    "_project_info['branch'] kept by the compiler": """
        class Compiler:
            def __init__(self, flow):
                self._project_info = self._get_project()

            def _top_parts(self):
                parts = ["python3", self.flow_file, "--no-pylint"]
                if self._project_info:
                    parts += ["--branch", self._project_info["branch"]]
                return parts
    """,
    "unpacked from format_name": """
        from metaflow.plugins.project_decorator import format_name

        def init_cmd(flow, flow_name, project, branch, run_id):
            _, branch_name = format_name(flow_name, project, False, branch, "me")
            return ["python", flow, "--branch", branch_name, "init",
                    "--run-id", run_id, "--task-id", "p"]
    """,
    "f-string word with current.get": """
        from metaflow import current

        def step_cmd(flow, run_id):
            branch = current.get("branch_name")
            return ["python", flow, f"--branch={branch}", "step", "start",
                    "--run-id", run_id]
    """,
    "self attribute assigned from project info": """
        class Scheduler:
            def __init__(self, project_info):
                self.branch = project_info["branch"]

            def line(self, run_id):
                return "python flow.py --branch %s init --run-id %s --task-id p" % (
                    self.branch, run_id)
    """,
    "attribute branch_name in a bash template": '''
        def script(deco, run_id):
            return f"""
        set -e
        python flow.py --branch {deco.branch_name} step start --run-id {run_id} --task-id 1
        """
    ''',
}

NEGATIVE = {
    "project_branch: the raw value in Metaflow's own naming": """
        def step_cmd(flow, run_id, options):
            project_branch = options["branch"]
            return ["python", flow, "--branch", project_branch, "step", "start",
                    "--run-id", run_id]
    """,
    "PROJECT_BRANCH filled with the raw branch (flyte)": """
        PROJECT_BRANCH = PROJECT_INFO.get("branch_raw", "")

        def _step_cmd(step_name, run_id):
            cmd = [sys.executable, FLOW_FILE]
            if PROJECT_BRANCH:
                cmd += ["--branch", PROJECT_BRANCH]
            return cmd + ["step", step_name, "--run-id", run_id]
    """,
    "branch_name of a DAG branch, not --branch": """
        def cmd(flow, run_id, split_node):
            for branch_name in split_node.out_funcs:
                yield ["python", flow, "step", branch_name, "--run-id", run_id]
    """,
    "a parameter named branch_name": """
        def step_cmd(flow, run_id, branch_name):
            return ["python", flow, "--branch", branch_name, "step", "a", "--run-id", run_id]
    """,
    "formatted branch used for names and tags only": """
        from metaflow import current

        def names(flow_name, run_id):
            tag = "project_branch:%s" % current.branch_name
            return ["python", "flow.py", "init", "--run-id", run_id, "--task-id", "p",
                    "--tag", tag]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK110") == ["MFK110"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK110") == []


def test_message_and_location():
    (diag,) = lint(POSITIVE["current.branch_name in a list"], "MFK110")
    assert (diag.location.row, diag.location.column) == (6, 47)
    assert "current.branch_name" in diag.message
    assert "must contain only lowercase alphanumeric characters" in diag.message
    assert diag.fix is None
    (via,) = lint(POSITIVE["unpacked from format_name"], "MFK110")
    assert "branch_name (= format_name(...))" in via.message


def test_reported_once_when_seen_as_command_and_as_list_pair():
    code = (
        POSITIVE["_project_info['branch'] kept by the compiler"]
        + """
            def init(self, run_id):
                return self._top_parts() + ["init", "--run-id", run_id, "--task-id", "p"]
    """
    )
    assert codes(code, "MFK110") == ["MFK110"]


def _blocks(section: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_page_example_is_reported_and_its_use_instead_is_clean():
    (example,) = _blocks("Example")
    assert codes(example, "MFK110") == ["MFK110"]
    (use_instead,) = _blocks("Use instead")
    assert codes(use_instead, "MFK110") == []
