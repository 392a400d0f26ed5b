"""MFK111 config-param-to-init."""

import pytest
from conftest import codes, lint

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
