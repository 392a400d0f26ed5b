"""A small shell-word splitter that keeps positions: which characters each word came from.

``shlex`` drops positions, and rules must point at the exact token inside a template, so this
splits the way a POSIX shell does for simple commands: quotes, backslash line continuations,
comments, and ``;``/``&&``/``||``/``|``/newline as command separators.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATORS = (";", "&&", "||", "|", "&")


@dataclass
class Word:
    text: str  # the word with quotes removed
    start: int  # index of its first character in the template text
    end: int  # index just past its last character


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
        sep = next((s for s in SEPARATORS if text.startswith(s, i)), None)
        if sep:
            flush(i)
            end_command()
            i += len(sep)
            continue
        if start < 0:
            start = i
        buf.append(ch)
        i += 1
    flush(n)
    end_command()
    return commands
