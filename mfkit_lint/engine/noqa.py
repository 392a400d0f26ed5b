"""``# noqa`` and ``# noqa: MFK101,MFK102`` comments, applied per logical line like flake8 does."""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

# Per row: None means "every code", otherwise the codes suppressed there.
NoqaMap = dict[int, Optional[frozenset[str]]]


def _parse(comment: str) -> Optional[tuple[Optional[frozenset[str]]]]:
    match = _NOQA.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    return (frozenset(c.upper() for c in _CODE.findall(codes)) if codes else None,)


def _merge(a: Optional[frozenset[str]], b: Optional[frozenset[str]]) -> Optional[frozenset[str]]:
    return None if a is None or b is None else a | b


def noqa_map(text: str) -> NoqaMap:
    """Rows covered by a noqa comment. A comment anywhere in a statement that spans several
    lines (a list literal, a multi-line string) covers every line of that statement."""
    if "noqa" not in text.lower():
        return {}
    out: NoqaMap = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return noqa_map_by_line(text)
    first_row: Optional[int] = None
    found: list[Optional[frozenset[str]]] = []
    depth = 0
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth = max(depth - 1, 0)
        if first_row is None and tok.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            first_row = tok.start[0]
        if tok.type == tokenize.COMMENT:
            parsed = _parse(tok.string)
            if parsed is not None:
                found.append(parsed[0])
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
            tok.type == tokenize.NL and depth == 0 and first_row == tok.start[0]
        ):
            if found and first_row is not None:
                codes = found[0]
                for extra in found[1:]:
                    codes = _merge(codes, extra)
                for row in range(first_row, tok.end[0] + 1):
                    out[row] = _merge(out[row], codes) if row in out else codes
            first_row, found = None, []
    return out


def noqa_map_by_line(text: str) -> NoqaMap:
    """Rows whose own line carries a noqa comment: for text that is not Python (YAML)."""
    out: NoqaMap = {}
    for row, line in enumerate(text.splitlines(), start=1):
        if "#" in line:
            parsed = _parse(line[line.index("#") :])
            if parsed is not None:
                out[row] = parsed[0]
    return out


def suppressed(noqa: NoqaMap, row: int, code: str) -> bool:
    if row not in noqa:
        return False
    codes = noqa[row]
    return codes is None or code in codes
