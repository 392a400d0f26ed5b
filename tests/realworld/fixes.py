"""How many findings on the published extensions get a fix, and whether each fix holds.

    python tests/realworld/fixes.py            # table per extension and per rule; exit 1 if a
                                               # fix fails its verification
    python tests/realworld/fixes.py --json F   # the numbers, for the record

For each extension pinned in check.py (the eight orchestrators first, then the backends), a
copy of the unpacked wheel is linted with ``--unsafe-fixes`` (JSON: which findings carry a
fix), then fixed with ``--fix --unsafe-fixes``, and every fix is verified:

* every file the fix changed still parses;
* a second ``--fix --unsafe-fixes`` changes nothing (idempotent);
* after fixing, the findings that had a fix are gone and no finding appeared that was not
  there before (same code and message): in particular MFK103/MFK107/MFK109, which check every
  option of every command against the contract snapshot of Metaflow's command line, no longer
  reject the fixed commands.

Nothing downloaded is imported or run.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check import PINNED, fetch, mfkit_json

ORCHESTRATORS = list(PINNED)[:8]


def _lint(root: Path) -> list[dict]:
    return mfkit_json(root, "--unsafe-fixes")


def _fix(root: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mfkit_lint",
            "lint",
            "--fix-only",
            "--unsafe-fixes",
            "--no-cache",
            "-q",
            str(root),
        ],
        capture_output=True,
        check=True,
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def _key(item: dict, root: Path) -> tuple[str, str, str]:
    # A message may cite another line ("kept in X (line 507)"): a fix that adds or removes
    # lines above it moves that line, not the finding.
    message = re.sub(r"\bline (\d+)", "line N", item["message"])
    return (str(Path(item["filename"]).relative_to(root.resolve())), item["code"], message)


def verify(name: str, source: Path, work: Path) -> dict:
    root = work / name
    shutil.copytree(source, root)
    before = _lint(root)
    fixable = [i for i in before if i["fix"] is not None]
    original = _snapshot(root)
    _fix(root)
    fixed = _snapshot(root)
    problems = []
    for path, data in fixed.items():
        if data != original.get(path):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ast.parse(data)
            except SyntaxError as exc:
                problems.append(f"{path}: does not parse after the fix: {exc}")
    _fix(root)
    if _snapshot(root) != fixed:
        problems.append("a second --fix changed the files again")
    after = _lint(root)
    remaining = Counter(_key(i, root) for i in after)
    expected = Counter(_key(i, root) for i in before) - Counter(_key(i, root) for i in fixable)
    for key in remaining - expected:
        problems.append(f"{key[0]}: {key[1]} still or newly reported after the fix: {key[2][:100]}")
    return {
        "findings": Counter(i["code"] for i in before),
        "fixes": Counter(i["code"] for i in fixable),
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in PINNED.items():
            results[name] = verify(name, fetch(name, version), Path(tmp))
    failed = False
    for group, names in (("orchestrators", ORCHESTRATORS), ("backends", list(PINNED)[8:])):
        findings = sum((results[n]["findings"] for n in names), Counter())
        fixes = sum((results[n]["fixes"] for n in names), Counter())
        total, fixed = sum(findings.values()), sum(fixes.values())
        share = f"{100 * fixed / total:.0f}%" if total else "-"
        print(f"{group}: {fixed} of {total} findings have a fix ({share})")
        for code in sorted(findings):
            print(f"  {code}: {fixes[code]}/{findings[code]}")
        for name in names:
            r = results[name]
            print(f"  {name}: {sum(r['fixes'].values())}/{sum(r['findings'].values())}")
            for problem in r["problems"]:
                failed = True
                print(f"    FAILED: {problem}")
    print("every fix verified: parses, idempotent, findings gone" if not failed else "")
    if args.json:
        data = {
            n: {k: dict(v) if isinstance(v, Counter) else v for k, v in r.items()}
            for n, r in results.items()
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
