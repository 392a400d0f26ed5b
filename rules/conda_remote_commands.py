"""MFK605: a backend's step decorator that lets @conda/@pypi resolve for the submitter."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    backend_decorators,
    class_attribute,
    decorator_name,
    header_span,
)
from mfkit_lint.model.module import ModuleModel

SUPPORTS_CONDA = "supports_conda_environment"
# Decorator names Metaflow 2.19.39's conda environment treats as remote without the attribute
# (plugins/pypi/conda_environment.py, "for backward compatibility").
BUILT_IN_REMOTE = frozenset(
    {"batch", "kubernetes", "nvidia", "snowpark", "slurm", "nvct", "skypilot_step"}
)


class CondaRemoteCommands(Rule):
    """A step decorator that runs steps on a backend without ``supports_conda_environment``.

    Metaflow resolves a ``@conda``/``@pypi`` step's environment for
    ``conda_platform()``, the submitting machine's platform, unless one of the step's
    decorators has ``supports_conda_environment = True`` (or is one of the built-in remote
    decorators): then it resolves for that decorator's ``target_platform`` (``linux-64`` by
    default). A backend's decorator without the attribute makes a flow submitted from a Mac
    resolve ``osx-arm64`` packages for a Linux container, where the environment cannot be
    bootstrapped.
    """

    code = "MFK605"
    name = "conda-remote-commands"
    summary = "backend step decorator without supports_conda_environment"
    capability = Cap.CONDA
    triggers = (b"runtime_step_cli",)
    no_fix = (
        "supports_conda_environment = True makes @conda/@pypi resolve for the "
        "decorator's target_platform (linux-64 unless it sets one); it is right only if "
        "the backend's machines are that platform and its job runs the environment's "
        "bootstrap_commands before the step, facts about the backend the code does not "
        "show"
    )

    VALID = (
        Valid("""
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            supports_conda_environment = True
            target_platform = "linux-64"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
        """),
        Valid("""
        from metaflow.decorators import StepDecorator

        class LocalTweaks(StepDecorator):
            name = "tweaks"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.env["TWEAKED"] = "1"
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                if retry_count <= max_user_code_retries:
                    cli_args.commands = ["mybackend", "step"]
        """,
            line=4,
            column=1,
        ),
        Invalid(
            """
        import metaflow.decorators

        class MyBackendDecorator(metaflow.decorators.StepDecorator):
            name = "mybackend"
            supports_conda_environment = False

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ("mybackend", "step")
        """,
            line=4,
            column=1,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for node, group in backend_decorators(module):
            if decorator_name(node) in BUILT_IN_REMOTE:
                continue
            value = class_attribute(node, SUPPORTS_CONDA)
            if value is not None and not (
                isinstance(value, ast.Constant) and value.value in (False, None)
            ):
                continue  # True, or computed: cannot say it is off
            yield Finding(
                header_span(module, node),
                f"this decorator runs steps on '{group}' but does not set {SUPPORTS_CONDA} = "
                "True: @conda/@pypi steps are resolved for the submitting machine's platform "
                "(osx-arm64 from a Mac) instead of the backend's, and fail to bootstrap there; "
                f"set {SUPPORTS_CONDA} = True and target_platform",
            )
