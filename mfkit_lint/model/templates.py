"""String expressions as templates: the text they produce, with holes, mapped to source offsets.

A Template's ``text`` holds the known characters and one HOLE character per part whose value is
computed at run time (an f-string field, a ``%s`` or ``{}`` argument, a concatenated variable).
``exprs`` gives, per hole, the expression that fills it (or None), and ``offsets`` gives, per
character, the range of module text it comes from (a hole: its whole ``{...}`` or ``%s``), when
that can be worked out from the literal.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from typing import TYPE_CHECKING, Callable, Optional, Union

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.model.usage import reads_of
from mfkit_lint.model.values import Values, values_of

if TYPE_CHECKING:
    from mfkit_lint.model.module import ModuleModel

HOLE = "\ufffc"
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_PREFIX = re.compile(r"[rRbBuUfF]{0,2}")
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?"  # %(name)s
    r"[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"  # flags, width, precision
    r"(?P<conv>[diouxXeEfFgGcrsa%])"
)
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")
# string.Template: $$ is a dollar, $name and ${name} are fields.
_DOLLAR_FIELD = re.compile(
    r"\$\$|\$(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)|\$\{(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*)\}"
)
_SUBSTITUTE = ("substitute", "safe_substitute")


Offsets = Optional[list[tuple[int, int]]]


class Template:
    def __init__(
        self,
        text: str,
        exprs: list[Optional[ast.expr]],
        offsets: Union[Offsets, Callable[[], Offsets]],
        node: ast.expr,
        conditional: Optional[list[tuple[int, int]]] = None,
    ) -> None:
        self.text = text
        self.exprs = exprs
        # Mapping characters back to the source means scanning the literal: most templates
        # are read for their text only, so ``offsets`` may be given as a function, called
        # the first time they are asked for.
        self._offsets = offsets
        self.node = node
        # Character ranges present on some paths only: a conditional piece spliced in (see
        # ``with_alternatives``).
        self.conditional = conditional if conditional is not None else []

    @property
    def offsets(self) -> Offsets:
        """Per character of ``text``: its (start, end) in the module text; None if unknown."""
        if callable(self._offsets):
            self._offsets = self._offsets()
        return self._offsets

    def __add__(self, other: Template) -> Template:
        mine, theirs = self._offsets, other._offsets
        offsets: Union[Offsets, Callable[[], Offsets]]
        if callable(mine) or callable(theirs):
            offsets = _Joined([*_parts(self), *_parts(other)])
        else:
            offsets = mine + theirs if mine is not None and theirs is not None else None
        shift = len(self.text)
        return Template(
            self.text + other.text,
            self.exprs + other.exprs,
            offsets,
            self.node,
            self.conditional + [(a + shift, b + shift) for a, b in other.conditional],
        )

    def is_conditional(self, start: int, end: int) -> bool:
        """Some of the characters ``text[start:end]`` are there on some paths only."""
        return any(a < end and start < b for a, b in self.conditional)

    def span(self, module: ModuleModel, start: int, end: int) -> Optional[Span]:
        """Where the characters ``text[start:end]`` come from in the module, if known."""
        if self.offsets is None or end <= start:
            return None
        source = module.source
        return Span(
            source.location_at(self.offsets[start][0]),
            source.location_at(self.offsets[end - 1][1]),
        )

    def hole_expr(self, index: int) -> Optional[ast.expr]:
        """The expression behind the hole at character ``index``."""
        count = self.text.count(HOLE, 0, index)
        # A literal U+FFFC in the analysed code reads as a hole that no expression fills.
        return self.exprs[count] if count < len(self.exprs) else None


class _Joined:
    """The offsets of templates added together, when some are not computed yet: the parts
    are kept flat (not as a chain of sums), so a long ``a + b + ...`` is resolved in one loop."""

    def __init__(self, parts: list[Template]) -> None:
        self.parts = parts

    def __call__(self) -> Offsets:
        out: list[tuple[int, int]] = []
        for part in self.parts:
            offsets = part.offsets
            if offsets is None:
                return None
            out.extend(offsets)
        return out


def _parts(template: Template) -> list[Template]:
    pending = template._offsets
    return pending.parts if isinstance(pending, _Joined) else [template]


def literal_parts(node: ast.AST) -> list[str]:
    """The texts of the string literals in an expression, in the order ``ast.walk`` meets
    them (breadth first; a plain literal, most strings, without a walk). The walk is written
    out: ``ast.walk``'s generators cost more than the few nodes of a string expression."""
    if node.__class__ is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        return [value] if value.__class__ is str else []
    out: list[str] = []
    todo = [node]
    for current in todo:  # the list grows while it is read: breadth first
        if current.__class__ is ast.Constant:
            if isinstance(current.value, str):  # type: ignore[attr-defined]
                out.append(current.value)  # type: ignore[attr-defined]
            continue  # a constant holds no nodes
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST))
    return out


def is_stringish(node: ast.AST) -> bool:
    """A string literal, f-string, ``%``/``+`` expression with a string, or ``"...".format()``.
    Iterative: generated code can chain thousands of ``+``."""
    todo = [node]
    while todo:
        node = todo.pop()
        kind = node.__class__  # exact classes: asked of every node of a module, kept cheap
        if kind is ast.Constant:
            if isinstance(node.value, str):
                return True
        elif kind is ast.JoinedStr:
            return True
        elif kind is ast.BinOp:
            op = node.op.__class__
            if op is ast.Mod:
                todo.append(node.left)
            elif op is ast.Add:
                todo.extend((node.right, node.left))
        elif kind is ast.Call and node.func.__class__ is ast.Attribute:
            if node.func.attr == "format":
                todo.append(node.func.value)
            elif _template_call(node) is not None:
                return True
    return False


def is_template_text(module: ModuleModel, node: ast.AST) -> bool:
    """``node`` is the text of a ``string.Template(...)`` that is substituted: the substitute
    call, not the text with its ``$fields``, is the string the code produces."""
    maker = module.parent(node)
    if maker.__class__ is not ast.Call:
        return False  # the text is the argument of ``Template(...)``: most strings are not
    method = module.parent(maker)
    call = module.parent(method) if method.__class__ is ast.Attribute else None
    return call is not None and _template_call(call) is node


def _template_call(node: ast.AST) -> Optional[ast.expr]:
    """The template text of ``string.Template(text).substitute(...)`` (or
    ``safe_substitute``), or None when ``node`` is not such a call."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _SUBSTITUTE
    ):
        return None
    maker = node.func.value
    if (
        isinstance(maker, ast.Call)
        and len(maker.args) == 1
        and (
            (isinstance(maker.func, ast.Name) and maker.func.id == "Template")
            or (isinstance(maker.func, ast.Attribute) and maker.func.attr == "Template")
        )
    ):
        return maker.args[0]
    return None


def _add_chain(node: ast.BinOp) -> list[ast.expr]:
    """The operands of ``a + b + c + ...`` from left to right, without recursion."""
    operands: list[ast.expr] = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands.append(node.right)
        node = node.left
    operands.append(node)
    return operands[::-1]


def template_of(module: ModuleModel, node: ast.expr) -> Optional[Template]:
    """The Template for a string-valued expression, or None when it is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Template(node.value, [], lambda: _literal_offsets(module, node, node.value), node)
    if isinstance(node, ast.JoinedStr):
        return _fstring(module, node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and is_stringish(node):
        parts = [
            (template_of(module, part) if not _is_add(part) else None) or _named(module, part)
            for part in _add_chain(node)
        ]
        result = parts[0]
        for part in parts[1:]:
            result = result + part
        return Template(result.text, result.exprs, result.offsets, node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        base = template_of(module, node.left) or _constant_text(module, node.left)
        return _percent(base, node.right) if base is not None else None
    text = _template_call(node)
    if text is not None:
        base = template_of(module, text)
        return _dollar(base, node) if base is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr != "format":
            return None
        base = template_of(module, node.func.value) or _constant_text(module, node.func.value)
        return _format(base, node) if base is not None else None
    return None


def _constant_text(module: ModuleModel, node: ast.expr) -> Optional[Template]:
    """A module-level name bound once, to a string literal (``SCRIPT % ...`` renders it): the
    literal's template, characters mapped to where the literal is written."""
    if not isinstance(node, ast.Name):
        return None
    values = values_of(module)
    scope, bindings = values.lookup(node.id, node)
    if scope is not module.tree or len(bindings) != 1:
        return None
    value = getattr(bindings[0], "value", None)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return template_of(module, value)
    return None


def completed_template(module: ModuleModel, node: ast.expr) -> Optional[Template]:
    """The template of a string assigned to a name that the code completes in one place only
    (``SCRIPT = "..."`` read once, as ``SCRIPT.format(...)`` or ``SCRIPT % (...)``): the text
    the code produces from it, its fields holes filled by that call's arguments. A string
    completed in several places (or never) has no one text: None."""
    statement = module.parent(node)
    if not (
        isinstance(statement, (ast.Assign, ast.AnnAssign))
        and statement.value is node
        and (not isinstance(statement, ast.Assign) or len(statement.targets) == 1)
        and isinstance(node, ast.Constant)
        and isinstance(node.value, str)
    ):
        return None
    reads = reads_of(module, statement)
    if len(reads) != 1:
        return None
    use = reads[0]
    parent = module.parent(use)
    base = template_of(module, node)
    if base is None:
        return None
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and parent.left is use:
        return _percent(base, parent.right)
    call = module.parent(parent)
    if (
        isinstance(parent, ast.Attribute)
        and parent.attr == "format"
        and isinstance(call, ast.Call)
        and call.func is parent
    ):
        return _format(base, call)
    return None


def with_alternatives(module: ModuleModel, template: Template, depth: int = 0) -> Template:
    """The template with its option pieces spliced in: a hole whose value is one of several
    strings of options (``opt = f"--tag {t} " if t else ""``, or assigned under an ``if``)
    becomes the words of every alternative, marked conditional, like the words a list gets
    under an ``if``; a hole filled by one such string becomes its words. A piece that is not
    made of whole option words (a program name, half a word) stays a hole: one unknown word.
    """
    if HOLE not in template.text or depth > _MAX_SPLICE_DEPTH:
        return template
    values = values_of(module)
    result = Template("", [], [] if template.offsets is not None else None, template.node)
    pos = 0
    for expr in template.exprs:
        hole = template.text.find(HOLE, pos)
        if hole < 0:
            break
        result = result + _slice(template, pos, hole)
        pieces = _option_pieces(module, values, template, result.text[-1:], hole, expr, depth)
        result = result + (pieces if pieces is not None else _slice(template, hole, hole + 1))
        pos = hole + 1
    return result + _slice(template, pos, len(template.text))


_MAX_SPLICE_DEPTH = 3


def _option_pieces(
    module: ModuleModel,
    values: Values,
    template: Template,
    before: str,
    hole: int,
    expr: Optional[ast.expr],
    depth: int,
) -> Optional[Template]:
    """The text a hole stands for when its value is made of option words on every path."""
    if expr is None:
        return None
    alternatives = values.alternatives(expr)
    if alternatives == (expr,):
        return None
    pieces = []
    for alternative in alternatives:
        piece = template_of(module, alternative) if is_stringish(alternative) else None
        if piece is None:
            return None  # one path's value is unknown: the hole stays
        pieces.append(with_alternatives(module, piece, depth + 1))
    words = [p for p in pieces if p.text.strip()]
    if not words or any(not p.text.lstrip().startswith("-") for p in words):
        return None
    after = template.text[hole + 1 : hole + 2]
    if before.strip() and not all(p.text[:1].isspace() for p in words):
        return None  # glued to the word before it
    if after.strip() and not all(p.text[-1:].isspace() for p in words):
        return None  # glued to the word after it
    here = template.offsets[hole] if template.offsets is not None else None
    spliced = Template("", [], [] if here is not None else None, template.node)
    for i, piece in enumerate(words):
        if i:
            spliced = spliced + Template(" ", [], [here] if here else None, template.node)
        if piece.offsets is None and here is not None:
            piece = Template(piece.text, piece.exprs, [here] * len(piece.text), piece.node)
        spliced = spliced + piece
    if len(pieces) > 1:
        spliced.conditional = [(0, len(spliced.text))]
    return spliced


def _slice(template: Template, start: int, end: int) -> Template:
    """``template.text[start:end]`` as a template of its own (its holes' expressions kept)."""
    first = template.text.count(HOLE, 0, start)
    count = template.text.count(HOLE, start, end)
    offsets = template.offsets[start:end] if template.offsets is not None else None
    conditional = [
        (max(a, start) - start, min(b, end) - start)
        for a, b in template.conditional
        if a < end and start < b
    ]
    return Template(
        template.text[start:end],
        template.exprs[first : first + count],
        offsets,
        template.node,
        conditional,
    )


def _is_add(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)


def _named(module: ModuleModel, node: ast.expr) -> Template:
    """A concatenated name: its text when it is a string constant (``_INDENT + "x = 1"``),
    else a hole."""
    if isinstance(node, ast.Name):
        value = values_of(module).const(node)
        if isinstance(value, str) and HOLE not in value:
            return Template(value, [], [_node_range(module, node)] * len(value), node)
    return _hole(module, node)


def _hole(module: ModuleModel, node: ast.expr) -> Template:
    return Template(HOLE, [node], [_node_range(module, node)], node)


def _node_range(module: ModuleModel, node: ast.expr) -> tuple[int, int]:
    span = module.span(node)
    return (module.source.offset(span.start), module.source.offset(span.end))


def _substitute(base: Template, pattern: re.Pattern, pick, escapes: dict[str, str]) -> Template:
    """Replace every match of ``pattern`` in ``base`` by a hole filled by ``pick(match, n)``.
    The characters' offsets are mapped only when asked for (see ``Template.offsets``)."""
    text: list[str] = []
    exprs: list[Optional[ast.expr]] = []
    matches = list(pattern.finditer(base.text))
    holes_before = 0
    pos = 0
    count = 0
    for match in matches:
        text.append(base.text[pos : match.start()])
        exprs.extend(
            base.exprs[holes_before : holes_before + base.text.count(HOLE, pos, match.start())]
        )
        holes_before += base.text.count(HOLE, pos, match.start())
        token = match.group(0)
        if token in escapes:
            text.append(escapes[token])
        else:
            text.append(HOLE)
            exprs.append(pick(match, count))
            count += 1
        pos = match.end()
    text.append(base.text[pos:])
    exprs.extend(base.exprs[holes_before:])

    def offsets() -> Offsets:
        """Each match (a field or an escape) is one character, from the match's range."""
        known = base.offsets
        if known is None:
            return None
        out: list[tuple[int, int]] = []
        pos = 0
        for match in matches:
            out.extend(known[pos : match.start()])
            out.append((known[match.start()][0], known[match.end() - 1][1]))
            pos = match.end()
        out.extend(known[pos:])
        return out

    return Template("".join(text), exprs, offsets, base.node)


def _percent(base: Template, right: ast.expr) -> Template:
    def pick(match: re.Match, n: int) -> Optional[ast.expr]:
        key = match.group("key")
        if key is not None:
            if isinstance(right, ast.Dict):
                for k, v in zip(right.keys, right.values):
                    if isinstance(k, ast.Constant) and k.value == key:
                        return v
            return None
        if isinstance(right, ast.Tuple):
            return right.elts[n] if n < len(right.elts) else None
        return right if n == 0 else None

    return _substitute(base, _PERCENT, pick, {"%%": "%"})


def _format(base: Template, call: ast.Call) -> Template:
    def pick(match: re.Match, n: int) -> Optional[ast.expr]:
        field = match.group("field")
        if field == "":
            return call.args[n] if n < len(call.args) else None
        if field.isdigit():
            i = int(field)
            return call.args[i] if i < len(call.args) else None
        for kw in call.keywords:
            if kw.arg == field:
                return kw.value
        return None

    return _substitute(base, _FORMAT_FIELD, pick, {"{{": "{", "}}": "}"})


def _dollar(base: Template, call: ast.Call) -> Template:
    """``string.Template(base).substitute(name=value, ...)``: each field is filled by its
    keyword, or by the entry of a dict literal passed as the mapping."""

    def pick(match: re.Match, n: int) -> Optional[ast.expr]:
        name = match.group("name") or match.group("braced")
        for kw in call.keywords:
            if kw.arg == name:
                return kw.value
        mapping = call.args[0] if call.args else None
        if isinstance(mapping, ast.Dict):
            for key, value in zip(mapping.keys, mapping.values):
                if isinstance(key, ast.Constant) and key.value == name:
                    return value
        return None

    return _substitute(base, _DOLLAR_FIELD, pick, {"$$": "$"})


def _fstring(module: ModuleModel, node: ast.JoinedStr) -> Template:
    text: list[str] = []
    exprs: list[Optional[ast.expr]] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            text.append(HOLE)
            exprs.append(part.value)
        elif isinstance(part, ast.Constant):
            text.append(str(part.value))
    joined = "".join(text)
    return Template(joined, exprs, lambda: _literal_offsets(module, node, joined), node)


# -- mapping literal characters back to the source -------------------------------------------


def _literal_offsets(
    module: ModuleModel, node: ast.expr, expected: str
) -> Optional[list[tuple[int, int]]]:
    """Per character of the literal's value, its source range; None if unsure."""
    source = module.source
    end_lineno = getattr(node, "end_lineno", None)
    if end_lineno is None:
        return None
    start = source.offset(source.location(node.lineno, node.col_offset))
    end = source.offset(source.location(end_lineno, node.end_col_offset))
    try:
        chars, offsets = _scan_literals(source.text, start, end)
    except _ScanError:
        return None
    return offsets if "".join(chars) == expected else None


class _ScanError(Exception):
    pass


def _scan_literals(src: str, pos: int, end: int) -> tuple[list[str], list[tuple[int, int]]]:
    """Decode one or more adjacent string literals in ``src[pos:end]`` with per-char offsets.

    f-string replacement fields become one HOLE each, located at their opening brace.
    """
    chars: list[str] = []
    offsets: list[tuple[int, int]] = []
    while pos < end:
        ch = src[pos]
        if ch in " \t\r\n\\(":
            pos += 1
            continue
        if ch == "#":
            while pos < end and src[pos] not in "\r\n":
                pos += 1
            continue
        prefix = _PREFIX.match(src, pos).group(0).lower()
        if "b" in prefix:
            raise _ScanError
        pos += len(prefix)
        quote = src[pos : pos + 3] if src.startswith(('"""', "'''"), pos) else src[pos : pos + 1]
        if quote not in ('"', "'", '"""', "'''"):
            raise _ScanError
        pos = _scan_body(src, pos + len(quote), end, quote, prefix, chars, offsets)
    return chars, offsets


def _scan_body(src, pos, end, quote, prefix, chars, offsets) -> int:
    raw = "r" in prefix
    fmt = "f" in prefix
    while pos < end:
        if src.startswith(quote, pos):
            return pos + len(quote)
        ch = src[pos]
        if fmt and ch in "{}":
            if src.startswith(ch * 2, pos):
                chars.append(ch)
                offsets.append((pos, pos + 2))
                pos += 2
                continue
            if ch == "}":
                raise _ScanError
            chars.append(HOLE)
            field_end = _skip_field(src, pos + 1, end)
            offsets.append((pos, field_end))
            pos = field_end
            continue
        if ch == "\\" and not raw:
            pos = _scan_escape(src, pos, chars, offsets)
            continue
        if ch == "\\" and raw and pos + 1 < end:
            chars.extend((ch, src[pos + 1]))
            offsets.extend(((pos, pos + 1), (pos + 1, pos + 2)))
            pos += 2
            continue
        chars.append("\n" if ch == "\r" else ch)
        step = 2 if src.startswith("\r\n", pos) else 1
        offsets.append((pos, pos + step))
        pos += step
    raise _ScanError


def _skip_field(src: str, pos: int, end: int) -> int:
    depth = 0
    while pos < end:
        ch = src[pos]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return pos + 1
            depth -= 1
        elif ch in "'\"":
            close = src.find(ch, pos + 1)
            if close < 0:
                raise _ScanError
            pos = close
        pos += 1
    raise _ScanError


def _scan_escape(src: str, pos: int, chars: list[str], offsets: list[tuple[int, int]]) -> int:
    nxt = src[pos + 1 : pos + 2]
    if nxt in ("\n", "\r"):
        return pos + (3 if src.startswith("\r\n", pos + 1) else 2)
    if nxt in _SIMPLE_ESCAPES:
        chars.append(_SIMPLE_ESCAPES[nxt])
        offsets.append((pos, pos + 2))
        return pos + 2
    width = {"x": 2, "u": 4, "U": 8}.get(nxt)
    if width:
        chars.append(chr(int(src[pos + 2 : pos + 2 + width], 16)))
        offsets.append((pos, pos + 2 + width))
        return pos + 2 + width
    if nxt == "N":
        close = src.index("}", pos)
        chars.append(unicodedata.lookup(src[pos + 3 : close]))
        offsets.append((pos, close + 1))
        return close + 1
    if nxt.isdigit() and nxt < "8":
        digits = re.match(r"[0-7]{1,3}", src[pos + 1 : pos + 4]).group(0)
        chars.append(chr(int(digits, 8)))
        offsets.append((pos, pos + 1 + len(digits)))
        return pos + 1 + len(digits)
    chars.append("\\")
    offsets.append((pos, pos + 1))
    return pos + 1
