"""MFK103 tag-before-subcommand."""

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "list literal": """
        def cmd(flow, step, run_id, tag):
            return ["python", flow, "--tag", tag, "step", step, "--run-id", run_id]
    """,
    "tags added in a loop before the subcommand": """
        def cmd(flow, step, run_id, tags):
            cmd = ["python", flow, "--no-pylint"]
            for tag in tags:
                cmd += ["--tag", tag]
            cmd += ["step", step, "--run-id", run_id, "--task-id", "1"]
            return cmd
    """,
    "top-level options from a helper": """
        class C:
            def _top(self):
                return ["python", self.flow, "--quiet", "--tag", self.tag]
            def init_cmd(self, run_id):
                return self._top() + ["init", "--run-id", run_id, "--task-id", "params"]
    """,
    "f-string": """
        def line(flow, tag, run_id):
            return f"python {flow} --tag {tag} step start --run-id {run_id} --task-id 1"
    """,
    "--tag=value in a bash template": '''
        T = """
        python flow.py --tag=nightly init --run-id "$RUN_ID" --task-id params
        """
    ''',
}

NEGATIVE = {
    "after init in a second list": """
        def cmd(flow, run_id, tags):
            top = ["python", flow, "--quiet"]
            init = ["init", "--run-id", run_id, "--task-id", "1"]
            for t in tags:
                init += ["--tag", t]
            return top + init
    """,
    "click option declaration": """
        import click
        @click.option("--tag", "tags", multiple=True)
        def trigger(tags):
            pass
    """,
    "not a Metaflow command": """
        def docker(tag):
            return ["docker", "build", "--tag", tag, "."]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK103") == ["MFK103"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK103") == []


def test_message_and_location():
    (diag,) = lint(POSITIVE["list literal"], "MFK103")
    assert diag.location.row == 3
    assert "after the 'step' subcommand" in diag.message
    assert diag.fix is not None and diag.fix.applicability.value == "safe"


def test_fix_moves_the_pair_after_the_step_name():
    after = fix(POSITIVE["list literal"], "MFK103")
    assert '["python", flow, "step", step, "--tag", tag, "--run-id", run_id]' in after
    assert codes(after, "MFK103") == []
    assert fix(after, "MFK103") == after


def test_fix_moves_across_lists_and_keeps_layout():
    before = """
        def cmd(flow, run_id, tag):
            top = [
                "python",
                flow,
                "--tag",
                tag,
            ]
            return top + [
                "init",
                "--run-id",
                run_id,
            ]
    """
    after = fix(before, "MFK103")
    assert codes(after, "MFK103") == []
    assert "        flow,\n    ]" in after
    assert '        "init",\n        "--tag",\n        tag,\n        "--run-id",' in after


def test_fix_moves_text_inside_an_fstring():
    after = fix(POSITIVE["f-string"], "MFK103")
    assert 'f"python {flow} step start --tag {tag} --run-id {run_id} --task-id 1"' in after
    assert codes(after, "MFK103") == []


def test_a_loop_adding_tags_moves_after_the_subcommand_statement():
    before = POSITIVE["tags added in a loop before the subcommand"]
    (diag,) = lint(before, "MFK103")
    assert diag.fix is not None
    after = fix(before, "MFK103")
    assert after.count("--tag") == 1
    body = after.split("def cmd", 1)[1]
    assert body.index('cmd += ["step", step') < body.index("for tag in tags:")
    assert codes(after, "MFK103") == []
    assert fix(after, "MFK103") == after


def test_init_pair_goes_right_after_init():
    before = """
        def cmd(run_id, tag):
            return ["python", "flow.py", "--tag", tag, "init", "--run-id", run_id, "--task-id", "1"]
    """
    after = fix(before, "MFK103")
    assert '"init", "--tag", tag, "--run-id"' in after
