"""MFK107 run-param-option."""

import re
from pathlib import Path

import pytest
from conftest import codes, fix, lint

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pitfalls" / "run-param-option.md"

POSITIVE = {
    "literal pair after init": """
        import sys

        def init_cmd(flow, run_id):
            return [sys.executable, flow, "init", "--run-id", run_id, "--task-id", "p",
                    "--run-param", "alpha=0.5"]
    """,
    "params forwarded in a loop": """
        import sys

        def init_cmd(flow, run_id, params):
            cmd = [sys.executable, flow, "--no-pylint"]
            cmd += ["init", "--run-id", run_id, "--task-id", "params"]
            for k, v in params.items():
                cmd += ["--run-param", "%s=%s" % (k, v)]
            return cmd
    """,
    "--run-param=name=value word": """
        def init_cmd(flow, run_id):
            cmd = ["python", flow, "init", "--run-id", run_id, "--task-id", "p"]
            cmd.append("--run-param=alpha=0.5")
            return cmd
    """,
    "bash template": '''
        INIT = """
        set -e
        python flow.py --no-pylint init --run-id "$RUN_ID" --task-id params --run-param alpha=0.9
        """
    ''',
    "f-string command line": """
        def init_line(flow, run_id, name, value):
            return f"python {flow} init --run-id {run_id} --task-id p --run-param {name}={value}"
    """,
    "on a step command": """
        def step_cmd(flow, run_id, params):
            cmd = ["python", flow, "step", "start", "--run-id", run_id, "--task-id", "1"]
            for p in params:
                cmd += ["--run-param", p]
            return cmd
    """,
}

NEGATIVE = {
    "the extension's own trigger option": """
        import click

        @click.option("--run-param", "run_params", multiple=True)
        def trigger(run_params):
            pass
    """,
    "the extension's own trigger command line": """
        def trigger_cmd(flow, params):
            cmd = ["python", flow, "prefect", "trigger"]
            for p in params:
                cmd += ["--run-param", p]
            return cmd
    """,
    "a comment and a docstring": '''
        def init_cmd(flow, run_id):
            """Never pass `python flow.py init --run-id 1 --task-id p --run-param a=1`."""
            # not via --run-param (a NFLX-only init option)
            return ["python", flow, "init", "--run-id", run_id, "--task-id", "p"]
    ''',
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK107") == ["MFK107"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK107") == []


def test_message_names_the_replacement():
    (literal,) = lint(POSITIVE["literal pair after init"], "MFK107")
    assert "no such option: --run-param" in literal.message
    assert "pass it as --alpha 0.5" in literal.message
    assert literal.fix is not None and literal.fix.applicability.value == "safe"
    (loop,) = lint(POSITIVE["params forwarded in a loop"], "MFK107")
    assert "--<name> value" in loop.message and "METAFLOW_INIT_<NAME>" in loop.message
    assert "METAFLOW_PARAMETER" not in loop.message
    (step,) = lint(POSITIVE["on a step command"], "MFK107")
    assert "'step' takes no flow parameters" in step.message


def test_reported_on_the_option_word():
    (diag,) = lint(POSITIVE["literal pair after init"], "MFK107")
    assert (diag.location.row, diag.location.column) == (6, 13)


def test_fix_rewrites_a_literal_pair():
    after = fix(POSITIVE["literal pair after init"], "MFK107")
    assert '"--task-id", "p",\n            "--alpha", "0.5"]' in after
    assert codes(after, "MFK107") == []
    assert fix(after, "MFK107") == after


def test_fix_keeps_the_quote_style():
    before = """
        def init_cmd(flow, run_id):
            return ['python', flow, 'init', '--run-id', run_id, '--task-id', 'p',
                    '--run-param', 'learning_rate=0.01']
    """
    after = fix(before, "MFK107")
    assert "'--learning_rate', '0.01']" in after


def test_fix_rewrites_an_inline_word():
    after = fix(POSITIVE["--run-param=name=value word"], "MFK107")
    assert 'cmd.append("--alpha=0.5")' in after
    assert fix(after, "MFK107") == after


def test_fix_rewrites_text_in_a_template():
    after = fix(POSITIVE["bash template"], "MFK107")
    assert "--task-id params --alpha 0.9\n" in after
    assert codes(after, "MFK107") == []


def test_no_fix_when_the_value_is_computed_or_misplaced():
    for name in ("params forwarded in a loop", "f-string command line", "on a step command"):
        (diag,) = lint(POSITIVE[name], "MFK107")
        assert diag.fix is None, name
    before = """
        def cmd(flow, run_id):
            return ["python", flow, "--run-param", "a=1", "init", "--run-id", run_id,
                    "--task-id", "p"]
    """
    (diag,) = lint(before, "MFK107")
    assert diag.fix is None


def _blocks(section: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_page_example_is_reported_and_fixed_as_in_use_instead():
    (example,) = _blocks("Example")
    assert codes(example, "MFK107") == ["MFK107", "MFK107"]
    (use_instead,) = _blocks("Use instead")
    assert codes(use_instead, "MFK107") == []
    assert '"--alpha", "0.5"' in fix(example, "MFK107")
