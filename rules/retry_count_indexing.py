"""MFK401 retry-count-indexing."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.contract.schedulers import AttemptCounter, one_based
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    BackendStep,
    option_overrides,
    reads_forwarded,
)
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.values import values_of

OPTION = "--retry-count"
_CONVERSIONS = ("str", "int")


def _counters() -> tuple[AttemptCounter, ...]:
    """The 1-based counters whose base a primary source confirms."""
    return tuple(c for c in one_based() if c.verified and c.counter)


def _tail(counter: str, words: int) -> str:
    return ".".join(counter.split(".")[-words:])


class RetryCountIndexing(Rule):
    """A scheduler attempt counter that starts at 1 (Prefect ``task_run.run_count``, Temporal
    ``activity.info().attempt``, Airflow ``try_number``, ``AWS_BATCH_JOB_ATTEMPT``) passed
    through as ``--retry-count``, which Metaflow counts from 0; or a counter that already
    starts at 0 (a loop index) passed as ``counter + 1``. The first attempt then runs as a
    retry, and ``@retry``/``@catch`` see one attempt too many."""

    code = "MFK401"
    name = "retry-count-indexing"
    summary = (
        "--retry-count counted from 1: a 1-based attempt counter without - 1, or a 0-based one + 1"
    )
    capability = Cap.RETRY
    triggers = (OPTION.encode(), b"retry_count")
    fix = FixSpec(
        Applicability.SAFE,
        "Subtract 1 from the attempt counter",
        "retry_count_indexing:SubtractOne",
    )

    VALID = (
        Valid("""
        import subprocess, sys
        from temporalio import activity
        @activity.defn
        def run_step(flow_file, step, run_id, task_id, input_paths):
            retry_count = activity.info().attempt - 1
            subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                            "--task-id", task_id, "--input-paths", input_paths,
                            "--retry-count", str(retry_count)], check=True)
        """),
        Valid("""
        import subprocess, sys
        from prefect.runtime import task_run
        def run_step(flow_file, step, run_id, task_id, input_paths):
            cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                   "--task-id", task_id, "--input-paths", input_paths]
            cmd += ["--retry-count", str(max(0, task_run.run_count - 1))]
            subprocess.run(cmd, check=True)
        """),
        Valid("""
        import subprocess, sys
        def run_task(flow_file, step, run_id, task_id, attempts):
            for attempt in range(1, attempts + 1):
                print("attempt %d of %d" % (attempt, attempts))
                subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                                "--task-id", task_id, "--input-paths", "p",
                                "--retry-count", str(attempt - 1)], check=True)
        """),
        Valid("""
        import subprocess, sys
        def run_task(flow_file, step, run_id, task_id, attempts):
            for attempt in range(attempts):
                subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                                "--task-id", task_id, "--input-paths", "p",
                                "--retry-count", str(attempt),
                                "--tag", "try-%d" % (attempt + 1)], check=True)
        """),
        Valid(
            """
            import click
            from metaflow import util

            @click.group()
            def cli():
                pass

            @cli.group(name="mybackend")
            def mybackend():
                pass

            @mybackend.command()
            @click.argument("step-name")
            @click.option("--run-id")
            @click.option("--task-id")
            @click.option("--retry-count", default=0)
            def step(step_name, **kwargs):
                kwargs["retry_count"] = kwargs["retry_count"] or 0
                step_args = " ".join(util.dict_to_cli_options(kwargs))
                submit("python flow.py step %s %s" % (step_name, step_args))
            """
        ),
    )
    INVALID = (
        Invalid(
            """
        import subprocess, sys
        from temporalio import activity
        @activity.defn
        def run_step(flow_file, step, run_id, task_id, input_paths):
            subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                            "--task-id", task_id, "--input-paths", input_paths,
                            "--retry-count", str(activity.info().attempt)], check=True)
        """,
            line=8,
            column=42,
            fixed="""
            import subprocess, sys
            from temporalio import activity
            @activity.defn
            def run_step(flow_file, step, run_id, task_id, input_paths):
                subprocess.run([sys.executable, flow_file, "step", step, "--run-id", run_id,
                                "--task-id", task_id, "--input-paths", input_paths,
                                "--retry-count", str(activity.info().attempt - 1)], check=True)
            """,
        ),
        Invalid(
            """
        import subprocess, sys
        from prefect.runtime import task_run
        def run_step(flow_file, step, run_id, task_id, input_paths):
            attempt = task_run.run_count
            cmd = [sys.executable, flow_file, "step", step, "--run-id", run_id,
                   "--task-id", task_id, "--input-paths", input_paths]
            cmd.extend(["--retry-count", f"{attempt}"])
            subprocess.run(cmd, check=True)
        """,
            line=5,
            column=15,
        ),
        Invalid(
            """
        import subprocess, sys
        class Runner:
            def step_cmd(self, step, run_id, task_id, attempt):
                return [sys.executable, "flow.py", "step", step, "--run-id", run_id,
                        "--task-id", task_id, "--input-paths", "p",
                        "--retry-count", str(attempt + 1)]

            def run_task(self, step, run_id, task_id, attempts):
                for attempt in range(attempts):
                    subprocess.run(self.step_cmd(step, run_id, task_id, attempt), check=True)
        """,
            line=7,
            column=38,
        ),
        Invalid(
            """
            import click
            from metaflow import util

            @click.group()
            def cli():
                pass

            @cli.group(name="mybackend")
            def mybackend():
                pass

            @mybackend.command()
            @click.argument("step-name")
            @click.option("--run-id")
            @click.option("--task-id")
            @click.option("--retry-count", default=0)
            def step(step_name, **kwargs):
                kwargs["retry_count"] = int(kwargs["retry_count"]) + 1
                step_args = " ".join(util.dict_to_cli_options(kwargs))
                submit("python flow.py step %s %s" % (step_name, step_args))
            """,
            line=19,
            column=29,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        yield from _backend_overrides(module)
        counters = _counters()
        for command in commands_of(module):
            if command.name != "step":
                continue
            option = command.option(OPTION)
            if option is None:
                continue
            token = option.value if option.inline_value is None else option.flag
            if token is None:
                continue
            if token.known and token.text is not None:
                counter = _in_text(token.text, counters)
                if counter is not None:
                    yield Finding(token.node, _message(counter, token.text), None)
                continue
            if token.expr is None:
                continue
            shifted = _shifted_zero_based(module, token.expr)
            if shifted is not None:
                yield Finding(
                    shifted,
                    f"--retry-count gets {ast.unparse(shifted)}, but the counter already starts "
                    "at 0 as Metaflow's does: the first attempt runs as a retry and @retry/@catch "
                    "see one attempt too many; pass the counter itself",
                    no_fix_reason="the counter itself is the value: drop the + 1",
                )
                continue
            found = _counter_read(module, token.expr, counters)
            if found is None:
                continue
            node, counter, direct = found
            yield Finding(
                node,
                _message(counter, ast.unparse(node)),
                # Fixed only where the read sits in the command: a variable may have other uses.
                {} if direct else None,
            )


def _backend_overrides(module: ModuleModel) -> Iterator[Finding]:
    """A backend's ``step`` that hands the core step the runtime's retry count plus one."""
    for step, override in option_overrides(module, OPTION):
        shifted = _shifted_zero_based(module, override.value, step)
        if shifted is not None:
            yield Finding(
                shifted,
                f"the {step.group} step hands the task --retry-count "
                f"{ast.unparse(shifted)}: the runtime's retry_count already counts from 0, "
                "so the first attempt runs as a retry and @retry/@catch see one attempt too "
                "many; forward it unchanged",
                no_fix_reason="the runtime's value is the right one: drop the override",
            )


def _message(counter: AttemptCounter, text: str) -> str:
    return (
        f"--retry-count gets {text}, {counter.scheduler}'s attempt counter, which is 1 on the "
        "first attempt; Metaflow counts from 0, so the first run is taken for a retry and "
        f"@retry/@catch see one attempt too many: pass {text} - 1"
    )


def _in_text(text: str, counters: tuple[AttemptCounter, ...]) -> Optional[AttemptCounter]:
    """A shell or template spelling of a counter, unchanged: ``$AWS_BATCH_JOB_ATTEMPT``,
    ``{{ ti.try_number }}``."""
    for counter in counters:
        if counter.kind == "env" and re.fullmatch(
            r"\$\{?%s\}?" % re.escape(counter.counter), text.strip("\"'")
        ):
            return counter
        if counter.kind == "template" and re.fullmatch(
            r"\{\{\s*[\w.]*\b%s\s*\}\}" % re.escape(_tail(counter.counter, 1)), text.strip("\"'")
        ):
            return counter
    return None


def _shifted_zero_based(
    module: ModuleModel, expr: ast.expr, step: Optional[BackendStep] = None
) -> Optional[ast.BinOp]:
    """``counter + 1`` (through ``str``/``int``, an f-string of it alone, or a variable
    assigned once) where the counter starts at 0: a loop index, passed down or not, or in a
    backend's ``step`` the runtime's own ``retry_count``."""
    values = values_of(module)
    for _ in range(3):  # as deep as ``str(n)`` of ``n = attempt + 1``
        if isinstance(expr, ast.Call) and call_name(expr) in _CONVERSIONS and len(expr.args) == 1:
            expr = expr.args[0]
        elif (
            isinstance(expr, ast.JoinedStr)
            and len(expr.values) == 1
            and isinstance(expr.values[0], ast.FormattedValue)
        ):
            expr = expr.values[0].value
        else:
            expr = values.single_assignment(expr)
    if not (isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add)):
        return None
    for counter, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if values.const(other) == 1 and (
            values.counts_from_zero(counter)
            or (
                step is not None
                and reads_forwarded(step, values.single_assignment(counter), "retry_count")
            )
        ):
            return expr
    return None


def _counter_read(
    module: ModuleModel, expr: ast.expr, counters: tuple[AttemptCounter, ...], depth: int = 0
) -> Optional[tuple[ast.expr, AttemptCounter, bool]]:
    """The counter read that ``expr`` passes on unchanged (through ``str``/``int``, an
    f-string of that value alone, or a variable assigned once), whether it sits right there."""
    while True:
        if isinstance(expr, ast.Call) and call_name(expr) in _CONVERSIONS and len(expr.args) == 1:
            expr = expr.args[0]
        elif (
            isinstance(expr, ast.JoinedStr)
            and len(expr.values) == 1
            and isinstance(expr.values[0], ast.FormattedValue)
        ):
            expr = expr.values[0].value
        else:
            break
    counter = _reads_counter(expr, counters)
    if counter is not None:
        return expr, counter, depth == 0
    if isinstance(expr, ast.Name) and depth < 2:
        value = values_of(module).single_assignment(expr)
        if value is not expr:
            found = _counter_read(module, value, counters, depth + 1)
            if found is not None:
                return found[0], found[1], False
    return None


def _reads_counter(
    expr: ast.expr, counters: tuple[AttemptCounter, ...]
) -> Optional[AttemptCounter]:
    for counter in counters:
        if counter.kind == "env" and _env_read(expr) == counter.counter:
            return counter
        if counter.kind in ("attribute", "template") and isinstance(expr, ast.Attribute):
            # Attribute counters match on their last two components (``task_run.run_count``,
            # ``info().attempt``); Airflow's ``try_number`` is read from any task instance.
            words = 2 if counter.kind == "attribute" else 1
            text = ast.unparse(expr)
            if text == _tail(counter.counter, words) or text.endswith(
                "." + _tail(counter.counter, words)
            ):
                return counter
    return None


def _env_read(expr: ast.expr) -> Optional[str]:
    """The variable name of ``os.environ["X"]``, ``os.environ.get("X")``, ``os.getenv("X")``."""
    if isinstance(expr, ast.Subscript) and dotted_name(expr.value) in ("os.environ", "environ"):
        key = expr.slice
    elif isinstance(expr, ast.Call) and dotted_name(expr.func) in (
        "os.environ.get",
        "environ.get",
        "os.getenv",
        "getenv",
    ):
        key = expr.args[0] if expr.args else None
    else:
        return None
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None
