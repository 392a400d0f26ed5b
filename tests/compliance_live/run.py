"""CI: the live compliance suites against the scaffold's reference extensions (every required
capability must pass) and against broken variants of them (each planted bug must be caught,
as a failure of the capability it breaks), and against metaflow-prefect (its matrix is kept in
docs/compliance/prefect.md).

    python tests/compliance_live/run.py references   # scaffold references + planted bugs
    python tests/compliance_live/run.py prefect      # needs metaflow-prefect installed here

The extensions are generated into a temporary directory and put on PYTHONPATH (Metaflow finds
`metaflow_extensions` packages on sys.path), so nothing is installed into the environment.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# CI lays a copy of shared/ beside the clone; Metaflow's own test/ux suite is in it.
METAFLOW_SRC = REPO.parent / "shared" / "metaflow-src"
UX_MODULES = "dag,config"  # the modules the reference passes in full (basic: see the report)
NAME = {"orchestrator": "refsched", "backend": "refcompute"}
TIMEOUT = "150"


@dataclass
class Bug:
    name: str
    kind: str
    breaks: str  # the capability whose test must fail
    tests: str  # -k expression: only the tests that can notice it
    plant: Callable[[Path], None]


def _edit(root: Path, suffix: str, pattern: str, replacement: str, count: int = 1) -> None:
    """Replace a pattern in the one generated file ending with suffix; the pattern must match,
    so a scaffold change that moves the code fails here instead of planting nothing."""
    (path,) = [p for p in root.rglob("*" + suffix) if "tests" not in p.parts]
    text = path.read_text()
    new, made = re.subn(pattern, replacement, text, count=count, flags=re.S)
    if made != count:
        raise SystemExit("cannot plant the bug: %r not found in %s" % (pattern, path))
    path.write_text(new)


def _retry(replacement: str) -> Callable[[Path], None]:
    return lambda root: _edit(
        root, "_scheduler.py", r'("--retry-count",\s*)str\(attempt\)', r"\g<1>" + replacement
    )


def _no_branch(root: Path) -> None:
    _edit(root, "_scheduler.py", r'cmd \+= \["--branch", [^\n]*', "pass")


def _no_config_env(root: Path) -> None:
    _edit(root, "_scheduler.py", r'env\["METAFLOW_FLOW_CONFIG_VALUE"\] = [^\n]*', "pass")


def _tuple_params(root: Path) -> None:
    # The DeployedFlow hands the parameters over as a tuple of name=value pairs (as click's
    # multiple options return them) instead of a list.
    _edit(
        root,
        "_objects.py",
        r"\.trigger\(deployer_attribute_file=attribute_file_path, \*\*kwargs\)",
        '.trigger(deployer_attribute_file=attribute_file_path, run_param=tuple("%s=%s" % kv '
        "for kv in kwargs.items()))",
    )
    _edit(
        root,
        "_cli.py",
        r"@click\.pass_obj\ndef trigger\(\n    obj: Any,\n",
        '@click.option("--run-param", "run_param", multiple=True)\n@click.pass_obj\n'
        "def trigger(\n    obj: Any,\n    run_param: tuple = (),\n",
    )
    _edit(
        root,
        "_cli.py",
        r"(    run_params = _run_params\(obj, kwargs\)\n)",
        r'\g<1>    for pair in run_param:\n        key, _, value = pair.partition("=")\n'
        r'        run_params += ["--" + key, value]\n',
    )


def _late_attribute_file(root: Path) -> None:
    # The trigger command runs the flow to its end and only then writes the attribute file.
    (path,) = [p for p in root.rglob("*_cli.py") if "tests" not in p.parts]
    text = path.read_text()
    trigger = text.find("\ndef trigger(")
    block = re.compile(
        r"\n    if deployer_attribute_file:\n.*?\n                f,\n            \)\n", re.S
    ).search(text, trigger)
    if block is None or "start_run(plan, run_id, run_params, origin_run_id)" not in text:
        raise SystemExit("cannot plant the bug: trigger's attribute-file block not found")
    text = text.replace(block.group(0), "\n")
    text = text.replace(
        "    start_run(plan, run_id, run_params, origin_run_id)\n",
        "    record = start_run(plan, run_id, run_params, origin_run_id)\n"
        '    os.waitpid(record["driver_pid"], 0)\n' + block.group(0)[1:],
    )
    text = text.replace("    record = start_run(", "    import os\n\n    record = start_run(", 1)
    path.write_text(text)


def _backend_retry(value: str) -> Callable[[Path], None]:
    # The backend's step command overrides the runtime's 0-based attempt.
    return lambda root: _edit(
        root,
        "_cli.py",
        r'(    step_args = " "\.join\(util\.dict_to_cli_options\(kwargs\)\))',
        '    kwargs["retry_count"] = %s\n\\g<1>' % value,
    )


BUGS = [
    Bug("hardcoded retry count", "orchestrator", "RETRY", "test_retry", _retry('"0"')),
    Bug("1-indexed attempts", "orchestrator", "RETRY", "test_retry", _retry("str(attempt + 1)")),
    Bug("missing --branch", "orchestrator", "PROJECT_BRANCH", "test_project_branch", _no_branch),
    Bug("missing config env", "orchestrator", "CONFIG_EXPR", "test_config", _no_config_env),
    Bug("tuple run params", "orchestrator", "RUN_PARAMS", "test_run_params", _tuple_params),
    Bug(
        "late attribute file",
        "orchestrator",
        "TRIGGER",
        "test_trigger_returns_before_run_ends",
        _late_attribute_file,
    ),
    Bug("hardcoded retry count", "backend", "RETRY_COUNT", "test_retry_count", _backend_retry("0")),
    Bug(
        "1-indexed attempts",
        "backend",
        "RETRY_COUNT",
        "test_retry_count",
        _backend_retry('int(kwargs.get("retry_count") or 0) + 1'),
    ),
]


def mfkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mfkit_lint", *args]
    # Not from the repository root, whose mfkit_lint/ would shadow the installed package.
    return subprocess.run(
        command, env=env, text=True, capture_output=True, timeout=3600, cwd=tempfile.gettempdir()
    )


_RESULTS = {"pass", "FAIL", "skip", "not tested", "not selected"}


def rows(report: Path) -> dict[str, str]:
    """capability -> pass/FAIL/skip, from the Markdown matrix."""
    found = {}
    for line in report.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isupper() and cells[1] in _RESULTS:
            found[cells[0]] = cells[1]
    return found


def compliance(kind: str, root: Path, report: Path, *extra: str) -> tuple[int, float]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    option = "--scheduler-type" if kind == "orchestrator" else "--backend"
    began = time.monotonic()
    args = ["compliance", kind, option, NAME[kind], "--timeout", TIMEOUT, "--report", str(report)]
    done = mfkit(*args, *extra, env=env)
    sys.stdout.write(done.stdout[-6000:])
    sys.stdout.write(done.stderr[-3000:])
    return done.returncode, time.monotonic() - began


def references(work: Path) -> int:
    failures = []
    summary = []
    if mfkit("scaffold", "--help").returncode != 0:
        # Until `mfkit scaffold` exists there is no reference to hold to the suite.
        print("NOTE: no `mfkit scaffold` command in this checkout: references not tested")
        return 0
    for kind in ("orchestrator", "backend"):
        reference = work / kind
        if mfkit("scaffold", kind, "--help").returncode != 0:
            summary.append("%s reference: `mfkit scaffold %s` does not exist yet" % (kind, kind))
            continue
        made = mfkit("scaffold", kind, NAME[kind], str(reference))
        if made.returncode != 0:
            summary.append("%s reference: not generated (%s)" % (kind, made.stderr.strip()[-300:]))
            failures.append("the %s reference could not be generated" % kind)
            continue
        extra = []
        if kind == "orchestrator" and METAFLOW_SRC.is_dir():
            extra = ["--metaflow-src", str(METAFLOW_SRC), "--test-modules", UX_MODULES]
        elif kind == "orchestrator":
            summary.append("(no %s: Metaflow's test/ux not run)" % METAFLOW_SRC)
        code, took = compliance(kind, reference, work / ("%s.md" % kind), *extra)
        verdict = "all required pass" if code == 0 else "FAILED (exit %d)" % code
        summary.append("%s reference: %s (%.0f s)" % (kind, verdict, took))
        if code != 0:
            failures.append("%s reference does not pass" % kind)
        for bug in (b for b in BUGS if b.kind == kind):
            variant = work / ("%s-%s" % (kind, bug.name.replace(" ", "-")))
            shutil.copytree(reference, variant)
            bug.plant(variant)
            report = variant / "report.md"
            code, took = compliance(kind, variant, report, "-k", bug.tests)
            got = rows(report).get(bug.breaks) if report.exists() else None
            caught = code == 1 and got == "FAIL"
            summary.append(
                "  planted %-22s -> %s %s (%.0f s)"
                % (
                    bug.name,
                    bug.breaks,
                    "caught" if caught else "NOT CAUGHT (%s, exit %d)" % (got, code),
                    took,
                )
            )
            if not caught:
                failures.append("planted bug not caught: %s" % bug.name)
            else:
                for line in report.read_text().splitlines():
                    if "static rule:" in line:
                        summary.append("    " + line.strip())
    print("\n".join(["", "Compliance against the scaffold references:", *summary]))
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


def prefect(work: Path) -> int:
    report = work / "prefect.md"
    began = time.monotonic()
    args = [
        "compliance",
        "orchestrator",
        "--scheduler-type",
        "prefect",
        "--service",
        "prefect-local",
        "--timeout",
        "120",
        # The tests mostly wait on the scheduler: two at a time halves the wall time.
        "--workers",
        "2",
        "--report",
        str(report),
        "--title",
        "metaflow-prefect 0.3.7",
    ]
    done = mfkit(*args)
    sys.stdout.write(done.stdout[-8000:] + done.stderr[-3000:])
    print("metaflow-prefect: exit %d in %.0f s" % (done.returncode, time.monotonic() - began))
    if done.returncode == 2 or not report.exists():
        print("FAIL: the Prefect suite could not run")
        return 1
    kept = REPO / "docs" / "compliance" / "prefect.md"
    now, before = rows(report), rows(kept) if kept.exists() else {}
    changed = {cap: (before.get(cap), now[cap]) for cap in now if before.get(cap) != now[cap]}
    if changed:
        # Reported, not failed: a live third-party run on a shared machine can be slow.
        print("NOTE: the matrix differs from docs/compliance/prefect.md: %s" % changed)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["references", "prefect"])
    part = parser.parse_args().part
    work = Path(tempfile.mkdtemp(prefix="mfkit-compliance-ci-"))
    try:
        return references(work) if part == "references" else prefect(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
