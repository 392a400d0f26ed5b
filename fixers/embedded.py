"""Fixes inside generated code: the codemod edits the virtual module (the Python an extension
keeps in a template string), and the edits are written back into the template's literal text.

A virtual edit is written back only when the characters it replaces come, in order, from one
stretch of one literal (no escape sequence, no template hole inside), and when the text
inserted can be spelled in that literal (its quotes, its prefix, its indentation). The result
is then checked the strong way: the fixed file, read as generated code again, must give
exactly the fixed virtual module. Anything else withdraws the fix and says why.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import tokenize
import warnings
from typing import TYPE_CHECKING, Optional

from mfkit_lint.engine.diagnostic import Diagnostic, Edit, Location, Span
from mfkit_lint.engine.linter import EMBEDDED_KEY
from mfkit_lint.engine.source import Source
from mfkit_lint.fixers.base import FixNotApplicable

if TYPE_CHECKING:
    from mfkit_lint.model.embedded import EmbeddedSource
    from mfkit_lint.model.module import ModuleModel


class NotWritable(FixNotApplicable):
    """The fixed generated code cannot be written back into the template."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_embedded(diag: Diagnostic) -> bool:
    return EMBEDDED_KEY in diag.fix_data


def virtual_diagnostic(diag: Diagnostic) -> tuple[int, Diagnostic]:
    """The finding as the codemod sees it: positioned in the virtual module."""
    data = dict(diag.fix_data)
    where = data.pop(EMBEDDED_KEY)
    r1, c1, r2, c2 = where["span"]
    span = Span(Location(r1, c1), Location(r2, c2))
    return where["index"], dataclasses.replace(diag, span=span, fix_data=data)


def virtual_modules(source: Source) -> list:
    """The generated code of ``source`` (model.embedded), as the linter found it."""
    from mfkit_lint.model.embedded import embedded_of

    return embedded_of(_module(source))


def _module(source: Source) -> ModuleModel:
    from mfkit_lint.model.module import ModuleModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source.text)
    return ModuleModel(source, tree)


def write_back(source: Source, index: int, new_virtual: str) -> tuple[Edit, ...]:
    """Real edits that turn the template into one generating ``new_virtual``: each changed
    run of lines written inside one literal, or else as whole pieces of a list of generated
    lines (fixers.line_pieces)."""
    from mfkit_lint.fixers.apply import line_blocks, trimmed
    from mfkit_lint.model.embedded import embedded_of

    module = _module(source)
    embedded = embedded_of(module)[index]
    virtual = embedded.source
    literals = _string_tokens(source.text)
    edits = []
    failed: list[tuple[tuple[int, int, str], NotWritable]] = []
    for a, b, after in line_blocks(virtual.text, new_virtual):
        start, end, content = trimmed(virtual.text[a:b], after)
        try:
            edits.append(_literal_edit(source, embedded, literals, a + start, a + end, content))
        except NotWritable as exc:
            failed.append(((a, b, after), exc))
    if failed:
        edits.extend(_piece_edits(source, module, embedded, failed))
    fixed = _apply(
        source.text,
        [(source.offset(e.location), source.offset(e.end_location), e.content) for e in edits],
    )
    try:
        regenerated = virtual_modules(Source(fixed))
    except SyntaxError as exc:
        raise NotWritable("the fixed template would not parse") from exc
    if len(regenerated) <= index or regenerated[index].source.text != new_virtual:
        raise NotWritable(
            "the fixed template would not generate the fixed code (it is completed by "
            "formatting or built from pieces the fix cannot follow)"
        )
    return tuple(edits)


def _literal_edit(
    source: Source,
    embedded: EmbeddedSource,
    literals: list[tuple[int, int, str]],
    a: int,
    b: int,
    content: str,
) -> Edit:
    """The virtual edit of characters ``[a, b)`` written inside one literal of the template."""
    virtual = embedded.source
    start, end = _real_range(embedded.offsets, a, b, virtual.text, source.text)
    token = _token_at(literals, start, end)
    if token is None:
        raise NotWritable("the generated text there is not written in one string literal")
    indent = _indent(source, virtual, embedded.offsets, a)
    content = _spell(content, token, indent)
    if (a == 0 or virtual.text[a - 1] == "\n") and source.text[
        start - len(indent) : start
    ] == indent:
        # A whole-line edit: it starts where the template's line starts, indentation
        # included, and what it inserts is indented like the template's lines.
        start -= len(indent)
        end = start if a == b else end
        if content and not content.startswith("\n"):
            content = indent + content
    return Edit(content, source.location_at(start), source.location_at(end))


def _piece_edits(
    source: Source,
    module: ModuleModel,
    embedded: EmbeddedSource,
    failed: list[tuple[tuple[int, int, str], NotWritable]],
) -> list[Edit]:
    """Runs of whole generated lines that no literal holds (a statement spread over several
    elements of a list of lines), written as whole elements."""
    from mfkit_lint.fixers.line_pieces import LinePieces, PiecesNotWritable

    text = embedded.source.text
    if text.splitlines() != text.split("\n")[: len(text.splitlines())]:
        raise failed[0][1]  # line breaks other than "\n": lines cannot be counted alike
    blocks = []
    for (a, b, after), _ in failed:
        first = text.count("\n", 0, a)
        blocks.append((first, first + len(text[a:b].splitlines()), after.splitlines()))
    try:
        edits = LinePieces(module, embedded).edits(blocks)
    except PiecesNotWritable as exc:
        if not exc.pieces:
            raise failed[0][1] from exc
        raise NotWritable(exc.reason) from exc
    return [Edit(c, source.location_at(s), source.location_at(e)) for s, e, c in edits]


def _real_range(
    offsets: list[Optional[int]], a: int, b: int, virtual: str, real: str
) -> tuple[int, int]:
    """The real offsets of virtual characters ``[a, b)``: consecutive, except after a line
    break, where the template's indentation (removed from the virtual module) is skipped."""
    if a == b:  # an insertion: before character a, or after character a - 1
        if a < len(offsets) and offsets[a] is not None:
            return offsets[a], offsets[a]
        if a > 0 and offsets[a - 1] is not None:
            return offsets[a - 1] + 1, offsets[a - 1] + 1
        raise NotWritable("the insertion point is not inside a literal of the template")
    first = offsets[a] if a < len(offsets) else None
    if first is None:
        raise NotWritable("the changed text is not inside a literal of the template")
    previous = first
    for k in range(a + 1, b):
        current = offsets[k] if k < len(offsets) else None
        skipped = real[previous + 1 : current] if current is not None else "x"
        if current is None or not (
            current == previous + 1
            or (virtual[k - 1] == "\n" and current > previous and skipped.strip(" \t") == "")
        ):
            raise NotWritable(
                "the changed text spans a template hole, an escape sequence or two literals"
            )
        previous = current
    return first, previous + 1


def _string_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start offset, end offset, token text) of every string literal of ``text``."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out = []
    readline = io.StringIO(text).readline
    try:
        for tok in tokenize.generate_tokens(readline):
            if tok.type == tokenize.STRING:
                a = starts[tok.start[0] - 1] + tok.start[1]
                b = starts[tok.end[0] - 1] + tok.end[1]
                out.append((a, b, tok.string))
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _token_at(tokens: list[tuple[int, int, str]], start: int, end: int) -> Optional[str]:
    for a, b, text in tokens:
        if a < start and end < b:
            return text
    return None


def _spell(content: str, token: str, indent: str) -> str:
    """``content`` as characters of the literal ``token`` (its prefix and quotes)."""
    prefix = ""
    while token and token[0].isalpha():
        prefix += token[0].lower()
        token = token[1:]
    quote = token[:3] if token[:3] in ('"""', "'''") else token[:1]
    if "b" in prefix:
        raise NotWritable("the template is a bytes literal")
    if "\n" in content:
        if len(quote) != 3:
            raise NotWritable("the text spans lines but the literal is on one line")
        content = "\n".join(
            line if i == 0 or not line else indent + line
            for i, line in enumerate(content.split("\n"))
        )
    if "r" not in prefix:
        content = content.replace("\\", "\\\\")
    elif "\\" in content:
        raise NotWritable("a backslash cannot be written into this raw literal")
    if "f" in prefix:
        content = content.replace("{", "{{").replace("}", "}}")
    if quote in content:
        raise NotWritable("the text would close the literal's quotes")
    return content


def _indent(source: Source, virtual: Source, offsets: list[Optional[int]], a: int) -> str:
    """What the template adds in front of each generated line (removed by the dedent)."""
    line_start = virtual.offset(Location(virtual.location_at(a).row, 1))
    k = line_start
    while k < len(offsets) and offsets[k] is None and virtual.text[k] != "\n":
        k += 1
    if k >= len(offsets) or offsets[k] is None:
        return ""
    real_column = source.location_at(offsets[k]).column - 1
    virtual_column = k - line_start
    real_line = source.line(source.location_at(offsets[k]).row) or ""
    cut = real_column - virtual_column
    prefix = real_line[:cut] if cut > 0 else ""
    return prefix if prefix.strip() == "" else ""


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for a, b, content in sorted(edits, reverse=True):
        text = text[:a] + content + text[b:]
    return text
