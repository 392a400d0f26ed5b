"""Per-rule recall and precision of the linter on the metamorphic corpus.

    python tests/shapes/report.py                  # the table and the failure classes
    python tests/shapes/report.py --update-known   # rewrite known_failures.txt from this run

Recall: bug variants reported at their anchor line / all bug variants. Precision: those hits /
(hits + variants with a finding where there must be none). A variant counts once either way.
Exit status 1 when a variant's result differs from known_failures.txt (a new failure, or a
known failure that now passes and must leave the list).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import KNOWN_FAILURES, Outcome, known_failures, run, variants  # noqa: E402
from generate import SEEDS  # noqa: E402

HEADER = """\
# Variants of tests/shapes/cases/ the linter does not handle yet, with their failure class.
# test_shapes.py marks them strict-xfail: when one starts passing, take it off this list
# (python tests/shapes/report.py --update-known). Classes are described in tests/shapes/README.md.
"""


def classify(outcome: Outcome) -> str:
    """A first guess of a new failure's class, from how the variant is spelled."""
    v = outcome.variant
    parts = v.spelling.split("-")
    if outcome.stray:
        return "plugin-step-as-core-step" if "plugin" in parts else "false-alarm"
    if "split" in parts:
        return "across-modules"
    for gen, name in (
        ("emit", "generated-by-writer-method"),
        ("write", "generated-by-writer-method"),
        ("fragments", "generated-from-source-fragments"),
        ("template", "generated-module-template"),
        ("lines", "generated-module-template"),
    ):
        if "gen" in parts and gen in parts[parts.index("gen") + 1 :]:
            return name
    if parts[0] == "bash":
        return "bash-conditional-expansion" if "cond" in parts else "bash-script-template"
    if parts[0] == "template":
        return "string-template"
    if "cond" in parts:
        return "conditional-piece-in-string"
    if set(parts) & {"default", "attr", "dict"}:
        return "value-through-" + next(p for p in parts if p in ("default", "attr", "dict"))
    if "env" in parts:
        return "environment-" + parts[parts.index("env") + 1]
    if parts[0] == "join":
        return "join-into-template"
    return "other"


def measure() -> list[Outcome]:
    return [run(v) for v in variants()]


def table(outcomes: list[Outcome]) -> str:
    known = known_failures()
    rows = ["rule     seeds  bug  ok   recall  precision  xfail"]
    seeds = Counter(s.rule for s in SEEDS)
    for rule in sorted({o.variant.rule for o in outcomes}):
        mine = [o for o in outcomes if o.variant.rule == rule]
        bugs = [o for o in mine if o.variant.bug]
        hits = sum(o.hit for o in bugs)
        alarms = sum(bool(o.stray) for o in mine)
        recall = hits / len(bugs) if bugs else 1.0
        precision = hits / (hits + alarms) if hits + alarms else 1.0
        xfail = sum(o.variant.id in known for o in mine)
        rows.append(
            "%-8s %5d %4d %4d   %5.2f   %8.2f  %5d"
            % (rule, seeds[rule], len(bugs), len(mine) - len(bugs), recall, precision, xfail)
        )
    bugs = [o for o in outcomes if o.variant.bug]
    hits = sum(o.hit for o in bugs)
    alarms = sum(bool(o.stray) for o in outcomes)
    rows.append(
        "%-8s %5d %4d %4d   %5.2f   %8.2f  %5d"
        % (
            "all",
            len(SEEDS),
            len(bugs),
            len(outcomes) - len(bugs),
            hits / len(bugs),
            hits / (hits + alarms),
            len(known),
        )
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-known", action="store_true", help="rewrite known_failures.txt")
    args = parser.parse_args()
    outcomes = measure()
    known = known_failures()
    failing = {o.variant.id: o for o in outcomes if not o.passed}
    print(table(outcomes))
    classes = Counter(known.get(i) or classify(o) for i, o in failing.items())
    print("\nfailure classes (variants):")
    for name, count in sorted(classes.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %4d  %s" % (count, name))
    if args.update_known:
        lines = [HEADER]
        for ident in sorted(failing):
            lines.append("%s  %s\n" % (ident, known.get(ident) or classify(failing[ident])))
        KNOWN_FAILURES.write_text("".join(lines), encoding="utf-8")
        return 0
    new = sorted(set(failing) - set(known))
    fixed = sorted(set(known) - set(failing))
    for ident in new:
        print("new failure: %s (%s)" % (ident, failing[ident].describe()))
    for ident in fixed:
        print("now passes, take it off known_failures.txt: %s" % ident)
    return 1 if new or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
