"""How a seed is spelled: the words of a command, the entries of an environment, and the
renderers that write the same command in each way extensions write it.

A seed says *what* the code does (the words of one Metaflow command line, in order, some of them
computed, some added only under a condition; the environment it runs with). A spelling says *how*
it is written (a list literal, a list grown piece by piece, an f-string, a bash template, code
generated through a writer...). Rendering a seed in every spelling gives programs that behave the
same, so a rule must give the same answer on each. Every rendered line carries a flag: whether the
seed's anchor word is written on it, which is where the finding must be reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Optional, Union

# -- the words of a command ------------------------------------------------------------------


@dataclass(frozen=True)
class Lit:
    """A literal word (``"step"``, ``"--tag"``)."""

    text: str
    anchor: bool = False


@dataclass(frozen=True)
class Expr:
    """A word computed at run time: ``expr`` is a Python expression; ``wrap`` is the function
    that makes it a string in a list (``str(attempt)``)."""

    expr: str
    wrap: Optional[str] = None
    anchor: bool = False

    @property
    def ident(self) -> str:
        """A name for the value where a template needs one (``$flow_file``)."""
        return re.sub(r"\W+", "_", self.expr.replace("sys.executable", "python")).strip("_")


@dataclass(frozen=True)
class Key:
    """A constant word that may live elsewhere: inline, a module constant, a parameter default,
    ``self.<name>`` or a dict entry. ``name`` is what it is called there."""

    name: str
    text: str
    anchor: bool = False


Word = Union[Lit, Expr, Key]


@dataclass(frozen=True)
class Piece:
    """Words that belong together (an option and its value); ``guard`` names the variable that
    decides whether the piece is added, when the seed allows it to be conditional."""

    words: tuple[Word, ...]
    guard: Optional[str] = None
    conditional: bool = False  # set by the conditional spelling

    @property
    def anchored(self) -> bool:
        return any(w.anchor for w in self.words)


def command(spec: str) -> tuple[Piece, ...]:
    """Parse the seed notation: pieces separated by ``|``; in a piece, ``?var`` first makes it
    conditional on ``var`` (when the spelling says so); words: ``name!`` is a computed string,
    ``name~`` a computed value made a string with ``str()``, ``K:name=text`` a placeable
    constant, anything else a literal; a leading ``@`` marks the anchor word."""
    pieces = []
    for chunk in spec.split("|"):
        tokens = chunk.split()
        guard = None
        if tokens and tokens[0].startswith("?"):
            guard = tokens.pop(0)[1:]
        words: list[Word] = []
        for token in tokens:
            anchor = token.startswith("@")
            token = token.lstrip("@").replace("\u00b7", " ")  # a middle dot is a space in a word
            if token.startswith("K:"):
                name, text = token[2:].split("=", 1)
                words.append(Key(name, text, anchor))
            elif token.endswith("!"):
                words.append(Expr(token[:-1], None, anchor))
            elif token.endswith("~"):
                words.append(Expr(token[:-1], "str", anchor))
            else:
                words.append(Lit(token, anchor))
        pieces.append(Piece(tuple(words), guard))
    return tuple(pieces)


@dataclass(frozen=True)
class EnvEntry:
    """``env[key] = value``: the key is a Python expression, the value a word; ``loop`` is the
    ``for`` header that adds the entry once per item, when there is one."""

    key: str
    value: Word
    anchor: bool = False
    loop: Optional[str] = None


@dataclass(frozen=True)
class Env:
    inherit: bool = True  # starts from os.environ (else from scratch)
    entries: tuple[EnvEntry, ...] = ()
    anchor: bool = False  # the finding is about the whole environment: where it is made or used


@dataclass(frozen=True)
class Seed:
    """One bug or its correct form. ``rule`` must report at the anchor (``bug``) or stay silent."""

    rule: str
    name: str
    bug: bool
    params: tuple[str, ...]
    pieces: tuple[Piece, ...]
    doc: str
    func: str = "step_cmd"
    prelude: tuple[str, ...] = ()  # statements at the start of the builder
    module: str = ""  # more module code, after the builder
    env: Optional[Env] = None  # the step runs with this environment (else it is returned)
    run: bool = False  # the builder starts the command instead of returning it
    plugin: bool = False  # the command may become a plugin's own `<name> step`
    env_spellings: bool = False  # the seed is about the environment: vary how it is built


# -- rendered code ---------------------------------------------------------------------------


@dataclass
class Code:
    """Lines of code, each with whether the anchor is written on it."""

    lines: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, text: str, anchor: bool = False) -> None:
        self.lines.append((text, anchor))

    def extend(self, other: Code, indent: str = "") -> None:
        self.lines.extend(((indent + t if t else t), a) for t, a in other.lines)

    def text(self) -> str:
        return "\n".join(t for t, _ in self.lines) + "\n"

    def anchors(self) -> list[int]:
        return [n for n, (_, a) in enumerate(self.lines, 1) if a]


def _q(text: str) -> str:
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class Placement:
    """Where Key words live: ``inline``, ``const``, ``default``, ``attr`` or ``dict``."""

    how: str = "inline"

    def expr(self, key: Key) -> Optional[str]:
        """The expression that reads the key, or None when it is written inline."""
        return {
            "inline": None,
            "const": key.name.upper(),
            "default": key.name,
            "attr": "self.%s" % key.name,
            "dict": "OPTIONS['%s']" % key.name,
        }[self.how]


def resolve(word: Word, placement: Placement) -> Union[Lit, Expr]:
    if isinstance(word, Key):
        expr = placement.expr(word)
        return Lit(word.text, word.anchor) if expr is None else Expr(expr, None, word.anchor)
    return word


def py_word(word: Union[Lit, Expr]) -> str:
    if isinstance(word, Lit):
        return _q(word.text)
    return "%s(%s)" % (word.wrap, word.expr) if word.wrap else word.expr


# -- list spellings --------------------------------------------------------------------------


def _split_top(pieces: list[Piece]) -> tuple[list[Piece], list[Piece]]:
    """The pieces before the subcommand, and the subcommand with what follows."""
    for i, piece in enumerate(pieces):
        first = piece.words[0]
        if (isinstance(first, Lit) and first.text in ("step", "init")) or _plugin_piece(piece):
            return pieces[:i], pieces[i:]
    return pieces, []


def _plugin_piece(piece: Piece) -> bool:
    first = piece.words[0]
    return isinstance(first, Lit) and first.text == "myscheduler" and len(piece.words) > 1


def _cond_list(piece: Piece, words: list[Union[Lit, Expr]]) -> str:
    return "*([%s] if %s else [])" % (", ".join(py_word(w) for w in words), piece.guard)


def list_literal(var: str, pieces: list[list[Union[Lit, Expr]]], raw: list[Piece]) -> Code:
    """``var = [`` one word a line ``]``; a conditional piece is a starred conditional list."""
    code = Code()
    code.add("%s = [" % var)
    for piece, words in zip(raw, pieces):
        if piece.conditional:
            code.add("    %s," % _cond_list(piece, words), any(w.anchor for w in words))
        else:
            for word in words:
                code.add("    %s," % py_word(word), word.anchor)
    code.add("]")
    return code


def piecewise(var: str, pieces: list[list[Union[Lit, Expr]]], raw: list[Piece], how: str) -> Code:
    """The first piece in a literal, the others added with append, extend or +=."""
    code = Code()
    first, *rest = pieces
    code.add(
        "%s = [%s]" % (var, ", ".join(py_word(w) for w in first)), any(w.anchor for w in first)
    )
    for piece, words in zip(raw[1:], rest):
        indent = ""
        if piece.conditional:
            code.add("if %s:" % piece.guard)
            indent = "    "
        if how == "append":
            for word in words:
                code.add("%s%s.append(%s)" % (indent, var, py_word(word)), word.anchor)
        else:
            joined = ", ".join(py_word(w) for w in words)
            line = "%s.extend([%s])" if how == "extend" else "%s += [%s]"
            code.add(indent + line % (var, joined), any(w.anchor for w in words))
    return code


def concat(var: str, pieces: list[list[Union[Lit, Expr]]], raw: list[Piece]) -> Code:
    """``var = ([...] + [...] + ...)``, one piece a line."""
    code = Code()
    code.add("%s = (" % var)
    for n, (piece, words) in enumerate(zip(raw, pieces)):
        joined = ", ".join(py_word(w) for w in words)
        item = (
            "([%s] if %s else [])" % (joined, piece.guard) if piece.conditional else "[%s]" % joined
        )
        code.add("    %s%s" % ("+ " if n else "", item), any(w.anchor for w in words))
    code.add(")")
    return code


# -- string spellings ------------------------------------------------------------------------


@dataclass
class StringStyle:
    """How one word is written inside a command string, and how the string is finished."""

    name: str

    def word(self, word: Union[Lit, Expr], args: list[str]) -> str:
        if isinstance(word, Lit):
            text = word.text
            if self.name == "percent":
                return text.replace("%", "%%")
            if self.name in ("fstring", "format"):
                return text.replace("{", "{{").replace("}", "}}")
            if self.name == "template":
                return text.replace("$", "$$")
            return text
        value = word.expr
        if self.name == "fstring":
            return "{%s}" % value
        if self.name == "percent":
            args.append(value)
            return "%s"
        if self.name == "format":
            args.append(value)
            return "{}"
        if self.name == "template":
            args.append("%s=%s" % (word.ident, value))
            return "$%s" % word.ident
        raise ValueError(self.name)

    def literal(self, text: str) -> str:
        prefix = "f" if self.name == "fstring" else ""
        return prefix + _q(text)

    def finish(self, first: str, last: str, args: list[str]) -> tuple[str, str]:
        """Text around the joined literals: before the first and after the last."""
        if self.name == "percent":
            return first, last + " %% (%s)" % ", ".join(args) if args else last
        if self.name == "format":
            return first, last + ".format(%s)" % ", ".join(args)
        return first, last


def command_string(
    var: str, pieces: list[list[Union[Lit, Expr]]], raw: list[Piece], style: StringStyle
) -> Code:
    """One command string, one piece a line (implicit concatenation); a conditional piece is
    computed first (``tag_opt = f"--tag {tag} " if tag else ""``, or with ``.format``
    assigned under an ``if``, empty otherwise) and spliced in."""
    code = Code()
    args: list[str] = []
    lines: list[tuple[str, bool]] = []
    for piece, words in zip(raw, pieces):
        anchor = any(w.anchor for w in words)
        if piece.conditional:
            opt = "%s_opt" % piece.guard
            opt_args: list[str] = []
            body = " ".join(style.word(w, opt_args) for w in words) + " "
            if style.name == "template":
                # a piece of a template is spelled as an f-string, as code does
                body = " ".join(_fstring_word(w) for w in words) + " "
                code.add('%s = f"%s" if %s else ""' % (opt, body, piece.guard), anchor)
            elif style.name == "format":
                # the piece assigned under an ``if``, empty on the other path
                fin_first, fin_last = style.finish("", "", opt_args)
                code.add('%s = ""' % opt)
                code.add("if %s:" % piece.guard)
                code.add(
                    "    %s = %s%s%s" % (opt, fin_first, style.literal(body), fin_last), anchor
                )
            else:
                fin_first, fin_last = style.finish("", "", opt_args)
                literal = style.literal(body)
                code.add(
                    '%s = %s%s%s if %s else ""' % (opt, fin_first, literal, fin_last, piece.guard),
                    anchor,
                )
            spliced = style.word(Expr(opt), args)
            if style.name == "template":
                # glued to the next word: only the braced field ends where the name does
                spliced = "${%s}" % spliced[1:]
            lines.append((spliced, anchor))
        else:
            text = " ".join(style.word(w, args) for w in words) + " "
            lines.append((text, anchor))
    # the last piece has no trailing space
    text, anchor = lines[-1]
    lines[-1] = (text.rstrip(" "), anchor)
    if style.name == "template":
        # the Template takes the joined literals; substitute() fills it
        code.add("%s = string.Template(" % var)
        for text, anchor in lines:
            code.add("    %s" % style.literal(text), anchor)
        code.add(").substitute(%s)" % ", ".join(dict.fromkeys(args)))
        return code
    first, last = style.finish("", "", args)
    code.add("%s = %s(" % (var, first))
    for n, (text, anchor) in enumerate(lines):
        end = last if n == len(lines) - 1 else ""
        code.add("    %s%s" % (style.literal(text), end), anchor)
    code.add(")")
    return code


def _fstring_word(word: Union[Lit, Expr]) -> str:
    return word.text if isinstance(word, Lit) else "{%s}" % word.expr


def joined(var: str, pieces: list[list[Union[Lit, Expr]]], raw: list[Piece], how: str) -> Code:
    """``" ".join([...])`` or ``shlex.join([...])`` of the list, one word a line."""
    inner = list_literal(var, pieces, raw)
    func = '" ".join' if how == "join" else "shlex.join"
    code = Code()
    code.add("%s = %s([" % (var, func))
    for text, anchor in inner.lines[1:-1]:
        code.add(text, anchor)
    code.add("])")
    return code


def bash_word(word: Union[Lit, Expr]) -> str:
    if isinstance(word, Lit):
        return word.text
    if word.expr == "sys.executable":
        return "python3"
    return '"$%s"' % word.ident.upper()


def bash_script(pieces: list[list[Union[Lit, Expr]]], raw: list[Piece]) -> Code:
    """The command in a bash script, one piece a line with continuations; values come from the
    script's environment; a conditional piece is ``${VAR:+--opt "$VAR"}``."""
    code = Code()
    code.add("#!/bin/bash")
    code.add("set -euo pipefail")
    parts: list[tuple[str, bool]] = []
    for piece, words in zip(raw, pieces):
        anchor = any(w.anchor for w in words)
        text = " ".join(bash_word(w) for w in words)
        if piece.conditional:
            text = "${%s:+%s}" % (piece.guard.upper(), text)
        parts.append((text, anchor))
    for n, (text, anchor) in enumerate(parts):
        cont = " \\" if n < len(parts) - 1 else ""
        code.add(("    " if n else "") + text + cont, anchor)
    return code


def uses(text: str) -> list[str]:
    """The imports a rendered text needs."""
    wanted = []
    for module in ("json", "os", "shlex", "string", "subprocess", "sys"):
        if re.search(r"\b%s\." % module, text):
            wanted.append(module)
    return wanted


def iter_words(pieces: Iterable[Piece]) -> Iterable[Word]:
    for piece in pieces:
        yield from piece.words


def with_plugin(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """``... myscheduler step NAME ...``: the plugin's own step subcommand."""
    out = []
    for piece in pieces:
        first = piece.words[0]
        if isinstance(first, Lit) and first.text == "step":
            out.append(replace(piece, words=(Lit("myscheduler", first.anchor), *piece.words)))
        else:
            out.append(piece)
    return tuple(out)


# -- seeds written as text with slots --------------------------------------------------------

ANCHOR = "  #@"  # ends a line of a slot text on which the finding must be (bugs only)


@dataclass(frozen=True)
class Shape:
    """One way of writing the varying part of a text seed: code at module level, the body of
    the function, and (for two-module shapes) the code of a second module ``common.py``."""

    module: str = ""
    body: str = ""
    common: Optional[str] = None


@dataclass(frozen=True)
class TextSeed:
    """A seed whose spellings are listed by hand as shapes of one slot: used where the code is
    not a command line (the deployer side). ``frame`` holds ``<<module>>`` and ``<<body>>``."""

    rule: str
    name: str
    bug: bool
    frame: str
    shapes: tuple[tuple[str, Shape], ...]
    doc: str
    filename: str = "deployer.py"


def fill(seed: TextSeed, shape: Shape) -> tuple[dict[str, Code], bool]:
    """The files of one shape of a text seed, with anchors; whether it is a package."""

    def code_of(text: str) -> Code:
        code = Code()
        for line in text.split("\n"):
            anchor = line.endswith(ANCHOR)
            code.add(line[: -len(ANCHOR)] if anchor else line, anchor)
        return code

    text = seed.frame.replace("<<module>>", shape.module.strip("\n"))
    text = text.replace("<<body>>", _indent(shape.body.strip("\n"), seed.frame))
    main = code_of(text.strip("\n"))
    if shape.common is None:
        return {seed.filename: main}, False
    return {
        "pyproject.toml": code_of('[project]\nname = "myscheduler-ext"\nversion = "0.1.0"'),
        "myscheduler_ext/__init__.py": Code(),
        "myscheduler_ext/common.py": code_of(shape.common.strip("\n")),
        "myscheduler_ext/" + seed.filename: main,
    }, True


def _indent(body: str, frame: str) -> str:
    """Indent the body like the ``<<body>>`` line of the frame."""
    for line in frame.split("\n"):
        if line.strip() == "<<body>>":
            pad = line[: len(line) - len(line.lstrip())]
            return "\n".join((pad + b if b else b) for b in body.split("\n"))[len(pad) :]
    return body
