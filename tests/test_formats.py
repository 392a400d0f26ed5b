"""The CI formats: SARIF 2.1.0 (checked against the official schema), GitHub workflow commands
and JUnit XML (read back with junitparser)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import (
    RETRY_ZERO_UNSAFE,
    RETRY_ZERO_UNSAFE_FIXED,
    TAG_BEFORE_STEP,
    TAG_BEFORE_STEP_FIXED,
    TUPLE_RUN_PARAMS,
    TUPLE_RUN_PARAMS_FIXED,
    invoke,
    run_cli,
)
from junitparser import Error, Failure, JUnitXml

from mfkit_lint import __version__
from mfkit_lint.engine.diagnostic import Diagnostic, Location, Span
from mfkit_lint.engine.docs import pitfall_page
from mfkit_lint.engine.registry import rule_by_code
from mfkit_lint.report import FORMAT_NAMES, Report
from mfkit_lint.report.github import annotation
from mfkit_lint.report.junit import render_junit

# The OASIS schema, errata01 (docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/), as
# published in oasis-tcs/sarif-spec (Schemata/sarif-schema-2.1.0.json); vendored unchanged.
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)

# The rules the snippets of conftest.py are about: rules added later leave these tests alone.
SELECT = ("--select", "MFK101,MFK103,MFK301")

# What the bad_project fixture holds (see conftest.py), linted as ``ext`` from its parent.
EXPECTED = {
    ("ext/deployer.py", 7, 40, "MFK301"),
    ("ext/retry.py", 18, 9, "MFK101"),
    ("ext/steps.py", 9, 9, "MFK103"),
    ("ext/unsafe.py", 18, 9, "MFK101"),
}
FIXED = {
    "ext/deployer.py": (TUPLE_RUN_PARAMS, TUPLE_RUN_PARAMS_FIXED),
    "ext/steps.py": (TAG_BEFORE_STEP, TAG_BEFORE_STEP_FIXED),
    "ext/unsafe.py": (RETRY_ZERO_UNSAFE, RETRY_ZERO_UNSAFE_FIXED),
}

# Characters before the finding on its line: a rocket is one character but two UTF-16 code
# units (and four UTF-8 bytes); SARIF columns count UTF-16 code units.
NON_BMP = TUPLE_RUN_PARAMS.replace(
    "        return self.trigger", "        note = '\U0001f680 é'; return self.trigger"
)


def out(result) -> str:
    return result.stdout.decode()


def assert_exit(result, code: int) -> None:
    assert result.returncode == code, (out(result), result.stderr.decode())


def json_regions(cwd: Path, *paths: str) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """(file name, code) -> (row, col, end row, end col) from the JSON format."""
    data = json.loads(out(invoke("--format", "json", *SELECT, *paths, cwd=cwd)))
    return {
        (Path(d["filename"]).name, d["code"]): (
            d["location"]["row"],
            d["location"]["column"],
            d["end_location"]["row"],
            d["end_location"]["column"],
        )
        for d in data
    }


# -- SARIF -------------------------------------------------------------------------------------
def validate_sarif(log: dict) -> None:
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    assert validator_class is jsonschema.Draft4Validator
    validator_class.check_schema(SCHEMA)
    validator_class(SCHEMA, format_checker=validator_class.FORMAT_CHECKER).validate(log)


def sarif(*args: str, cwd: Path, code: int) -> dict:
    result = invoke("--format", "sarif", *SELECT, *args, cwd=cwd)
    assert_exit(result, code)
    log = json.loads(out(result))
    validate_sarif(log)
    return log


def utf16_offset(text: str, line: int, column: int) -> int:
    """Offset in ``text`` of a SARIF (1-based line, 1-based UTF-16 column) position."""
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[: line - 1])
    units = 0
    index = 0
    current = lines[line - 1] if line - 1 < len(lines) else ""
    while units < column - 1:
        units += 2 if ord(current[index]) > 0xFFFF else 1
        index += 1
    assert units == column - 1, "the column splits a surrogate pair"
    return start + index


def apply_sarif_fixes(text: str, results: list[dict]) -> str:
    """Apply every replacement of every fix, as a SARIF consumer (an editor, a bot) would."""
    edits = []
    for result in results:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                for rep in change["replacements"]:
                    region = rep["deletedRegion"]
                    start = utf16_offset(text, region["startLine"], region["startColumn"])
                    end = utf16_offset(text, region["endLine"], region["endColumn"])
                    edits.append((start, end, rep["insertedContent"]["text"]))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def test_sarif_is_valid_and_describes_every_finding(bad_project: Path):
    cwd = bad_project.parent
    log = sarif("ext", cwd=cwd, code=1)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mfkit-lint"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")

    # a rule descriptor for every rule that reports, and only those
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["MFK101", "MFK103", "MFK301"]
    for descriptor in rules:
        rule = rule_by_code(descriptor["id"])
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == inspect.cleandoc(rule.__doc__)
        assert descriptor["helpUri"].endswith(f"/docs/pitfalls/{rule.name}.md")
        assert descriptor["help"]["markdown"] == pitfall_page(rule)
        assert descriptor["helpUri"] in descriptor["help"]["text"]
        assert descriptor["defaultConfiguration"]["level"] == "warning"
        assert "metaflow" in descriptor["properties"]["tags"]

    # paths relative to %SRCROOT%, which is the current directory
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == cwd.as_uri() + "/"
    results = run["results"]
    found = set()
    regions = json_regions(cwd, "ext")
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "warning"
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        region = location["physicalLocation"]["region"]
        found.add((artifact["uri"], region["startLine"], region["startColumn"], result["ruleId"]))
        # the same span as the JSON format (ASCII-only lines: UTF-16 units are characters)
        assert regions[(Path(artifact["uri"]).name, result["ruleId"])] == (
            region["startLine"],
            region["startColumn"],
            region["endLine"],
            region["endColumn"],
        )
    assert found == EXPECTED
    deployer = next(r for r in results if r["ruleId"] == "MFK301")
    assert deployer["message"]["text"].startswith("run_params is a tuple")


def test_sarif_fixes_rewrite_the_files_as_fix_does(bad_project: Path):
    log = sarif("ext", cwd=bad_project.parent, code=1)
    results = log["runs"][0]["results"]
    by_uri: dict[str, list[dict]] = {}
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        by_uri.setdefault(uri, []).append(result)
        for fix in result.get("fixes", []):
            (change,) = fix["artifactChanges"]
            assert change["artifactLocation"]["uri"] == uri
            assert fix["description"]["text"]
    # retry.py has no fix to offer; unsafe.py's fix is there, marked unsafe
    assert "fixes" not in by_uri["ext/retry.py"][0]
    (unsafe_fix,) = by_uri["ext/unsafe.py"][0]["fixes"]
    assert unsafe_fix["properties"]["applicability"] == "unsafe"
    for uri, (before, after) in FIXED.items():
        assert apply_sarif_fixes(before, by_uri[uri]) == after


def test_sarif_is_the_same_when_the_findings_come_from_the_cache(bad_project: Path):
    first = sarif("ext", cwd=bad_project.parent, code=1)
    again = sarif("ext", cwd=bad_project.parent, code=1)
    assert again == first
    assert any("fixes" in r for r in again["runs"][0]["results"])


def test_sarif_columns_count_utf16_code_units(tmp_path: Path):
    (tmp_path / "deployer.py").write_text(NON_BMP, encoding="utf-8")
    log = sarif("deployer.py", cwd=tmp_path, code=1)
    run = log["runs"][0]
    assert run.get("columnKind", "utf16CodeUnits") == "utf16CodeUnits"
    (result,) = run["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    # 40 + len("note = '🚀 é'; ") = 54 characters (text and JSON formats), 55 UTF-16 units
    assert json_regions(tmp_path, "deployer.py")[("deployer.py", "MFK301")][:2] == (7, 54)
    assert (region["startLine"], region["startColumn"]) == (7, 55)
    assert region["endColumn"] - region["startColumn"] == len("run_params")
    line = NON_BMP.splitlines(keepends=True)[6]
    start = utf16_offset(line, 1, region["startColumn"])
    assert line[start : utf16_offset(line, 1, region["endColumn"])] == "run_params"
    fixed = NON_BMP.replace(
        "trigger(run_params=run_params)", "trigger(run_params=list(run_params))"
    )
    assert apply_sarif_fixes(NON_BMP, [result]) == fixed


def test_sarif_syntax_errors_are_errors(tmp_path: Path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    log = sarif("broken.py", cwd=tmp_path, code=1)
    run = log["runs"][0]
    (rule,) = run["tool"]["driver"]["rules"]
    assert (rule["id"], rule["defaultConfiguration"]["level"]) == ("MFK001", "error")
    (result,) = run["results"]
    assert (result["ruleId"], result["level"]) == ("MFK001", "error")
    assert "fixes" not in result


def test_sarif_file_outside_the_current_directory_gets_an_absolute_uri(
    bad_project: Path, tmp_path: Path
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = sarif(str(bad_project / "steps.py"), cwd=elsewhere, code=1)
    (result,) = log["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (bad_project / "steps.py").as_uri()}


def test_sarif_clean_run_and_failed_run(bad_project: Path):
    clean = sarif("clean.py", cwd=bad_project, code=0)
    run = clean["runs"][0]
    assert (run["results"], run["tool"]["driver"]["rules"]) == ([], [])
    assert run["invocations"] == [{"executionSuccessful": True}]
    failed = sarif("nope.py", "steps.py", cwd=bad_project, code=2)
    assert failed["runs"][0]["invocations"] == [{"executionSuccessful": False}]
    assert len(failed["runs"][0]["results"]) == 1


def test_the_schema_check_can_fail(bad_project: Path):
    log = sarif("steps.py", cwd=bad_project, code=1)
    result = log["runs"][0]["results"][0]
    for broken in (
        {**result, "level": "warn"},
        {k: v for k, v in result.items() if k != "message"},
    ):
        log["runs"][0]["results"][0] = broken
        with pytest.raises(jsonschema.ValidationError):
            validate_sarif(log)


def test_sarif_output_file_from_the_installed_script(bad_project: Path, tmp_path: Path):
    report = tmp_path / "mfkit.sarif"
    result = run_cli("--format", "sarif", *SELECT, "-o", str(report), ".", cwd=bad_project)
    assert_exit(result, 1)
    assert out(result) == ""
    log = json.loads(report.read_text(encoding="utf-8"))
    validate_sarif(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"MFK101", "MFK103", "MFK301"}


# -- GitHub workflow commands ------------------------------------------------------------------
COMMAND = re.compile(r"^::(?P<level>warning|error) (?P<props>[^:]*)::(?P<message>[^\r\n]*)$")


def unescape(text: str) -> str:
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m["props"].split(","))
    return m["level"], {k: unescape(v) for k, v in props.items()}, unescape(m["message"])


def test_github_one_annotation_per_finding(bad_project: Path):
    cwd = bad_project.parent
    result = invoke("--format", "github", *SELECT, "ext", cwd=cwd)
    assert_exit(result, 1)
    lines = out(result).splitlines()
    assert len(lines) == 4  # nothing but the annotations: no summary
    regions = json_regions(cwd, "ext")
    found = set()
    for line in lines:
        level, props, message = parse_command(line)
        assert level == "warning"
        assert list(props) == ["file", "line", "col", "endLine", "endColumn", "title"]
        code = props["title"]
        found.add((props["file"], int(props["line"]), int(props["col"]), code))
        assert regions[(Path(props["file"]).name, code)] == tuple(
            int(props[k]) for k in ("line", "col", "endLine", "endColumn")
        )
        first, url = message.split("\n")
        assert first.startswith(f"{code} ")
        assert url.startswith("https://")
        assert url.endswith(f"/{rule_by_code(code).name}.md")
    assert found == EXPECTED
    assert any(parse_command(line)[2].startswith("MFK301 run_params is a tuple") for line in lines)


def test_github_clean_run_prints_nothing(bad_project: Path):
    result = invoke("--format", "github", *SELECT, "clean.py", cwd=bad_project)
    assert_exit(result, 0)
    assert out(result) == ""


def test_github_syntax_error_is_an_error_annotation(tmp_path: Path):
    (tmp_path / "broken.py").write_text("x = (\n")
    result = invoke("--format", "github", *SELECT, "broken.py", cwd=tmp_path)
    assert_exit(result, 1)
    level, props, message = parse_command(out(result).strip())
    assert (level, props["file"], props["title"]) == ("error", "broken.py", "MFK001")
    assert message.startswith("MFK001 SyntaxError")


def test_github_escapes_data_and_properties():
    diag = Diagnostic(
        "MFK301",
        "",  # no pitfall page: no URL line
        "100% wrong:\r\nsee a, b",
        "odd,dir:x/50%.py",
        Span(Location(3, 7), Location(4, 2)),
    )
    line = annotation(diag)
    assert line == (
        "::warning file=odd%2Cdir%3Ax/50%25.py,line=3,col=7,endLine=4,endColumn=2,"
        "title=MFK301::MFK301 100%25 wrong:%0D%0Asee a, b"
    )
    _, props, message = parse_command(line)
    assert props["file"] == "odd,dir:x/50%.py"
    assert message == "MFK301 100% wrong:\r\nsee a, b"


# -- JUnit -------------------------------------------------------------------------------------
def junit(*args: str, cwd: Path, code: int) -> JUnitXml:
    result = invoke("--format", "junit", *SELECT, *args, cwd=cwd)
    assert_exit(result, code)
    return JUnitXml.fromstring(out(result))


def cases(xml: JUnitXml):
    (suite,) = list(xml)
    assert suite.name == "mfkit-lint"
    return suite, list(suite)


def test_junit_one_failing_testcase_per_finding_one_passing_per_clean_file(bad_project: Path):
    xml = junit("ext", cwd=bad_project.parent, code=1)
    suite, all_cases = cases(xml)
    failing = {}
    passing = []
    for case in all_cases:
        if case.result:
            (failure,) = case.result
            assert isinstance(failure, Failure)
            failing[(case.classname, case.name)] = failure
        else:
            passing.append((case.classname, case.name))
    assert set(failing) == {(path, f"{code} at {row}:{col}") for path, row, col, code in EXPECTED}
    assert passing == [("ext/clean.py", "no findings")]
    for (path, name), failure in failing.items():
        code = name.split()[0]
        assert failure.type == code
        assert failure.message
        assert failure.text.startswith(f"{path}:{name.split()[-1]}: {code} {failure.message}")
    deployer = failing[("ext/deployer.py", "MFK301 at 7:40")]
    assert deployer.message.startswith("run_params is a tuple")
    assert (suite.tests, suite.failures, suite.errors) == (5, 4, 0)
    # the counts agree with what the parser counts itself
    xml.update_statistics()
    assert (xml.tests, xml.failures, xml.errors) == (5, 4, 0)


def test_junit_noqa_file_and_errors(bad_project: Path):
    (bad_project / "quiet.py").write_text(
        TAG_BEFORE_STEP.replace('        "--tag",\n', '        "--tag",  # noqa: MFK103\n')
    )
    xml = junit("quiet.py", "clean.py", cwd=bad_project, code=0)
    _, all_cases = cases(xml)
    assert sorted((c.classname, c.name, c.is_passed) for c in all_cases) == [
        ("clean.py", "no findings", True),
        ("quiet.py", "no findings", True),
    ]
    # a path that cannot be checked is an error testcase, never a green suite
    xml = junit("nope.py", "clean.py", cwd=bad_project, code=2)
    suite, all_cases = cases(xml)
    errors = [c for c in all_cases if c.result and isinstance(c.result[0], Error)]
    assert len(errors) == 1
    assert "1 error stopped a full check" in errors[0].result[0].message
    assert (suite.tests, suite.failures, suite.errors) == (2, 0, 1)


def test_junit_output_file_loads_in_junitparser(bad_project: Path, tmp_path: Path):
    report = tmp_path / "junit.xml"
    result = run_cli("--format", "junit", *SELECT, "-o", str(report), "steps.py", cwd=bad_project)
    assert_exit(result, 1)
    xml = JUnitXml.fromfile(str(report))
    _, all_cases = cases(xml)
    assert [(c.classname, c.name) for c in all_cases] == [("steps.py", "MFK103 at 9:9")]


def test_junit_characters_xml_cannot_hold():
    diag = Diagnostic(
        "MFK002",
        "undecodable-file",
        "cannot decode file: \x1b[31m\x00 here",
        "bad\udcffname.py",
        Span(Location(1, 1), Location(1, 1)),
    )
    xml = JUnitXml.fromstring(render_junit(Report([diag], files=["bad\udcffname.py"])))
    _, (case,) = cases(xml)
    assert case.classname == "bad\ufffdname.py"
    assert case.result[0].message == "cannot decode file: \ufffd[31m\ufffd here"


def test_formats_are_registered():
    assert {"sarif", "github", "junit"} <= set(FORMAT_NAMES)
    help_text = out(invoke("--help"))
    for name in ("sarif", "github", "junit"):
        assert name in help_text
