"""MFK606: a backend that launches @parallel multi-node jobs without saying where tasks run."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    env_names_written,
    header_span,
    module_backend_steps,
    names_holding,
    project_models,
)
from mfkit_lint.model.module import ModuleModel

RUNTIME_ENVIRONMENT = "METAFLOW_RUNTIME_ENVIRONMENT"
# The option Metaflow's runtime adds for a @parallel control task; a backend's ``step`` that
# declares it launches the worker nodes itself (AWS Batch multi-node, Kubernetes JobSets).
NUM_PARALLEL = "--num-parallel"


class RuntimeEnvironmentUnset(Rule):
    """A backend launches ``@parallel`` nodes itself but never sets
    ``METAFLOW_RUNTIME_ENVIRONMENT`` in the job environment.

    Inside a task, Metaflow's ``@parallel`` reads ``METAFLOW_RUNTIME_ENVIRONMENT`` (default
    ``local``): when it is ``local``, the control task starts every worker node itself, as
    local subprocesses, the way a laptop run emulates a cluster, and ``@secrets`` skips those
    workers. A backend that launches the worker nodes as separate jobs (its ``step`` takes
    ``--num-parallel``) must set the variable, as ``@batch`` (``aws-batch``) and
    ``@kubernetes`` (``kubernetes``) do; otherwise each node runs twice. In Metaflow 2.19.39
    nothing else reads the variable, so a backend without multi-node support is right to leave
    it unset (and is not reported).
    """

    code = "MFK606"
    name = "runtime-environment-unset"
    summary = "backend launching @parallel nodes without METAFLOW_RUNTIME_ENVIRONMENT in the job"
    triggers = (NUM_PARALLEL.encode(),)

    VALID = (
        Valid("""
        from metaflow._vendor import click

        @click.group()
        def cli():
            pass

        @cli.group()
        def mybackend():
            pass

        @mybackend.command()
        @click.argument("step-name")
        @click.option("--num-parallel", default=0, type=int)
        def step(step_name, num_parallel, **kwargs):
            env = {"METAFLOW_RUNTIME_ENVIRONMENT": "mybackend", "METAFLOW_CODE_URL": url()}
            launch(step_name, nodes=num_parallel, env=env)
        """),
        Valid("""
        from metaflow._vendor import click

        @click.group()
        def cli():
            pass

        @cli.group()
        def mybackend():
            pass

        @mybackend.command()
        @click.argument("step-name")
        @click.option("--run-id")
        def step(step_name, **kwargs):
            launch(step_name, env={"METAFLOW_CODE_URL": url()})
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow._vendor import click

        @click.group()
        def cli():
            pass

        @cli.group()
        def mybackend():
            pass

        @mybackend.command()
        @click.argument("step-name")
        @click.option("--num-parallel", default=0, type=int)
        def step(step_name, num_parallel, **kwargs):
            launch(step_name, nodes=num_parallel, env={"METAFLOW_CODE_URL": url()})
        """,
            line=15,
            column=1,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        steps = [s for s in module_backend_steps(module) if NUM_PARALLEL in s.options]
        if not steps:
            return
        for other in project_models(module, RUNTIME_ENVIRONMENT):
            if env_names_written(other, {RUNTIME_ENVIRONMENT}):
                return
            if names_holding(other, RUNTIME_ENVIRONMENT):
                return  # the name is kept in a constant: where it is written cannot be told
        for step in steps:
            yield Finding(
                header_span(module, step.function),
                f"'{step.group} step' launches @parallel nodes ({NUM_PARALLEL}) but nothing "
                f"sets {RUNTIME_ENVIRONMENT} in the job: the control task takes the run for a "
                "local one and starts every worker node again as its own subprocess; set "
                f"{RUNTIME_ENVIRONMENT} to the backend's name in the job environment",
            )
