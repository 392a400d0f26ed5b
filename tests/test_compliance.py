"""The compliance runner's own logic: argument parsing, capability handling, the matrix and its
renderings, secret masking, the process check, bad input. The live suites themselves run in CI
against the scaffold's references (.ci/run)."""

from __future__ import annotations

import enum
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from mfkit_lint.cli import main
from mfkit_lint.compliance import matrix as mx
from mfkit_lint.compliance.caps import ORCHESTRATOR_REQUIRED, normalize, rules_for_cap
from mfkit_lint.compliance.runner import Request, mask, secrets
from mfkit_lint.compliance.workspace import TEST_MARKER, processes_with_marker


def _test(cap, outcome, message="", rules=None, name=None):
    return {
        "test": name or "test_%s" % cap.lower(),
        "cap": cap,
        "rules": rules,
        "outcome": outcome,
        "message": message,
        "seconds": 1.0,
    }


def _all_required_pass():
    return [_test(cap, "passed") for cap in sorted(ORCHESTRATOR_REQUIRED)]


def test_matrix_all_required_pass_is_ok_and_optional_skips_say_why():
    skipped = _test("SCHEDULE", "skipped", "optional, not declared in SUPPORTED_CAPABILITIES")
    tests = [*_all_required_pass(), skipped]
    matrix = mx.build("orchestrator", "t", tests, declared=[])
    assert matrix.ok
    row = {r.cap: r for r in matrix.rows}["SCHEDULE"]
    assert (row.outcome, row.required) == ("skipped", False)
    assert "not declared" in row.reason
    assert "All required capabilities pass" in mx.text(matrix)


def test_matrix_required_failure_is_not_ok_and_names_rule_and_page():
    tests = [t for t in _all_required_pass() if t["cap"] != "RETRY"]
    tests.append(_test("RETRY", "failed", "retry_count stayed 0", rules=["MFK101"]))
    matrix = mx.build("orchestrator", "t", tests, declared=None)
    assert not matrix.ok
    retry = {r.cap: r for r in matrix.rows}["RETRY"]
    assert retry.outcome == "failed"
    assert retry.findings[0].rules == ["MFK101"]
    text = mx.text(matrix)
    assert "hardcoded-retry-count" in text and "mfkit rule MFK101" in text
    assert "Required capabilities not passing" in text and "RETRY" in text.splitlines()[-1]


def test_matrix_failure_of_one_test_fails_the_capability_even_if_another_passes():
    tests = [*_all_required_pass(), _test("TRIGGER", "failed", "status stayed RUNNING", [], "t2")]
    matrix = mx.build("orchestrator", "t", tests, declared=None)
    trigger = {r.cap: r for r in matrix.rows}["TRIGGER"]
    assert trigger.outcome == "failed" and not matrix.ok
    # An empty rules marker means no static rule can catch it: none is invented.
    assert "no static rule covers this" in mx.text(matrix)


def test_matrix_without_rules_marker_uses_the_rules_that_protect_the_capability():
    tests = [_test("PROJECT_BRANCH", "failed", "no branch")]
    row = {r.cap: r for r in mx.build("orchestrator", "t", tests, None).rows}["PROJECT_BRANCH"]
    assert row.findings[0].rules == sorted(rules_for_cap("PROJECT_BRANCH"))
    assert "MFK102" in row.findings[0].rules


def test_required_capability_without_a_test_run_is_not_a_pass():
    matrix = mx.build("orchestrator", "t", [_test("LINEAR_DAG", "passed")], None)
    assert not matrix.ok
    assert {r.cap: r.outcome for r in matrix.rows}["RETRY"] == "not tested"


def test_markdown_and_html_reports():
    tests = [t for t in _all_required_pass() if t["cap"] != "RUN_PARAMS"]
    tests.append(_test("RUN_PARAMS", "failed", "a | b", rules=["MFK301"]))
    matrix = mx.build("orchestrator", "Prefect <0.3.7>", tests, None)
    for row in matrix.rows:
        for finding in row.findings:
            finding.linted = {"MFK301": True}
    md = mx.markdown(matrix)
    assert "| RUN_PARAMS | FAIL | required | test_run_params: a \\| b |" in md
    assert "mfkit-lint reports it" in md and "run-params-tuple.md" in md
    page = mx.html_page(matrix)
    assert "Prefect &lt;0.3.7&gt;" in page and "<tr class='failed'><td>RUN_PARAMS" in page


def test_normalize_reads_any_enum_and_strings():
    class KitCap(enum.Enum):
        RETRY = "retry"
        NESTED_FOREACH = "nested"

    names, unknown = normalize([KitCap.RETRY, KitCap.NESTED_FOREACH, "schedule", "RETRY"])
    assert names == ["NESTED_FOREACH", "RETRY", "SCHEDULE"] and unknown == []


def test_secrets_are_masked():
    request = Request("orchestrator", "x", deploy_args={"host": "h1", "api_token": "s3cr3t"})
    hidden = secrets(request)
    assert hidden == ["s3cr3t"]
    assert mask("token=s3cr3t host=h1", hidden) == "token=**** host=h1"


def test_process_check_finds_only_marked_processes():
    token = "t%d" % os.getpid()
    marked = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        env={**os.environ, TEST_MARKER: token},
        start_new_session=True,  # even a process that left our session is found
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while not processes_with_marker(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid, _ in processes_with_marker(token)] == [marked.pid]
    finally:
        for proc in (marked, other):
            proc.kill()
            proc.wait()
    assert processes_with_marker(token) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deploy-args", "novalue"], "expected k=v pairs"),
        (["--supported-caps", "RETRY,TELEPORT"], "unknown capabilities TELEPORT"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, message):
    result = CliRunner().invoke(
        main, ["compliance", "orchestrator", "--scheduler-type", "argo-workflows", *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_scheduler_names_the_installed_ones():
    result = CliRunner().invoke(
        main, ["compliance", "orchestrator", "--scheduler-type", "nosuchscheduler"]
    )
    assert result.exit_code == 2
    assert "no orchestrator 'nosuchscheduler' is installed" in result.output
    assert "argo-workflows" in result.output and "step-functions" in result.output


def test_unknown_backend_names_the_installed_step_decorators():
    result = CliRunner().invoke(main, ["compliance", "backend", "--backend", "nosuchbackend"])
    assert result.exit_code == 2
    assert "no backend 'nosuchbackend'" in result.output and "kubernetes" in result.output


def test_linting_never_imports_the_compliance_runner(tmp_path):
    (tmp_path / "x.py").write_text("cmd = ['python', 'flow.py', 'step', 'a', '--retry-count', 0]\n")
    code = (
        "import sys\n"
        "from mfkit_lint.cli import main\n"
        "try:\n"
        "    main(['lint', '--no-cache', '--exit-zero', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('IMPORTED' if 'mfkit_lint.compliance.runner' in sys.modules else 'CLEAN')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "CLEAN", done.stdout + done.stderr


def test_narrowed_run_does_not_fail_capabilities_it_did_not_select():
    tests = [_test("LINEAR_DAG", "passed")]
    matrix = mx.build("orchestrator", "t", tests, None, selected=True)
    assert matrix.ok
    assert {r.cap: r.outcome for r in matrix.rows}["RETRY"] == "not selected"
    failing = mx.build("orchestrator", "t", [_test("RETRY", "failed", "x")], None, selected=True)
    assert not failing.ok


def test_metaflow_ux_tests_map_to_capabilities_and_junit_merges(tmp_path):
    from mfkit_lint.compliance import ux

    assert ux.cap_of("test_nested_foreach_2x2[x-deployer]") == "NESTED_FOREACH"
    assert ux.cap_of("test_foreach[x-deployer]") == "FOREACH"
    assert ux.cap_of("test_config_from_deployment[x]") == "FROM_DEPLOYMENT"
    assert ux.cap_of("test_hello_world[x]") == "LINEAR_DAG"
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_text(
        '<testsuites><testsuite name="pytest" tests="1"><testcase name="a"/></testsuite></testsuites>'
    )
    second.write_text(
        '<testsuites><testsuite name="pytest" tests="1"><testcase name="b"/></testsuite></testsuites>'
    )
    ux.merge_junit(str(first), str(second))
    merged = first.read_text()
    assert 'name="a"' in merged and 'name="b"' in merged and "metaflow-test-ux" in merged


def test_metaflow_src_with_an_unknown_module_is_bad_input(tmp_path):
    from mfkit_lint.compliance import ux
    from mfkit_lint.compliance.runner import ComplianceError

    core = tmp_path / "src" / "test" / "ux" / "core"
    core.mkdir(parents=True)
    (core / "test_basic.py").write_text("")
    with pytest.raises(ComplianceError, match=r"no test module nope .* there are: basic"):
        ux.prepare(tmp_path / "src", tmp_path / "work", "x", {}, ["basic", "nope"])


@pytest.mark.parametrize(
    ("crash", "expected"),
    [
        ("AssertionError: stdout missing\nassert 'x' in ''", "AssertionError: stdout missing"),
        (
            "mfkit_lint.compliance.workspace.RunTimeout: run X never finished",
            "RunTimeout: run X never finished",
        ),
        (
            "RuntimeError: Error executing: 'python f.py trigger':\n\nStderr:\n  No deployment found.\n",
            "RuntimeError: Error executing: 'python f.py trigger': ... No deployment found.",
        ),
    ],
)
def test_failure_message_is_the_tests_own_line(crash, expected):
    from types import SimpleNamespace

    from mfkit_lint.compliance.plugin import _message

    report = SimpleNamespace(
        skipped=False, longrepr=SimpleNamespace(reprcrash=SimpleNamespace(message=crash))
    )
    assert _message(report) == expected
