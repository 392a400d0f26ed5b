"""Write ``metaflow_cli.json``: the flow command line of the installed metaflow, as data.

    python -m mfkit_lint.contract.generate            # rewrite the shipped snapshot
    python -m mfkit_lint.contract.generate --check    # exit 1 when it has drifted

This is the only module that imports metaflow; linting reads the JSON it writes. Options that
exist only for some flows are produced by Metaflow's own code, run against a small flow that
has ``@project``, a ``Config`` and a ``Parameter``: flow decorators add top-level options
(``--branch``/``--production``), configs add ``--config``/``--config-value``, and parameters add
``--<name>`` to ``init`` and ``run``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("metaflow_cli.json")
PREFIX = "METAFLOW"
# Modules whose commands are Metaflow's core flow commands (plugins add groups: ``batch``,
# ``kubernetes``, ``tag``, ``logs``, ``card``..., and extensions their own).
_CORE_MODULES = ("metaflow.cli", "metaflow.cli_components.")


def _option(param: Any, envvar_prefix: str) -> dict[str, Any]:
    envvar = param.envvar if isinstance(param.envvar, str) else None
    return {
        "flag": bool(param.is_flag),
        "nargs": param.nargs,
        "multiple": bool(param.multiple),
        "required": bool(param.required),
        "dest": param.name,
        # click's auto_envvar_prefix: METAFLOW_<DEST> at the top, METAFLOW_<CMD>_<DEST> below.
        "envvar": envvar or f"{envvar_prefix}_{param.name.upper()}",
    }


def _options(command: Any, envvar_prefix: str, click: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                info = _option(param, envvar_prefix)
                if name in param.secondary_opts:
                    info["flag"] = True
                out[name] = info
    return out


def _arguments(command: Any, click: Any) -> list[str]:
    return [p.name for p in command.params if isinstance(p, click.Argument)]


def _core_commands(start: Any, ctx: Any, click: Any) -> dict[str, Any]:
    """Every plain command of the flow command group that Metaflow's core defines: ``step``,
    ``init``, ``run``, ``resume``, and the ones that only read or show (``dump``, ``show``...),
    which extensions also build with the same top-level words."""
    out = {}
    for name in start.list_commands(ctx):
        command = start.get_command(ctx, name)
        module = getattr(command.callback, "__module__", "") or ""
        if isinstance(command, click.Group) or not (
            module == _CORE_MODULES[0] or module.startswith(_CORE_MODULES[1])
        ):
            continue
        out[name] = command
    return out


def _sample_flow() -> Any:
    from metaflow import Config, FlowSpec, Parameter, project, step

    @project(name="sample")
    class SampleFlow(FlowSpec):
        alpha = Parameter("alpha", default=1)
        cfg = Config("cfg", default_value={})

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    return SampleFlow


def snapshot() -> dict[str, Any]:
    import metaflow
    from metaflow import parameters
    from metaflow._vendor import click
    from metaflow.cli import start
    from metaflow.decorators import add_decorator_options
    from metaflow.parameters import current_flow
    from metaflow.plugins import FLOW_DECORATORS
    from metaflow.user_configs.config_options import config_options

    ctx = click.Context(start)
    subcommands = {}
    for name, command in _core_commands(start, ctx, click).items():
        subcommands[name] = {
            "arguments": _arguments(command, click),
            "options": _options(command, f"{PREFIX}_{name.upper()}", click),
        }

    # Metaflow adds flow-specific options while it builds the command for a flow: run the same
    # functions against the sample flow, on fresh commands.
    saved = getattr(current_flow, "flow_cls", None)
    current_flow.flow_cls = _sample_flow()
    try:
        decorated = add_decorator_options(click.Command("start", params=[]))
        configured = config_options(click.Command("start", params=[]))
        with_parameters = parameters.add_custom_parameters(deploy_mode=False)(
            click.Command("init", params=[])
        )
    finally:
        current_flow.flow_cls = saved

    owners = {f"--{option}": deco.name for deco in FLOW_DECORATORS for option in deco.options}
    flow_options = _options(decorated, PREFIX, click)
    for name, info in flow_options.items():
        info["decorator"] = owners.get(name)
    return {
        "metaflow_version": getattr(metaflow, "__version__", ""),
        "auto_envvar_prefix": PREFIX,
        "top_level": _options(start, PREFIX, click),
        # Top-level options that exist only when the flow has the decorator (the sample flow has
        # @project); the names of every flow decorator's options, by decorator.
        "flow_decorator_options": flow_options,
        "flow_decorator_option_owners": owners,
        "config_options": _options(configured, PREFIX, click),
        "subcommands": subcommands,
        # What a flow Parameter named "alpha" adds to init (the same pattern for every name).
        "init_parameter_example": _options(with_parameters, f"{PREFIX}_INIT", click),
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    args = parser.parse_args(argv)
    text = render(snapshot())
    if args.check:
        if SNAPSHOT.read_text(encoding="utf-8") != text:
            print(f"{SNAPSHOT} differs from the installed metaflow; regenerate it", file=sys.stderr)
            return 1
        return 0
    SNAPSHOT.write_text(text, encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
