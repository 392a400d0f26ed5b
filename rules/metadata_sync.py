"""MFK602: task metadata written inside the backend's container is never brought back."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    backend_context,
    backend_decorators,
    header_span,
    is_called,
    module_backend_steps,
)
from mfkit_lint.model.module import ModuleModel

TO_DATASTORE = "sync_local_metadata_to_datastore"
FROM_DATASTORE = "sync_local_metadata_from_datastore"


class MetadataSync(Rule):
    """A backend that never moves local metadata between the container and the submitter.

    With the local metadata provider, the task in the container writes its metadata (the
    attempt number, ``attempt_ok``, log locations, code package, user metadata) to the
    container's own ``.metaflow`` directory, which disappears with the container. Metaflow's
    ``@batch`` and ``@kubernetes`` carry it home in two halves: the decorator's
    ``task_finished`` calls ``sync_local_metadata_to_datastore`` inside the container, and
    the ``<name> step`` command calls ``sync_local_metadata_from_datastore`` on the submitting
    machine after the job. Without them the Client sees the task without its metadata and,
    with no ``attempt`` recorded, reads attempt 0 even after a retry.
    """

    code = "MFK602"
    name = "metadata-sync"
    summary = "local task metadata not synced between the backend's container and the submitter"
    triggers = (b"StepDecorator", b"command")
    no_fix = (
        "both halves need the task's datastore and run in different processes (the task "
        "in the container, the step command on the submitter): call "
        "sync_local_metadata_to_datastore in the container after the task and "
        "sync_local_metadata_from_datastore in the step command after the job ends"
    )

    VALID = (
        Valid("""
        from metaflow._vendor import click
        from metaflow.decorators import StepDecorator
        from metaflow.metadata_provider.util import (
            sync_local_metadata_from_datastore,
            sync_local_metadata_to_datastore,
        )
        from metaflow.metaflow_config import DATASTORE_LOCAL_DIR

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]

            def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
                if self.metadata.TYPE == "local":
                    sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)

        @click.group()
        def cli():
            pass

        @cli.group()
        def mybackend():
            pass

        @mybackend.command()
        @click.argument("step-name")
        @click.pass_context
        def step(ctx, step_name, **kwargs):
            try:
                run_job(step_name)
            finally:
                if ctx.obj.metadata.TYPE == "local":
                    sync_local_metadata_from_datastore(DATASTORE_LOCAL_DIR, task_datastore(ctx))
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow._vendor import click
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]

        @click.group()
        def cli():
            pass

        @cli.group()
        def mybackend():
            pass

        @mybackend.command()
        @click.argument("step-name")
        def step(step_name, **kwargs):
            run_job(step_name)
        """,
            line=5,
            column=1,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if not backend_context(module):
            return
        steps = module_backend_steps(module)
        if steps and not is_called(module, FROM_DATASTORE):
            for step in steps:
                yield Finding(
                    header_span(module, step.function),
                    f"'{step.group} step' never calls {FROM_DATASTORE}: with local metadata "
                    "the task's metadata stays in the container and the Client reads the task "
                    "without it (attempt 0 even after a retry); sync it back after the job",
                )
        decorators = list(backend_decorators(module))
        if not decorators or is_called(module, TO_DATASTORE):
            return
        for node, group in decorators:
            yield Finding(
                header_span(module, node),
                f"the step decorator that runs steps on '{group}' never calls {TO_DATASTORE}: "
                "with local metadata the task's metadata is lost with the container; save it "
                "to the datastore in task_finished when metadata.TYPE == 'local'",
            )
