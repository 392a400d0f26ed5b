"""Orchestrator compliance: each test deploys a bundled flow with
`metaflow.Deployer(flow).<scheduler>(**deploy_args).create(**create_args)`, triggers it, waits with
its own clock and checks the outcome through the Metaflow Client."""

from __future__ import annotations

import shutil
import time

import pytest

from mfkit_lint.compliance.workspace import RunTimeout, failed_steps

pytestmark = pytest.mark.kind("orchestrator")

PROJECT = "mfkit_compliance"
BRANCH = "feat"


@pytest.mark.cap("LINEAR_DAG")
@pytest.mark.rules("MFK104", "MFK106", "MFK113")
def test_linear(ws):
    """start -> middle -> end runs and every step's task is visible to the Client."""
    run = ws.run_to_end(ws.deploy("linear_flow.py"))
    steps = {step.id for step in run}
    assert steps == {"start", "middle", "end"}, "steps seen by the Client: %s" % sorted(steps)
    assert run["end"].task.data.total == 43


@pytest.mark.cap("DATASTORE")
@pytest.mark.rules("MFK202", "MFK207")
def test_artifacts_and_logs(ws):
    """Artifacts persist and step stdout/stderr are readable through the Client."""
    run = ws.run_to_end(ws.deploy("linear_flow.py"))
    middle = run["middle"].task
    assert middle.data.payload["numbers"] == list(range(10)), "artifact read back wrong"
    assert "mfkit-compliance-stdout" in (middle.stdout or ""), (
        "the step's stdout is not in the task logs (steps run without log capture?)"
    )
    assert "mfkit-compliance-stderr" in (middle.stderr or ""), "stderr missing from task logs"


@pytest.mark.cap("BRANCHING")
@pytest.mark.rules("MFK104")
def test_branch_join(ws):
    """A static split runs both branches and the join sees both inputs."""
    run = ws.run_to_end(ws.deploy("branch_flow.py"))
    assert run["join"].task.data.sides == ["left", "right"]


@pytest.mark.cap("FOREACH")
@pytest.mark.rules("MFK105", "MFK607", "MFK405")
def test_foreach(ws):
    """A foreach over 3 items gives 3 tasks with distinct ids and the join sees all results."""
    run = ws.run_to_end(ws.deploy("foreach_flow.py"))
    ids = [task.id for task in run["body"]]
    assert len(ids) == 3 and len(set(ids)) == 3, "foreach tasks: %s" % ids
    assert run["join"].task.data.squares == [1, 4, 9]


@pytest.mark.cap("NESTED_FOREACH")
@pytest.mark.rules("MFK105")
def test_nested_foreach(ws):
    """A 2 x 2 nested foreach gives 4 inner tasks and both joins see everything."""
    run = ws.run_to_end(ws.deploy("nested_foreach_flow.py"))
    assert len(list(run["inner_body"])) == 4
    assert run["outer_join"].task.data.cells == ["a1", "a2", "b1", "b2"]


@pytest.mark.cap("RETRY")
@pytest.mark.rules("MFK101", "MFK401", "MFK404")
def test_retry(ws):
    """@retry: the first attempt sees retry_count 0, the retried one 1, both attempts recorded."""
    run = ws.run_to_end(ws.deploy("retry_flow.py"))
    start = run["start"].task.data.start_retry_count
    assert start == 0, "a first attempt saw retry_count %r, not 0 (1-indexed attempts?)" % start
    flaky = run["flaky"].task
    assert flaky.data.flaky_retry_count == 1, (
        "the retried attempt saw retry_count %r, not 1" % flaky.data.flaky_retry_count
    )
    attempts = sorted({int(m.value) for m in flaky.metadata if m.name == "attempt"})
    assert attempts == [0, 1], "attempts recorded for the retried step: %s" % attempts


@pytest.mark.cap("CATCH")
@pytest.mark.rules()
def test_catch(ws):
    """@catch stores the exception and the flow goes on to succeed."""
    run = ws.run_to_end(ws.deploy("catch_flow.py"))
    assert run["end"].task.data.caught is True


@pytest.mark.cap("TIMEOUT")
@pytest.mark.rules("MFK407")
def test_timeout(ws):
    """@timeout(seconds=5) stops a step that sleeps 120 s (caught by @catch, so the run goes on)."""
    began = time.monotonic()
    run = ws.run_to_end(ws.deploy("timeout_flow.py"))
    took = time.monotonic() - began
    assert run["end"].task.data.fired is True, "the timeout did not fire"
    assert took < 110, "the run took %.0f s: the step was not stopped at its timeout" % took


@pytest.mark.cap("RESOURCES")
@pytest.mark.rules("MFK604")
def test_resources(ws):
    """A step with @resources(cpu=1, memory=512) deploys and runs."""
    run = ws.run_to_end(ws.deploy("resources_flow.py"))
    assert run["start"].task.data.ran is True


@pytest.mark.cap("PROJECT_BRANCH")
@pytest.mark.rules("MFK102", "MFK110", "MFK109")
def test_project_branch(ws):
    """Deployed with --branch feat: every task sees branch test.feat, and the run and every task
    carry the project_branch:test.feat tag."""
    run = ws.run_to_end(ws.deploy("project_flow.py", branch=BRANCH))
    expected = "test.%s" % BRANCH
    tag = "project_branch:%s" % expected
    assert tag in run.tags, "run tags %s lack %s (init without --branch?)" % (sorted(run.tags), tag)
    for step in run:
        for task in step:
            assert task.data.branch == expected, "%s saw branch %r, not %r" % (
                task.pathspec,
                task.data.branch,
                expected,
            )
            assert tag in task.tags, "%s lacks tag %s" % (task.pathspec, tag)


@pytest.mark.cap("CONFIG_EXPR")
@pytest.mark.rules("MFK201", "MFK208", "MFK111")
def test_config(ws):
    """A Config given at deploy time reaches every step, and config_expr resolves with it."""
    value = {"alpha": 7, "label": "deployed"}
    run = ws.run_to_end(ws.deploy("config_flow.py", config_value=[("cfg", value)]))
    start = run["start"].task.data
    assert start.alpha == 7, "start saw cfg.alpha=%r, not the deployed 7" % start.alpha
    assert start.label_env == "deployed", "config_expr in @environment gave %r" % start.label_env
    assert run["end"].task.data.end_alpha == 7, "end step saw the default config"


@pytest.mark.cap("RUN_PARAMS")
@pytest.mark.rules("MFK301", "MFK112", "MFK203", "MFK107")
def test_run_params(ws):
    """trigger(alpha=..., label=..., count=...) reaches the flow with three typed values."""
    run = ws.run_to_end(ws.deploy("params_flow.py"), alpha=0.5, label="mfkit", count=3)
    seen = run["start"].task.data.seen
    assert seen == {"alpha": 0.5, "label": "mfkit", "count": 3}, "parameters seen: %s" % seen


@pytest.mark.cap("FROM_DEPLOYMENT")
@pytest.mark.rules("MFK302", "MFK309")
def test_from_deployment(ws, settings):
    """A @project deployment (dotted name project.branch.Flow) is found again with
    DeployedFlow.from_deployment(name, impl=...) and triggers a run of the same flow."""
    from metaflow.runner.deployer import DeployedFlow

    deployed = ws.deploy("project_flow.py", branch=BRANCH)
    identifier = deployed.deployer.name
    found = DeployedFlow.from_deployment(identifier, impl=settings.name.replace("-", "_"))
    run = ws.run_to_end(found)
    assert run.pathspec.split("/")[0] == "ProjectFlow", "the recovered deployment ran %s" % (
        run.pathspec
    )


@pytest.mark.cap("TRIGGER")
@pytest.mark.rules("MFK303", "MFK403")
def test_trigger_returns_before_run_ends(ws):
    """trigger() returns while a 25 s step is still running (the attribute file comes first)."""
    deployed = ws.deploy("slow_flow.py")
    began = time.monotonic()
    triggered = deployed.trigger()
    took = time.monotonic() - began
    run = triggered.run
    finished = run is not None and run.finished
    ws.wait(triggered)
    assert not finished, "trigger() returned only after the run had finished (%.0f s)" % took


@pytest.mark.cap("TRIGGER")
@pytest.mark.rules()
def test_failure_reported(ws):
    """A flow whose start step raises ends as failed within the timeout (Client or status)."""
    triggered = ws.deploy("fail_flow.py").trigger()
    limit = min(ws.settings.timeout, 180)
    try:
        run = ws.wait(triggered, timeout=limit)
    except RunTimeout as exc:
        # A failed Metaflow run never becomes `finished`, so only the orchestrator's status can
        # say it failed; a status that stays RUNNING leaves every waiting caller hanging.
        pytest.fail("a failing flow was not reported as failed: %s" % exc, pytrace=False)
    assert not run.successful, "a failing flow was reported successful"


@pytest.mark.cap("SCHEDULE")
@pytest.mark.rules()
def test_schedule(ws):
    """A flow with @schedule(hourly=True) deploys (the schedule firing is not waited for)."""
    deployed = ws.deploy("schedule_flow.py")
    assert deployed.name


@pytest.mark.cap("RESUME")
@pytest.mark.rules()
def test_resume(ws):
    """A failed run resumed through the deployment (DeployedFlow.resume(origin_run_id=...), as
    Metaflow's own test/ux calls it) clones the step that succeeded and reruns the rest."""
    deployed = ws.deploy("resume_flow.py")
    failed = ws.wait(deployed.trigger())
    assert not failed.successful, "the first run should have failed"
    if hasattr(deployed, "resume"):
        resumed = deployed.resume(origin_run_id=failed.id)
    else:
        # The extension's own spelling, through the same trigger command.
        resumed = deployed.trigger(origin_run_id=failed.id)
    run = ws.wait(resumed)
    assert run.successful, "the resumed run failed: %s" % failed_steps(run)
    assert run.id != failed.id, "resume reused the failed run's id"
    start = run["start"].task
    assert start.origin_pathspec, "start was run again instead of being cloned from %s" % failed.id
    assert run["process"].task.data.process_value == "processed"


@pytest.mark.cap("CONDA")
@pytest.mark.rules("MFK108", "MFK605")
def test_conda(ws):
    """A @conda_base flow runs inside its resolved environment."""
    if not (shutil.which("micromamba") or shutil.which("conda") or shutil.which("mamba")):
        pytest.skip("no conda, mamba or micromamba on PATH")
    run = ws.run_to_end(ws.deploy("conda_flow.py", environment="conda"))
    assert run["start"].task.data.six_version == "1.16.0"
