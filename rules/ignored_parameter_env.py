"""MFK203 ignored-parameter-env: see docs/pitfalls/ignored-parameter-env.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    EnvWrite,
    code_string_writes,
    env_writes,
    forwards_init_env,
    reads_env,
)
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.templates import HOLE

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

PARAMETERS_JSON = "METAFLOW_PARAMETERS"
PARAMETER_PREFIX = "METAFLOW_PARAMETER_"
INIT_PREFIX = "METAFLOW_INIT_"
_PARAMETER_NEEDLE = "METAFLOW_PARAMETER"


def _ignored_parameter_name(name: str) -> bool:
    return name == PARAMETERS_JSON or (
        name.startswith(PARAMETER_PREFIX) and len(name) > len(PARAMETER_PREFIX)
    )


class IgnoredParameterEnv(Rule):
    """Flow parameters are handed to Metaflow as ``METAFLOW_PARAMETERS`` (JSON) or
    ``METAFLOW_PARAMETER_<NAME>`` environment variables.

    ``init`` reads neither. It takes a flow parameter as ``--<name> value`` or, through click's
    ``auto_envvar_prefix``, as ``METAFLOW_INIT_<NAME>``; anything else is ignored and the run
    silently stores each parameter's default. (Only Metaflow's Airflow and Step Functions
    helpers read ``METAFLOW_PARAMETERS``, to export ``METAFLOW_INIT_<NAME>`` before ``init``.)
    """

    code = "MFK203"
    name = "ignored-parameter-env"
    summary = "parameters passed as METAFLOW_PARAMETERS or METAFLOW_PARAMETER_<NAME>: never read"
    capability = Cap.RUN_PARAMS
    triggers = (_PARAMETER_NEEDLE.encode(),)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Give init each parameter as METAFLOW_INIT_<NAME> (METAFLOW_PARAMETER_<NAME> renamed, "
        "METAFLOW_PARAMETERS' items exported beside it)",
        "ignored_parameter_env:RenameParameterEnv",
    )

    VALID = (
        Valid(
            """
            import os
            def env_for(params):
                env = dict(os.environ)
                for k, v in params.items():
                    env["METAFLOW_INIT_%s" % k.upper()] = str(v)
                return env
            """
        ),
        Valid(
            """
            import os
            legacy = os.environ.get("METAFLOW_PARAMETERS")
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import json, os
            def init_env(parameters):
                init_env = os.environ.copy()
                if parameters:
                    init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)
                return init_env
            """,
            line=6,
            column=18,
            fixed="""
            import json, os
            def init_env(parameters):
                init_env = os.environ.copy()
                if parameters:
                    init_env["METAFLOW_PARAMETERS"] = json.dumps(parameters)
                    init_env.update(
                        {
                            "METAFLOW_INIT_" + name.upper().replace("-", "_"): (
                                value if isinstance(value, str) else json.dumps(value)
                            )
                            for name, value in parameters.items()
                            if value is not None
                        }
                    )
                return init_env
            """,
        ),
        Invalid(
            """
            import os
            def init_env(parameters_json):
                return {**os.environ, "METAFLOW_PARAMETERS": parameters_json}
            """,
            line=4,
            column=27,
        ),
        Invalid(
            """
            import os
            def env_for(params):
                env = dict(os.environ)
                for k, v in params.items():
                    env["METAFLOW_PARAMETER_%s" % k.upper()] = str(v)
                return env
            """,
            line=6,
            column=14,
            fixed="""
            import os
            def env_for(params):
                env = dict(os.environ)
                for k, v in params.items():
                    env["METAFLOW_INIT_%s" % k.upper()] = str(v)
                return env
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if _reads_parameter_env(module):
            return  # the extension reads the variable back itself (e.g. in its entry point)
        json_read = forwards_init_env(module)
        writes = list(env_writes(module, _ignored_parameter_name, _PARAMETER_NEEDLE, True))
        writes += code_string_writes(module, _ignored_parameter_name, _PARAMETER_NEEDLE)
        seen: set[tuple] = set()
        for write in writes:
            where = write.where if isinstance(write.where, Span) else module.span(write.where)
            if (where.start, where.end) in seen:
                continue
            seen.add((where.start, where.end))
            if write.name == PARAMETERS_JSON:
                if json_read:
                    continue  # turned into METAFLOW_INIT_<NAME> by this module or Metaflow's helper
                fix = fixes.init_env_fix(module, write)
                message = (
                    f"init never reads {PARAMETERS_JSON}: it stores every parameter's default; "
                    "pass each parameter to init as --<name> value, or export it as "
                    f"{INIT_PREFIX}<NAME>"
                )
                if isinstance(fix, str):
                    yield Finding(where, message, no_fix_reason=fix)
                else:
                    yield Finding(where, message, fix.to_data(), codemod=fix.CODEMOD)
                continue
            suffix = write.name[len(PARAMETER_PREFIX) :].replace(HOLE, "<NAME>")
            prefix_span = _prefix_span(module, write)
            yield Finding(
                prefix_span or where,
                f"Metaflow never reads {PARAMETER_PREFIX}{suffix}: init stores the parameter's "
                f"default; name it {INIT_PREFIX}{suffix} (init's --<name> option reads it) or "
                "pass --<name> value to init",
                {} if prefix_span is not None else None,
            )


def _prefix_span(module: ModuleModel, write: EnvWrite) -> Optional[Span]:
    """Where the characters ``METAFLOW_PARAMETER_`` are, when they stand as is in the source."""
    template, start = write.template, write.name_start
    if template is None or not template.text.startswith(PARAMETER_PREFIX, start):
        return None
    if write.shell and write.name_span is None:
        return None
    span = template.span(module, start, start + len(PARAMETER_PREFIX))
    if span is None:
        return None
    source = module.source
    if source.text[source.offset(span.start) : source.offset(span.end)] != PARAMETER_PREFIX:
        return None
    return span


def _reads_parameter_env(module: ModuleModel) -> bool:
    """This module, or (in project mode) another one, reads the variables it writes."""
    return reads_env(module, (_PARAMETER_NEEDLE,))
