"""`mfkit compliance orchestrator|backend`: the live runner's command line (a thin adapter)."""

from __future__ import annotations

from typing import Optional

import click

from mfkit_lint.compliance.runner import ComplianceError, Request, run, write_report


class _BadInput(click.ClickException):
    """Bad input or an extension that cannot be tested: exit code 2, like a usage error."""

    exit_code = 2


def _pairs(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> dict[str, str]:
    """k=v,k2=v2 -> dict (values may not contain commas; repeat the option for more)."""
    result: dict[str, str] = {}
    for chunk in value or ():
        for item in chunk.split(","):
            if not item.strip():
                continue
            key, sep, val = item.partition("=")
            if not sep or not key.strip():
                raise click.BadParameter("expected k=v pairs separated by commas, got %r" % item)
            result[key.strip()] = val.strip()
    return result


def _caps(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[list[str]]:
    return None if value is None else [c for c in value.split(",") if c.strip()]


def _common(function):
    options = [
        click.option(
            "--supported-caps",
            callback=_caps,
            metavar="CAP,...",
            help="Capabilities to hold the extension to (default: its SUPPORTED_CAPABILITIES).",
        ),
        click.option("--junit-xml", type=click.Path(dir_okay=False), help="pytest's JUnit XML."),
        click.option(
            "--timeout",
            type=click.FloatRange(5),
            default=300.0,
            show_default=True,
            help="Seconds one test may wait for its run.",
        ),
        click.option("-k", "keyword", metavar="EXPR", help="Only the tests matching (pytest -k)."),
        click.option(
            "--workers",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help="Tests in parallel (needs pytest-xdist).",
        ),
        click.option(
            "--report",
            type=click.Path(dir_okay=False),
            help="Write the matrix to FILE: Markdown, or HTML for .html.",
        ),
        click.option("--title", help="Heading of the matrix and report."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(name="compliance")
def compliance() -> None:
    """Deploy and run real flows through an extension and report a capability matrix."""


def _finish(request: Request, **service) -> None:
    try:
        matrix = run(request, **service)
    except ComplianceError as exc:
        raise _BadInput(str(exc)) from None
    from mfkit_lint.compliance.matrix import text

    click.echo(text(matrix))
    if request.report:
        write_report(matrix, request.report)
    raise SystemExit(0 if matrix.ok else 1)


@compliance.command()
@click.option("--scheduler-type", required=True, help="The orchestrator's Deployer name.")
@click.option(
    "--deploy-args",
    multiple=True,
    callback=_pairs,
    metavar="k=v,...",
    help="Keyword arguments of Deployer(flow).<scheduler>(...).",
)
@click.option(
    "--create-args",
    multiple=True,
    callback=_pairs,
    metavar="k=v,...",
    help="Keyword arguments of .create(...) (e.g. a work pool).",
)
@click.option(
    "--metaflow-src",
    type=click.Path(exists=True, file_okay=False),
    help="A Metaflow source tree: also run its test/ux suite in deployer mode.",
)
@click.option(
    "--test-modules",
    default="basic,config,dag",
    show_default=True,
    help="Modules of Metaflow's test/ux suite to run with --metaflow-src.",
)
@click.option(
    "--service",
    type=click.Choice(["prefect-local"]),
    help="Start a local scheduler for the run and stop it after (by PID).",
)
@_common
def orchestrator(
    scheduler_type: str,
    deploy_args,
    create_args,
    metaflow_src,
    test_modules,
    service,
    supported_caps,
    junit_xml,
    timeout,
    keyword,
    workers,
    report,
    title,
) -> None:
    """Test an orchestrator through metaflow.Deployer(flow).<scheduler-type>(...)."""
    request = Request(
        "orchestrator",
        scheduler_type,
        timeout,
        deploy_args,
        create_args,
        supported_caps,
        junit_xml,
        keyword,
        workers,
        report,
        service=service,
        title=title,
        metaflow_src=metaflow_src,
        test_modules=[m.strip() for m in test_modules.split(",") if m.strip()],
    )
    if not service:
        _finish(request)
    from mfkit_lint.compliance.services import started

    try:
        with started(service) as svc:
            request.create_args = {**svc.create_args, **request.create_args}
            _finish(request, services_env=svc.env, shared_root=svc.shared_root)
    except ComplianceError as exc:
        raise _BadInput(str(exc)) from None


@compliance.command()
@click.option("--backend", required=True, help="The compute backend's step decorator name.")
@click.option("--backend-image", help="Container image for the backend, if it takes one.")
@_common
def backend(
    backend: str, backend_image, supported_caps, junit_xml, timeout, keyword, workers, report, title
) -> None:
    """Test a compute backend: flows run with --with BACKEND."""
    _finish(
        Request(
            "backend",
            backend,
            timeout,
            {},
            {},
            supported_caps,
            junit_xml,
            keyword,
            workers,
            report,
            backend_image=backend_image,
            title=title,
        )
    )
