"""The pygls server: document sync, debounced linting, code actions and hover over stdio.

All the LSP values come from ``adapter``; this module only keeps track of open documents, when
to lint them, and where to report what went wrong (``window/logMessage``, never a dead server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Callable, Optional

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from mfkit_lint import __version__
from mfkit_lint.lsp import adapter

DEBOUNCE_SECONDS = 0.3


class MfkitLanguageServer(LanguageServer):
    def __init__(self, debounce: float = DEBOUNCE_SECONDS) -> None:
        # Full sync: the client sends the whole text on each change, so the buffer the engine
        # sees is exactly the editor's (no re-applying of ranges over differently split lines).
        super().__init__(
            "mfkit-lint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full
        )
        self.debounce = debounce
        self.shutdown_requested = False
        self._open: set[str] = set()  # URIs of the Python documents the client has open
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._results: dict[str, adapter.LintResult] = {}
        self._logged: dict[str, tuple[str, ...]] = {}
        self._shown: set[str] = set()

    # -- state ----------------------------------------------------------------------------------
    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or adapter.UTF16

    def _client_supports(self, *path: str) -> bool:
        value: object = self.client_capabilities
        for name in path:
            value = getattr(value, name, None)
            if value is None:
                return False
        return bool(value)

    def result(self, uri: str, fresh: bool = False) -> Optional[adapter.LintResult]:
        """The lint of the document's current in-memory text (cached per text)."""
        if uri not in self._open:
            return None
        document = self.workspace.get_text_document(uri)
        text = document.source
        cached = self._results.get(uri)
        if not fresh and cached is not None and cached.source.text == text:
            return cached
        path = to_fs_path(uri) if uri.startswith("file:") else None
        fallback = Path(self.workspace.root_path or os.getcwd())
        try:
            result = adapter.lint_text(
                uri, text, document.version, Path(path) if path else None, fallback
            )
        except Exception as exc:  # e.g. a rule plugin that cannot be loaded
            self.log(f"cannot lint {uri}: internal error: {type(exc).__name__}: {exc}")
            return None
        self._results[uri] = result
        for message in result.config_errors:
            if message not in self._shown:  # say it once, out loud; the log has it every time
                self._shown.add(message)
                self.window_show_message(
                    lsp.ShowMessageParams(
                        type=lsp.MessageType.Warning, message=f"mfkit-lint: {message}"
                    )
                )
        self._log_once(uri, result.config_errors + result.errors)
        return result

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Error) -> None:
        self.window_log_message(lsp.LogMessageParams(type=kind, message=f"mfkit-lint: {message}"))

    def _log_once(self, uri: str, messages: list[str]) -> None:
        """Log a document's problems when they change, not on every keystroke's lint."""
        key = tuple(messages)
        if self._logged.get(uri, ()) == key:
            return
        self._logged[uri] = key
        for message in messages:
            self.log(message)

    # -- linting ------------------------------------------------------------------------------
    def publish(self, uri: str, fresh: bool = False) -> None:
        self._cancel(uri)
        result = self.result(uri, fresh)
        if result is None:
            return
        diagnostics = [
            adapter.to_lsp_diagnostic(diag, result, self.encoding) for diag in result.diagnostics
        ]
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=result.version)
        )

    def schedule(self, uri: str) -> None:
        """Lint after a pause in typing; only the latest text is linted."""
        self._cancel(uri)
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(self.debounce, self._guarded, self.publish, uri)

    def _cancel(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def _guarded(self, action: Callable[..., object], *args: object) -> None:
        try:
            action(*args)
        except Exception as exc:  # whatever happens, the server keeps serving
            self.log(f"internal error: {type(exc).__name__}: {exc}")

    def open(self, document: lsp.TextDocumentItem) -> None:
        if adapter.is_python(document.language_id, document.uri):
            self._open.add(document.uri)
            self.publish(document.uri, fresh=True)

    def close(self, uri: str) -> None:
        self._cancel(uri)
        self._results.pop(uri, None)
        self._logged.pop(uri, None)
        if uri in self._open:
            self._open.discard(uri)
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def stop(self) -> None:
        self.shutdown_requested = True
        for uri in list(self._timers):
            self._cancel(uri)


def create_server(debounce: float = DEBOUNCE_SECONDS) -> MfkitLanguageServer:
    server = MfkitLanguageServer(debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MfkitLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls._guarded(ls.open, params.text_document)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MfkitLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in ls._open:
            ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    def did_save(ls: MfkitLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        # Lint now, and afresh: the configuration may have changed since the last lint.
        ls._guarded(ls.publish, params.text_document.uri, True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MfkitLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls._guarded(ls.close, params.text_document.uri)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=list(adapter.CODE_ACTION_KINDS)),
    )
    def code_action(
        ls: MfkitLanguageServer, params: lsp.CodeActionParams
    ) -> Optional[list[lsp.CodeAction]]:
        try:
            result = ls.result(params.text_document.uri)
            if result is None:
                return None
            actions, errors = adapter.code_actions(
                result,
                params.range,
                params.context,
                ls.encoding,
                versioned=ls._client_supports("workspace", "workspace_edit", "document_changes"),
            )
        except Exception as exc:
            ls.log(f"code actions failed: internal error: {type(exc).__name__}: {exc}")
            return None
        for error in errors:
            ls.log(error)
        return actions

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: MfkitLanguageServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
        try:
            result = ls.result(params.text_document.uri)
            if result is None:
                return None
            formats = getattr(
                getattr(ls.client_capabilities.text_document, "hover", None),
                "content_format",
                None,
            )
            markdown = not formats or lsp.MarkupKind.Markdown in formats
            return adapter.hover(result, params.position, ls.encoding, markdown)
        except Exception as exc:
            ls.log(f"hover failed: internal error: {type(exc).__name__}: {exc}")
            return None

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: MfkitLanguageServer, params: None) -> None:
        ls.stop()

    return server


def serve() -> int:
    """Serve LSP over stdin/stdout until the client says exit. The exit code is 0 after a
    shutdown request and 1 without one, as LSP asks."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # The protocol owns stdout; a stray print (e.g. in a third-party rule) must not corrupt it.
    sys.stdout = sys.stderr
    server = create_server()
    server.start_io(stdin, stdout)
    return 0 if server.shutdown_requested else 1


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mfkit_lint.lsp", description="The mfkit-lint language server."
    )
    parser.add_argument(
        "--stdio", action="store_true", help="speak LSP over stdin/stdout (the default)"
    )
    parser.add_argument("--version", action="version", version=f"mfkit-lint {__version__}")
    parser.parse_args(argv)
    sys.exit(serve())
