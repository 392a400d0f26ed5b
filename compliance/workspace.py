"""One test's private Metaflow world: its own METAFLOW_HOME and datastore, the Deployer calls that
run a bundled flow through the extension, a waiting loop with its own clock, and the check that
nothing it started is still running afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

from mfkit_lint.compliance.settings import Settings

FLOWS = Path(__file__).resolve().parent / "flows"
# Every process a test starts inherits this variable (even one that leaves the session or the
# process group), which is how the teardown finds what is still running.
TEST_MARKER = "MFKIT_COMPLIANCE_TEST"
USERNAME = "mfkit"
_POLL = 2.0
# TriggeredRun.status values that mean the run ended without success (any case).
FAILED_STATES = frozenset(
    {"FAILED", "ERROR", "CRASHED", "TIMED_OUT", "TIMEDOUT", "ABORTED", "CANCELLED"}
)


class RunTimeout(AssertionError):
    """The run did not finish within the test's own timeout."""


def _quietly(read: Callable[[], Any]) -> Any:
    # The orchestrator's status/run properties are third-party code polled in a loop: one
    # transient error must not end the wait.
    try:
        return read()
    except Exception:
        return None


class Workspace:
    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.root = root
        self.token = uuid.uuid4().hex
        self.sysroot = Path(settings.shared_root) if settings.shared_root else root / "datastore"
        self.home = root / "metaflow_home"
        for path in (self.sysroot / ".metaflow", self.home):
            path.mkdir(parents=True, exist_ok=True)
        self.env = {
            "METAFLOW_HOME": str(self.home),
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(self.sysroot),
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DEFAULT_METADATA": "local",
            "USERNAME": USERNAME,
            TEST_MARKER: self.token,
            **settings.extra_env,
        }
        if settings.shared_root:
            # Workers that root the datastore at ~ (metaflow-prefect) need HOME to agree.
            self.env["HOME"] = settings.shared_root
        self._saved_environ = {key: os.environ.get(key) for key in self.env}
        # The extension's own in-process code (from_deployment, status) sees what a user who
        # deployed from this shell would see.
        os.environ.update(self.env)
        # The Client in this process reads the same local metadata and datastore.
        import metaflow

        metaflow.metadata("local@%s" % self.sysroot)
        metaflow.namespace(None)

    # -- deploying -------------------------------------------------------------------------

    def flow_file(self, name: str) -> Path:
        """A private copy of a bundled flow: a fresh path is a fresh module for Metaflow's
        loader, so no flow class state (configs, mutators) leaks between tests."""
        target = self.root / name
        if not target.exists():
            shutil.copyfile(FLOWS / name, target)
        return target

    def deployer(self, flow: str, **top_level: Any) -> Any:
        from metaflow import Deployer

        return Deployer(
            str(self.flow_file(flow)),
            env=self.env,
            cwd=str(self.root),
            show_output=True,
            file_read_timeout=int(self.settings.timeout),
            **top_level,
        )

    def deploy(self, flow: str, **top_level: Any) -> Any:
        """`Deployer(flow).<name>(**deploy_args).create(**create_args)`."""
        attribute = self.settings.name.replace("-", "_")
        impl = getattr(self.deployer(flow, **top_level), attribute)(**self.settings.deploy_args)
        return impl.create(**self.settings.create_args)

    def run_with(self, flow: str, decospec: str, *top_level: str) -> Any:
        """`python flow.py --with DECOSPEC run` (Metaflow's own runtime, the backend's decorator
        on every step) in a subprocess with the test's timeout; the Client's Run afterwards."""
        import subprocess
        import sys

        from metaflow import Run

        id_file = self.root / "run-id"
        command = [sys.executable, str(self.flow_file(flow)), "--no-pylint", "--with", decospec]
        command += list(top_level)
        command += ["run", "--run-id-file", str(id_file)]
        try:
            done = subprocess.run(
                command,
                cwd=str(self.root),
                env={**os.environ, **self.env},
                capture_output=True,
                text=True,
                timeout=self.settings.timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise RunTimeout(
                "`%s` did not end within %.0f s" % (" ".join(command), exc.timeout)
            ) from None
        if not id_file.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise AssertionError("the run did not start (exit %d):\n%s" % (done.returncode, tail))
        run = Run("%s/%s" % (flow_class(self.flow_file(flow)), id_file.read_text().strip()))
        assert done.returncode == 0 and run.successful, "run %s failed: %s" % (
            run.pathspec,
            failed_steps(run),
        )
        return run

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, triggered: Any, timeout: Optional[float] = None) -> Any:
        """The Client's Run once it has finished. Neither `TriggeredRun.run` nor its status is
        trusted to ever end: the loop has its own deadline."""
        limit = self.settings.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        status = None
        run = None
        while time.monotonic() < deadline:
            run = _quietly(lambda: triggered.run)
            status = _quietly(lambda: triggered.status)
            if run is not None and _quietly(lambda run=run: run.finished):
                return run
            if str(status).upper() in FAILED_STATES:
                if run is None:
                    raise AssertionError(
                        "run %s failed before it appeared in the Client (TriggeredRun.status %r)"
                        % (getattr(triggered, "pathspec", "?"), status)
                    )
                # A failed Metaflow run never becomes `finished` (that needs the end task).
                return run
            time.sleep(_POLL)
        if run is None:
            started = "never appeared in the Client"
        else:
            # Say what the Client does know: a failed task explains a status stuck at RUNNING.
            failed = _quietly(lambda: failed_steps(run, finished_only=True))
            started = "never finished" + (" (%s)" % failed if failed else "")
        raise RunTimeout(
            "run %s %s within %.0f s (TriggeredRun.status was %r)"
            % (getattr(triggered, "pathspec", "?"), started, limit, status)
        )

    def run_to_end(self, deployed: Any, **params: Any) -> Any:
        """Trigger, wait, and insist the run succeeded (saying which step failed otherwise)."""
        run = self.wait(deployed.trigger(**params))
        assert run.successful, "run %s failed: %s" % (run.pathspec, failed_steps(run))
        return run

    def close(self) -> None:
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # -- hygiene ---------------------------------------------------------------------------

    def leftover_processes(self) -> list[tuple[int, str]]:
        return processes_with_marker(self.token)

    def reap(self, grace: float = 15.0) -> list[tuple[int, str]]:
        """Wait for this test's processes to end; kill (by PID) and return those that did not."""
        deadline = time.monotonic() + grace
        left = self.leftover_processes()
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = self.leftover_processes()
        for pid, _ in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return left


def flow_class(path: Path) -> str:
    """The FlowSpec class a bundled flow file defines (read, not imported)."""
    import ast

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef) and any(
            getattr(base, "id", None) == "FlowSpec" for base in node.bases
        ):
            return node.name
    raise ValueError("no FlowSpec class in %s" % path)


def failed_steps(run: Any, finished_only: bool = False) -> str:
    """Which tasks failed and the last line of their stderr, for an assertion message;
    finished_only: leave out tasks that may still be running (no finished_at yet)."""
    parts = []
    for step in run:
        for task in step:
            if finished_only and not _quietly(lambda t=task: t.finished_at):
                continue
            if not task.successful:
                # The exception's own line closes the task's stderr.
                tail = (_quietly(lambda t=task: t.stderr) or "").strip().splitlines()[-1:]
                parts.append("%s: %s" % (task.pathspec, " | ".join(tail) or "no stderr"))
    if finished_only:
        return "; ".join(parts)
    return "; ".join(parts) or "no failed task recorded (the run ended unsuccessfully)"


def processes_with_marker(token: str) -> list[tuple[int, str]]:
    """PIDs (and command lines) of live processes whose environment carries the token. Linux
    /proc only; elsewhere nothing can be checked and nothing is reported."""
    found = []
    needle = ("%s=%s" % (TEST_MARKER, token)).encode()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if needle not in environ.split(b"\0"):
                continue
            status = (entry / "stat").read_text()
            if status.rsplit(")", 1)[-1].split()[0] == "Z":
                continue  # a zombie is already dead; its parent just has not reaped it
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((int(entry.name), cmdline.strip()[:200]))
    return found
