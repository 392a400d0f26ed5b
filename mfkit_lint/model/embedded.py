"""Python that an extension writes into the scheduler's files, linted where it is written.

Extensions generate code: whole helper modules kept in one big string (often completed with
``%``/``.format``), or lists of source lines joined with ``"\\n"``. That code runs on the
workers, so its pitfalls matter as much as the extension's own. This module finds such code,
turns it into a virtual module (template holes become the name ``_``, an unknown value), and
maps positions in it back to the real file.
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.engine.source import Source
from mfkit_lint.model.commands import docstring_nodes, string_lists
from mfkit_lint.model.module import per_module
from mfkit_lint.model.templates import HOLE, Template, is_stringish, template_of
from mfkit_lint.model.usage import used_as_code

if TYPE_CHECKING:
    from mfkit_lint.model.module import ModuleModel

PLACEHOLDER = "_"  # what a template hole becomes in the virtual source: one unknown name
# Generated code worth a parse: it must mention something a rule looks at.
_WORTH_PARSING = ("--", "METAFLOW", "run_params", "deployer_attribute_file", "PYTHONPATH")
_MIN_LINES = 2


@dataclass
class EmbeddedSource:
    """A virtual module and, per character of its text, the real offset it came from."""

    source: Source
    tree: ast.Module
    offsets: list[Optional[int]]
    fallback: int  # real offset used for characters whose origin is unknown

    def real_span(self, real: Source, span: Span) -> Span:
        start = self._real(self.source.offset(span.start))
        end = self._real(max(self.source.offset(span.end) - 1, 0), end=True)
        return Span(real.location_at(start), real.location_at(max(end, start)))

    def _real(self, index: int, end: bool = False) -> int:
        if 0 <= index < len(self.offsets) and self.offsets[index] is not None:
            return self.offsets[index] + (1 if end else 0)
        return self.fallback


@per_module
def embedded_of(module: ModuleModel) -> list[EmbeddedSource]:
    """Generated Python inside this module's string templates (none inside generated code
    itself), computed once per module."""
    if module.generated:
        return []
    return embedded_sources(module)


def embedded_sources(module: ModuleModel) -> list[EmbeddedSource]:
    """The generated Python of a module, as one virtual module: every piece that parses on
    its own, one after the other, so a helper defined in one template and called from
    generated lines elsewhere meet as they will in the generated file."""
    parsed = [e for e in (_parse(module, p) for p in _code_templates(module)) if e is not None]
    if not any(w in e.source.text for e in parsed for w in _WORTH_PARSING):
        return []
    text = "\n".join(e.source.text for e in parsed)
    offsets: list[Optional[int]] = []
    for i, piece in enumerate(parsed):
        if i:
            offsets.append(None)
        offsets.extend(piece.offsets)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return parsed[:1]
    return [EmbeddedSource(Source(text), tree, offsets, parsed[0].fallback)]


def _code_templates(module: ModuleModel) -> list[list[Template]]:
    """Big string templates, and lists of generated lines (one template per line)."""
    found: list[list[Template]] = []
    in_lines: set[int] = set()
    for lines in string_lists(module):
        texts = [_literal_text(n) for n in lines]
        if any("\n" in t.rstrip("\n") for t in texts):
            continue  # pieces that are themselves multi-line templates: taken one by one
        in_lines.update(id(n) for n in lines)
        if not _looks_like_code(texts) or not any(used_as_code(module, n) for n in lines):
            continue  # not code, or lines that are never joined, written or run: data
        templates = [t for t in (template_of(module, n) for n in lines) if t is not None]
        if len(templates) >= _MIN_LINES and len(templates) == len(lines):
            found.append(templates)
    skip = docstring_nodes(module) | in_lines
    for node in module.nodes:
        if not isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)):
            continue
        if id(node) in skip or not is_stringish(node) or is_stringish(module.parent(node)):
            continue
        text = _literal_text(node)
        if text.count("\n") < _MIN_LINES or not any(w in text for w in _WORTH_PARSING):
            continue  # cheap test on the literal parts before building the template
        if not used_as_code(module, node):
            continue  # a snippet kept as data (a test case, an example), not generated code
        template = template_of(module, node)
        if (
            template is not None
            and template.text.count("\n") >= _MIN_LINES
            and any(w in template.text for w in _WORTH_PARSING)
        ):
            found.append([template])
    return found


def _literal_text(node: ast.AST) -> str:
    """The literal characters of a string expression (its constant parts), joined."""
    return "".join(
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )


def _looks_like_code(texts: list[str]) -> bool:
    """Cheap test before a parse: some line assigns or calls, and none is an argv option."""
    stripped = [t.strip() for t in texts]
    return any("=" in t or "(" in t for t in stripped) and not any(
        t.startswith("-") for t in stripped
    )


def _parse(module: ModuleModel, pieces: list[Template]) -> Optional[EmbeddedSource]:
    chars: list[str] = []
    offsets: list[Optional[int]] = []
    for i, piece in enumerate(pieces):
        if i:
            chars.append("\n")
            offsets.append(None)
        chars.append(piece.text.replace(HOLE, PLACEHOLDER))
        if piece.offsets is not None:
            offsets.extend(start for start, _ in piece.offsets)
        else:  # no character map: the whole piece points at its expression
            offsets.extend([module.source.offset(module.span(piece.node).start)] * len(piece.text))
    text = "".join(chars)
    text, offsets = _dedent(text, offsets)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not any(not isinstance(stmt, ast.Expr) for stmt in tree.body):
        return None  # prose or a lone expression, not generated code
    fallback = module.source.offset(module.span(pieces[0].node).start)
    return EmbeddedSource(Source(text), tree, offsets, fallback)


def _dedent(text: str, offsets: list[Optional[int]]) -> tuple[str, list[Optional[int]]]:
    """Remove the common indentation of the generated lines, keeping the offset map aligned."""
    dedented = textwrap.dedent(text)
    if dedented == text:
        return text, offsets
    new_offsets: list[Optional[int]] = []
    pos = 0
    for old_line, new_line in zip(text.split("\n"), dedented.split("\n")):
        cut = len(old_line) - len(new_line)
        new_offsets.extend(offsets[pos + cut : pos + len(old_line)])
        new_offsets.append(
            offsets[pos + len(old_line)] if pos + len(old_line) < len(offsets) else None
        )
        pos += len(old_line) + 1
    return dedented, new_offsets[: len(dedented)]
