"""contract/cli.py agrees with the installed metaflow's click objects."""

import pytest

from mfkit_lint.contract import cli as contract

click = pytest.importorskip("metaflow._vendor.click")


@pytest.fixture(scope="module")
def metaflow_cli():
    from metaflow.cli import start

    return start, click.Context(start)


def _options(command) -> dict[str, bool]:
    """Every option spelling of a click command -> whether it is a flag."""
    out = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                out[name] = param.is_flag
    return out


def test_top_level_options(metaflow_cli):
    start, _ = metaflow_cli
    options = _options(start)
    # --branch/--production (from @project) and --config/--config-value (from configs) exist
    # only for flows that use them, so they are not on the bare command group.
    conditional = {"--branch", "--production", "--config", "--config-value"}
    assert set(options) == contract.TOP_LEVEL_OPTIONS - conditional
    assert {o for o, flag in options.items() if flag} <= contract.FLAGS


@pytest.mark.parametrize("name", sorted(contract.SUBCOMMAND_OPTIONS))
def test_subcommand_options(metaflow_cli, name):
    start, ctx = metaflow_cli
    options = _options(start.get_command(ctx, name))
    assert set(options) == contract.SUBCOMMAND_OPTIONS[name]
    assert not any(options.values())  # all of them take a value


def test_subcommands_exist(metaflow_cli):
    start, ctx = metaflow_cli
    for name in contract.SUBCOMMANDS:
        assert start.get_command(ctx, name) is not None


def test_tag_is_not_top_level(metaflow_cli):
    start, _ = metaflow_cli
    assert "--tag" not in _options(start)
