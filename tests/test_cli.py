"""The command line, run through the installed console scripts: options, output, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import (
    CLEAN,
    RETRY_ZERO_UNSAFE,
    RETRY_ZERO_UNSAFE_FIXED,
    TAG_BEFORE_STEP,
    TAG_BEFORE_STEP_FIXED,
    TUPLE_RUN_PARAMS,
    TUPLE_RUN_PARAMS_FIXED,
    invoke,
    run_cli,
)

from mfkit_lint import __version__
from mfkit_lint.engine.registry import all_rules

LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<row>\d+):(?P<col>\d+): (?P<code>MFK\d{3}) (?P<fix>\[\*\] )?"
)

# What the bad_project fixture holds (see conftest.py), as ``mfkit-lint ext`` prints it.
EXPECTED = {
    ("deployer.py", 7, 40, "MFK301", True),
    ("retry.py", 18, 9, "MFK101", False),
    ("steps.py", 9, 9, "MFK103", True),
    ("unsafe.py", 18, 9, "MFK101", False),
}


def out(result) -> str:
    return result.stdout.decode()


def err(result) -> str:
    return result.stderr.decode()


def findings(text: str) -> set[tuple[str, int, int, str, bool]]:
    """(file name, row, col, code, shows [*]) of every finding line."""
    found = set()
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            found.add(
                (
                    Path(m["path"]).name,
                    int(m["row"]),
                    int(m["col"]),
                    m["code"],
                    bool(m["fix"]),
                )
            )
    return found


def found_codes(result) -> set[str]:
    return {f[3] for f in findings(out(result))}


def assert_ok(result, exit_code: int) -> None:
    assert result.returncode == exit_code, (out(result), err(result))
    assert "Traceback" not in err(result)


# -- paths -------------------------------------------------------------------------------------
def test_directory_text_output_and_summary(bad_project: Path):
    result = run_cli("ext", cwd=bad_project.parent)
    assert_ok(result, 1)
    text = out(result)
    assert findings(text) == EXPECTED
    # path:row:col: CODE [*] message, with the path as the user spelled it
    assert "ext/deployer.py:7:40: MFK301 [*] run_params is a tuple (built with tuple(...))" in text
    assert "ext/retry.py:18:9: MFK101 --retry-count is always 0" in text
    lines = text.splitlines()
    assert lines[-4:] == [
        "Found 4 errors.",
        "[*] 2 fixable with the `--fix` option.",
        "1 hidden fix can be enabled with the `--unsafe-fixes` option.",
        "1 finding has no automatic fix (`--show-fixes` says why).",
    ]
    # sorted by file, then position
    paths = [line.split(":")[0] for line in lines if LINE.match(line)]
    assert paths == sorted(paths)


def test_single_file(bad_project: Path):
    result = run_cli(str(bad_project / "steps.py"))
    assert_ok(result, 1)
    lines = out(result).splitlines()
    assert lines[0].startswith(f"{bad_project / 'steps.py'}:9:9: MFK103 [*] --tag ")
    assert lines[1:] == ["Found 1 error.", "[*] 1 fixable with the `--fix` option."]


def test_default_path_is_current_directory(bad_project: Path):
    result = run_cli(cwd=bad_project)
    assert_ok(result, 1)
    assert findings(out(result)) == EXPECTED
    assert "deployer.py:7:40: MFK301" in out(result)


def test_clean_file_passes(bad_project: Path):
    result = run_cli("clean.py", cwd=bad_project)
    assert_ok(result, 0)
    assert out(result) == "All checks passed!\n"
    assert err(result) == ""


def test_nonexistent_path_is_an_error(bad_project: Path):
    result = run_cli("nope.py", cwd=bad_project)
    assert_ok(result, 2)
    assert "mfkit-lint: error: nope.py: no such file or directory" in err(result)
    assert "All checks passed!" not in out(result)


def test_nonexistent_path_still_reports_the_others(bad_project: Path):
    result = run_cli("nope", "steps.py", cwd=bad_project)
    assert_ok(result, 2)
    assert "nope: no such file or directory" in err(result)
    assert findings(out(result)) == {("steps.py", 9, 9, "MFK103", True)}


# -- stdin -------------------------------------------------------------------------------------
def test_stdin_with_stdin_filename(bad_project: Path):
    result = run_cli("-", "--stdin-filename", "pkg/steps.py", stdin=TAG_BEFORE_STEP.encode())
    assert_ok(result, 1)
    assert out(result).startswith("pkg/steps.py:9:9: MFK103 [*] --tag must come after")


def test_stdin_without_a_name_reports_dash():
    result = run_cli("-", stdin=TUPLE_RUN_PARAMS.encode())
    assert_ok(result, 1)
    assert out(result).startswith("-:7:40: MFK301 [*]")


def test_stdin_filename_alone_reads_stdin(bad_project: Path):
    result = run_cli("--stdin-filename", "x.py", cwd=bad_project, stdin=CLEAN.encode())
    assert_ok(result, 0)
    assert out(result) == "All checks passed!\n"


def test_fix_on_stdin_prints_the_fixed_text(bad_project: Path):
    stdin = TAG_BEFORE_STEP.encode()
    result = run_cli("--fix", "-", "--stdin-filename", "steps.py", cwd=bad_project, stdin=stdin)
    assert_ok(result, 0)
    assert out(result) == TAG_BEFORE_STEP_FIXED  # only the code: an editor replaces its buffer
    assert "Fixed 1 error." in err(result)
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP  # nothing written


def test_fix_on_stdin_with_nothing_to_fix_echoes_the_input():
    result = run_cli("--fix", "-", stdin=CLEAN.encode())
    assert_ok(result, 0)
    assert out(result) == CLEAN


# -- --fix, --unsafe-fixes, --diff -------------------------------------------------------------
def test_fix_writes_files_and_reports_what_remains(bad_project: Path):
    result = run_cli("--fix", ".", cwd=bad_project)
    assert_ok(result, 1)
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP_FIXED
    assert (bad_project / "deployer.py").read_text() == TUPLE_RUN_PARAMS_FIXED
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE  # unsafe: not applied
    text = out(result)
    assert findings(text) == {f for f in EXPECTED if f[3] == "MFK101"}
    assert "Found 4 errors (2 fixed, 2 remaining)." in text.splitlines()

    # idempotent: a second run has nothing left to fix
    again = run_cli("--fix", ".", cwd=bad_project)
    assert_ok(again, 1)
    assert "Found 2 errors." in out(again).splitlines()
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP_FIXED


def test_fix_everything_exits_zero(bad_project: Path):
    result = run_cli("--fix", "steps.py", "deployer.py", cwd=bad_project)
    assert_ok(result, 0)
    assert out(result) == "Fixed 2 errors.\n"


def test_unsafe_fix_is_hidden_without_unsafe_fixes(bad_project: Path):
    result = run_cli("unsafe.py", cwd=bad_project)
    assert_ok(result, 1)
    assert findings(out(result)) == {("unsafe.py", 18, 9, "MFK101", False)}  # no [*]
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option." in out(result)
    assert "fixable with the `--fix` option" not in out(result)


def test_unsafe_fixes_marks_and_applies_unsafe_fixes(bad_project: Path):
    shown = run_cli("--unsafe-fixes", "unsafe.py", cwd=bad_project)
    assert_ok(shown, 1)
    assert findings(out(shown)) == {("unsafe.py", 18, 9, "MFK101", True)}
    assert "hidden fix" not in out(shown)
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE

    fixed = run_cli("--fix", "--unsafe-fixes", "unsafe.py", cwd=bad_project)
    assert_ok(fixed, 0)
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE_FIXED


def test_unsafe_fixes_from_config_and_overridden_on_the_command_line(bad_project: Path):
    (bad_project / "pyproject.toml").write_text("[tool.mfkit-lint]\nunsafe-fixes = true\n")
    off = run_cli("--fix", "--no-unsafe-fixes", "unsafe.py", cwd=bad_project)
    assert_ok(off, 1)
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE
    on = run_cli("--fix", "unsafe.py", cwd=bad_project)
    assert_ok(on, 0)
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE_FIXED


def test_diff_prints_a_unified_diff_and_writes_nothing(bad_project: Path):
    result = run_cli("--diff", "steps.py", "deployer.py", "retry.py", cwd=bad_project)
    assert_ok(result, 1)
    text = out(result)
    assert "--- steps.py\n+++ steps.py\n@@ " in text
    assert "--- deployer.py\n+++ deployer.py\n@@ " in text
    assert "retry.py" not in text  # no fix there
    assert "-        return self.trigger(run_params=run_params)\n" in text
    assert "+        return self.trigger(run_params=list(run_params))\n" in text
    assert "Found" not in text  # the diff only, no report
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP
    assert (bad_project / "deployer.py").read_text() == TUPLE_RUN_PARAMS


def test_diff_with_nothing_to_fix_exits_zero(bad_project: Path):
    # retry.py has a finding but no fix, unsafe.py only an unsafe one
    result = run_cli("--diff", "retry.py", "unsafe.py", "clean.py", cwd=bad_project)
    assert_ok(result, 0)
    assert out(result) == "No errors would be fixed.\n"


def test_diff_includes_unsafe_fixes_only_when_asked(bad_project: Path):
    result = run_cli("--diff", "--unsafe-fixes", "unsafe.py", cwd=bad_project)
    assert_ok(result, 1)
    assert '-        "0",\n+        str(attempt),\n' in out(result)
    assert out(result).endswith("\nWould fix 1 error.\n")
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE


def test_diff_with_exit_zero(bad_project: Path):
    result = run_cli("--diff", "--exit-zero", "steps.py", cwd=bad_project)
    assert_ok(result, 0)
    assert "+++ steps.py" in out(result)


# -- selection ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "MFK1"], {"MFK101", "MFK103"}),
        (["--select", "MFK103"], {"MFK103"}),
        (["--select", "mfk3"], {"MFK301"}),  # case-insensitive
        (["--select", "MFK101,MFK301"], {"MFK101", "MFK301"}),
        (["--select", "MFK101", "--select", "MFK301"], {"MFK101", "MFK301"}),
        (["--ignore", "MFK1"], {"MFK301"}),
        (["--ignore", "MFK101", "--ignore", "MFK301"], {"MFK103"}),
        (["--select", "MFK1", "--ignore", "MFK103"], {"MFK101"}),
        # the most specific selector wins, whichever side it is on
        (["--select", "MFK103", "--ignore", "MFK1"], {"MFK103"}),
        (["--select", "MFK3", "--extend-select", "MFK103"], {"MFK301", "MFK103"}),
        (["--extend-select", "MFK1", "--ignore", "MFK"], {"MFK101", "MFK103"}),
        (["--select", "ALL", "--ignore", "MFK"], set()),
    ],
)
def test_select_ignore_extend_select(bad_project: Path, args: list[str], expected: set[str]):
    # A matrix: in-process; test_selection_through_the_console_script covers the real script.
    result = invoke(*args, "--format", "concise", cwd=bad_project)
    assert_ok(result, 1 if expected else 0)
    assert found_codes(result) == expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("MFK-1", "invalid rule selector 'MFK-1'"),
        ("bogus!", "invalid rule selector 'BOGUS!'"),
        ("MFK9", "rule selector 'MFK9' matches no known rule"),
        ("XYZ123", "rule selector 'XYZ123' matches no known rule"),
    ],
)
def test_invalid_selector_is_a_usage_error(bad_project: Path, selector: str, message: str):
    result = invoke("--select", selector, cwd=bad_project)
    assert_ok(result, 2)
    assert message in err(result)
    assert out(result) == ""


def test_selection_through_the_console_script(bad_project: Path):
    result = run_cli(
        "--select", "MFK1", "--ignore", "MFK103", "--format", "concise", cwd=bad_project
    )
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK101"}
    result = run_cli(
        "--select", "MFK103", "--ignore", "MFK1", "--format", "concise", cwd=bad_project
    )
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK103"}
    result = run_cli("--extend-select", "MFK8", cwd=bad_project)
    assert_ok(result, 2)
    assert "mfkit-lint: error: rule selector 'MFK8' matches no known rule" in err(result)


def test_invalid_ignore_and_extend_select_are_usage_errors(bad_project: Path):
    for option in ("--ignore", "--extend-select"):
        result = invoke(option, "NOPE1", cwd=bad_project)
        assert_ok(result, 2)
        assert "NOPE1" in err(result)


# -- output formats ----------------------------------------------------------------------------
def test_concise_format_has_no_summary(bad_project: Path):
    result = run_cli("--format", "concise", ".", cwd=bad_project)
    assert_ok(result, 1)
    lines = out(result).splitlines()
    assert len(lines) == 4
    assert all(LINE.match(line) for line in lines)
    assert findings(out(result)) == EXPECTED


def test_concise_format_clean_prints_nothing(bad_project: Path):
    result = invoke("--format", "concise", "clean.py", cwd=bad_project)
    assert_ok(result, 0)
    assert out(result) == ""


def _apply(text: str, edits: list[dict]) -> str:
    """Apply JSON fix edits (1-based rows and columns) to ``text``."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(loc: dict) -> int:
        return starts[loc["row"] - 1] + loc["column"] - 1

    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        start, end = offset(edit["location"]), offset(edit["end_location"])
        text = text[:start] + edit["content"] + text[end:]
    return text


def test_json_format_shape(bad_project: Path):
    result = run_cli("--format", "json", ".", cwd=bad_project)
    assert_ok(result, 1)
    data = json.loads(out(result))
    assert isinstance(data, list)
    assert len(data) == 4
    by_file = {Path(d["filename"]).name: d for d in data}
    assert set(by_file) == {"deployer.py", "steps.py", "retry.py", "unsafe.py"}
    for item in data:
        assert {"code", "message", "filename", "location", "end_location", "fix", "url"} <= set(
            item
        )
        assert Path(item["filename"]).is_absolute()
        assert Path(item["filename"]).parent == bad_project.resolve()
        for key in ("location", "end_location"):
            assert set(item[key]) == {"row", "column"}
            assert item[key]["row"] >= 1
            assert item[key]["column"] >= 1
        assert (item["end_location"]["row"], item["end_location"]["column"]) >= (
            item["location"]["row"],
            item["location"]["column"],
        )
        assert item["url"].endswith(".md")

    deployer = by_file["deployer.py"]
    assert deployer["code"] == "MFK301"
    assert deployer["location"] == {"row": 7, "column": 40}  # 1-based, like the text output
    assert deployer["end_location"] == {"row": 7, "column": 50}  # the `run_params` argument
    assert deployer["url"].endswith("/run-params-tuple.md")
    assert deployer["message"].startswith("run_params is a tuple")

    assert by_file["retry.py"]["fix"] is None  # no fix for this one

    unsafe_fix = by_file["unsafe.py"]["fix"]
    assert unsafe_fix["applicability"] == "unsafe"  # listed, even though --fix would skip it

    for name, before, after in (
        ("deployer.py", TUPLE_RUN_PARAMS, TUPLE_RUN_PARAMS_FIXED),
        ("steps.py", TAG_BEFORE_STEP, TAG_BEFORE_STEP_FIXED),
        ("unsafe.py", RETRY_ZERO_UNSAFE, RETRY_ZERO_UNSAFE_FIXED),
    ):
        fix = by_file[name]["fix"]
        assert set(fix) == {"applicability", "message", "edits"}
        assert fix["message"]
        assert fix["edits"]
        for edit in fix["edits"]:
            assert set(edit) == {"content", "location", "end_location"}
        assert _apply(before, fix["edits"]) == after
    assert by_file["steps.py"]["fix"]["applicability"] == "safe"
    # JSON is for machines: nothing was written
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP


def test_json_format_clean_is_an_empty_list(bad_project: Path):
    result = invoke("--format", "json", "clean.py", cwd=bad_project)
    assert_ok(result, 0)
    assert json.loads(out(result)) == []


def test_output_file(bad_project: Path, tmp_path: Path):
    report = tmp_path / "report.txt"
    result = run_cli("--output-file", str(report), ".", cwd=bad_project)
    assert_ok(result, 1)  # the exit code still tells about the findings
    assert out(result) == ""
    assert findings(report.read_text()) == EXPECTED
    assert "Found 4 errors." in report.read_text()

    as_json = tmp_path / "report.json"
    result = run_cli("-o", str(as_json), "--format", "json", ".", cwd=bad_project)
    assert_ok(result, 1)
    assert len(json.loads(as_json.read_text())) == 4


def test_output_file_in_missing_directory_is_an_error(bad_project: Path, tmp_path: Path):
    result = run_cli("-o", str(tmp_path / "no" / "such" / "dir.txt"), ".", cwd=bad_project)
    assert_ok(result, 2)
    assert "cannot write" in err(result)


def test_fix_on_stdin_with_output_file_keeps_the_report_out_of_stdout(tmp_path: Path):
    report = tmp_path / "report.txt"
    result = run_cli("--fix", "-", "-o", str(report), stdin=TAG_BEFORE_STEP.encode())
    assert_ok(result, 0)
    assert out(result) == TAG_BEFORE_STEP_FIXED
    assert report.read_text() == "Fixed 1 error.\n"


def test_exit_zero(bad_project: Path):
    result = run_cli("--exit-zero", ".", cwd=bad_project)
    assert_ok(result, 0)
    assert findings(out(result)) == EXPECTED
    assert "Found 4 errors." in out(result)


def test_exit_zero_does_not_hide_errors(bad_project: Path):
    result = run_cli("--exit-zero", "nope.py", cwd=bad_project)
    assert_ok(result, 2)


def test_statistics(bad_project: Path):
    result = run_cli("--statistics", ".", cwd=bad_project)
    assert_ok(result, 1)
    assert out(result).splitlines() == [
        "2\tMFK101\t    hardcoded-retry-count",
        "1\tMFK103\t[*] tag-before-subcommand",
        "1\tMFK301\t[*] run-params-tuple",
        "Found 4 errors.",
        "[*] 2 fixable with the `--fix` option.",
    ]


def test_statistics_clean(bad_project: Path):
    result = invoke("--statistics", "clean.py", cwd=bad_project)
    assert_ok(result, 0)
    assert out(result) == ""


def test_show_source(bad_project: Path):
    result = run_cli("--show-source", "steps.py", "deployer.py", cwd=bad_project)
    assert_ok(result, 1)
    text = out(result)
    assert (
        '  |\n9 |         "--tag",\n  |         ^^^^^^^\n' in text
    )  # the `"--tag"` literal, underlined
    assert (
        "  |\n"
        "7 |         return self.trigger(run_params=run_params)\n"
        "  |                                        ^^^^^^^^^^\n"
    ) in text
    without = run_cli("steps.py", cwd=bad_project)
    assert " | " not in out(without)


# -- configuration file ------------------------------------------------------------------------
def test_config_standalone_toml(bad_project: Path, tmp_path: Path):
    config = tmp_path / "lint.toml"
    config.write_text('select = ["MFK1"]\nignore = ["MFK103"]\n')
    result = run_cli("--config", str(config), "--format", "concise", cwd=bad_project)
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK101"}


def test_config_pyproject_toml_elsewhere(bad_project: Path, tmp_path: Path):
    other = tmp_path / "settings"
    other.mkdir()
    (other / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.mfkit-lint]\nselect = ["MFK3"]\n'
    )
    # a pyproject.toml beside the files is not used when --config is given
    (bad_project / "pyproject.toml").write_text('[tool.mfkit-lint]\nselect = ["MFK1"]\n')
    result = run_cli(
        "--config", str(other / "pyproject.toml"), "--format", "concise", cwd=bad_project
    )
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK301"}


def test_command_line_selection_overrides_config_select(bad_project: Path, tmp_path: Path):
    config = tmp_path / "lint.toml"
    config.write_text('select = ["MFK1"]\n')
    result = run_cli(
        "--config", str(config), "--select", "MFK301", "--format", "concise", cwd=bad_project
    )
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK301"}


def test_command_line_select_starts_over_from_the_config_ignore(bad_project: Path, tmp_path: Path):
    config = tmp_path / "lint.toml"
    config.write_text('ignore = ["MFK301"]\n')
    without = run_cli("--config", str(config), "--format", "concise", cwd=bad_project)
    assert "MFK301" not in found_codes(without)
    result = run_cli(
        "--config", str(config), "--select", "MFK301", "--format", "concise", cwd=bad_project
    )
    assert_ok(result, 1)
    assert found_codes(result) == {"MFK301"}


def test_config_file_missing(bad_project: Path):
    result = run_cli("--config", "missing.toml", cwd=bad_project)
    assert_ok(result, 2)
    assert "missing.toml" in err(result)


def test_config_file_with_an_error(bad_project: Path, tmp_path: Path):
    config = tmp_path / "lint.toml"
    config.write_text('select = "MFK1"\n')
    result = run_cli("--config", str(config), cwd=bad_project)
    assert_ok(result, 2)
    assert "'select'" in err(result)
    assert "must be a list of strings" in err(result)
    assert str(config) in err(result)


# -- rules and docs ----------------------------------------------------------------------------
def test_list_rules(bad_project: Path):
    result = run_cli("--list-rules", cwd=bad_project)
    assert_ok(result, 0)
    lines = out(result).splitlines()
    assert lines[0].split() == ["code", "name", "fix", "capability", "summary"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    capabilities = {line.split()[0]: line.split()[3] for line in lines[1:]}
    assert capabilities["MFK101"] == "RETRY" and capabilities["MFK001"] == "-"
    assert list(rows) == [r.code for r in all_rules()]
    assert {"MFK001", "MFK002", "MFK101", "MFK103", "MFK301"} <= set(rows)
    assert rows["MFK001"] == ["syntax-error", "-"]
    assert rows["MFK103"] == ["tag-before-subcommand", "safe"]
    assert rows["MFK101"] == ["hardcoded-retry-count", "unsafe"]
    # does not lint anything
    assert "Found" not in out(result)


@pytest.mark.parametrize(
    "args",
    [
        ("mfkit-lint", "--explain", "MFK101"),
        ("mfkit-lint", "--explain", "mfk101"),
        ("mfkit", "rule", "MFK101"),
    ],
)
def test_explain_and_mfkit_rule(args: tuple[str, ...]):
    result = run_cli(*args[1:], tool=args[0])
    assert_ok(result, 0)
    # Both the pitfall page and the docstring fallback start with this heading.
    assert out(result).splitlines()[0] == "# hardcoded-retry-count (MFK101)"
    assert len(out(result).splitlines()) > 2


def test_explain_engine_rule():
    result = run_cli("--explain", "MFK001")
    assert_ok(result, 0)
    assert out(result).startswith("# syntax-error (MFK001)\n")


@pytest.mark.parametrize(
    "args",
    [("mfkit-lint", "--explain", "MFK999"), ("mfkit", "rule", "MFK999"), ("mfkit", "rule", "x")],
)
def test_explain_unknown_code(args: tuple[str, ...]):
    result = run_cli(*args[1:], tool=args[0])
    assert_ok(result, 2)
    assert "unknown rule code" in err(result)
    assert out(result) == ""


def test_version():
    result = run_cli("--version")
    assert_ok(result, 0)
    assert out(result).strip() == f"mfkit-lint, version {__version__}"
    result = run_cli("--version", tool="mfkit")
    assert_ok(result, 0)
    assert __version__ in out(result)


def test_unknown_option_is_a_usage_error():
    result = run_cli("--no-such-option")
    assert_ok(result, 2)
    assert "No such option" in err(result)


def test_mfkit_lint_subcommand_is_the_same_command(bad_project: Path):
    for args in ((".",), ("--format", "json", "--select", "MFK1", ".")):
        standalone = run_cli(*args, cwd=bad_project)
        sub = run_cli("lint", *args, cwd=bad_project, tool="mfkit")
        assert_ok(sub, 1)
        assert (sub.returncode, out(sub), err(sub)) == (
            standalone.returncode,
            out(standalone),
            err(standalone),
        )
    clean = run_cli("lint", "clean.py", cwd=bad_project, tool="mfkit")
    assert_ok(clean, 0)
    assert out(clean) == "All checks passed!\n"


# -- ruff parity -------------------------------------------------------------------------------
def test_output_format_is_an_alias_of_format(bad_project: Path):
    result = run_cli("--output-format", "json", "deployer.py", cwd=bad_project)
    assert_ok(result, 1)
    [item] = json.loads(out(result))
    assert item["code"] == "MFK301"


def test_json_carries_name_severity_cell_and_why_no_fix(bad_project: Path):
    result = run_cli("--format", "json", "retry.py", "deployer.py", cwd=bad_project)
    items = json.loads(out(result))
    by_code = {i["code"]: i for i in items}
    assert by_code["MFK301"]["name"] == "run-params-tuple"
    assert by_code["MFK301"]["severity"] == "warning"
    assert by_code["MFK301"]["cell"] is None
    assert by_code["MFK301"]["fix"] is not None and "no_fix_reason" not in by_code["MFK301"]
    assert by_code["MFK101"]["fix"] is None
    assert by_code["MFK101"]["no_fix_reason"]


def test_quiet_prints_findings_only(bad_project: Path):
    result = run_cli("-q", ".", cwd=bad_project)
    assert_ok(result, 1)
    lines = out(result).splitlines()
    assert lines and all(LINE.match(line) for line in lines)


def test_show_fixes_lists_fixed_and_unfixable(bad_project: Path):
    result = run_cli("--fix", "--show-fixes", "deployer.py", "retry.py", cwd=bad_project)
    assert_ok(result, 1)
    text = out(result)
    assert (
        "Fixed 1 error:\n- deployer.py:\n    1 \N{MULTIPLICATION SIGN} MFK301 (run-params-tuple)"
        in text
    )
    assert "No fix available (" in text
    assert "retry.py:18:9: MFK101: " in text


def test_fix_only_reports_no_remaining_findings(bad_project: Path):
    result = run_cli("--fix-only", "deployer.py", "retry.py", cwd=bad_project)
    assert_ok(result, 0)
    assert "MFK101" not in out(result)
    assert "Fixed 1 error." in out(result)
    assert "list(" in (bad_project / "deployer.py").read_text()


def test_exit_non_zero_on_fix(bad_project: Path):
    result = run_cli("--fix", "--exit-non-zero-on-fix", "deployer.py", cwd=bad_project)
    assert_ok(result, 1)
    assert "Fixed 1 error." in out(result)
    again = run_cli("--fix", "--exit-non-zero-on-fix", "deployer.py", cwd=bad_project)
    assert_ok(again, 0)


def test_no_fix_overrides_fix(bad_project: Path):
    before = (bad_project / "deployer.py").read_text()
    result = run_cli("--fix", "--no-fix", "deployer.py", cwd=bad_project)
    assert_ok(result, 1)
    assert (bad_project / "deployer.py").read_text() == before


def test_force_exclude_applies_to_named_files(bad_project: Path):
    (bad_project / "pyproject.toml").write_text(
        '[tool.mfkit-lint]\nextend-exclude = ["deployer.py"]\n', encoding="utf-8"
    )
    named = run_cli("deployer.py", cwd=bad_project)
    assert "MFK301" in out(named)
    forced = run_cli("--force-exclude", "deployer.py", cwd=bad_project)
    assert_ok(forced, 0)
    assert "MFK301" not in out(forced)


def test_rule_by_name_and_help_lines_whole():
    by_name = run_cli("rule", "hardcoded-retry-count", tool="mfkit")
    assert_ok(by_name, 0)
    assert out(by_name).startswith("# hardcoded-retry-count (MFK101)")
    helptext = out(run_cli("--help", tool="mfkit"))
    commands = helptext.split("Commands:")[1]
    assert "..." not in commands
    assert "(e.g.\n" not in commands
    assert "hardcoded-\n" in commands or "hardcoded-retry-count)" in commands
