"""The bugs the live compliance runner plants in the scaffold's reference extensions
(tests/compliance_live/run.py, BUGS) must be found statically too, each by the rule for its
pitfall at the line that shows it; the references themselves must lint clean.

The references are code nobody tuned the rules on, and the plants are the same functions the
live runner uses, so a scaffold change that moves the planted code fails here as it fails there.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from compliance_live.run import BUGS, NAME, Bug
from conftest import invoke

# (kind, bug name) -> the rule, the generated file (by suffix) and a pattern of the line where
# the finding must be: the planted line, or for a removed option the command that lacks it.
EXPECTED = {
    ("orchestrator", "hardcoded retry count"): ("MFK101", "_scheduler.py", r'^\s*"0",$'),
    ("orchestrator", "1-indexed attempts"): ("MFK401", "_scheduler.py", r"str\(attempt \+ 1\)"),
    ("orchestrator", "missing --branch"): ("MFK102", "_scheduler.py", r'^\s*"(step|init)",$'),
    ("orchestrator", "missing config env"): ("MFK201", "_scheduler.py", r'^\s*"step",$'),
    ("orchestrator", "tuple run params"): ("MFK301", "_objects.py", r"run_param=tuple\("),
    ("orchestrator", "late attribute file"): (
        "MFK303",
        "_cli.py",
        r"^\s*if deployer_attribute_file:$",
    ),
    ("backend", "hardcoded retry count"): ("MFK101", "_cli.py", r'kwargs\["retry_count"\] = 0$'),
    ("backend", "1-indexed attempts"): ("MFK401", "_cli.py", r'kwargs\["retry_count"\] = int\('),
}
# Not found statically yet (strict xfails); each came off this list with the change that finds
# it. All eight are found now; a scaffold change that hides one shows up here.
MISSED: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for kind in ("orchestrator", "backend"):
        target = tmp_path_factory.mktemp("reference") / kind
        made = invoke("scaffold", kind, NAME[kind], str(target), tool="mfkit")
        assert made.returncode == 0, made.stderr
        out[kind] = target
    return out


def _findings(root: Path) -> list[dict]:
    result = invoke("--format", "json", "--no-cache", str(root))
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_every_planted_bug_has_an_expectation():
    assert {(b.kind, b.name) for b in BUGS} == set(EXPECTED)


@pytest.mark.parametrize("kind", ["orchestrator", "backend"])
def test_unplanted_references_lint_clean(references, kind):
    assert _findings(references[kind]) == []


def _case(bug: Bug):
    key = (bug.kind, bug.name)
    marks = (
        [pytest.mark.xfail(strict=True, reason="not found statically yet")] if key in MISSED else []
    )
    return pytest.param(bug, marks=marks, id="%s-%s" % (bug.kind, bug.name.replace(" ", "-")))


@pytest.mark.parametrize("bug", [_case(b) for b in BUGS])
def test_planted_bug_is_found_at_its_line(references, tmp_path, bug):
    code, suffix, line_pattern = EXPECTED[(bug.kind, bug.name)]
    variant = tmp_path / "variant"
    shutil.copytree(references[bug.kind], variant)
    bug.plant(variant)
    (path,) = [p for p in variant.rglob("*" + suffix) if "tests" not in p.parts]
    lines = path.read_text().splitlines()
    wanted = {i for i, text in enumerate(lines, 1) if re.search(line_pattern, text)}
    assert wanted, "the expected line is not in %s: the plant or the scaffold moved" % path.name
    found = _findings(variant)
    at = {(Path(f["filename"]).name, f["location"]["row"]) for f in found if f["code"] == code}
    assert any(name == path.name and row in wanted for name, row in at), found
    # The plant adds one bug: nothing else may start firing.
    assert {f["code"] for f in found} == {code}, found
