"""From engine results to LSP values: positions, diagnostics, code actions and hover.

Pure functions over lsprotocol types (no pygls), so the server stays a thin shell around them.
Everything is computed from the text the editor holds, never from the file on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types as lsp

from mfkit_lint.engine.config import Settings, load_settings
from mfkit_lint.engine.diagnostic import Applicability, Diagnostic, Edit, Location
from mfkit_lint.engine.discovery import PYTHON_SUFFIXES
from mfkit_lint.engine.docs import pitfall_page
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import ENGINE_RULES, RegistryError, check_settings, rule_by_code
from mfkit_lint.engine.source import Source

SOURCE = "mfkit-lint"
FIX_ALL_KIND = "source.fixAll.mfkit-lint"
CODE_ACTION_KINDS = (lsp.CodeActionKind.QuickFix, FIX_ALL_KIND)
# Files that cannot be checked at all are errors; every finding of a rule is a warning.
_ERROR_CODES = frozenset(rule.code for rule in ENGINE_RULES)

UTF8 = lsp.PositionEncodingKind.Utf8
UTF16 = lsp.PositionEncodingKind.Utf16
UTF32 = lsp.PositionEncodingKind.Utf32


# -- positions --------------------------------------------------------------------------------
# The engine counts 1-based rows and 1-based characters (code points); LSP counts 0-based lines
# and 0-based code units of the negotiated encoding (UTF-16 unless the client offered another).
# Lines are split the way LSP and ``ast`` split them (\n, \r\n, \r), which is Source.lines.


def _units(text: str, encoding: str) -> int:
    """Length of ``text`` in code units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)  # surrogate pairs


def to_position(source: Source, loc: Location, encoding: str = UTF16) -> lsp.Position:
    lines = source.lines
    if loc.row > len(lines):
        return lsp.Position(line=len(lines) - 1, character=_units(lines[-1], encoding))
    row = max(loc.row, 1)
    line = lines[row - 1]
    column = min(max(loc.column, 1) - 1, len(line))
    return lsp.Position(line=row - 1, character=_units(line[:column], encoding))


def to_location(source: Source, position: lsp.Position, encoding: str = UTF16) -> Location:
    lines = source.lines
    if position.line >= len(lines):
        return Location(len(lines), len(lines[-1]) + 1)
    line = lines[position.line]
    if encoding == UTF32 or line.isascii():
        return Location(position.line + 1, min(position.character, len(line)) + 1)
    column = used = 0
    for char in line:
        used += _units(char, encoding)
        if used > position.character:  # a position inside a character means that character
            break
        column += 1
    return Location(position.line + 1, column + 1)


def to_range(source: Source, start: Location, end: Location, encoding: str) -> lsp.Range:
    return lsp.Range(
        start=to_position(source, start, encoding), end=to_position(source, end, encoding)
    )


# -- linting ----------------------------------------------------------------------------------


def is_python(language_id: Optional[str], path: Optional[str]) -> bool:
    return language_id == "python" or (path or "").endswith(PYTHON_SUFFIXES)


def settings_for(directory: Path) -> tuple[Settings, list[str]]:
    """The settings of the nearest pyproject.toml above ``directory``; a configuration that
    cannot be used gives the defaults and says why (the CLI would stop with exit 2 instead)."""
    try:
        settings = load_settings(None, directory)
        check_settings(settings)
    except Exception as exc:  # ConfigError, RegistryError, anything else: the server lives on
        where = directory if directory.is_dir() else directory.parent
        return Settings(root=where.resolve()), [f"configuration ignored, using defaults: {exc}"]
    return settings, []


@dataclass
class LintResult:
    """One lint of one version of an open document."""

    uri: str
    version: Optional[int]
    filename: str
    source: Source
    linter: Linter
    diagnostics: list[Diagnostic]
    errors: list[str] = field(default_factory=list)  # rule crashes
    config_errors: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.linter.settings


def lint_text(
    uri: str, text: str, version: Optional[int], path: Optional[Path], fallback_dir: Path
) -> LintResult:
    """Lint an editor buffer. ``path`` is the document's file (None for e.g. untitled buffers,
    whose settings come from ``fallback_dir``); it is used for configuration and per-file
    ignores only, and is never read."""
    settings, config_errors = settings_for(path.parent if path is not None else fallback_dir)
    linter = Linter(settings)
    source = Source(text, "utf-8", text.encode("utf-8", "surrogatepass"))
    filename = str(path) if path is not None else uri
    errors: list[str] = []
    diagnostics = linter.lint_source(source, filename, errors)
    return LintResult(uri, version, filename, source, linter, diagnostics, errors, config_errors)


def to_lsp_diagnostic(diag: Diagnostic, result: LintResult, encoding: str) -> lsp.Diagnostic:
    fix: Optional[dict[str, Any]] = None
    if diag.fix is not None:
        fix = {"applicability": diag.fix.applicability.value, "message": diag.fix.message}
    return lsp.Diagnostic(
        range=to_range(result.source, diag.location, diag.end_location, encoding),
        message=diag.message,
        severity=(
            lsp.DiagnosticSeverity.Error
            if diag.code in _ERROR_CODES
            else lsp.DiagnosticSeverity.Warning
        ),
        code=diag.code,
        code_description=lsp.CodeDescription(href=diag.url) if diag.url else None,
        source=SOURCE,
        # What a code action needs to find the finding again in the same document version.
        data={"name": diag.name, "version": result.version, "fix": fix},
    )


# -- code actions -----------------------------------------------------------------------------


def _wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _range_key(code: Any, rng: lsp.Range) -> tuple:
    return (str(code), rng.start.line, rng.start.character, rng.end.line, rng.end.character)


def _text_edit(source: Source, edit: Edit, encoding: str) -> lsp.TextEdit:
    return lsp.TextEdit(
        range=to_range(source, edit.location, edit.end_location, encoding), new_text=edit.content
    )


def _workspace_edit(
    result: LintResult, edits: list[lsp.TextEdit], versioned: bool
) -> lsp.WorkspaceEdit:
    if versioned:  # the client refuses the edit if the document changed in between
        document = lsp.OptionalVersionedTextDocumentIdentifier(
            uri=result.uri, version=result.version
        )
        return lsp.WorkspaceEdit(
            document_changes=[lsp.TextDocumentEdit(text_document=document, edits=edits)]
        )
    return lsp.WorkspaceEdit(changes={result.uri: edits})


def code_actions(
    result: LintResult,
    request_range: lsp.Range,
    context: lsp.CodeActionContext,
    encoding: str = UTF16,
    versioned: bool = False,
) -> tuple[list[lsp.CodeAction], list[str]]:
    """A quick fix for each fixable finding in ``request_range`` (or among the diagnostics the
    client names), and "fix all"; plus the internal errors met on the way."""
    from mfkit_lint.fixers.apply import compute_edits, edit_between, fix_text

    source = result.source
    actions: list[lsp.CodeAction] = []
    errors: list[str] = []
    if _wanted(lsp.CodeActionKind.QuickFix, context.only):
        low = to_location(source, request_range.start, encoding)
        high = to_location(source, request_range.end, encoding)
        named = {_range_key(d.code, d.range) for d in context.diagnostics if d.source == SOURCE}
        published = [(d, to_lsp_diagnostic(d, result, encoding)) for d in result.diagnostics]
        candidates = [
            (diag, published_diag)
            for diag, published_diag in published
            if diag.fix is not None
            and (
                (diag.location <= high and low <= diag.end_location)
                or _range_key(diag.code, published_diag.range) in named
            )
        ]
        try:
            compute_edits(source, [diag for diag, _ in candidates])
        except Exception as exc:  # a broken fixer costs its quick fixes, not the server
            errors.append(f"{result.filename}: quick fixes not computed: {_describe(exc)}")
            candidates = []
        for diag, published_diag in candidates:
            if diag.fix is None or not diag.fix.edits:  # withdrawn: the codemod could not apply
                continue
            safe = diag.fix.applicability == Applicability.SAFE
            edits = [_text_edit(source, edit, encoding) for edit in diag.fix.edits]
            actions.append(
                lsp.CodeAction(
                    title=f"Fix {diag.code}: {diag.fix.message}" + ("" if safe else " (unsafe)"),
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[published_diag],
                    is_preferred=safe,
                    edit=_workspace_edit(result, edits, versioned),
                )
            )
    unsafe = result.settings.unsafe_fixes
    if _wanted(FIX_ALL_KIND, context.only) and any(
        d.fix_allowed(unsafe) for d in result.diagnostics
    ):
        try:
            outcome = fix_text(
                source,
                lambda s: result.linter.lint_source(s, result.filename),
                list(result.diagnostics),
                unsafe,
            )
        except Exception as exc:
            errors.append(f"{result.filename}: fixes not computed: {_describe(exc)}")
        else:
            if outcome.fixed and outcome.text != source.text:
                edit = _text_edit(source, edit_between(source, outcome.text), encoding)
                actions.append(
                    lsp.CodeAction(
                        title=(
                            "Fix all mfkit-lint fixes (unsafe included)"
                            if unsafe
                            else "Fix all mfkit-lint safe fixes"
                        ),
                        kind=FIX_ALL_KIND,
                        edit=_workspace_edit(result, [edit], versioned),
                    )
                )
    return actions, errors


# -- hover ------------------------------------------------------------------------------------


def hover(
    result: LintResult, position: lsp.Position, encoding: str = UTF16, markdown: bool = True
) -> Optional[lsp.Hover]:
    """The pitfall page of each rule with a finding under ``position``."""
    source = result.source
    here = to_location(source, position, encoding)
    pages: list[str] = []
    first: Optional[Diagnostic] = None
    for diag in result.diagnostics:
        end = max(diag.end_location, Location(diag.location.row, diag.location.column + 1))
        if not diag.location <= here <= end:
            continue
        try:
            page = pitfall_page(rule_by_code(diag.code))
        except RegistryError:
            continue
        if page not in pages:
            pages.append(page)
        first = first or diag
    if first is None:
        return None
    return lsp.Hover(
        contents=lsp.MarkupContent(
            kind=lsp.MarkupKind.Markdown if markdown else lsp.MarkupKind.PlainText,
            value="\n\n---\n\n".join(pages),
        ),
        range=to_range(source, first.location, first.end_location, encoding),
    )


def _describe(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"
