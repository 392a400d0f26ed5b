"""The shape of Metaflow's flow command line (``python flow.py [TOP OPTIONS] SUBCOMMAND ...``).

Read from ``metaflow_cli.json``, the snapshot ``python -m mfkit_lint.contract.generate`` takes
of the installed metaflow's click objects (``tests/test_contract.py`` fails when it drifts).
"""

from __future__ import annotations

import json
import pkgutil
from dataclasses import dataclass
from typing import Any, Optional

# (read through the package's loader, as importlib.resources would, without importing
# importlib.resources and zipfile: every lint loads this module)
_DATA: dict[str, Any] = json.loads(
    pkgutil.get_data("mfkit_lint.contract", "metaflow_cli.json") or b""
)

METAFLOW_VERSION: str = _DATA["metaflow_version"]


@dataclass(frozen=True)
class OptionSpec:
    name: str
    flag: bool
    nargs: int
    multiple: bool
    required: bool
    envvar: str
    decorator: Optional[str] = None  # the flow decorator that adds it (e.g. "project")

    @classmethod
    def from_data(cls, name: str, data: dict[str, Any]) -> OptionSpec:
        return cls(
            name,
            data["flag"],
            data["nargs"],
            data["multiple"],
            data["required"],
            data["envvar"],
            data.get("decorator"),
        )


def _specs(table: dict[str, Any]) -> dict[str, OptionSpec]:
    return {name: OptionSpec.from_data(name, data) for name, data in table.items()}


# Options before the subcommand: the command group's own, plus those that exist only for
# flows using them (@project's --branch/--production, configs' --config/--config-value).
ALWAYS_TOP_LEVEL: dict[str, OptionSpec] = _specs(_DATA["top_level"])
FLOW_DECORATOR_OPTIONS: dict[str, OptionSpec] = _specs(_DATA["flow_decorator_options"])
CONFIG_OPTIONS: dict[str, OptionSpec] = _specs(_DATA["config_options"])
TOP_LEVEL: dict[str, OptionSpec] = {**ALWAYS_TOP_LEVEL, **FLOW_DECORATOR_OPTIONS, **CONFIG_OPTIONS}
# Every flow decorator's top-level option name, with the decorator that adds it.
DECORATOR_OPTION_OWNERS: dict[str, str] = dict(_DATA["flow_decorator_option_owners"])

# Every core command of the flow command group (``step``, ``init``, ``run``, ``dump``, ``show``,
# ...), with its options and arguments: what a command an extension builds accepts.
COMMAND_OPTIONS: dict[str, dict[str, OptionSpec]] = {
    name: _specs(data["options"]) for name, data in _DATA["subcommands"].items()
}
COMMAND_ARGUMENTS: dict[str, tuple[str, ...]] = {
    name: tuple(data["arguments"]) for name, data in _DATA["subcommands"].items()
}
COMMANDS = frozenset(COMMAND_OPTIONS)
# The subcommands that run the flow's code, whose invocations the command model recognizes and
# the rules check; the other commands only read or show what a run left (``dump``, ``show``).
SUBCOMMANDS = frozenset({"step", "init", "run", "resume"}) & COMMANDS
SUBCOMMAND_OPTIONS: dict[str, dict[str, OptionSpec]] = {
    name: COMMAND_OPTIONS[name] for name in SUBCOMMANDS
}
SUBCOMMAND_ARGUMENTS: dict[str, tuple[str, ...]] = {
    name: COMMAND_ARGUMENTS[name] for name in SUBCOMMANDS
}
# Subcommands that also take one option per flow Parameter (``init --alpha 0.5``), whose
# environment variable is METAFLOW_INIT_<NAME>.
INIT_PARAMETER_EXAMPLE: dict[str, OptionSpec] = _specs(_DATA["init_parameter_example"])

TOP_LEVEL_OPTIONS = frozenset(TOP_LEVEL) | frozenset(DECORATOR_OPTION_OWNERS)
FLAGS = frozenset(
    name
    for table in (TOP_LEVEL, *COMMAND_OPTIONS.values())
    for name, spec in table.items()
    if spec.flag
)
# How many values an option takes (``--config NAME PATH`` takes two).
NARGS: dict[str, int] = {
    name: spec.nargs
    for table in (TOP_LEVEL, *COMMAND_OPTIONS.values())
    for name, spec in table.items()
    if not spec.flag
}

# Subcommands whose first argument is a name (``step NAME``).
SUBCOMMANDS_WITH_ARGUMENT = frozenset(
    n for n, args in SUBCOMMAND_ARGUMENTS.items() if args and n == "step"
)

# Options that make a ``step``/``init`` command line recognisable as a Metaflow task
# invocation: a command that names the subcommand and one of these is one.
TASK_OPTIONS = frozenset({"--run-id", "--task-id", "--input-paths", "--retry-count"})


def subcommand_option(subcommand: str, name: str) -> Optional[OptionSpec]:
    return SUBCOMMAND_OPTIONS.get(subcommand, {}).get(name)
