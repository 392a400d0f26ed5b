"""``mfkit scaffold orchestrator|backend NAME [DIR]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from mfkit_lint.scaffold.generator import KINDS, ScaffoldError, plan, write

EXIT_ERROR = 2

_NEXT_STEPS = {
    "orchestrator": (
        "pip install -e {dir}",
        'python -c \'from metaflow import Deployer; d = Deployer("flow.py").{name}().create(); '
        "print(d.trigger().wait_for_completion())'",
    ),
    "backend": ("pip install -e {dir}", "python flow.py run --with {name}"),
}


def _scaffold(kind: str, name: str, directory: Optional[str], force: bool, dry_run: bool) -> None:
    target = Path(directory) if directory else Path(name)
    try:
        files = plan(kind, name, target)
        if dry_run:
            for planned in files:
                click.echo(str(planned.path))
            return
        write(files, target, force)
    except ScaffoldError as exc:
        click.echo(f"mfkit scaffold: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"Created {kind} extension {name!r} in {target} ({len(files)} files). Next:")
    for step in _NEXT_STEPS[kind]:
        click.echo("  " + step.format(dir=target, name=name))


def _command(kind: str, help_text: str) -> click.Command:
    @click.command(name=kind, help=help_text)
    @click.argument("name")
    @click.argument("directory", required=False, metavar="[DIR]")
    @click.option("--force", is_flag=True, help="Write into DIR even if it is not empty.")
    @click.option("--dry-run", is_flag=True, help="List the files that would be written.")
    def command(name: str, directory: Optional[str], force: bool, dry_run: bool) -> None:
        _scaffold(kind, name, directory, force, dry_run)

    return command


@click.group(name="scaffold", context_settings={"help_option_names": ["-h", "--help"]})
def scaffold() -> None:
    """Generate a new Metaflow extension that installs, registers and runs flows."""


_HELP = {
    "orchestrator": "Generate orchestrator NAME (a working local scheduler) in DIR "
    "(default ./NAME).",
    "backend": "Generate compute backend NAME (a working local-subprocess backend) in DIR "
    "(default ./NAME).",
}
for _kind in KINDS:
    scaffold.add_command(_command(_kind, _HELP[_kind]))
