"""Python that an extension writes into the scheduler's files, linted where it is written.

Extensions generate code: whole helper modules kept in one big string (often completed with
``%``/``.format``), or lists of source lines joined with ``"\\n"``. That code runs on the
workers, so its pitfalls matter as much as the extension's own. This module finds such code,
turns it into a virtual module (template holes become the name ``_``, an unknown value), and
maps positions in it back to the real file.
"""

from __future__ import annotations

import ast
import io
import textwrap
import tokenize
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.engine.source import Source
from mfkit_lint.model.commands import (
    STRING_EXPRESSIONS,
    Token,
    among_elements,
    docstring_nodes,
    joined_name,
    joined_words,
    returned_words,
    string_lists,
)
from mfkit_lint.model.module import per_module
from mfkit_lint.model.templates import (
    HOLE,
    Template,
    completed_template,
    is_stringish,
    literal_parts,
    template_of,
)
from mfkit_lint.model.usage import is_test_module, used_as_code
from mfkit_lint.model.values import values_of

if TYPE_CHECKING:
    from mfkit_lint.model.module import ModuleModel

PLACEHOLDER = "_"  # what a template hole becomes in the virtual source: one unknown name
# Marks, while the virtual source is built, the holes inside the literals of pasted words:
# they stay holes (an unknown part of one word), not the name ``_``.
_KEPT = "\x00"
# Generated code worth a parse: it must mention something a rule looks at.
_WORTH_PARSING = ("--", "METAFLOW", "run_params", "deployer_attribute_file", "PYTHONPATH")
# A template may get its options only where its fields are filled (words the generator pastes):
# one that starts a process is worth a parse as well.
_WORTH_FILLING = (*_WORTH_PARSING, "subprocess", "sys.executable")
_MIN_LINES = 2


@dataclass
class EmbeddedSource:
    """A virtual module and, per character of its text, the real offset it came from."""

    source: Source
    tree: ast.Module
    offsets: list[Optional[int]]
    fallback: int  # real offset used for characters whose origin is unknown
    # Words the generator's lists paste in (every character maps to the word's start): a
    # span that starts on one covers the whole word, as the generator's own command does.
    word_ends: dict[int, int] = field(default_factory=dict)

    def real_span(self, real: Source, span: Span) -> Span:
        start = self._real(self.source.offset(span.start))
        end = self._real(max(self.source.offset(span.end) - 1, 0), end=True)
        end = max(end, self.word_ends.get(start, end))
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
    ends = {k: v for piece in parsed for k, v in piece.word_ends.items()}
    return [EmbeddedSource(Source(text), tree, offsets, parsed[0].fallback, ends)]


def _code_templates(module: ModuleModel) -> list[list[Template]]:
    """Big string templates, and lists of generated lines (one template per line)."""
    if is_test_module(module):
        return []  # what a test writes out or runs is its input, never used as code
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
    candidates = _multiline_expressions(module)
    if not candidates:
        return found
    skip = docstring_nodes(module) | in_lines
    for node in candidates:
        if id(node) in skip or not is_stringish(node) or is_stringish(module.parent(node)):
            continue
        text = _literal_text(node)
        if text.count("\n") < _MIN_LINES or not any(w in text for w in _WORTH_FILLING):
            continue  # cheap test on the literal parts before building the template
        if not used_as_code(module, node):
            continue  # a snippet kept as data (a test case, an example), not generated code
        template = completed_template(module, node) or template_of(module, node)
        if (
            template is not None
            and template.text.count("\n") >= _MIN_LINES
            and any(w in template.text for w in _WORTH_FILLING)
        ):
            found.append([template])
    return found


def _multiline_expressions(module: ModuleModel) -> list[ast.AST]:
    """The string expressions whose literal text may hold a line break, in the order of
    ``nodes``: a string literal with one, and the expressions it is part of. Others have no
    second line, so the walk over every string expression of the module is not needed."""
    seen: set[int] = set()
    found: list[ast.AST] = []
    for node in module.nodes_of(ast.Constant):
        value = node.value  # type: ignore[attr-defined]
        if value.__class__ is str and "\n" in value:
            current: Optional[ast.AST] = node
            # Up to the statement: no expression holds a statement (a docstring stops at once).
            while current is not None and id(current) not in seen:
                seen.add(id(current))
                if isinstance(current, STRING_EXPRESSIONS):
                    found.append(current)
                elif isinstance(current, ast.stmt):
                    break
                current = module.parent(current)
    return module.ordered(found)


def _literal_text(node: ast.AST) -> str:
    """The literal characters of a string expression (its constant parts), joined."""
    return "".join(literal_parts(node))


def _looks_like_code(texts: list[str]) -> bool:
    """Cheap test before a parse: some line assigns or calls, and none is an argv option."""
    stripped = [t.strip() for t in texts]
    return any("=" in t or "(" in t for t in stripped) and not any(
        t.startswith("-") for t in stripped
    )


def _parse(module: ModuleModel, pieces: list[Template]) -> Optional[EmbeddedSource]:
    chars: list[str] = []
    offsets: list[Optional[int]] = []
    ends: dict[int, int] = {}
    for i, piece in enumerate(pieces):
        if i:
            chars.append("\n")
            offsets.append(None)
        if piece.offsets is not None:
            piece_offsets: list[Optional[int]] = [start for start, _ in piece.offsets]
        else:  # no character map: the whole piece points at its expression
            piece_offsets = [module.source.offset(module.span(piece.node).start)] * len(piece.text)
        text, piece_offsets = _pasted_words(module, piece, piece_offsets, ends)
        chars.append(text.replace(HOLE, PLACEHOLDER).replace(_KEPT, HOLE))
        offsets.extend(piece_offsets)
    text = "".join(chars)
    text, offsets = _dedent(text, offsets)
    tree = _parsed(text)
    if tree is None:
        # A hole alone among a dict display's entries (``env.update({..., %(extra)s})``)
        # pastes entries: it reads as ``**_``.
        text, offsets = _line_holes(*_entries_holes(text, offsets))
        tree = _parsed(text)
    if tree is None:
        return None
    if not any(not isinstance(stmt, ast.Expr) for stmt in tree.body):
        return None  # prose or a lone expression, not generated code
    fallback = module.source.offset(module.span(pieces[0].node).start)
    return EmbeddedSource(Source(text), tree, offsets, fallback, ends)


def _parsed(text: str) -> Optional[ast.Module]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _line_holes(text: str, offsets: list[Optional[int]]) -> tuple[str, list[Optional[int]]]:
    """A hole alone on its line pastes lines of code: indented like the line after it."""
    lines = text.split("\n")
    if not any(line.strip() == PLACEHOLDER for line in lines):
        return text, offsets
    out_lines: list[str] = []
    out: list[Optional[int]] = []
    pos = 0
    for i, line in enumerate(lines):
        width = len(line) + (1 if i < len(lines) - 1 else 0)
        mine = offsets[pos : pos + width]
        if line.strip() == PLACEHOLDER:
            after = next((n for n in lines[i + 1 :] if n.strip()), "")
            pad = after[: len(after) - len(after.lstrip())]
            at = mine[len(line) - len(line.lstrip())] if mine else None
            mine = [at] * (len(pad) + 1) + mine[len(line) :]  # and the line break's
            line = pad + PLACEHOLDER
        out_lines.append(line)
        out.extend(mine)
        pos += width
    return "\n".join(out_lines), out


def _entries_holes(text: str, offsets: list[Optional[int]]) -> tuple[str, list[Optional[int]]]:
    """``_`` standing alone as an entry of a dict display, written ``**_``."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    found: list[int] = []
    brackets: list[str] = []
    previous = ""
    pending: Optional[int] = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                continue
            if pending is not None and tok.string in (",", "}"):
                found.append(pending)
            pending = None
            if tok.string in ("(", "[", "{"):
                brackets.append(tok.string)
            elif tok.string in (")", "]", "}") and brackets:
                brackets.pop()
            elif tok.string == PLACEHOLDER and brackets[-1:] == ["{"] and previous in ("{", ","):
                pending = starts[tok.start[0] - 1] + tok.start[1]
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    for index in reversed(found):
        text = text[:index] + "**" + text[index:]
        at = offsets[index] if index < len(offsets) else None
        offsets = [*offsets[:index], at, at, *offsets[index:]]
    return text, offsets


def _pasted_words(
    module: ModuleModel,
    piece: Template,
    offsets: list[Optional[int]],
    ends: dict[int, int],
    depth: int = 0,
) -> tuple[str, list[Optional[int]]]:
    """The piece's text with each hole whose words the generator knows written out as the
    Python source it produces: a list of words (``{top_args!r}``, a helper returning the
    list) as a list literal, source fragments joined with ``", "`` (``%(top_args)s`` among
    a list's elements) as those elements. A word added on some paths only becomes
    ``*([...] if _ else [])``, words whose number is unknown ``*_``: in the generated module
    the command model reads them as it reads the generator's list."""
    if HOLE not in piece.text:
        return piece.text, offsets
    chars: list[str] = []
    out: list[Optional[int]] = []
    pos = 0
    for expr in piece.exprs:
        hole = piece.text.find(HOLE, pos)
        if hole < 0:
            break
        chars.append(piece.text[pos:hole])
        out.extend(offsets[pos:hole])
        words = _words_of_hole(module, piece, hole, expr)
        if words is not None:
            source = _source_of_words(module, *words, ends)
        else:
            source = _pasted_template(module, piece, hole, expr, ends, depth)
        if source is None:
            chars.append(HOLE)
            out.append(offsets[hole])
        else:
            chars.append(source[0])
            out.extend(source[1])
        pos = hole + 1
    chars.append(piece.text[pos:])
    out.extend(offsets[pos:])
    return "".join(chars), out


_MAX_PASTE_DEPTH = 4


def _pasted_template(
    module: ModuleModel,
    piece: Template,
    hole: int,
    expr: Optional[ast.expr],
    ends: dict[int, int],
    depth: int,
) -> Optional[tuple[str, list[Optional[int]]]]:
    """A hole filled with a string the generator renders from a template of its own (a
    helper's rendered text, handed down through parameters or a returned tuple): that
    template's text, its own holes pasted the same way, when it pastes words of its own or
    stands alone on its line as lines of code (``{preamble}``)."""
    if expr is None or depth >= _MAX_PASTE_DEPTH:
        return None
    found = values_of(module).origin(expr)
    if found is None or found[1].module is not module or not is_stringish(found[0]):
        return None
    template = template_of(module, found[0])
    if template is None or template.offsets is None:
        return None
    inner = [s for s, _ in template.offsets]
    text, where = _pasted_words(module, template, inner, ends, depth + 1)
    if text == template.text and not ("\n" in text.strip() and _alone_on_line(piece.text, hole)):
        return None  # a value of its own (a name, a number): one unknown, as before
    return text, where


def _alone_on_line(text: str, index: int) -> bool:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end >= 0 else len(text)].strip() == text[index]


def _words_of_hole(
    module: ModuleModel, piece: Template, hole: int, expr: Optional[ast.expr]
) -> Optional[tuple[list[Token], bool]]:
    """The words a hole pastes, and whether they go in as elements among a list's others
    (source fragments) rather than as one list literal; None when the generator's value is
    not such a list."""
    if expr is None or piece.offsets is None:
        return None
    start, end = piece.offsets[hole]
    if _repr_field(module.source.text[start:end]):
        value = values_of(module).single_assignment(expr)
        helper = module.local_function(value) if isinstance(value, ast.Call) else None
        words = returned_words(module, helper) if helper is not None else None
        return (words, False) if words else None
    (value, *others) = values_of(module).alternatives(expr)
    if others or not among_elements(piece.text, hole) or _fragment_join(value) is None:
        return None
    words = joined_words(module, value)
    return (words, True) if words else None


def _repr_field(field: str) -> bool:
    """``{name!r}`` or ``%r`` / ``%(name)r``: the value is written as its ``repr``."""
    return field.endswith("!r}") or (field.startswith("%") and field.endswith("r"))


def _fragment_join(node: ast.expr) -> Optional[str]:
    """``x`` of ``", ".join(x)`` (any separator that is a comma and blanks)."""
    name = joined_name(node)
    joiner = node.func.value if name is not None else None
    if isinstance(joiner, ast.Constant) and str(joiner.value).strip() == ",":
        return name
    return None


def _source_of_words(
    module: ModuleModel, words: list[Token], elements: bool, ends: dict[int, int]
) -> Optional[tuple[str, list[Optional[int]]]]:
    """Python source for the words (a list literal, or its elements only), and per
    character the real offset it comes from; None when a word lies in another file."""
    if any(w.span.file is not None for w in words):
        return None
    items: list[tuple[str, list[Optional[int]]]] = []
    run: list[tuple[str, list[Optional[int]]]] = []

    def close_run() -> None:
        if run:
            first = run[0][1][0]
            body, where = _joined(run)
            head, tail = "*([", "] if _ else [])"
            items.append((head + body + tail, [first] * len(head) + where + [first] * len(tail)))
            run.clear()

    for word in words:
        text = _word_source(word, elements)
        start = module.source.offset(word.span.start)
        ends[start] = max(module.source.offset(word.span.end), start + 1)
        item = (text, [start] * len(text))
        if word.conditional:
            run.append(item)
            continue
        close_run()
        items.append(item)
    close_run()
    body, where = _joined(items)
    if elements:
        return body, where
    return f"[{body}]", [None, *where, None]


def _joined(items: list[tuple[str, list[Optional[int]]]]) -> tuple[str, list[Optional[int]]]:
    text = ", ".join(t for t, _ in items)
    where: list[Optional[int]] = []
    for i, (_, offsets) in enumerate(items):
        if i:
            where.extend([None, None])
        where.extend(offsets)
    return text, where


def _word_source(word: Token, elements: bool) -> str:
    """One word as generated source: its literal, ``_`` for a value unknown here, ``*_``
    for any number of words; a source fragment the generator pastes as it is (``run_id``,
    ``str(split_index)``) is that expression."""
    if word.spread:
        return "*_"
    fragment = word.expr
    if (
        elements
        and word.text == HOLE
        and isinstance(fragment, ast.Constant)
        and isinstance(fragment.value, str)
        and "\n" not in fragment.value
    ):
        try:
            ast.parse(fragment.value.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return repr(HOLE).replace(HOLE, _KEPT)
        return fragment.value.strip()
    if word.text == HOLE and _generator_attribute(fragment):
        # The value of the generator's ``self.<attr>`` (``repr(self.flow_file)``): unknown
        # in the generated module as well, but still named (a file, a path: no option).
        return f"self.{fragment.attr}"
    # A word known only in part stays one word: a literal whose unknown characters are
    # holes (kept as such in the generated module, see ``_KEPT``).
    return repr(word.text).replace(HOLE, _KEPT)


def _generator_attribute(node: Optional[ast.AST]) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


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
