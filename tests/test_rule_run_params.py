"""MFK301 run-params-tuple."""

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "dict literal value": """
        def kwargs_for(params):
            return {"run_params": tuple(params), "deployer_attribute_file": "x"}
    """,
    "tuple() of a generator, passed as a keyword": """
        class MyDeployedFlow:
            def run(self, **kwargs):
                run_params = tuple(f"{k}={v}" for k, v in kwargs.items())
                return self.trigger(run_params=run_params)
    """,
    "stored in the trigger kwargs dict": """
        def trigger(deployed, **kwargs):
            trigger_kwargs = {}
            run_params = tuple("%s=%s" % (k, v) for k, v in kwargs.items())
            trigger_kwargs["run_params"] = run_params
            return deployed.command(**trigger_kwargs)
    """,
    "tuple literal inline": """
        def go(cmd, a, b):
            return cmd.trigger(run_params=(a, b))
    """,
    "click multiple option handed on unconverted": """
        import click
        @click.command()
        @click.option("--run-param", "run_params", multiple=True)
        def trigger(run_params):
            start(run_params=run_params)
    """,
    "empty tuple literal (Metaflow rejects it too)": """
        def go(d):
            return d.trigger(run_params=())
    """,
}

NEGATIVE = {
    "converted with list()": """
        import click
        @click.command()
        @click.option("--run-param", "run_params", multiple=True)
        def trigger(run_params):
            run_params = list(run_params) if run_params else []
            start(run_params=run_params)
    """,
    "click tuple only iterated": """
        import click
        @click.command()
        @click.option("--run-param", "run_params", multiple=True)
        def trigger(run_params):
            params = dict(p.split("=", 1) for p in run_params)
            start(params=params)
    """,
    "a plain parameter of unknown type": """
        def trigger(self, run_params=None):
            return self._api.trigger(run_params=run_params)
    """,
    "an empty tuple as a parameter default, converted": """
        def trigger(deployer, run_params=()):
            return deployer.trigger(run_params=list(run_params))
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK301") == ["MFK301"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK301") == []


def test_message_says_why_it_is_a_tuple():
    (diag,) = lint(POSITIVE["click multiple option handed on unconverted"], "MFK301")
    assert "click returns multiple=True options as tuples" in diag.message
    assert diag.fix is not None and diag.fix.applicability.value == "safe"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "tuple() of a generator, passed as a keyword",
            "self.trigger(run_params=list(run_params))",
        ),
        ("stored in the trigger kwargs dict", 'trigger_kwargs["run_params"] = list(run_params)'),
        ("tuple literal inline", "cmd.trigger(run_params=[a, b])"),
        ("click multiple option handed on unconverted", "start(run_params=list(run_params))"),
        ("dict literal value", '{"run_params": list(params),'),
    ],
)
def test_fix_makes_a_list(name, expected):
    after = fix(POSITIVE[name], "MFK301")
    assert expected in after
    assert codes(after, "MFK301") == []
    assert fix(after, "MFK301") == after
