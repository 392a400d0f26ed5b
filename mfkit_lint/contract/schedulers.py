"""Scheduler attempt counters as data: what each scheduler calls its attempt, where it starts.

Metaflow's ``--retry-count`` is 0 on the first attempt. A scheduler that numbers attempts from 1
must be passed through with ``- 1`` (MFK401); a step command with a hard-coded ``0`` (MFK101) is
fixed by reading the scheduler's own counter, converted to Metaflow's 0-based count.

Every row names the document or source file its base was checked against. ``verified`` is False
where no primary source was found: rules and fixers must not act on such a row's ``base``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

Kind = Literal["env", "attribute", "template", "api-field", "none"]


@dataclass(frozen=True)
class AttemptCounter:
    """One scheduler's attempt counter."""

    scheduler: str
    # Import names (top-level packages) and deployer TYPE names that identify the scheduler in an
    # extension's code; matched on what the code imports or declares, never on text.
    modules: tuple[str, ...]
    names: tuple[str, ...]
    kind: Kind
    counter: str  # the env var, attribute path or template variable
    base: Optional[int]  # the value on the first attempt: 0, 1, or None when not established
    # Metaflow's 0-based retry count read from this counter, in the language where the counter
    # lives: a Python expression for env/attribute counters, the scheduler's template syntax
    # for template counters. None when the scheduler exposes no counter to the task.
    retry_count: Optional[str]
    source: str
    verified: bool
    note: str = ""


COUNTERS: tuple[AttemptCounter, ...] = (
    AttemptCounter(
        scheduler="aws-batch",
        modules=(),
        names=("batch", "aws-batch", "step-functions"),
        kind="env",
        counter="AWS_BATCH_JOB_ATTEMPT",
        base=1,
        retry_count='int(os.environ["AWS_BATCH_JOB_ATTEMPT"]) - 1',
        source=(
            "https://docs.aws.amazon.com/batch/latest/userguide/job_env_vars.html "
            '("The first attempt is numbered 1"); metaflow 2.19.39 '
            "plugins/aws/step_functions/step_functions.py passes "
            '"--retry-count $((AWS_BATCH_JOB_ATTEMPT-1))"'
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="kubernetes",
        modules=("kubernetes",),
        names=("kubernetes",),
        kind="api-field",
        counter="status.containerStatuses[].restartCount",
        base=0,
        retry_count=None,
        source=(
            "Kubernetes API reference, ContainerStatus.restartCount (restarts of a container, "
            "0 before the first restart); metaflow 2.19.39 plugins/kubernetes/kubernetes_cli.py "
            "takes the attempt from Metaflow's own --retry-count, not from Kubernetes"
        ),
        verified=False,
        note=(
            "The API reference page itself was not found in the search index. A restart count "
            "counts container restarts of one pod, not task attempts, and is not in the "
            "container's environment: never a retry count."
        ),
    ),
    AttemptCounter(
        scheduler="airflow",
        modules=("airflow",),
        names=("airflow",),
        kind="template",
        counter="task_instance.try_number",
        base=1,
        retry_count="{{ task_instance.try_number - 1 }}",
        source=(
            "Airflow openlineage provider, example_openlineage_retry_dag "
            '("try_number is 1 for the first try and 2 for the retry"); metaflow 2.19.39 '
            'plugins/airflow/airflow_utils.py ATTEMPT = "{{ task_instance.try_number - 1 }}"'
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="argo-workflows",
        modules=("hera",),
        names=("argo-workflows", "argo"),
        kind="template",
        counter="retries",
        base=0,
        retry_count="{{retries}}",
        source=(
            "metaflow 2.19.39 plugins/argo/argo_workflows.py passes "
            '"{{retries}}" unchanged as --retry-count (and METAFLOW_RETRY_COUNT)'
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="prefect",
        modules=("prefect",),
        names=("prefect",),
        kind="attribute",
        counter="prefect.runtime.task_run.run_count",
        base=1,
        retry_count="prefect.runtime.task_run.run_count - 1",
        source=(
            "prefect src/prefect/runtime/task_run.py get_run_count() reads "
            "TaskRunContext.task_run.run_count (0 outside a task run); src/prefect/task_engine.py "
            "set_state(): run_count += 1 when the new state is Running, so the first attempt is 1"
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="temporal",
        modules=("temporalio",),
        names=("temporal",),
        kind="attribute",
        counter="temporalio.activity.info().attempt",
        base=1,
        retry_count="temporalio.activity.info().attempt - 1",
        source=(
            "temporalio samples-python hello_activity_retry: the activity fails while "
            "activity.info().attempt < 4 and succeeds on its fourth attempt (attempts 1, 2, 3 fail)"
        ),
        verified=True,
        note="workflow.info().attempt counts workflow runs, not activity attempts.",
    ),
    AttemptCounter(
        scheduler="dagster",
        modules=("dagster",),
        names=("dagster",),
        kind="attribute",
        counter="context.retry_number",
        base=0,
        retry_count="context.retry_number",
        source=(
            "dagster OpExecutionContext.retry_number: "
            '"0 for initial attempt, 1 for first retry" (previous_attempt_count)'
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="flyte",
        modules=("flytekit", "flyte"),
        names=("flyte",),
        kind="env",
        counter="FLYTE_ATTEMPT_NUMBER",
        base=0,
        retry_count='int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))',
        source=(
            'flyteplugins tests: FLYTE_ATTEMPT_NUMBER "0" is not a retry attempt, "1" is; '
            'flytepropeller sets "FLYTE_ATTEMPT_NUMBER": "0" on the first attempt'
        ),
        verified=True,
        note="flytekit's current_context() has no retry_count attribute.",
    ),
    AttemptCounter(
        scheduler="kestra",
        modules=("kestra",),
        names=("kestra",),
        kind="template",
        counter="taskrun.attemptsCount",
        base=0,
        retry_count="{{ taskrun.attemptsCount }}",
        source=(
            "kestra-io/kestra core/src/main/java/io/kestra/core/runners/RunVariables.java: "
            "taskrun.attemptsCount is the size of the TaskRun's attempts list (0 when it has "
            "none); worker/.../processors/WorkerTaskProcessor.java runTask builds the task's "
            "RunContext (runContextInitializer.forWorker) from the TaskRun it was handed and "
            "only then runAttempt adds the running attempt, to a new list for the result: the "
            "first attempt renders 0, one retried after one failed attempt renders 1 "
            "(ExecutionServiceTest.restartSimpleRevision sees attemptsCount == 1 there)"
        ),
        verified=True,
    ),
    AttemptCounter(
        scheduler="windmill",
        modules=("wmill",),
        names=("windmill",),
        kind="none",
        counter="",
        base=None,
        retry_count=None,
        source=(
            "Windmill reserved variables (WM_JOB_ID, WM_FLOW_JOB_ID, WM_FLOW_STEP_ID, ...): "
            "no attempt counter among them"
        ),
        verified=False,
        note="No attempt counter found; a fix cannot read one.",
    ),
    AttemptCounter(
        scheduler="mage",
        modules=("mage_ai",),
        names=("mage",),
        kind="none",
        counter="",
        base=None,
        retry_count=None,
        source="no Mage document or source naming a block attempt counter was found",
        verified=False,
        note="No attempt counter found; a fix cannot read one.",
    ),
)

_BY_NAME: dict[str, AttemptCounter] = {}
for _row in COUNTERS:
    for _name in (_row.scheduler, *_row.names):
        _BY_NAME[_name] = _row
_BY_MODULE: dict[str, AttemptCounter] = {m: row for row in COUNTERS for m in row.modules}


def by_name(name: str) -> Optional[AttemptCounter]:
    """The counter of the scheduler called ``name`` (its own name or a deployer TYPE)."""
    return _BY_NAME.get(name.lower())


def by_import(module: str) -> Optional[AttemptCounter]:
    """The counter of the scheduler whose package ``module`` (dotted or top-level) belongs to."""
    return _BY_MODULE.get(module.split(".", 1)[0])


def one_based() -> tuple[AttemptCounter, ...]:
    """Verified counters that start at 1: passed to ``--retry-count`` they need ``- 1``."""
    return tuple(row for row in COUNTERS if row.verified and row.base == 1)


def counter_import(row: AttemptCounter) -> Optional[str]:
    """The module a fix must import for ``row.retry_count`` to run as written: ``os`` for an
    environment counter, the scheduler module an attribute counter is read from; None when
    the expression reads something else (a local such as dagster's ``context``)."""
    if row.kind == "env":
        return "os"
    if row.kind != "attribute" or row.retry_count is None:
        return None
    path = row.counter.split("(", 1)[0].rsplit(".", 1)[0]
    if path.split(".", 1)[0] not in row.modules or not row.retry_count.startswith(path + "."):
        return None
    return path


def usable_retry_count(row: Optional[AttemptCounter]) -> Optional[str]:
    """The 0-based retry count expression a fix may write for ``row``, or None when unsafe."""
    if row is None or not row.verified or row.retry_count is None:
        return None
    return row.retry_count
