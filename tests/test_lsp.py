"""The language server: started as a real subprocess and spoken to in LSP over stdio.

A small JSON-RPC client below frames messages (Content-Length), answers nothing but waits
for responses and notifications with a timeout, and always kills the server in the end.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from conftest import BIN, CLEAN, TUPLE_RUN_PARAMS, TUPLE_RUN_PARAMS_FIXED, invoke

pytest.importorskip("pygls")

from lsprotocol import types as lsp

from mfkit_lint.engine.diagnostic import Location
from mfkit_lint.engine.source import Source
from mfkit_lint.lsp import adapter

TIMEOUT = 10.0
PAGE = (Path(__file__).parent.parent / "docs" / "pitfalls" / "run-params-tuple.md").read_text(
    encoding="utf-8"
)
# MFK301 sits on the value of run_params=...; here after an emoji (2 UTF-16 units) and an é.
NON_ASCII = TUPLE_RUN_PARAMS.replace(
    "self.trigger(run_params", 'self.trigger(flow="\U0001f600é", run_params'
)
NON_ASCII_FIXED = NON_ASCII.replace("run_params=run_params)", "run_params=list(run_params))")


class Client:
    """Just enough of an LSP client: requests, notifications, and what the server sent."""

    def __init__(self, cmd: list[str], cwd: Path, env: Optional[dict[str, str]] = None) -> None:
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env or dict(os.environ),
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.stderr: list[bytes] = []
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "a message without Content-Length"
            self.messages.put(json.loads(stream.read(length)))

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def _next(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            message = self.messages.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if "id" in message and "method" in message:  # a request from the server: say ok
            self.send({"id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        return message

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        self._next_id += 1
        msg_id = self._next_id
        self.send({"id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self._next(deadline)
            except TimeoutError:
                pytest.fail(f"no answer to {method} within {timeout} s; stderr: {self.err()}")
            if message.get("id") == msg_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]

    def wait_for(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] = lambda params: True,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """The params of the first (not yet consumed) notification ``method`` that matches."""
        deadline = time.monotonic() + timeout
        while True:
            for note in self.notifications:
                if note["method"] == method and where(note["params"]):
                    self.notifications.remove(note)
                    return note["params"]
            try:
                self._next(deadline)
            except TimeoutError:
                pytest.fail(f"no {method} within {timeout} s; stderr: {self.err()}")

    def diagnostics(self, uri: str, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        return self.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri, timeout)[
            "diagnostics"
        ]

    def settle(self, seconds: float) -> None:
        """Collect whatever the server sends during ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._next(deadline)
        except TimeoutError:
            pass

    def initialize(self, root: Path, encodings: Optional[list[str]] = None) -> dict[str, Any]:
        capabilities: dict[str, Any] = {
            "workspace": {"workspaceEdit": {"documentChanges": True}},
            "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}},
        }
        if encodings:
            capabilities["general"] = {"positionEncodings": encodings}
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": capabilities,
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def shutdown(self) -> int:
        assert self.request("shutdown", None) is None
        self.notify("exit", None)
        return self.proc.wait(timeout=TIMEOUT)

    def err(self) -> str:
        return b"".join(self.stderr).decode("utf-8", "replace")[-2000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start(tmp_path: Path):
    """start(cmd=..., env=...) -> an initialized-to-be Client; every server is killed after."""
    clients: list[Client] = []

    def _start(cmd: Optional[list[str]] = None, env: Optional[dict[str, str]] = None) -> Client:
        client = Client(cmd or [str(BIN / "mfkit"), "lsp"], tmp_path, env)
        clients.append(client)
        return client

    yield _start
    for client in clients:
        client.kill()


# -- applying what the server returns, as an editor would ----------------------------------------


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _offset(text: str, position: dict[str, int], encoding: str) -> int:
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    start = sum(len(line) for line in lines[: position["line"]])
    line = lines[position["line"]] if position["line"] < len(lines) else ""
    for index in range(len(line) + 1):
        if _units(line[:index], encoding) >= position["character"]:
            return start + index
    return start + len(line)


def apply_edits(text: str, edits: list[dict[str, Any]], encoding: str = "utf-16") -> str:
    spans = [
        (
            _offset(text, e["range"]["start"], encoding),
            _offset(text, e["range"]["end"], encoding),
            e["newText"],
        )
        for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(
    text: str, edit: dict[str, Any], uri: str, version: int, encoding: str = "utf-16"
) -> str:
    (change,) = edit["documentChanges"]
    assert change["textDocument"] == {"uri": uri, "version": version}
    return apply_edits(text, change["edits"], encoding)


def line_range(line: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}


# -- the server, for real -------------------------------------------------------------------------


def test_diagnostics_fixes_and_hover_use_the_editor_buffer(start, tmp_path: Path):
    path = tmp_path / "deployer.py"
    path.write_text(CLEAN, encoding="utf-8")  # the file on disk is clean; the buffer is not
    client = start()
    init = client.initialize(tmp_path)
    caps = init["capabilities"]
    assert caps["positionEncoding"] == "utf-16"
    assert caps["textDocumentSync"]["change"] == lsp.TextDocumentSyncKind.Full.value
    assert set(caps["codeActionProvider"]["codeActionKinds"]) == {
        "quickfix",
        "source.fixAll.mfkit-lint",
    }
    assert caps["hoverProvider"]

    uri = client.open(path, TUPLE_RUN_PARAMS)
    (diag,) = client.diagnostics(uri)
    assert diag["code"] == "MFK301"
    assert diag["source"] == "mfkit-lint"
    assert diag["severity"] == lsp.DiagnosticSeverity.Warning.value
    assert diag["codeDescription"]["href"].endswith("/docs/pitfalls/run-params-tuple.md")
    # 1-based 7:40..7:50 in the engine, 0-based for LSP.
    assert diag["range"] == {
        "start": {"line": 6, "character": 39},
        "end": {"line": 6, "character": 49},
    }
    assert diag["data"]["fix"]["applicability"] == "safe"

    context = {"diagnostics": [diag]}
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": diag["range"], "context": context},
    )
    by_kind = {a["kind"]: a for a in actions}
    quickfix = by_kind["quickfix"]
    assert quickfix["title"] == "Fix MFK301: Pass run params as a list"
    assert quickfix["isPreferred"] is True
    assert quickfix["diagnostics"] == [diag]
    fixed = apply_workspace_edit(TUPLE_RUN_PARAMS, quickfix["edit"], uri, 1)
    assert fixed == TUPLE_RUN_PARAMS_FIXED
    fix_all = by_kind["source.fixAll.mfkit-lint"]
    assert fix_all["title"] == "Fix all mfkit-lint safe fixes"
    assert apply_workspace_edit(TUPLE_RUN_PARAMS, fix_all["edit"], uri, 1) == fixed

    # The cursor anywhere on the line, without the client naming the diagnostic, works too;
    # "source.fixAll" on save asks for the fix-all action only.
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": []}},
    )
    assert "quickfix" in {a["kind"] for a in actions}
    only = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": line_range(0),
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        },
    )
    assert [a["kind"] for a in only] == ["source.fixAll.mfkit-lint"]
    assert client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": line_range(0), "context": {"diagnostics": []}},
    ) == [fix_all]

    hover = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 6, "character": 44}},
    )
    assert hover["contents"] == {"kind": "markdown", "value": PAGE}
    assert hover["range"] == diag["range"]
    nothing = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}
    assert client.request("textDocument/hover", nothing) is None

    # Typing: a burst of changes is linted once, on the latest text.
    client.change(uri, TUPLE_RUN_PARAMS + "# typing\n", 2)
    client.change(uri, fixed, 3)
    published = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    assert published == {"uri": uri, "version": 3, "diagnostics": []}
    client.settle(0.45)
    assert not [n for n in client.notifications if n["method"] == "textDocument/publishDiagnostics"]

    # Saving lints at once (the buffer, not the file: it is still the clean one on disk).
    client.change(uri, TUPLE_RUN_PARAMS, 4)
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert [d["code"] for d in client.diagnostics(uri, timeout=0.25)] == ["MFK301"]

    # Closing clears the diagnostics (and the save above left no debounced lint behind).
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []
    assert path.read_text(encoding="utf-8") == CLEAN

    # The code is analyzed, never imported or run.
    marker = tmp_path / "ran"
    evil = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nraise SystemExit(3)\n"
    evil_uri = client.open(tmp_path / "evil.py", evil)
    assert client.diagnostics(evil_uri) == []
    assert (
        client.request(
            "textDocument/hover",
            {"textDocument": {"uri": evil_uri}, "position": {"line": 1, "character": 2}},
        )
        is None
    )
    assert not marker.exists()

    # Columns on a line with non-ASCII text, in UTF-16 (no positionEncodings offered).
    check_non_ascii(client, tmp_path, "utf-16")
    assert client.shutdown() == 0


def test_workspace_configuration_is_respected_and_a_bad_one_is_survived(start, tmp_path: Path):
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    (quiet / "pyproject.toml").write_text('[tool.mfkit-lint]\nignore = ["MFK301"]\n')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text('[tool.mfkit-lint]\nignores = ["MFK301"]\n')
    per_file = tmp_path / "per_file"
    (per_file / "gen").mkdir(parents=True)
    (per_file / "pyproject.toml").write_text(
        '[tool.mfkit-lint]\nper-file-ignores = { "gen/**" = ["MFK3"] }\n'
    )

    client = start()
    client.initialize(tmp_path)
    assert client.diagnostics(client.open(quiet / "deployer.py", TUPLE_RUN_PARAMS)) == []
    assert client.diagnostics(client.open(per_file / "gen" / "deployer.py", TUPLE_RUN_PARAMS)) == []
    assert [
        d["code"]
        for d in client.diagnostics(client.open(per_file / "deployer.py", TUPLE_RUN_PARAMS))
    ] == ["MFK301"]

    # An unknown key: the CLI stops with exit 2; the server says why and uses the defaults.
    uri = client.open(broken / "deployer.py", TUPLE_RUN_PARAMS)
    assert [d["code"] for d in client.diagnostics(uri)] == ["MFK301"]
    logged = client.wait_for("window/logMessage", lambda p: "ignores" in p["message"])
    assert "configuration ignored, using defaults" in logged["message"]
    assert "unknown key 'ignores'" in logged["message"]
    shown = client.wait_for("window/showMessage")
    assert shown["type"] == lsp.MessageType.Warning.value
    assert client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 6, "character": 40}},
    )
    assert client.shutdown() == 0


def check_non_ascii(client: Client, tmp_path: Path, encoding: str) -> None:
    """Columns, fixes and hover on a line with an emoji (2 UTF-16 code units, 4 UTF-8 bytes)
    and an é (1 and 2) among the 50 characters before the finding."""
    character = {"utf-16": 51, "utf-8": 54, "utf-32": 50}[encoding]
    uri = client.open(tmp_path / "non_ascii.py", NON_ASCII)
    (diag,) = client.diagnostics(uri)
    assert diag["range"]["start"] == {"line": 6, "character": character}
    assert diag["range"]["end"] == {"line": 6, "character": character + 10}
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}},
    )
    assert len(actions) == 2
    for action in actions:
        assert apply_workspace_edit(NON_ASCII, action["edit"], uri, 1, encoding) == NON_ASCII_FIXED
    on = {"textDocument": {"uri": uri}, "position": {"line": 6, "character": character + 1}}
    assert client.request("textDocument/hover", on)["range"] == diag["range"]
    before = {"textDocument": {"uri": uri}, "position": {"line": 6, "character": character - 2}}
    assert client.request("textDocument/hover", before) is None


def test_utf8_positions_when_the_client_prefers_them(start, tmp_path: Path):
    # The client's first choice among those the server knows (UTF-32 is the engine's own count
    # and is checked in process: test_positions_round_trip; UTF-16 in the editor-session test).
    client = start([sys.executable, "-m", "mfkit_lint.lsp", "--stdio"])
    init = client.initialize(tmp_path, ["utf-8", "utf-16"])
    assert init["capabilities"]["positionEncoding"] == "utf-8"
    check_non_ascii(client, tmp_path, "utf-8")
    # "exit" without "shutdown" first: exit code 1, as LSP says.
    client.notify("exit", None)
    assert client.proc.wait(timeout=TIMEOUT) == 1


CRASHING_RULE = """\
from mfkit_lint.engine.rule import Rule


class CrashingRule(Rule):
    code = "XCR901"
    name = "crashing-rule"
    summary = "always crashes"

    def check(self, module):
        raise RuntimeError("boom")
"""


def test_a_crashing_rule_is_logged_and_the_server_keeps_serving(start, tmp_path: Path):
    # A real third-party rule plugin (entry point on PYTHONPATH) whose check raises.
    plugins = tmp_path / "plugins"
    info = plugins / "crashing_rule-0.1.dist-info"
    info.mkdir(parents=True)
    (plugins / "crashing_rule.py").write_text(CRASHING_RULE)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crashing-rule\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mfkit_lint.rules]\nXCR901 = crashing_rule:CrashingRule\n"
    )
    env = dict(os.environ, PYTHONPATH=str(plugins))

    client = start(env=env)
    client.initialize(tmp_path)
    uri = client.open(tmp_path / "deployer.py", TUPLE_RUN_PARAMS)
    assert [d["code"] for d in client.diagnostics(uri)] == ["MFK301"]
    log = client.wait_for("window/logMessage", lambda p: "XCR901" in p["message"])
    assert log["type"] == lsp.MessageType.Error.value
    assert "internal error in rule XCR901: RuntimeError: boom" in log["message"]

    client.change(uri, TUPLE_RUN_PARAMS_FIXED, 2)
    assert client.diagnostics(uri) == []
    assert (
        client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": line_range(6), "context": {"diagnostics": []}},
        )
        == []
    )
    # The same crash on every keystroke is logged once, not once per lint.
    assert not [n for n in client.notifications if n["method"] == "window/logMessage"]
    assert client.shutdown() == 0


def test_mfkit_lsp_without_pygls_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygls", None)  # find_spec: not installed
    result = invoke("lsp", tool="mfkit")
    assert result.returncode == 2
    assert "install the lsp extra (pip install '.[lsp]'" in result.stderr.decode()


def test_mfkit_lint_does_not_import_pygls():
    code = "import sys, mfkit_lint.cli; print('pygls' in sys.modules, 'lsprotocol' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.stdout.decode().split() == ["False", "False"]


# -- the adapter, in process ----------------------------------------------------------------------


def source(text: str) -> Source:
    return Source(text, "utf-8", text.encode("utf-8"))


@pytest.mark.parametrize(
    ("encoding", "units"),
    [
        (adapter.UTF16, [0, 1, 3, 4, 5]),
        (adapter.UTF32, [0, 1, 2, 3, 4]),
        (adapter.UTF8, [0, 1, 5, 7, 8]),
    ],
)
def test_positions_round_trip(encoding, units):
    src = source("x\na\U0001f600é=\r\nlast")
    for column, unit in enumerate(units, start=1):
        position = adapter.to_position(src, Location(2, column), encoding)
        assert (position.line, position.character) == (1, unit)
        assert adapter.to_location(src, position, encoding) == Location(2, column)
    # Beyond the line or the text: clamped, never an error.
    assert adapter.to_position(src, Location(2, 99), encoding) == lsp.Position(1, units[-1])
    assert adapter.to_position(src, Location(9, 1), encoding) == lsp.Position(2, 4)
    assert adapter.to_location(src, lsp.Position(1, 99), encoding) == Location(2, 5)
    assert adapter.to_location(src, lsp.Position(7, 0), encoding) == Location(3, 5)


def test_a_position_inside_a_surrogate_pair_means_that_character():
    src = source("a\U0001f600b")
    assert adapter.to_location(src, lsp.Position(0, 2), adapter.UTF16) == Location(1, 2)


def test_lint_text_reports_a_bad_configuration_and_lints_with_defaults(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.mfkit-lint]\nselect = ["NOPE1"]\n')
    result = adapter.lint_text("untitled:1", TUPLE_RUN_PARAMS, 1, None, tmp_path)
    assert [d.code for d in result.diagnostics] == ["MFK301"]
    (message,) = result.config_errors
    assert "configuration ignored, using defaults" in message
    assert "NOPE1" in message
    assert result.errors == []


def test_a_syntax_error_is_an_error_without_fixes(tmp_path: Path):
    result = adapter.lint_text("untitled:1", "def broken(:\n", 1, None, tmp_path)
    (diag,) = [adapter.to_lsp_diagnostic(d, result, adapter.UTF16) for d in result.diagnostics]
    assert (diag.code, diag.severity) == ("MFK001", lsp.DiagnosticSeverity.Error)
    actions, errors = adapter.code_actions(
        result, diag.range, lsp.CodeActionContext(diagnostics=[diag])
    )
    assert (actions, errors) == ([], [])
    assert "syntax-error" in adapter.hover(result, diag.range.start).contents.value
