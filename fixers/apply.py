"""Computing fixes as edits, applying them without conflicts, and re-linting until stable."""

from __future__ import annotations

import ast
import importlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from mfkit_lint.engine.diagnostic import Diagnostic, Edit, codemod_target
from mfkit_lint.engine.source import Source
from mfkit_lint.fixers.base import Codemod, FixNotApplicable

MAX_PASSES = 10


def _codemod_class(spec: str) -> type[Codemod]:
    module_name, class_name = codemod_target(spec)
    return getattr(importlib.import_module(module_name), class_name)


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def _edit(source: Source, old: str, new: str) -> Edit:
    """The smallest single replacement that turns ``old`` into ``new``."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return Edit(new[start:end_new], source.location_at(start), source.location_at(end_old))


def line_blocks(old: str, new: str) -> list[tuple[int, int, str]]:
    """The changed runs of whole lines: (start offset, end offset) in ``old`` and the text
    that replaces them."""
    import difflib

    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    return [
        (starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def trimmed(before: str, after: str) -> tuple[int, int, str]:
    """What really changes between two texts: (start, end) in ``before`` and its new text."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(before), len(after)) - head
        and before[len(before) - 1 - tail] == after[len(after) - 1 - tail]
    ):
        tail += 1
    return head, len(before) - tail, after[head : len(after) - tail]


def minimal_edits(source: Source, old: str, new: str) -> tuple[Edit, ...]:
    """The edits that turn ``old`` into ``new``, one per changed run of lines and each trimmed
    to what really changes: a fix that moves an option from one list to another yields two
    small edits, not one that re-emits every line in between."""
    edits = []
    for a, b, after in line_blocks(old, new):
        start, end, content = trimmed(old[a:b], after)
        edits.append(Edit(content, source.location_at(a + start), source.location_at(a + end)))
    return tuple(edits)


def edit_between(source: Source, new_text: str) -> Edit:
    """The smallest single edit that turns ``source.text`` into ``new_text`` (e.g. for an editor
    applying the result of ``fix_text`` without replacing the whole buffer)."""
    return _edit(source, source.text, new_text)


def compute_edits(source: Source, diagnostics: Sequence[Diagnostic]) -> None:
    """Fill ``diag.fix.edits`` for every fixable diagnostic (one libcst parse per file).

    A fix whose codemod changes nothing or whose result does not parse is withdrawn.
    """
    fixable = [d for d in diagnostics if d.fix is not None and d.codemod]
    from mfkit_lint.fixers.embedded import is_embedded

    generated = [d for d in fixable if is_embedded(d)]
    fixable = [d for d in fixable if not is_embedded(d)]
    for diag in generated:
        _compute_embedded(source, diag)
    if not fixable:
        return
    try:
        wrapper = MetadataWrapper(cst.parse_module(source.text), unsafe_skip_copy=True)
        wrapper.resolve(PositionProvider)
    except Exception:  # libcst cannot take this file (e.g. nesting deeper than it handles)
        for diag in fixable:
            diag.fix = None
            diag.no_fix_reason = "libcst cannot parse this file, so no fix can be computed"
        return
    for diag in fixable:
        try:
            codemod = _codemod_class(diag.codemod)(diag)
            new_text = wrapper.visit(codemod).code
        except (FixNotApplicable, RecursionError):
            new_text = source.text
        if new_text == source.text or not _parses(new_text):
            diag.fix = None
            diag.no_fix_reason = (
                "the fix found nothing it can change safely here"
                if new_text == source.text
                else "the fixed code would not parse, so the fix was withdrawn"
            )
            continue
        diag.fix = replace(diag.fix, edits=minimal_edits(source, source.text, new_text))


def _compute_embedded(source: Source, diag: Diagnostic) -> None:
    """A fix inside generated code: run the codemod on the virtual module, write it back."""
    from mfkit_lint.fixers.embedded import (
        NotWritable,
        virtual_diagnostic,
        virtual_modules,
        write_back,
    )

    try:
        index, virtual_diag = virtual_diagnostic(diag)
        virtual = virtual_modules(source)[index].source
        wrapper = MetadataWrapper(cst.parse_module(virtual.text), unsafe_skip_copy=True)
        new_text = wrapper.visit(_codemod_class(diag.codemod)(virtual_diag)).code
        if new_text == virtual.text or not _parses(new_text):
            raise FixNotApplicable
        edits = write_back(source, index, new_text)
    except NotWritable as exc:
        diag.fix = None
        diag.no_fix_reason = f"in generated code: {exc.reason}"
        return
    except Exception:  # FixNotApplicable, libcst limits, a template that moved
        diag.fix = None
        diag.no_fix_reason = "in generated code: the fix found nothing it can change safely"
        return
    diag.fix = replace(diag.fix, edits=edits)


def _offsets(source: Source, edit: Edit) -> tuple[int, int]:
    return source.offset(edit.location), source.offset(edit.end_location)


def apply_edits(source: Source, diagnostics: Sequence[Diagnostic]) -> tuple[str, list[Diagnostic]]:
    """Apply non-overlapping fixes in one go; the rest wait for the next pass."""
    chosen: list[tuple[int, int, str, Diagnostic]] = []
    for diag in sorted(diagnostics, key=lambda d: d.span.start):
        if diag.fix is None or not diag.fix.edits:
            continue
        spans = [(*_offsets(source, e), e.content) for e in diag.fix.edits]
        if any(
            (s < ce and cs < e) or (s == e == cs == ce)
            for s, e, _ in spans
            for cs, ce, _, _ in chosen
        ):
            continue
        chosen.extend((s, e, c, diag) for s, e, c in spans)
    text = source.text
    for start, end, content, _ in sorted(chosen, key=lambda c: c[0], reverse=True):
        text = text[:start] + content + text[end:]
    return text, list({id(c[3]): c[3] for c in chosen}.values())


@dataclass
class FixOutcome:
    text: str
    fixed: list[Diagnostic]
    remaining: list[Diagnostic]


def fix_text(
    source: Source,
    lint: Callable[[Source], list[Diagnostic]],
    diagnostics: list[Diagnostic],
    unsafe: bool,
) -> FixOutcome:
    """Apply the allowed fixes until none is left (or MAX_PASSES), re-linting after each pass."""
    fixed: list[Diagnostic] = []
    current = source
    for _ in range(MAX_PASSES):
        allowed = [d for d in diagnostics if d.fix_allowed(unsafe)]
        if not allowed:
            break
        compute_edits(current, allowed)
        new_text, applied = apply_edits(current, allowed)
        if not applied or new_text == current.text or not _parses(new_text):
            break
        fixed.extend(applied)
        current = Source(new_text, current.encoding, current.encode(new_text))
        diagnostics = lint(current)
    return FixOutcome(current.text, fixed, diagnostics)
