"""The command line: ``mfkit-lint`` and the ``mfkit`` group (``mfkit lint``, ``mfkit rule``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

import click

from mfkit_lint import __version__
from mfkit_lint.engine.collector import collect_between_files
from mfkit_lint.engine.config import ConfigError, Settings, load_settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import (
    RegistryError,
    RuleInfo,
    Selection,
    all_rules,
    parse_selectors,
    rule_by_code,
    rule_infos,
)
from mfkit_lint.engine.session import STDIN, RunOptions, RunOutcome, Session
from mfkit_lint.engine.workers import default_jobs
from mfkit_lint.report import FORMAT_NAMES, Report, renderer
from mfkit_lint.report.text import render_statistics

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


def _fail(message: str) -> None:
    click.echo(f"mfkit-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _rule_index(settings: Settings, use_cache: bool) -> list[RuleInfo]:
    """The rules' codes: from the cache when it knows this set of rules (a run whose files are
    all cached then never imports a rule), else from the rules themselves."""
    if not use_cache:
        return list(rule_infos())
    from mfkit_lint.engine.cache import Cache

    cache = Cache.for_settings(settings)
    index = cache.rule_index()
    if index is None:
        index = list(rule_infos())
        cache.put_rule_index(index)
    return index


def _selection(
    settings: Settings, select, ignore, extend_select, index: list[RuleInfo]
) -> Selection:
    cli_select = parse_selectors(select)
    if cli_select:
        # As in ruff, --select on the command line starts over: the configuration's
        # select, ignore and extend-select no longer apply.
        selection = Selection(cli_select, parse_selectors(ignore), parse_selectors(extend_select))
    else:
        selection = Selection(
            settings.select,
            settings.ignore + parse_selectors(ignore),
            settings.extend_select + parse_selectors(extend_select),
        )
    known = [r.code for r in index]
    selection.validate(known)
    for pattern, codes in settings.per_file_ignores:
        try:
            Selection((), codes).validate(known)
        except RegistryError as exc:
            raise RegistryError(f"per-file-ignores {pattern!r}: {exc}") from exc
    return selection


def _list_rules() -> str:
    rows = []
    for rule in all_rules():
        fix = rule.fix.applicability.value if rule.fix else "-"
        cap = rule.capability.value if rule.capability else "-"
        rows.append(f"{rule.code}  {rule.name:<30} {fix:<7} {cap:<16} {rule.summary}")
    header = f"{'code':<6}  {'name':<30} {'fix':<7} {'capability':<16} summary"
    return "\n".join([header, *rows]) + "\n"


def _explain(code_or_name: str) -> str:
    """The pitfall page of a rule given by code (MFK101) or by name (hardcoded-retry-count)."""
    from mfkit_lint.engine.docs import pitfall_page

    by_name = {rule.name: rule for rule in all_rules()}
    rule = by_name.get(code_or_name.strip().lower())
    return pitfall_page(rule or rule_by_code(code_or_name))


def _stdin_fixed(outcome: RunOutcome, stdin: bytes, stdin_filename: Optional[str]) -> bytes:
    """What ``--fix -`` prints: the (fixed) buffer in the buffer's own encoding (coding cookie,
    BOM), or the input unchanged when it could not be decoded at all."""
    source = outcome.sources.get(stdin_filename or STDIN)
    if outcome.stdin_output is None or source is None:
        return stdin
    return source.encode(outcome.stdin_output)


@click.command(name="lint", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--fix/--no-fix",
    default=None,
    help="Apply safe fixes (and unsafe ones with --unsafe-fixes); --no-fix overrides --fix.",
)
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply unsafe fixes.")
@click.option(
    "--fix-only",
    is_flag=True,
    help="Apply fixes, but neither report nor fail on the findings that remain (implies --fix).",
)
@click.option(
    "--show-fixes",
    is_flag=True,
    help="List the findings that were fixed, and why the others have no fix.",
)
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="Exit 1 when a file was fixed, even if no findings remain.",
)
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (e.g. MFK1).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to add to the selection.")
@click.option(
    "--format",
    "--output-format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--show-source", is_flag=True, help="Show the source line of each finding.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings and nothing else.")
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply exclude patterns to files named on the command line too (as pre-commit does).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with the settings.",
)
@click.option("--stdin-filename", help="The name to report for source read from '-' (stdin).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the lint cache.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Lint in N processes (default: the number of CPUs; small inputs use one).",
)
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Print a rule's pitfall page and exit.")
@click.version_option(__version__, "--version", prog_name="mfkit-lint")
def lint_command(
    paths: tuple[str, ...],
    fix: Optional[bool],
    unsafe_fixes: Optional[bool],
    fix_only: bool,
    show_fixes: bool,
    exit_non_zero_on_fix: bool,
    diff: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    output_format: str,
    output_file: Optional[str],
    exit_zero: bool,
    statistics: bool,
    show_source: bool,
    quiet: bool,
    force_exclude: bool,
    config_file: Optional[Path],
    stdin_filename: Optional[str],
    no_cache: bool,
    jobs: Optional[int],
    list_rules: bool,
    explain: Optional[str],
) -> None:
    """Find, explain and fix the pitfalls of Metaflow extensions in PATHS (default: .)."""
    global _linting
    _linting = True
    # This process only lints (see engine/collector.py): from here on, loading the rules
    # included, the cycle collector runs between files only.
    collect_between_files()
    # As in ruff: --fix-only implies --fix, and --no-fix wins over both.
    fix = fix is not False and (bool(fix) or fix_only)
    try:
        if list_rules:
            click.echo(_list_rules(), nl=False)
            return
        if explain:
            click.echo(_explain(explain), nl=False)
            return
        if not paths:
            paths = (STDIN,) if stdin_filename else (".",)
        first = next((p for p in paths if p != STDIN), None)
        start = Path(first) if first else Path(stdin_filename or ".").parent
        settings = load_settings(config_file, start if start.exists() else Path.cwd())
        index = _rule_index(settings, use_cache=not no_cache)
        selection = _selection(settings, select, ignore, extend_select, index)
        linter = Linter(settings, selection, index=index)
    except (ConfigError, RegistryError) as exc:
        _fail(str(exc))
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    options = RunOptions(
        fix=fix,
        unsafe_fixes=unsafe,
        diff=diff,
        need_fix_edits=output_format in ("json", "sarif"),
        stdin_filename=stdin_filename,
        cache=not no_cache,
        jobs=jobs or default_jobs(),
        force_exclude=force_exclude,
    )
    stdin = sys.stdin.buffer.read() if STDIN in paths else None
    try:
        outcome = Session(linter, options).run(list(paths), stdin)
    except KeyboardInterrupt:
        # Files already fixed are whole, the file being written is untouched (engine/writer.py).
        click.echo("mfkit-lint: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)

    for error in outcome.errors:
        click.echo(f"mfkit-lint: error: {error}", err=True)
    if diff:
        click.echo("".join(outcome.diffs), nl=False)
        if not quiet:
            # ruff's last line; on stderr when stdout carries a fixed buffer's diff from stdin.
            n = outcome.would_fix
            click.echo(
                f"Would fix {n} error{'s' * (n != 1)}." if n else "No errors would be fixed.",
                err=STDIN in paths,
            )
        sys.exit(
            EXIT_ERROR
            if outcome.errors
            else EXIT_FINDINGS
            if outcome.would_fix and not exit_zero
            else EXIT_CLEAN
        )

    report = Report(
        [] if fix_only else outcome.diagnostics,
        fixed=outcome.fixed,
        fixed_diagnostics=outcome.fixed_diagnostics,
        show_fixes=show_fixes,
        quiet=quiet,
        unsafe_fixes=unsafe,
        show_source=show_source,
        sources=outcome.sources,
        errors=len(outcome.errors),
        files=sorted(set(outcome.sources) | {d.filename for d in outcome.diagnostics}),
    )
    text = render_statistics(report) if statistics else renderer(output_format)(report)
    stdin_fixed = (
        _stdin_fixed(outcome, stdin, stdin_filename) if fix and stdin is not None else None
    )
    if stdin_fixed is not None:
        # Editors piping a buffer get the fixed text on stdout and the report elsewhere.
        sys.stdout.flush()
        sys.stdout.buffer.write(stdin_fixed)
        sys.stdout.buffer.flush()
    if output_file:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output_file}: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False, err=stdin_fixed is not None)
    if outcome.errors:
        sys.exit(EXIT_ERROR)
    if exit_non_zero_on_fix and outcome.fixed:
        sys.exit(EXIT_FINDINGS)
    remaining = outcome.diagnostics and not fix_only
    sys.exit(EXIT_FINDINGS if remaining and not exit_zero else EXIT_CLEAN)


class _LazyGroup(click.Group):
    """A click group whose heavier subcommands are imported only when they are invoked (or
    listed by ``--help``), so ``mfkit lint`` never pays for the scaffold or compliance code."""

    # name -> "module:attribute" of a click command
    lazy_commands: dict[str, str] = {
        "compliance": "mfkit_lint.compliance.cli:compliance",
        "scaffold": "mfkit_lint.scaffold.cli:scaffold",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        import importlib

        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each command's help at 45 characters or at the first "e.g.": show the
        # whole first sentence instead, wrapped.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mfkit")
def main() -> None:
    """mfkit: lint, fix and explain Metaflow orchestrator and compute-backend extensions."""


@main.command(name="rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the pitfall page of a rule, by code or name (MFK101, hardcoded-retry-count)."""
    try:
        click.echo(_explain(code), nl=False)
    except RegistryError as exc:
        _fail(str(exc))


@main.command(name="lsp")
@click.option("--stdio", is_flag=True, help="Speak LSP over stdin/stdout (the default).")
def lsp_command(stdio: bool) -> None:
    """Run the language server for editors (LSP over stdin/stdout)."""
    from mfkit_lint.lsp import INSTALL_HINT, missing_dependencies

    missing = missing_dependencies()
    if missing:
        _fail(f"the language server needs {' and '.join(missing)}: {INSTALL_HINT}")
    from mfkit_lint.lsp.server import serve  # pygls is imported only here

    sys.exit(serve())


main.add_command(lint_command)

# Whether this process ran the lint command (see ``_run``).
_linting = False


def run_lint() -> NoReturn:
    """The ``mfkit-lint`` program."""
    _run(lint_command, "mfkit-lint")


def run_mfkit() -> NoReturn:
    """The ``mfkit`` program."""
    _run(main, "mfkit")


def _run(command: click.Command, name: str) -> NoReturn:
    """Run ``command`` as the program. A lint ends the process at once: its report is
    flushed here and the files it wrote are closed, while tearing down what it built (a
    project's syntax trees and models, a full collection of them) would cost about a sixth
    of a run for nothing. Other commands, in-process callers of ``command.main`` and runs
    under a profiler or coverage exit as usual."""
    try:
        command.main(prog_name=name)
        code: object = EXIT_CLEAN
    except SystemExit as exc:
        code = exc.code
    if not _linting or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # (a profiler or coverage writes its data at the normal exit)
    if code is None:
        code = EXIT_CLEAN
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1  # as sys.exit does with a message
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 120  # what Python exits with when it cannot flush its output
    os._exit(code)
