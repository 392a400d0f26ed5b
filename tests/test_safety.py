"""Analyzed code is never imported or executed: not by the CLI (lint, fix, diff, JSON, stdin,
worker processes), not by the flake8 plugin, not by the language server.

Every file of the extension below writes a sentinel file when it is imported or run; every
front end lints (and fixes) it, and the sentinel must never appear.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, TAG_BEFORE_STEP, TUPLE_RUN_PARAMS, run_cli

from mfkit_lint.engine import workers
from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session

PAYLOAD = """\
import pathlib
pathlib.Path({sentinel!r}).write_text("executed by " + __name__)
"""


@pytest.fixture
def ext(tmp_path: Path) -> tuple[Path, Path]:
    """(the extension package, the sentinel path) in a fresh directory."""
    sentinel = tmp_path / "SENTINEL"
    payload = PAYLOAD.format(sentinel=str(sentinel))
    package = tmp_path / "evilext"
    package.mkdir()
    files = {
        "__init__.py": payload,
        "mfextinit_evil.py": payload + 'CLIS_DESC = [("evil", ".evil_cli.cli")]\n',
        "steps.py": payload + "\n\n" + TAG_BEFORE_STEP,
        "deployer.py": payload
        + "\n\n"
        + TUPLE_RUN_PARAMS
        + '\nif __name__ == "__main__":\n    run()\n',
        "setup.py": payload,
        "conftest.py": payload,
    }
    for name, text in files.items():
        (package / name).write_text(text)
    return package, sentinel


def _assert_untouched(sentinel: Path) -> None:
    assert not sentinel.exists(), sentinel.read_text()


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--fix", "--unsafe-fixes"),
        ("--diff", "--unsafe-fixes"),
        ("--format", "json"),
        ("--no-cache", "--jobs", "2"),
    ],
    ids=["lint", "fix", "diff", "json", "no-cache"],
)
def test_cli(ext, args: tuple[str, ...]):
    package, sentinel = ext
    result = run_cli(*args, package.name, cwd=package.parent)
    assert result.returncode in (0, 1), result.stderr
    if "--fix" not in args:  # (after fixing, what remains depends on the rule set)
        assert (b"+++ evilext/deployer.py" if "--diff" in args else b"MFK103") in result.stdout
    _assert_untouched(sentinel)
    if "--fix" in args:
        assert "run_params=list(run_params)" in (package / "deployer.py").read_text()


def test_cli_stdin(ext):
    package, sentinel = ext
    text = (package / "steps.py").read_bytes()
    result = run_cli("--fix", "--stdin-filename", "steps.py", "-", cwd=package, stdin=text)
    assert result.returncode in (0, 1)
    assert result.stdout != text  # the fixed buffer
    _assert_untouched(sentinel)


def test_worker_processes(ext, monkeypatch):
    package, sentinel = ext
    monkeypatch.setattr(workers, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(workers, "MIN_BYTES_PER_WORKER", 1)
    outcome = Session(Linter(Settings(root=package)), RunOptions(jobs=2, fix=True)).run(
        [str(package)]
    )
    assert outcome.fixed
    _assert_untouched(sentinel)


def test_flake8(ext):
    package, sentinel = ext
    result = subprocess.run(
        [str(BIN / "flake8"), "--select", "MFK", package.name],
        cwd=package.parent,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert b"MFK103" in result.stdout
    _assert_untouched(sentinel)


# -- the language server, over raw JSON-RPC ------------------------------------------------------
class _Server:
    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "mfkit"), "lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, method: str, params: Any, id: int | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if id is not None:
            message["id"] = id
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def wait(self, match, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = self.inbox.get(timeout=max(deadline - time.monotonic(), 0.01))
            if match(message):
                return message


def test_language_server(ext):
    pytest.importorskip("mfkit_lint.lsp")
    pytest.importorskip("pygls")
    package, sentinel = ext
    server = _Server(package.parent)
    try:
        server.send(
            "initialize",
            {"processId": os.getpid(), "rootUri": package.parent.as_uri(), "capabilities": {}},
            id=1,
        )
        server.wait(lambda m: m.get("id") == 1)
        server.send("initialized", {})
        for name in ("steps.py", "__init__.py", "mfextinit_evil.py"):
            path = package / name
            server.send(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": path.as_uri(),
                        "languageId": "python",
                        "version": 1,
                        "text": path.read_text(),
                    }
                },
            )
        uri = (package / "steps.py").as_uri()
        published = server.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"]["diagnostics"]
            )
        )
        diagnostic = next(
            d for d in published["params"]["diagnostics"] if d.get("code") == "MFK103"
        )
        server.send(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": diagnostic["range"],
                "context": {"diagnostics": [diagnostic]},
            },
            id=2,
        )
        actions = server.wait(lambda m: m.get("id") == 2)
        assert actions.get("result"), actions
        server.send(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": diagnostic["range"]["start"]},
            id=3,
        )
        server.wait(lambda m: m.get("id") == 3)
        server.send("shutdown", None, id=4)
        server.wait(lambda m: m.get("id") == 4)
        server.send("exit", None)
        assert server.proc.wait(timeout=30) == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    _assert_untouched(sentinel)
