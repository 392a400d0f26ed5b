"""Generate the metamorphic corpus: every seed in every spelling that applies to it.

    python tests/shapes/generate.py          # rewrite tests/shapes/cases/
    python tests/shapes/generate.py --check  # exit 1 when the committed cases are stale

Each seed's variants go to ``cases/<rule>/<seed>.txt``, readable as they are: a header per
variant says what must be found where, then each file of the variant follows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Union

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from render import (  # noqa: E402
    BUILDS,
    GENERATORS,
    Spelling,
    anchored_key,
    has_keys,
    render,
    tidy,
)
from seeds import SEEDS as COMMAND_SEEDS  # noqa: E402
from spelling import Seed, TextSeed, fill  # noqa: E402
from text_seeds import TEXT_SEEDS  # noqa: E402

SEEDS: list[Union[Seed, TextSeed]] = [*COMMAND_SEEDS, *TEXT_SEEDS]

CASES = HERE / "cases"
VARIANT = "# ==== variant: "
FILE = "# ---- file: "


@dataclass
class Variant:
    rule: str
    seed: str
    spelling: str
    bug: bool  # the rule must report at one of the anchors; else it must stay silent
    files: dict[str, str]
    anchors: dict[str, list[int]]

    @property
    def id(self) -> str:
        return "%s/%s/%s" % (self.rule, self.seed, self.spelling)


def spellings(seed: Seed) -> Iterator[Spelling]:
    """The spellings that apply to a seed; the first is the seed as written."""
    guarded = any(p.guard for p in seed.pieces)
    keys = has_keys(seed)
    if seed.pieces:
        for build in BUILDS:
            yield Spelling(build)
        if keys:
            for how in ("const", "default", "attr", "dict"):
                yield Spelling("list", how)
            yield Spelling("fstring", "const")
            yield Spelling("percent", "dict")
            yield Spelling("iadd", "default")
            yield Spelling("fstring", "default")
            if seed.bug and anchored_key(seed):
                yield Spelling("list", "default", override=True)
                yield Spelling("fstring", "default", override=True)
            yield Spelling("format", "attr")
            yield Spelling("list", "const", split=True)
        if guarded:
            for build in (
                "list",
                "append",
                "iadd",
                "concat",
                "join",
                "fstring",
                "percent",
                "format",
                "template",
                "bash",
            ):
                yield Spelling(build, conditional=True)
        yield Spelling("helper", split=True)
        for gen in GENERATORS:
            if gen == "gen-fragments" and (seed.env or not seed.pieces):
                continue
            yield Spelling("list", generated=gen)
        yield Spelling("fstring", generated="gen-template")
        if guarded:
            yield Spelling("iadd", conditional=True, generated="gen-emit")
        if seed.plugin:
            for build in ("list", "iadd", "fstring", "bash"):
                yield Spelling(build, plugin=True)
    if seed.env and seed.env_spellings:
        for style in ("literal", "update", "helper"):
            yield Spelling("list", env_style=style)
        yield Spelling("list", env_style="helper", split=True)
        if not seed.pieces:
            if keys:
                for how in ("const", "default", "attr", "dict"):
                    yield Spelling("list", how)
                if seed.bug and anchored_key(seed):
                    yield Spelling("list", "default", override=True)
                yield Spelling("list", "const", split=True)
            for gen in ("gen-template", "gen-emit", "gen-lines", "gen-write"):
                yield Spelling("list", generated=gen)
            yield Spelling("list", env_style="literal", generated="gen-emit")


def text_variants(seed: TextSeed) -> Iterator[Variant]:
    for name, shape in seed.shapes:
        files, _ = fill(seed, shape)
        files = {path: tidy(code) for path, code in files.items()}
        anchors = {path: code.anchors() for path, code in files.items() if code.anchors()}
        if seed.bug and not anchors:
            raise ValueError("%s/%s: a bug without an anchor" % (seed.name, name))
        texts = {path: code.text() for path, code in files.items()}
        yield Variant(seed.rule, seed.name, name, seed.bug, texts, anchors if seed.bug else {})


def variants() -> list[Variant]:
    out = []
    for seed in TEXT_SEEDS:
        out.extend(text_variants(seed))
    for seed in COMMAND_SEEDS:
        seen = set()
        for spelling in spellings(seed):
            if spelling.name in seen:
                continue
            seen.add(spelling.name)
            rendered = render(seed, spelling)
            bug = seed.bug and not spelling.plugin and not spelling.override
            if bug and not rendered.anchors:
                raise ValueError("%s/%s: a bug without an anchor" % (seed.name, spelling.name))
            out.append(
                Variant(
                    seed.rule,
                    seed.name,
                    spelling.name,
                    bug,
                    rendered.files,
                    rendered.anchors if bug else {},
                )
            )
    return out


def dump(group: list[Variant]) -> str:
    """The readable text of one seed's variants."""
    parts = []
    for v in group:
        if v.bug:
            where = "; ".join(
                "%s:%s" % (name, ",".join(map(str, lines))) for name, lines in v.anchors.items()
            )
            expect = "%s at %s" % (v.rule, where)
        else:
            expect = "%s silent" % v.rule
        parts.append("%s%s/%s/%s -- expect %s\n" % (VARIANT, v.rule, v.seed, v.spelling, expect))
        for name, text in v.files.items():
            parts.append("%s%s\n%s" % (FILE, name, text))
    return "".join(parts)


def load(text: str) -> list[Variant]:
    """Variants back from ``dump``'s text."""
    out: list[Variant] = []
    current = None
    name = None
    for line in text.splitlines(keepends=True):
        if line.startswith(VARIANT):
            ident, _, expect = line[len(VARIANT) :].rstrip("\n").partition(" -- expect ")
            rule, seed, spelling = ident.split("/")
            anchors: dict[str, list[int]] = {}
            bug = not expect.endswith(" silent")
            if bug:
                for part in expect.split(" at ", 1)[1].split("; "):
                    fname, _, lines = part.rpartition(":")
                    anchors[fname] = [int(n) for n in lines.split(",")]
            current = Variant(rule, seed, spelling, bug, {}, anchors)
            out.append(current)
        elif line.startswith(FILE):
            name = line[len(FILE) :].rstrip("\n")
            current.files[name] = ""
        else:
            current.files[name] += line
    return out


def texts() -> dict[Path, str]:
    groups: dict[tuple[str, str], list[Variant]] = {}
    for v in variants():
        groups.setdefault((v.rule, v.seed), []).append(v)
    return {CASES / rule / ("%s.txt" % seed): dump(g) for (rule, seed), g in groups.items()}


def committed() -> list[Variant]:
    out = []
    for path in sorted(CASES.glob("*/*.txt")):
        out.extend(load(path.read_text(encoding="utf-8")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare with the committed cases"
    )
    args = parser.parse_args()
    wanted = texts()
    present = {p: p.read_text(encoding="utf-8") for p in CASES.glob("*/*.txt")}
    if args.check:
        stale = sorted(
            str(p.relative_to(HERE))
            for p in set(wanted) | set(present)
            if wanted.get(p) != present.get(p)
        )
        for path in stale:
            print("stale:", path)
        return 1 if stale else 0
    for path in set(present) - set(wanted):
        path.unlink()
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print("%d seeds, %d variants" % (len(SEEDS), sum(t.count(VARIANT) for t in wanted.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
