"""MFK111 config-param-to-init."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "direct loop appending --name value to the init list": """
        import sys
        def init_command(flow, flow_file, run_id, values):
            cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "params"]
            for _, param in flow._get_parameters():
                cmd += ["--%s" % param.name, str(values.get(param.name, ""))]
            return cmd
    """,
    "comprehension of f-string options": """
        import sys
        def init_command(flow, flow_file, run_id):
            args = [
                a
                for _, p in flow._get_parameters()
                for a in (f"--{p.name}", str(p.kwargs.get("default")))
            ]
            return [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "0"] + args
    """,
    "attribute filled at construction, options built later": """
        import sys
        class Scheduler:
            def __init__(self, flow):
                self.flow = flow
                self.parameters = self._process_parameters()

            def _process_parameters(self):
                out = {}
                for var, param in self.flow._get_parameters():
                    out[param.name] = param.kwargs.get("default")
                return out

            def init_cmd(self, run_id):
                cmd = [sys.executable, "flow.py", "init", "--run-id", run_id, "--task-id", "p"]
                for name, default in self.parameters.items():
                    flag = "--" + name.replace("_", "-")
                    cmd.extend([flag, str(default)])
                return cmd
    """,
    "generated init lines built per parameter (flyte-like, unfiltered)": """
        def extract_parameters(flow):
            return [p for _, p in flow._get_parameters()]

        def start_init_lines(flow):
            lines = ["_init_cmd = [sys.executable, FLOW_FILE, 'init', '--run-id', run_id, '--task-id', 'p']"]
            for p in extract_parameters(flow):
                lines.append(f'_init_cmd += ["--{p.name}", str(_param_{p.name})]')
            return lines
    """,
}

NEGATIVE = {
    "isinstance(p, Config) filter in the collector": """
        import sys
        from metaflow.parameters import Config
        def params_of(flow):
            return [p for _, p in flow._get_parameters() if not isinstance(p, Config)]
        def init_command(flow, run_id):
            cmd = [sys.executable, "flow.py", "init", "--run-id", run_id, "--task-id", "p"]
            for p in params_of(flow):
                cmd += ["--" + p.name, str(p.kwargs.get("default"))]
            return cmd
    """,
    "METAFLOW_INIT_<NAME> for each (init ignores unknown ones)": """
        import os, sys
        def init_env(flow, values):
            env = dict(os.environ)
            for _, param in flow._get_parameters():
                env["METAFLOW_INIT_%s" % param.name.upper()] = str(values[param.name])
            cmd = [sys.executable, "flow.py", "init", "--run-id", "r", "--task-id", "p"]
            return cmd, env
    """,
    "options for the scheduler's own CLI, no Metaflow init here": """
        def deployment_args(flow):
            args = []
            for _, param in flow._get_parameters():
                args += ["--param", "%s=%s" % (param.name, param.kwargs.get("default"))]
            return args
    """,
    "run-time parameters typed by the user, not the flow's": """
        import sys
        def init_command(flow_file, run_id, run_params):
            cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
            for k, v in dict(p.split("=", 1) for p in run_params).items():
                cmd += ["--%s" % k, v]
            return cmd
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK111") == ["MFK111"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK111") == []


def test_points_at_the_option_and_quotes_the_error():
    (diag,) = lint(POSITIVE["direct loop appending --name value to the init list"], "MFK111")
    assert (diag.location.row, diag.location.column) == (6, 18)
    assert "no such option: --<config>" in diag.message
    assert "IS_CONFIG_PARAMETER" in diag.message


# -- fix ---------------------------------------------------------------------------------------
FIXED = {
    "direct loop appending --name value to the init list": (
        "    for _, param in flow._get_parameters():\n",
        "    for _, param in flow._get_parameters():\n"
        '        if getattr(param, "IS_CONFIG_PARAMETER", False):\n'
        "            continue\n",
    ),
    "comprehension of f-string options": (
        "        for _, p in flow._get_parameters()\n",
        '        for _, p in flow._get_parameters() if not getattr(p, "IS_CONFIG_PARAMETER", False)\n',
    ),
    "attribute filled at construction, options built later": (
        "        for var, param in self.flow._get_parameters():\n",
        "        for var, param in self.flow._get_parameters():\n"
        '            if getattr(param, "IS_CONFIG_PARAMETER", False):\n'
        "                continue\n",
    ),
}


@pytest.mark.parametrize("name", FIXED)
def test_fix_skips_configs_where_the_parameters_are_collected(name):
    code = textwrap.dedent(POSITIVE[name])
    old, new = FIXED[name]
    assert old in code
    fixed = fix(code, "MFK111", unsafe=True)
    assert fixed == code.replace(old, new)
    assert codes(fixed, "MFK111") == []
    assert fix(fixed, "MFK111", unsafe=True) == fixed
    assert fix(code, "MFK111") == code  # unsafe: --fix alone leaves it


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            """
            import sys
            def init_command(flow, flow_file, run_id):
                params = list(flow._get_parameters())
                cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
                for _, param in params:
                    cmd += ["--%s" % param.name, str(param.kwargs.get("default"))]
                return cmd
            """,
            id="collection kept in a list first",
        ),
        pytest.param(
            """
            import sys
            def init_command(flow, flow_file, run_id):
                cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
                for item in flow._get_parameters():
                    cmd += ["--%s" % item[1].name, str(item[1].kwargs.get("default"))]
                return cmd
            """,
            id="the pair is not unpacked",
        ),
    ],
)
def test_no_fix_when_the_loop_over_the_parameters_is_not_plain(code):
    (diag,) = lint(code, "MFK111")
    assert diag.fix is None and "IS_CONFIG_PARAMETER" in diag.no_fix_reason
    assert fix(code, "MFK111", unsafe=True) == textwrap.dedent(code)


def test_fixed_init_command_runs_in_metaflow_for_a_flow_with_a_config(tmp_path):
    """Metaflow 2.19.39, a tiny flow with a Parameter and a Config: the original builder's
    init stops with 'no such option: --cfg'; the fixed one's init stores the parameter."""
    pytest.importorskip("metaflow")
    (tmp_path / "cfgflow.py").write_text(
        textwrap.dedent("""
            from metaflow import Config, FlowSpec, Parameter, step
            class CfgFlow(FlowSpec):
                alpha = Parameter("alpha", default=1)
                cfg = Config("cfg", default_value={"a": 1})
                @step
                def start(self):
                    self.next(self.end)
                @step
                def end(self):
                    pass
            if __name__ == "__main__":
                CfgFlow()
        """)
    )
    builder = textwrap.dedent(POSITIVE["direct loop appending --name value to the init list"])
    probe = textwrap.dedent("""
        import subprocess
        from cfgflow import CfgFlow
        cmd = init_command(CfgFlow, "cfgflow.py", "1", {"alpha": "5"})
        cmd[2:2] = ["--quiet", "--no-pylint", "--datastore", "local", "--metadata", "local"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        print(run.returncode, " ".join(cmd[9:]), (run.stderr.strip().splitlines() or [""])[-1])
    """)
    outputs = []
    for source in (builder, fix(builder, "MFK111", unsafe=True)):
        (tmp_path / "probe.py").write_text(source + probe)
        run = subprocess.run(
            [sys.executable, "probe.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "USERNAME": "dev",
                "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(tmp_path),
            },
            timeout=300,
        )
        outputs.append(run.stdout.strip() or run.stderr)
    before, after = outputs
    assert before.startswith("2 ") and "--cfg" in before and "no such option" in before
    assert after.startswith("0 ") and "--alpha 5" in after and "--cfg" not in after
