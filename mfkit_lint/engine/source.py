"""Reading a file's bytes and turning them into text the way Python itself would."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, count
from operator import add
from typing import Optional

from mfkit_lint.engine.diagnostic import Location

_NEWLINE = re.compile(r"\r\n|\r|\n")
YAML_SUFFIXES = (".yml", ".yaml")


def is_yaml_file(filename: str) -> bool:
    """A YAML source (read by the YAML rules) rather than a Python module."""
    return filename.lower().endswith(YAML_SUFFIXES)


class DecodeError(Exception):
    """The bytes are not text in the encoding the file declares (PEP 263) or implies."""


@dataclass
class Source:
    """A decoded module: the text plus what is needed to write it back byte-for-byte alike."""

    text: str
    encoding: str = "utf-8"
    raw: bytes = b""

    @classmethod
    def from_bytes(cls, raw: bytes) -> Source:
        try:
            # detect_encoding implements PEP 263 cookies and the UTF-8 BOM ("utf-8-sig").
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:
            raise DecodeError(str(exc)) from exc
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DecodeError(f"not valid {encoding}: {exc}") from exc
        return cls(text=text, encoding=encoding, raw=raw)

    @classmethod
    def decoded_later(cls, raw: bytes) -> Source:
        """A Source of bytes known to decode (they did when the cache entry was written), whose
        text is decoded when it is first used: a run answered by the cache shows the text of
        few of its files, if any."""
        return _DecodedLater(raw)

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)

    @cached_property
    def line_starts(self) -> list[int]:
        """Offsets in ``text`` where each physical line starts (index 0 is line 1)."""
        if "\r" in self.text:
            return [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        # Only "\n" ends lines (the usual case: splitting on it is many times faster than the
        # pattern): a line starts after the lines before it and their line ends.
        starts = [0]
        starts += map(add, accumulate(map(len, self.text.split("\n"))), count(1))
        starts.pop()  # (after the last line: no line starts there)
        return starts

    @cached_property
    def lines(self) -> list[str]:
        """Physical lines without their line endings, numbered like ``ast`` numbers them."""
        if "\r" in self.text:
            return _NEWLINE.split(self.text)
        return self.text.split("\n")

    def line(self, row: int) -> str:
        lines = self.lines
        return lines[row - 1] if 0 < row <= len(lines) else ""

    def location(self, lineno: int, byte_col: int) -> Location:
        """Turn ``ast``'s (1-based line, UTF-8 byte column) into a 1-based character Location."""
        line = self.line(lineno)
        if line.isascii():
            return Location(lineno, byte_col + 1)
        prefix = line.encode("utf-8")[:byte_col].decode("utf-8", "replace")
        return Location(lineno, len(prefix) + 1)

    def offset(self, loc: Location) -> int:
        """Character offset of a Location within ``text``."""
        starts = self.line_starts
        row = min(max(loc.row, 1), len(starts))
        return starts[row - 1] + loc.column - 1

    def location_at(self, offset: int) -> Location:
        """Location of a character offset within ``text``."""
        starts = self.line_starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return Location(lo + 1, offset - starts[lo] + 1)


class _DecodedLater(Source):
    """See ``Source.decoded_later``."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._decoded: Optional[Source] = None

    def _source(self) -> Source:
        if self._decoded is None:
            self._decoded = Source.from_bytes(self.raw)
        return self._decoded

    @property
    def text(self) -> str:
        return self._source().text

    @property
    def encoding(self) -> str:
        return self._source().encoding
