"""A small shell-word splitter that keeps positions: which characters each word came from.

``shlex`` drops positions, and rules must point at the exact token inside a template, so this
splits the way a POSIX shell does for simple commands: quotes, backslash line continuations,
comments, and ``;``/``&&``/``||``/``|``/newline as command separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ``${NAME:+words}`` (or ``${NAME+words}``): the words when NAME is set, nothing otherwise.
_ALTERNATE_VALUE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?\+")
# Characters that are themselves inside a word (``#`` and ``${`` mean more at its start only).
_PLAIN = re.compile(r"[^'\"\\\n \t\r;&|]*")


@dataclass
class Word:
    text: str  # the word with quotes removed
    start: int  # index of its first character in the template text
    end: int  # index just past its last character
    conditional: bool = False  # there on some runs only (``${TAG:+--tag "$TAG"}``)


def split_commands(text: str) -> list[list[Word]]:
    """Split shell text into simple commands, each a list of words."""
    commands: list[list[Word]] = []
    words: list[Word] = []
    buf: list[str] = []
    start = -1
    quote = ""
    i, n = 0, len(text)

    def flush(end: int) -> None:
        nonlocal buf, start
        if start >= 0:
            words.append(Word("".join(buf), start, end))
        buf, start = [], -1

    def end_command() -> None:
        nonlocal words
        if words:
            commands.append(words)
        words = []

    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < n and text[i + 1] in '"\\$`':
                buf.append(text[i + 1])
                i += 1
            else:
                buf.append(ch)
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            if text[i + 1] == "\n":  # line continuation: the command goes on
                flush(i)
                i += 2
                continue
            if start < 0:
                start = i
            buf.append(text[i + 1])
            i += 2
            continue
        alternate = _ALTERNATE_VALUE.match(text, i) if start < 0 else None
        close = _closing_brace(text, alternate.end()) if alternate else -1
        if close > 0 and (close + 1 == n or text[close + 1] in " \t\r\n;&|"):
            inner = text[alternate.end() : close]
            for group in split_commands(inner):
                for word in group:
                    shift = alternate.end()
                    words.append(Word(word.text, word.start + shift, word.end + shift, True))
            i = close + 1
            continue
        if ch in "'\"":
            if start < 0:
                start = i
            quote = ch
            i += 1
            continue
        if ch == "#" and start < 0:
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch == "\n":
            flush(i)
            end_command()
            i += 1
            continue
        if ch in " \t\r":
            flush(i)
            i += 1
            continue
        if ch in ";&|":  # a separator (``&&`` and ``||`` before ``&`` and ``|``)
            flush(i)
            end_command()
            i += 2 if text.startswith(("&&", "||"), i) else 1
            continue
        if start < 0:
            start = i
        # The character and the plain ones after it, at once: inside a word only quotes, a
        # backslash, a blank or a separator mean more than themselves.
        stop = _PLAIN.match(text, i + 1).end()
        buf.append(text[i:stop])
        i = stop
    flush(n)
    end_command()
    return commands


def _closing_brace(text: str, pos: int) -> int:
    """Index of the ``}`` closing a ``${...`` whose body starts at ``pos`` (quotes and nested
    braces skipped), or -1."""
    depth = 0
    quote = ""
    for i in range(pos, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "\n":
            return -1
    return -1
