"""Metaflow facts the backend rules rest on, measured on the installed metaflow (2.19.39).

The backend kit's credentials-import-time page says credentials read in ``step_init`` may be
stale because decorators such as ``@environment`` mutate ``os.environ`` before it runs, and
that capturing them at import time is the fix. This runs a tiny flow with a test backend
decorator that records both readings in every process: they agree unless the flow file
itself changes the variable, and then the import-time capture is the stale one. That is why
there is no MFK601 rule (docs/pitfalls/README.md, backend kit section).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("metaflow")

DECORATOR = """
import json
import os

from metaflow.decorators import StepDecorator

_INITIAL = os.environ.get("MY_TOKEN")  # captured at import, as the kit recommends


def _record(where):
    with open(os.environ["REPRO_LOG"], "a") as f:
        f.write(json.dumps({"pid": os.getpid(), "where": where, "import_time": _INITIAL,
                            "now": os.environ.get("MY_TOKEN")}) + "\\n")


class ReproDecorator(StepDecorator):
    name = "repro"

    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        _record("step_init")

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        _record("runtime_step_cli")

    def task_pre_step(self, *args, **kwargs):
        _record("task_pre_step")
"""

FLOW = """
import os
from metaflow import FlowSpec, step, environment, repro

if os.environ.get("REPRO_FLOW_SETS"):
    os.environ["MY_TOKEN"] = "set-by-flow-file"


class ReproFlow(FlowSpec):
    @repro
    @environment(vars={"MY_TOKEN": "from-environment-decorator"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReproFlow()
"""


def _run(tmp_path: Path, **extra: str) -> list[dict]:
    plugins = tmp_path / "ext" / "metaflow_extensions" / "repro" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "mfextinit_repro.py").write_text(
        'STEP_DECORATORS_DESC = [("repro", ".repro_deco.ReproDecorator")]\n'
    )
    (plugins / "repro_deco.py").write_text(textwrap.dedent(DECORATOR))
    (tmp_path / "flow.py").write_text(textwrap.dedent(FLOW))
    log = tmp_path / f"log-{len(extra)}.jsonl"
    env = dict(
        os.environ,
        USERNAME="dev",
        METAFLOW_HOME=str(tmp_path / "home"),
        METAFLOW_DEFAULT_DATASTORE="local",
        METAFLOW_DEFAULT_METADATA="local",
        PYTHONPATH=str(tmp_path / "ext"),
        MY_TOKEN="outer",
        REPRO_LOG=str(log),
        **extra,
    )
    subprocess.run(
        [sys.executable, "flow.py", "--no-pylint", "run"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_import_time_capture_and_step_init_agree_in_every_process(tmp_path):
    records = _run(tmp_path)
    where = {r["where"] for r in records}
    assert {"step_init", "runtime_step_cli", "task_pre_step"} <= where
    # @environment never touches the submitting process: both readings are the user's value
    runtime_pids = {r["pid"] for r in records if r["where"] == "runtime_step_cli"}
    for record in records:
        assert record["import_time"] == record["now"]
        if record["pid"] in runtime_pids:
            assert record["now"] == "outer"
    # ... and the task process gets @environment's value at import already
    task = next(r for r in records if r["where"] == "task_pre_step")
    assert task["import_time"] == "from-environment-decorator"


def test_import_time_capture_is_the_stale_one_when_the_flow_file_sets_it(tmp_path):
    records = _run(tmp_path, REPRO_FLOW_SETS="1")
    submitter = next(r for r in records if r["where"] == "runtime_step_cli")
    assert submitter == {**submitter, "import_time": "outer", "now": "set-by-flow-file"}


def test_the_options_the_runtime_passes_to_step_commands_match_the_contract(monkeypatch):
    from types import SimpleNamespace

    from metaflow.runtime import CLIArgs

    from mfkit_lint.contract import cli as contract
    from mfkit_lint.contract.runtime import RUNTIME_STEP_OPTIONS

    task = SimpleNamespace(
        step="start",
        run_id="r1",
        task_id="t1",
        input_paths=[],
        split_index=None,
        retries=0,
        user_code_retries=0,
        tags=[],
        ubf_context=None,
    )
    args = SimpleNamespace(task=task)
    monkeypatch.setenv("USERNAME", "dev")  # the runtime asks for the current namespace
    CLIArgs.default_args(args)
    passed = tuple(f"--{name}" for name in args.command_options)
    assert passed == RUNTIME_STEP_OPTIONS
    # every one of them is an option of the core `step` in the snapshot
    assert set(passed) <= set(contract.SUBCOMMAND_OPTIONS["step"])
