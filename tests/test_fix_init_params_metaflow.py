"""The MFK203/MFK112 fixes make Metaflow's real ``init`` store the trigger-time parameters
(metaflow 2.19.39, a tiny flow with typed parameters, local datastore and metadata): the fixed
code is run as its extension would run it, and the ``_parameters`` task is read back through
the Client. The unfixed code stores the defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import codes, fix

metaflow = pytest.importorskip("metaflow")

FLOW = """
from metaflow import FlowSpec, JSONType, Parameter, step


class ParamFlow(FlowSpec):
    alpha = Parameter("alpha", default="a0")
    count = Parameter("count", default=1)
    num_items = Parameter("num-items", default=2)
    ratio = Parameter("ratio", default=0.5)
    flag = Parameter("flag", default=False, type=bool)
    cfg = Parameter("cfg", default='{"k": 1}', type=JSONType)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParamFlow()
"""
DEFAULTS = {
    "alpha": "a0",
    "count": 1,
    "num_items": 2,
    "ratio": 0.5,
    "flag": False,
    "cfg": {"k": 1},
}
READ = """
import json, sys
from metaflow import Task, namespace
namespace(None)
task = Task("ParamFlow/%s/_parameters/p-1" % sys.argv[1])
print(json.dumps({k: task[k].data for k in sys.argv[2:]}))
"""


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    (tmp_path / "flow.py").write_text(FLOW)
    return tmp_path


def _env(cwd: Path, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAFLOW_")}
    env.update(USERNAME="dev", METAFLOW_HOME=str(cwd / "home"))
    env.update(extra)
    return env


def _stored(cwd: Path, run_id: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", READ, run_id, *DEFAULTS],
        cwd=cwd,
        env=_env(cwd, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def _init(cwd: Path, run_id: str, env: dict) -> None:
    argv = [sys.executable, "flow.py", "--quiet", "--no-pylint", "init", "--run-id", run_id]
    done = subprocess.run(
        [*argv, "--task-id", "p-1"],
        cwd=cwd,
        env=_env(cwd, env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _namespace(code: str) -> dict:
    namespace: dict = {}
    exec(compile(textwrap.dedent(code), "extension.py", "exec"), namespace)
    return namespace


# What an extension hands init: all parameters as one JSON object (metaflow-prefect's way).
JSON_ENV = """
import json, os
def init_env(parameters):
    init_env = {}
    if parameters:
        init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)
    return init_env
"""
TRIGGERED = {
    "alpha": "x y",
    "num-items": 7,
    "ratio": None,  # not given: init keeps the default
    "flag": True,
    "cfg": {"k": 2, "s": "a b"},
}


def test_the_json_fix_makes_init_store_each_parameter(flow_dir: Path):
    assert codes(JSON_ENV, "MFK203") == ["MFK203"]
    _init(flow_dir, "r-1", _namespace(JSON_ENV)["init_env"](TRIGGERED))
    assert _stored(flow_dir, "r-1") == DEFAULTS  # the bug: every default

    fixed = fix(JSON_ENV, "MFK203", unsafe=True)
    assert codes(fixed, "MFK") == []
    _init(flow_dir, "r-2", _namespace(fixed)["init_env"](TRIGGERED))
    assert _stored(flow_dir, "r-2") == {
        **DEFAULTS,
        "alpha": "x y",
        "num_items": 7,
        "flag": True,
        "cfg": {"k": 2, "s": "a b"},
    }


# Generated lines (the Python an extension writes out for its scheduler), fixed on their line.
GENERATED = """
_INDENT = "    "
def start_lines():
    return [
        "init_env = {}",
        "if parameters:",
        _INDENT + 'init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)',
    ]
def write_start(out):
    out.write("\\n".join(start_lines()))
"""


def test_the_fixed_generated_lines_make_init_store_each_parameter(flow_dir: Path):
    fixed = fix(GENERATED, "MFK203", unsafe=True)
    assert fixed != textwrap.dedent(GENERATED) and codes(fixed, "MFK") == []
    generated = "\n".join(_namespace(fixed)["start_lines"]())
    scope = {"json": json, "parameters": {"count": 5, "alpha": "b"}}
    exec(compile(generated, "generated.py", "exec"), scope)
    _init(flow_dir, "r-3", scope["init_env"])
    assert _stored(flow_dir, "r-3") == {**DEFAULTS, "count": 5, "alpha": "b"}


# A bash script that collects the scheduler's inputs into MF_PARAM_<P> (metaflow-windmill's way).
SHELL = """
def init_script(python, flow_file, params):
    positional = "\\n".join('%s="${%d:-}"' % (p, i) for i, p in enumerate(params, start=1))
    collect = "\\n".join('MF_PARAM_%s="$%s"' % (p.upper(), p) for p in params)
    init_parts = [python, flow_file, "--quiet", "--no-pylint", "init"]
    init_parts += ["--run-id", "$RUN_ID", "--task-id", "p-1"]
    init_cmd = " ".join(init_parts)
    return "#!/bin/bash\\nset -e\\n%s\\n%s\\n%s\\n" % (positional, collect, init_cmd)
"""


def _run_script(cwd: Path, code: str, run_id: str, *values: str) -> None:
    script = _namespace(code)["init_script"](sys.executable, "flow.py", ["alpha", "count"])
    (cwd / "init.sh").write_text(script)
    done = subprocess.run(
        ["bash", "init.sh", *values],
        cwd=cwd,
        env=_env(cwd, {"RUN_ID": run_id}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_the_shell_fix_makes_init_store_each_given_parameter(flow_dir: Path):
    assert codes(SHELL, "MFK112") == ["MFK112"]
    _run_script(flow_dir, SHELL, "r-4", "x", "5")
    assert _stored(flow_dir, "r-4") == DEFAULTS  # the bug

    fixed = fix(SHELL, "MFK112", unsafe=True)
    assert codes(fixed, "MFK") == []
    _run_script(flow_dir, fixed, "r-5", "x", "5")
    assert _stored(flow_dir, "r-5") == {**DEFAULTS, "alpha": "x", "count": 5}
    # An input left empty is not exported: init keeps the default (an empty METAFLOW_INIT_COUNT
    # would fail the run: '' is not a valid integer).
    _run_script(flow_dir, fixed, "r-6", "", "")
    assert _stored(flow_dir, "r-6") == DEFAULTS
