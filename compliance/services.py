"""Local schedulers the runner starts for a run and stops after it, by PID: today a Prefect
server on 127.0.0.1 with a `process` work pool and one worker (for metaflow-prefect)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mfkit_lint.compliance.runner import ComplianceError

POOL = "mfkit-compliance"
START_TIMEOUT = 180.0


@dataclass
class Service:
    env: dict[str, str]
    create_args: dict[str, str]
    shared_root: str
    pids: list[int] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise ComplianceError(
            "`%s` is not installed next to this Python (%s)" % (name, sys.executable)
        )
    return found


def _stop(pid: int) -> None:
    """End a process group we started: TERM, a moment's grace, then KILL."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except OSError:
            return
        time.sleep(0.2)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/health", timeout=5) as ok:
            if ok.status == 200:
                return
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
    raise ComplianceError("the Prefect server did not become healthy at %s:\n%s" % (url, tail))


@contextlib.contextmanager
def prefect_local() -> Iterator[Service]:
    prefect = _tool("prefect")
    root = Path(tempfile.mkdtemp(prefix="mfkit-prefect-"))
    home = root / "home"
    (home / ".metaflow").mkdir(parents=True)
    port = _free_port()
    url = "http://127.0.0.1:%d/api" % port
    env = {
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    # metaflow-prefect roots the steps' datastore at the worker's ~: HOME and the sysroot must
    # be the same directory for the Client to see what the steps wrote.
    worker_env = {
        **os.environ,
        **env,
        "HOME": str(home),
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(home),
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "USERNAME": os.environ.get("USERNAME", "mfkit"),
    }
    service = Service(env, {"work_pool": POOL, "name": "mfkit-compliance"}, str(home))
    logs = root / "logs"
    logs.mkdir()
    try:
        server_log = logs / "server.log"
        server = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=worker_env,
            stdout=server_log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        service.pids.append(server.pid)
        _wait_healthy(url, server, server_log)
        created = subprocess.run(
            [prefect, "work-pool", "create", POOL, "--type", "process"],
            env=worker_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if created.returncode != 0:
            raise ComplianceError("cannot create the Prefect work pool: %s" % created.stderr[-500:])
        worker = subprocess.Popen(
            [prefect, "worker", "start", "--pool", POOL],
            env=worker_env,
            stdout=(logs / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        service.pids.append(worker.pid)
        print("prefect-local: server %s (pid %d), worker pid %d" % (url, server.pid, worker.pid))
        yield service
    finally:
        for pid in reversed(service.pids):
            _stop(pid)
        worker_log = logs / "worker.log"
        if worker_log.exists():
            # The worker ran the steps: its log is the only record of why a flow failed there.
            tail = worker_log.read_text(errors="replace").splitlines()[-40:]
            print("prefect-local: last lines of the worker log:\n" + "\n".join(tail))
        shutil.rmtree(root, ignore_errors=True)


PROFILES = {"prefect-local": prefect_local}


def started(name: str) -> contextlib.AbstractContextManager[Service]:
    return PROFILES[name]()
