"""The shipped CLI snapshot agrees with the installed metaflow; the facts rules rely on hold."""

import pytest

from mfkit_lint.contract import cli as contract

generate = pytest.importorskip("mfkit_lint.contract.generate")
pytest.importorskip("metaflow")


def test_snapshot_matches_the_installed_metaflow(monkeypatch):
    monkeypatch.setenv("USERNAME", "mfkit-test")
    assert generate.render(generate.snapshot()) == generate.SNAPSHOT.read_text(encoding="utf-8")


def test_tag_belongs_to_the_subcommands_not_the_top_level():
    assert "--tag" not in contract.TOP_LEVEL_OPTIONS
    for name in ("step", "init", "run", "resume"):
        assert "--tag" in contract.SUBCOMMAND_OPTIONS[name]


def test_branch_is_a_top_level_option_added_by_project():
    branch = contract.FLOW_DECORATOR_OPTIONS["--branch"]
    assert branch.decorator == "project" and branch.envvar == "METAFLOW_FLOW_BRANCH"
    assert "--branch" not in contract.SUBCOMMAND_OPTIONS["step"]
    assert contract.FLOW_DECORATOR_OPTIONS["--production"].flag


def test_init_requires_run_and_task_ids_and_has_no_run_param():
    init = contract.SUBCOMMAND_OPTIONS["init"]
    assert init["--run-id"].required and init["--task-id"].required
    assert "--run-param" not in init


def test_parameters_reach_init_as_options_with_init_env_vars():
    (alpha,) = contract.INIT_PARAMETER_EXAMPLE.values()
    assert alpha.name == "--alpha" and alpha.envvar == "METAFLOW_INIT_ALPHA"


def test_config_options_take_two_values():
    assert contract.NARGS["--config"] == contract.NARGS["--config-value"] == 2
    assert contract.CONFIG_OPTIONS["--config-value"].envvar == "METAFLOW_FLOW_CONFIG_VALUE"


def test_core_commands_that_only_read_are_described_but_not_checked_as_invocations():
    # 'dump' reads artifacts; extensions build it with the same top-level words as step/init.
    dump = contract.COMMAND_OPTIONS["dump"]
    assert set(dump) == {"--private", "--no-private", "--max-value-size", "--include", "--file"}
    assert contract.COMMAND_ARGUMENTS["dump"] == ("input_path",)
    assert "--namespace" not in dump and "--namespace" not in contract.TOP_LEVEL_OPTIONS
    assert {"show", "check", "version", "spin", "spin-step"} <= contract.COMMANDS
    assert {"step", "init", "run", "resume"} == contract.SUBCOMMANDS
    assert {"--private", "--no-private"} <= contract.FLAGS
