"""The flake8 front end, run for real: ``flake8 --select MFK`` sees what ``mfkit-lint`` sees."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    BIN,
    RETRY_ZERO,
    RETRY_ZERO_UNSAFE,
    TAG_BEFORE_STEP,
    TUPLE_RUN_PARAMS,
    run_cli,
)

from mfkit_lint import __version__

FINDING = re.compile(r"^(?P<path>[^:\n]+):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ")

# flake8 hands the plugin the ast; a one-line command and a suppressed one on top of the usual.
ONE_LINE = """\
import sys


def step_cmd(flow, step, tag, env, p):
    return [sys.executable, flow, "--tag", tag, *env, "step", step, "--retry-count", "0", "--input-paths", p]


def suppressed(flow, step, env, p):
    return [sys.executable, flow, *env, "step", step, "--retry-count", "0", "--input-paths", p]  # noqa: MFK101
"""

# Characters before the finding on its line that are wider than one byte in UTF-8.
NON_ASCII = TUPLE_RUN_PARAMS.replace(
    "        return self.trigger", "        note = 'déjà vu'; return self.trigger"
)

# A suppression comment on another line of a multi-line list literal than the reported one
# (row 18): the CLI applies it to the whole statement, and so does the flake8 plugin.
MULTILINE_NOQA = RETRY_ZERO.replace(
    '        "--retry-count",\n', '        "--retry-count",  # noqa: MFK101\n'
)
MULTILINE_NOQA_ELSEWHERE = RETRY_ZERO.replace(
    "        flow_file,\n", "        flow_file,  # noqa\n"
)


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(BIN / "flake8"), "--isolated", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        env=dict(os.environ, NO_COLOR="1"),
    )
    assert "Traceback" not in result.stderr.decode(), result.stderr.decode()
    return result


def found(text: str) -> set[tuple[str, int, int, str]]:
    out = set()
    for line in text.splitlines():
        m = FINDING.match(line)
        if m:
            out.add((os.path.normpath(m["path"]), int(m["row"]), int(m["col"]), m["code"]))
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "ext"
    (root / "pkg").mkdir(parents=True)
    for rel, text in (
        ("deployer.py", TUPLE_RUN_PARAMS),
        ("pkg/steps.py", TAG_BEFORE_STEP),
        ("pkg/retry.py", RETRY_ZERO),
        ("pkg/unsafe.py", RETRY_ZERO_UNSAFE),
        ("one_line.py", ONE_LINE),
        ("non_ascii.py", NON_ASCII),
        ("multiline_noqa.py", MULTILINE_NOQA),
        ("multiline_noqa_elsewhere.py", MULTILINE_NOQA_ELSEWHERE),
    ):
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_flake8_reports_what_mfkit_lint_reports(project: Path):
    result = flake8("--select", "MFK", ".", cwd=project)
    assert result.returncode == 1
    via_flake8 = found(result.stdout.decode())
    cli = run_cli("--format", "concise", ".", cwd=project)
    assert cli.returncode == 1
    via_cli = found(cli.stdout.decode())
    assert via_flake8 == via_cli
    # and it is what the files hold (flake8 prints 1-based columns, as mfkit-lint does)
    assert via_flake8 == {
        ("deployer.py", 7, 40, "MFK301"),
        ("pkg/steps.py", 9, 9, "MFK103"),
        ("pkg/retry.py", 18, 9, "MFK101"),
        ("pkg/unsafe.py", 18, 9, "MFK101"),
        ("one_line.py", 5, 35, "MFK103"),
        ("one_line.py", 5, 86, "MFK101"),
        ("non_ascii.py", 7, 58, "MFK301"),  # characters, not UTF-8 bytes (60)
    }


def test_flake8_message_is_the_code_and_the_mfkit_message(project: Path):
    result = flake8("--select", "MFK301", "deployer.py", cwd=project)
    cli = run_cli("--format", "concise", "deployer.py", cwd=project)
    flake8_line = result.stdout.decode().splitlines()[0]
    cli_line = cli.stdout.decode().splitlines()[0]
    assert flake8_line == cli_line.replace(" [*]", "")


def test_noqa_is_honored(project: Path):
    (project / "noqa.py").write_text(
        TAG_BEFORE_STEP.replace('        "--tag",\n', '        "--tag",  # noqa\n')
    )
    (project / "noqa_code.py").write_text(
        RETRY_ZERO.replace('        "0",\n', '        "0",  # NOQA:mfk101\n')
    )
    (project / "noqa_other.py").write_text(
        RETRY_ZERO.replace('        "0",\n', '        "0",  # noqa: MFK103\n')
    )
    result = flake8("--select", "MFK", "noqa.py", "noqa_code.py", "noqa_other.py", cwd=project)
    assert found(result.stdout.decode()) == {("noqa_other.py", 18, 9, "MFK101")}

    # flake8 --disable-noqa reports them all, the multi-line statements too
    result = flake8(
        "--select",
        "MFK",
        "--disable-noqa",
        "noqa.py",
        "noqa_code.py",
        "multiline_noqa.py",
        "multiline_noqa_elsewhere.py",
        "one_line.py",
        cwd=project,
    )
    assert found(result.stdout.decode()) == {
        ("noqa.py", 9, 9, "MFK103"),
        ("noqa_code.py", 18, 9, "MFK101"),
        ("multiline_noqa.py", 18, 9, "MFK101"),
        ("multiline_noqa_elsewhere.py", 18, 9, "MFK101"),
        ("one_line.py", 5, 35, "MFK103"),
        ("one_line.py", 5, 86, "MFK101"),
        ("one_line.py", 9, 72, "MFK101"),
    }


def test_flake8_ignore_and_extend_select(project: Path):
    result = flake8(
        "--extend-select", "MFK", "--max-line-length", "120", "one_line.py", cwd=project
    )
    assert found(result.stdout.decode()) == {
        ("one_line.py", 5, 35, "MFK103"),
        ("one_line.py", 5, 86, "MFK101"),
    }
    # other plugins still run beside it
    (project / "unused.py").write_text("import os\n" + TUPLE_RUN_PARAMS)
    result = flake8("--extend-select", "MFK", "--ignore", "MFK103", "unused.py", cwd=project)
    assert {code for *_, code in found(result.stdout.decode())} == {"F401", "MFK301"}
    result = flake8("--select", "MFK", "--ignore", "MFK1", "one_line.py", cwd=project)
    assert (result.returncode, result.stdout) == (0, b"")


def test_show_source(project: Path):
    result = flake8("--select", "MFK", "--show-source", "pkg/steps.py", cwd=project)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("pkg/steps.py:9:9: MFK103 ")
    assert lines[1] == '        "--tag",'
    assert lines[2] == "        ^"


def test_statistics(project: Path):
    result = flake8("--select", "MFK", "--statistics", "-q", ".", cwd=project)
    stats = {}
    for line in result.stdout.decode().splitlines():
        m = re.match(r"^(\d+)\s+(MFK\d+) ", line)
        if m:
            stats[m[2]] = int(m[1])
    assert stats == {"MFK101": 3, "MFK103": 2, "MFK301": 2}


def test_plugin_registered():
    result = subprocess.run([str(BIN / "flake8"), "--version"], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert f"mfkit-lint: {__version__}" in result.stdout.decode()


def test_entry_point_is_mfk():
    from importlib.metadata import entry_points

    eps = entry_points()
    group = (
        eps.select(group="flake8.extension")
        if hasattr(eps, "select")
        else eps.get("flake8.extension", [])
    )
    ours = [ep for ep in group if ep.value.startswith("mfkit_lint.")]
    assert [(ep.name, ep.value) for ep in ours] == [
        ("MFK", "mfkit_lint.flake8_plugin:MfkitChecker")
    ]


# -- selection, as flake8 users expect it ------------------------------------------------------
def test_plugin_codes_are_on_by_default(project: Path):
    # like any flake8 plugin: no --select at all reports MFK codes beside pycodestyle's
    result = flake8("one_line.py", cwd=project)
    codes = {code for *_, code in found(result.stdout.decode())}
    assert {"MFK101", "MFK103", "E501"} <= codes


@pytest.mark.parametrize(
    "args, present, absent",
    [
        (("--select", "MFK10", "--ignore", "MFK101"), {"MFK103"}, {"MFK101", "E501"}),
        (("--select", "MFK1", "--extend-ignore", "MFK103"), {"MFK101"}, {"MFK103"}),
        (("--select", "E,MFK101"), {"E501", "MFK101"}, {"MFK103"}),
        (("--select", "MFK3"), set(), {"MFK101", "MFK103"}),
        (("--extend-ignore", "MFK", "--select", "E,MFK"), {"E501"}, {"MFK101", "MFK103"}),
        (("--select", "E", "--extend-select", "MFK103"), {"E501", "MFK103"}, {"MFK101"}),
    ],
)
def test_select_and_ignore_combinations(
    project: Path, args: tuple[str, ...], present: set[str], absent: set[str]
):
    result = flake8(*args, "one_line.py", cwd=project)
    codes = {code for *_, code in found(result.stdout.decode())}
    assert present <= codes
    assert not absent & codes
    if args[:2] == ("--select", "MFK3"):
        assert (result.returncode, result.stdout) == (0, b"")


def test_per_file_ignores(project: Path):
    result = flake8(
        "--select", "MFK", "--per-file-ignores", "pkg/*:MFK103 one_line.py:MFK1", ".", cwd=project
    )
    codes = {(path, code) for path, _, _, code in found(result.stdout.decode())}
    assert ("pkg/steps.py", "MFK103") not in codes
    assert ("pkg/retry.py", "MFK101") in codes  # only MFK103 is ignored under pkg/
    assert not {c for p, c in codes if p == "one_line.py"}
    assert ("deployer.py", "MFK301") in codes


def test_show_source_puts_the_caret_under_the_character(project: Path):
    # the line holds non-ASCII characters before the finding: flake8 counts the column in
    # characters when it draws the caret, and so do we
    result = flake8("--select", "MFK301", "--show-source", "non_ascii.py", cwd=project)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("non_ascii.py:7:58: MFK301 ")
    source, caret = lines[1], lines[2]
    assert source == "        note = 'déjà vu'; return self.trigger(run_params=run_params)"
    assert source[caret.index("^") :].startswith("run_params)")


# flake8 in this interpreter, reporting at exit which mfkit_lint modules it had imported.
FLAKE8_REPORTING_MODULES = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write(
    "MODULES " + " ".join(sorted(m for m in sys.modules if m.startswith("mfkit_lint"))) + "\\n"
))
from flake8.main.cli import main
sys.exit(main())
"""


def _imported_modules(*args: str, cwd: Path) -> set[str]:
    """The mfkit_lint modules a one-process flake8 run imported."""
    result = subprocess.run(
        [sys.executable, "-c", FLAKE8_REPORTING_MODULES, "--isolated", "--jobs", "1", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
    )
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr, stderr
    line = next(x for x in stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_plugin_costs_nothing_when_mfk_is_not_selected(project: Path):
    # flake8 calls every plugin on every file whatever --select says: when no MFK code can be
    # reported, the plugin returns at once and the engine is never imported (the timing of
    # this is measured by bench/flake8_startup.py, not here).
    not_selected = _imported_modules("--select", "E,F,W", ".", cwd=project)
    assert "mfkit_lint.flake8_plugin" in not_selected  # flake8 did load the plugin
    assert not {m for m in not_selected if m.startswith("mfkit_lint.engine")}
    selected = _imported_modules("--select", "E,F,W,MFK1", ".", cwd=project)
    assert "mfkit_lint.engine.linter" in selected
