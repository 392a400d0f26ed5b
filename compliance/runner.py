"""Runs one compliance suite: probe the extension, run the bundled tests in their own pytest
process (with a hard deadline), fold the results into the capability matrix, check whether
mfkit-lint would have caught each failure, and write the outputs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from mfkit_lint.compliance import matrix as mx
from mfkit_lint.compliance.caps import known
from mfkit_lint.compliance.settings import SETTINGS_ENV, Settings

SUITE = Path(__file__).resolve().parent / "suite"
_SECRET_KEY = re.compile(r"token|secret|password|passwd|key|auth|credential", re.I)
PROBE_TIMEOUT = 120


class ComplianceError(Exception):
    """Bad input or an extension that cannot be tested: a message for the user, exit code 2."""


@dataclass
class Request:
    kind: str
    name: str
    timeout: float = 300.0
    deploy_args: dict[str, str] = field(default_factory=dict)
    create_args: dict[str, str] = field(default_factory=dict)
    supported_caps: Optional[list[str]] = None
    junit_xml: Optional[str] = None
    keyword: Optional[str] = None
    workers: int = 1
    report: Optional[str] = None
    backend_image: Optional[str] = None
    service: Optional[str] = None
    title: Optional[str] = None
    metaflow_src: Optional[str] = None
    test_modules: list[str] = field(default_factory=list)


def secrets(request: Request) -> list[str]:
    """Values of deploy/create arguments whose names look like credentials: masked everywhere."""
    pairs = {**request.deploy_args, **request.create_args}
    return [v for k, v in pairs.items() if _SECRET_KEY.search(k) and len(v) >= 3]


def mask(text: str, hidden: list[str]) -> str:
    for value in hidden:
        text = text.replace(value, "****")
    return text


def run_probe(kind: str, name: str, env: dict[str, str]) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mfkit_lint.compliance.probe", kind, name],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            env=env,
            cwd=tempfile.gettempdir(),  # never a source tree whose mfkit_lint/ shadows the install
        )
    except subprocess.TimeoutExpired as exc:
        raise ComplianceError(
            "importing Metaflow with the extension did not finish within %d s" % PROBE_TIMEOUT
        ) from exc
    for line in done.stdout.splitlines():
        if line.startswith("MFKIT-PROBE "):
            return json.loads(line[len("MFKIT-PROBE ") :])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
    raise ComplianceError("Metaflow (with the installed extensions) does not import:\n%s" % tail)


def _declared(request: Request, found: dict) -> list[str]:
    if request.supported_caps is not None:
        names = [c.strip().upper() for c in request.supported_caps if c.strip()]
        unknown = sorted(set(names) - known(request.kind))
        if unknown:
            raise ComplianceError(
                "unknown capabilities %s; known: %s"
                % (", ".join(unknown), ", ".join(sorted(known(request.kind))))
            )
        return names
    return found.get("declared") or []


def _pytest_command(
    request: Request, workdir: str, targets: list[str], junit: Optional[str]
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        *targets,
        "-p",
        "mfkit_lint.compliance.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "--basetemp",
        str(Path(workdir) / "tests"),
        # A backstop behind each test's own waiting deadline.
        "--timeout",
        str(int(request.timeout * 2 + 120)),
    ]
    if junit:
        command += ["--junit-xml", os.path.abspath(junit)]
    if request.keyword:
        command += ["-k", request.keyword]
    if request.workers > 1:
        import importlib.util

        if importlib.util.find_spec("xdist") is None:
            raise ComplianceError("--workers needs pytest-xdist (pip install pytest-xdist)")
        command += ["-n", str(request.workers)]
    return command


def _lint(source: str, codes: set[str]) -> set[str]:
    """Which of the codes mfkit-lint reports on the extension's installed source."""
    if not codes:
        return set()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mfkit_lint",
            "lint",
            "--format",
            "json",
            "--exit-zero",
            "--select",
            ",".join(sorted(codes)),
            "--no-cache",
            source,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tempfile.gettempdir(),
    )
    try:
        return {d["code"] for d in json.loads(done.stdout or "[]")}
    except ValueError:
        return set()


def run(
    request: Request,
    services_env: Optional[dict[str, str]] = None,
    shared_root: Optional[str] = None,
) -> mx.Matrix:
    began = time.monotonic()
    env = dict(os.environ)
    env.setdefault("USERNAME", "mfkit")
    env.update({"METAFLOW_DEFAULT_METADATA": "local", "METAFLOW_DEFAULT_DATASTORE": "local"})
    env.update(services_env or {})
    found = run_probe(request.kind, request.name, env)
    if "error" in found:
        raise ComplianceError("Metaflow does not import with the extensions: %s" % found["error"])
    if not found.get("found"):
        what = "orchestrators" if request.kind == "orchestrator" else "step decorators"
        raise ComplianceError(
            "no %s %r is installed; installed %s: %s"
            % (request.kind, request.name, what, ", ".join(found.get("offered", [])) or "none")
        )
    declared = _declared(request, found)
    hidden = secrets(request)
    with tempfile.TemporaryDirectory(prefix="mfkit-compliance-") as workdir:
        settings = Settings(
            kind=request.kind,
            name=request.name,
            timeout=request.timeout,
            deploy_args=request.deploy_args,
            create_args=request.create_args,
            declared=declared,
            backend_image=request.backend_image,
            results_file=str(Path(workdir) / "results.json"),
            shared_root=shared_root,
            extra_env=services_env or {},
        )
        ini = Path(workdir) / "pytest.ini"
        # Our own ini file: the user's (or this repository's) pytest configuration must not apply.
        ini.write_text("[pytest]\n")
        own = ["-c", str(ini), "--rootdir", workdir, "--import-mode=importlib"]
        own.append(str(SUITE / ("test_%s.py" % request.kind)))
        tests = _suite(request, settings, env, hidden, own, request.junit_xml)
        if request.metaflow_src:
            tests += _metaflow_ux(request, settings, env, hidden, Path(workdir))
    title = request.title or "%s %s" % (request.kind, request.name)
    matrix = mx.build(request.kind, title, tests, declared, selected=bool(request.keyword))
    if found.get("declared") is None and request.supported_caps is None:
        matrix.notes.append(
            "The extension declares no SUPPORTED_CAPABILITIES (MFK505): "
            "only the required capabilities were tested."
        )
    reported = _lint(found["source"], matrix.codes_to_lint()) if found.get("source") else set()
    for row in matrix.rows:
        for finding in row.findings:
            finding.message = mask(finding.message, hidden)
            finding.linted = {code: code in reported for code in finding.rules}
        row.reason = mask(row.reason, hidden)
    matrix.seconds = time.monotonic() - began
    if request.junit_xml and hidden and os.path.exists(request.junit_xml):
        path = Path(request.junit_xml)
        path.write_text(mask(path.read_text(), hidden))
    return matrix


def _suite(
    request: Request,
    settings: Settings,
    env: dict[str, str],
    hidden: list[str],
    targets: list[str],
    junit: Optional[str],
) -> list[dict]:
    """One pytest process over the targets with our plugin; the results it recorded."""
    settings_file = settings.results_file + ".settings.json"
    settings.dump(settings_file)
    command = _pytest_command(request, str(Path(settings_file).parent), targets, junit)
    _run_pytest(command, {**env, SETTINGS_ENV: settings_file}, hidden, request.timeout * 40 + 600)
    try:
        return json.loads(Path(settings.results_file).read_text())["tests"]
    except (OSError, ValueError, KeyError) as exc:
        raise ComplianceError("the test process ended without results (output above)") from exc


def _metaflow_ux(
    request: Request, settings: Settings, env: dict[str, str], hidden: list[str], workdir: Path
) -> list[dict]:
    """Metaflow's test/ux modules in deployer mode, folded in as tests of the same matrix."""
    from mfkit_lint.compliance import ux

    source = Path(request.metaflow_src or "")
    target, files = ux.prepare(
        source, workdir, request.name, settings.create_args, request.test_modules
    )
    ux_settings = replace(settings, kind="ux", results_file=str(workdir / "ux-results.json"))
    junit = ux.default_junit(request.junit_xml)
    # The suite uses the process environment for its Metaflow settings: a private datastore.
    root = workdir / "ux-datastore"
    (root / ".metaflow").mkdir(parents=True)
    # The suite's conftest selects METAFLOW_PROFILE=local; an empty profile keeps the defaults.
    (root / "config_local.json").write_text("{}")
    ux_env = {
        **env,
        "METAFLOW_HOME": str(root),
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": settings.shared_root or str(root),
    }
    print("metaflow test/ux: %s" % ", ".join(request.test_modules), flush=True)
    tests = _suite(
        request, ux_settings, ux_env, hidden, ux.pytest_args(target, files, request.name), junit
    )
    if junit and request.junit_xml and os.path.exists(junit) and os.path.exists(request.junit_xml):
        ux.merge_junit(request.junit_xml, junit)
        os.remove(junit)
    for test in tests:
        test["test"] = "metaflow test/ux %s" % test["test"]
    return tests


def _run_pytest(
    command: list[str], env: dict[str, str], hidden: list[str], deadline: float
) -> None:
    """The pytest child in its own process group, its output passed through (masked); the
    whole group is ended by PID if it outlives the deadline."""
    child = subprocess.Popen(
        command,
        cwd=tempfile.gettempdir(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stop_at = time.monotonic() + deadline
    assert child.stdout is not None

    def _terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a CI job being cancelled: end the tests' process group too

    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        for line in child.stdout:
            sys.stdout.write(mask(line, hidden))
            sys.stdout.flush()
            if time.monotonic() > stop_at:
                break
        child.wait(timeout=max(1.0, stop_at - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def write_report(matrix: mx.Matrix, path: str) -> None:
    target = Path(path)
    as_html = target.suffix.lower() in (".html", ".htm")
    body = mx.html_page(matrix) if as_html else mx.markdown(matrix)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
