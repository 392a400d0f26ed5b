"""Lint the published orchestrator and compute-backend extensions and hold the result to docs/real-world.md.

    python tests/realworld/check.py            # download (cached), lint, compare; exit 1 on drift
    python tests/realworld/check.py --rows     # print every finding as a table row to triage

Each extension is pinned. Every finding must have a row in the table of docs/real-world.md
(extension, file, line, code, verdict: true bug, false alarm or convention, why); a finding without a row, or a row whose finding no
longer appears, fails the check. Nothing downloaded is imported or run: wheels are unpacked and
linted as files.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".realworld-cache"
DOC = ROOT / "docs" / "real-world.md"
PINNED = {
    "metaflow-prefect": "0.3.7",
    "metaflow-temporal": "0.4.9",
    "metaflow-dagster": "0.3.7",
    "metaflow-flyte": "0.4.3",
    "metaflow-kestra": "0.3.4",
    "metaflow-mage": "0.2.1",
    "metaflow-windmill": "0.2.1",
    "metaflow-kubeflow": "0.0.4",
    # compute backends (a step decorator and its `<name> step` command)
    "metaflow-gha": "0.1.0",
    "modal-metaflow": "0.1.0",
    "metaflow-slurm": "0.0.4",
    "metaflow-skypilot": "0.0.1",
    "metaflow-sandbox": "0.1.1",
}
_ROW = re.compile(
    r"^\|\s*(?P<ext>[\w-]*metaflow[\w-]*)\s*\|\s*`(?P<file>[^`]+)`\s*\|\s*(?P<line>\d+)\s*\|\s*(?P<code>MFK\d{3})\s*\|\s*(?P<verdict>true bug|false alarm|convention)\s*\|"
)

Finding = tuple  # (extension, file, line, code)


def fetch(name: str, version: str) -> Path:
    """The unpacked wheel of ``name==version``, downloaded once into the cache."""
    target = CACHE / f"{name}-{version}"
    if not target.is_dir():
        _download(name, version, target)
    # A wheel has no pyproject.toml: mark its root so that the extension is a project of its
    # own (mfkit-lint takes a file's project from the nearest pyproject.toml/setup.py/
    # setup.cfg/.git), as its source repository is, not a part of this checkout.
    (target / "setup.cfg").touch()
    return target


def _download(name: str, version: str, target: Path) -> None:
    download = CACHE / "wheels"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(download),
            f"{name}=={version}",
        ],
        check=True,
    )
    wheel = next(download.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    staging = target.with_suffix(".partial")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(staging)
    staging.rename(target)


def mfkit_json(root: Path, *extra: str) -> list[dict]:
    """The JSON findings of ``mfkit-lint`` on one extension, uncached."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mfkit_lint",
            "lint",
            "--format",
            "json",
            "--exit-zero",
            "--no-cache",
            *extra,
            str(root),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"mfkit-lint failed on {root}:\n{result.stderr}")
    return json.loads(result.stdout)


def lint(name: str, root: Path) -> set[Finding]:
    found = set()
    for item in mfkit_json(root):
        path = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
        found.add((name, path, item["location"]["row"], item["code"], item["message"]))
    return found


def triaged() -> dict[Finding, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            key = (match["ext"], match["file"], int(match["line"]), match["code"])
            rows[key] = match["verdict"]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="store_true", help="print findings as table rows")
    args = parser.parse_args(argv)
    findings = set()
    for name, version in PINNED.items():
        findings |= lint(name, fetch(name, version))
    if args.rows:
        for ext, path, line, code, message in sorted(findings):
            print(f"| {ext} | `{path}` | {line} | {code} | ? | {message} |")
        return 0
    rows = triaged()
    seen = {(e, p, ln, c) for e, p, ln, c, _ in findings}
    new = sorted(f for f in findings if f[:4] not in rows)
    gone = sorted(k for k in rows if k not in seen)
    false_alarms = sorted(k for k, v in rows.items() if v == "false alarm" and k in seen)
    # "convention": true to the code, but no runtime failure of the extension (MFK505).
    conventions = sorted(k for k, v in rows.items() if v == "convention" and k in seen)
    print(
        f"{len(findings)} findings on {len(PINNED)} published extensions; "
        f"{len(seen) - len(false_alarms) - len(conventions)} true bugs, "
        f"{len(conventions)} conventions, {len(false_alarms)} known false alarms"
    )
    for ext, path, line, code, message in new:
        print(f"untriaged: {ext} {path}:{line} {code} {message}")
    for ext, path, line, code in gone:
        print(f"no longer found: {ext} {path}:{line} {code} (update {DOC.name})")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
