"""[tool.mfkit-lint]: discovery, every key, file exclusion, and errors in the configuration."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import (
    RETRY_ZERO,
    RETRY_ZERO_UNSAFE,
    RETRY_ZERO_UNSAFE_FIXED,
    TAG_BEFORE_STEP,
    TUPLE_RUN_PARAMS,
    run_cli,
)

from mfkit_lint.engine.config import DEFAULT_EXCLUDE, ConfigError, find_config, load_settings
from mfkit_lint.engine.discovery import FileFinder
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session


def lint_tree(start: Path, *paths: Path, **options) -> set[tuple[str, str]]:
    """(path relative to ``start``, code) of every finding, settings found from ``start``."""
    settings = load_settings(None, start)
    outcome = Session(Linter(settings), RunOptions(**options)).run(
        [str(p) for p in (paths or (start,))]
    )
    assert outcome.errors == []
    return {(Path(d.filename).relative_to(start).as_posix(), d.code) for d in outcome.diagnostics}


def linted_files(root: Path) -> set[str]:
    settings = load_settings(None, root)
    found = FileFinder(settings).find([root])
    assert found.errors == []
    return {p.relative_to(root).as_posix() for p in found.files}


def pyproject(directory: Path, body: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text('[project]\nname = "ext"\n\n[tool.mfkit-lint]\n' + body)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """proj/ with three bad files in src/pkg/ and one in tests/."""
    root = tmp_path / "proj"
    for rel, text in (
        ("src/pkg/deployer.py", TUPLE_RUN_PARAMS),
        ("src/pkg/steps.py", TAG_BEFORE_STEP),
        ("src/pkg/retry.py", RETRY_ZERO),
        ("tests/test_steps.py", TAG_BEFORE_STEP),
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


ALL_FINDINGS = {
    ("src/pkg/deployer.py", "MFK301"),
    ("src/pkg/steps.py", "MFK103"),
    ("src/pkg/retry.py", "MFK101"),
    ("tests/test_steps.py", "MFK103"),
}


# -- discovery ---------------------------------------------------------------------------------
def test_no_config_lints_everything(project: Path):
    assert find_config(project) is None or not find_config(project).is_relative_to(project)
    assert lint_tree(project) == ALL_FINDINGS


def test_config_found_upward_from_the_linted_path(project: Path, tmp_path: Path):
    pyproject(project, 'select = ["MFK3"]\n')
    deep = project / "src" / "pkg"
    assert find_config(deep) == project / "pyproject.toml"
    assert find_config(deep / "steps.py") == project / "pyproject.toml"
    # from the real console script, run somewhere else entirely
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("--format", "concise", str(deep), cwd=elsewhere)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{deep / 'deployer.py'}:7:40: MFK301")
    # and for a single file
    result = run_cli("--format", "concise", str(deep / "steps.py"), cwd=elsewhere)
    assert (result.returncode, result.stdout) == (0, b"")


def test_nearest_config_wins(project: Path):
    pyproject(project, 'select = ["MFK3"]\n')
    pyproject(project / "src", 'select = ["MFK1"]\n')
    assert lint_tree(project / "src") == {
        ("pkg/steps.py", "MFK103"),
        ("pkg/retry.py", "MFK101"),
    }


def test_pyproject_without_the_section_is_skipped(project: Path):
    pyproject(project, 'select = ["MFK3"]\n')
    (project / "src" / "pyproject.toml").write_text('[project]\nname = "inner"\n[tool.ruff]\n')
    assert find_config(project / "src" / "pkg") == project / "pyproject.toml"
    assert lint_tree(project / "src") == {("pkg/deployer.py", "MFK301")}


def test_stdin_filename_finds_the_config(project: Path):
    pyproject(project, 'ignore = ["MFK103"]\n')
    result = run_cli(
        "-", "--stdin-filename", "src/pkg/steps.py", cwd=project, stdin=TAG_BEFORE_STEP.encode()
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout == b"All checks passed!\n"


# -- selection keys ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('select = ["MFK1"]\n', {"MFK101", "MFK103"}),
        ('select = ["mfk301"]\n', {"MFK301"}),
        ('ignore = ["MFK103"]\n', {"MFK101", "MFK301"}),
        ('select = ["MFK1"]\nignore = ["MFK103"]\n', {"MFK101"}),
        ('select = ["MFK103"]\nignore = ["MFK1"]\n', {"MFK103"}),  # most specific wins
        ('select = ["MFK3"]\nextend-select = ["MFK101"]\n', {"MFK301", "MFK101"}),
        ('ignore = ["MFK"]\nextend-select = ["MFK301"]\n', {"MFK301"}),
    ],
)
def test_selection_keys(project: Path, body: str, expected: set[str]):
    pyproject(project, body)
    assert {code for _, code in lint_tree(project)} == expected


def test_command_line_ignore_adds_to_config(project: Path):
    pyproject(project, 'ignore = ["MFK101"]\n')
    result = run_cli("--ignore", "MFK103", "--format", "concise", cwd=project)
    assert result.returncode == 1
    codes = {line.split()[1] for line in result.stdout.decode().splitlines()}
    assert codes == {"MFK301"}


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ('"tests/*.py" = ["MFK103"]', ALL_FINDINGS - {("tests/test_steps.py", "MFK103")}),
        ('"test_*.py" = ["MFK1"]', ALL_FINDINGS - {("tests/test_steps.py", "MFK103")}),
        (
            '"src/**" = ["MFK1"]',
            ALL_FINDINGS - {("src/pkg/steps.py", "MFK103"), ("src/pkg/retry.py", "MFK101")},
        ),
        ('"src/pkg/deployer.py" = ["MFK301"]', ALL_FINDINGS - {("src/pkg/deployer.py", "MFK301")}),
        ('"*.py" = ["MFK101"]', ALL_FINDINGS - {("src/pkg/retry.py", "MFK101")}),
        ('"src/pkg/*.py" = ["MFK3"]', ALL_FINDINGS - {("src/pkg/deployer.py", "MFK301")}),
        ('"docs/*.py" = ["MFK1"]', ALL_FINDINGS),  # matches nothing
        ('"*.py" = []', ALL_FINDINGS),
    ],
)
def test_per_file_ignores(project: Path, patterns: str, expected: set[tuple[str, str]]):
    pyproject(project, f"[tool.mfkit-lint.per-file-ignores]\n{patterns}\n")
    assert lint_tree(project) == expected


def test_per_file_ignores_also_from_a_subdirectory(project: Path):
    pyproject(project, '[tool.mfkit-lint.per-file-ignores]\n"src/pkg/*.py" = ["MFK1"]\n')
    # patterns are relative to the config file, not to where the linter runs
    assert lint_tree(project / "src") == {("pkg/deployer.py", "MFK301")}


def test_unsafe_fixes_key(project: Path):
    unsafe = project / "src" / "pkg" / "unsafe.py"
    unsafe.write_text(RETRY_ZERO_UNSAFE)
    pyproject(project, "unsafe-fixes = false\n")
    assert load_settings(None, project).unsafe_fixes is False
    pyproject(project, "unsafe-fixes = true\n")
    assert load_settings(None, project).unsafe_fixes is True
    result = run_cli("--fix", "--select", "MFK101", "src/pkg/unsafe.py", cwd=project)
    assert result.returncode == 0, result.stdout
    assert unsafe.read_text() == RETRY_ZERO_UNSAFE_FIXED


# -- which files -------------------------------------------------------------------------------
EXCLUDED_DIRS = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "build",
    "dist",
    "__pycache__",
    "node_modules",
    "site-packages",
    "ext.egg-info",
    ".mypy_cache",
)


def test_default_excludes(project: Path):
    for name in EXCLUDED_DIRS:
        assert any(Path(name).match(p) for p in DEFAULT_EXCLUDE), name
        (project / "src" / name / "sub").mkdir(parents=True)
        (project / "src" / name / "sub" / "mod.py").write_text(RETRY_ZERO)
        (project / name).mkdir(exist_ok=True)
        (project / name / "top.py").write_text(RETRY_ZERO)
    (project / "src" / "pkg" / "notes.txt").write_text("--retry-count 0")
    (project / "src" / "pkg" / "stub.pyi").write_text(TUPLE_RUN_PARAMS)
    assert linted_files(project) == {
        "src/pkg/deployer.py",
        "src/pkg/steps.py",
        "src/pkg/retry.py",
        "src/pkg/stub.pyi",
        "tests/test_steps.py",
    }


def test_directory_that_only_looks_like_an_excluded_one_is_linted(project: Path):
    for name in ("builder", "my_venv", "distutils_compat"):
        (project / name).mkdir()
        (project / name / "mod.py").write_text(RETRY_ZERO)
        assert f"{name}/mod.py" in linted_files(project)


def test_explicitly_named_file_is_linted_even_if_excluded(project: Path):
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(RETRY_ZERO)
    assert "build/gen.py" not in linted_files(project)
    result = run_cli("--format", "concise", "build/gen.py", cwd=project)
    assert result.stdout.decode().startswith("build/gen.py:18:9: MFK101")


def test_exclude_replaces_the_defaults(project: Path):
    (project / "venv").mkdir()
    (project / "venv" / "mod.py").write_text(RETRY_ZERO)
    pyproject(project, 'exclude = ["tests"]\n')
    assert linted_files(project) == {
        "src/pkg/deployer.py",
        "src/pkg/steps.py",
        "src/pkg/retry.py",
        "venv/mod.py",
    }


def test_extend_exclude_keeps_the_defaults(project: Path):
    (project / "venv").mkdir()
    (project / "venv" / "mod.py").write_text(RETRY_ZERO)
    pyproject(project, 'extend-exclude = ["tests", "src/pkg/retry.py", "*_run.py"]\n')
    (project / "src" / "pkg" / "local_run.py").write_text(RETRY_ZERO)
    assert linted_files(project) == {"src/pkg/deployer.py", "src/pkg/steps.py"}


def test_exclude_pattern_relative_to_config_root(project: Path):
    (project / "src" / "pkg" / "tests").mkdir()
    (project / "src" / "pkg" / "tests" / "t.py").write_text(RETRY_ZERO)
    pyproject(project, 'extend-exclude = ["/tests"]\n')  # anchored: only the top-level one
    assert linted_files(project) == {
        "src/pkg/deployer.py",
        "src/pkg/steps.py",
        "src/pkg/retry.py",
        "src/pkg/tests/t.py",
    }


def test_files_outside_the_config_root_are_matched_from_the_walked_directory(tmp_path: Path):
    # The checkout happens to live under a directory called "build": that must not exclude it.
    checkout = tmp_path / "build" / "ext"
    (checkout / "venv").mkdir(parents=True)
    (checkout / "retry.py").write_text(RETRY_ZERO)
    (checkout / "venv" / "mod.py").write_text(RETRY_ZERO)
    config = tmp_path / "settings" / "lint.toml"
    config.parent.mkdir()
    config.write_text('select = ["MFK1"]\n')
    result = run_cli("--config", str(config), "--format", "concise", str(checkout), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{checkout / 'retry.py'}:18:9: MFK101 ")


def git_init(directory: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(directory)], check=True, capture_output=True)


def test_gitignore_respected(project: Path):
    git_init(project)
    (project / ".gitignore").write_text("generated/\n*_pb2.py\n/tests/\n!src/pkg/keep_pb2.py\n")
    (project / "generated").mkdir()
    (project / "generated" / "flow.py").write_text(RETRY_ZERO)
    (project / "src" / "pkg" / "api_pb2.py").write_text(RETRY_ZERO)
    (project / "src" / "pkg" / "keep_pb2.py").write_text(RETRY_ZERO)
    # a nested .gitignore applies below its own directory
    (project / "src" / "pkg" / ".gitignore").write_text("retry.py\n")
    assert linted_files(project) == {
        "src/pkg/deployer.py",
        "src/pkg/steps.py",
        "src/pkg/keep_pb2.py",
    }
    # the same through the real command, started from a subdirectory
    result = run_cli("--format", "concise", "..", cwd=project / "src")
    assert result.returncode == 1
    files = {line.split(":")[0] for line in result.stdout.decode().splitlines()}
    assert files == {"../src/pkg/deployer.py", "../src/pkg/steps.py", "../src/pkg/keep_pb2.py"}


def test_gitignore_above_the_linted_directory_applies_inside_the_repo(project: Path):
    git_init(project)
    (project / ".gitignore").write_text("retry.py\n")
    assert lint_tree(project / "src" / "pkg") == {
        ("deployer.py", "MFK301"),
        ("steps.py", "MFK103"),
    }


def test_an_ignored_directory_named_explicitly_is_linted(project: Path):
    git_init(project)
    (project / ".gitignore").write_text("generated/\n")
    (project / "generated" / "__pycache__").mkdir(parents=True)
    (project / "generated" / "flow.py").write_text(RETRY_ZERO)
    (project / "generated" / "__pycache__" / "flow.py").write_text(RETRY_ZERO)
    assert "generated/flow.py" not in linted_files(project)
    result = run_cli("--format", "concise", "generated", cwd=project)
    assert result.returncode == 1
    files = {line.split(":")[0] for line in result.stdout.decode().splitlines()}
    assert files == {"generated/flow.py"}  # default excludes still apply inside it


def test_gitignore_outside_the_repository_is_not_used(tmp_path: Path, project: Path):
    # project/ is the repository; a .gitignore in the directory above it is not ours
    git_init(project)
    (tmp_path / ".gitignore").write_text("*.py\n")
    assert lint_tree(project) == ALL_FINDINGS


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.mfkit-lint]\nselct = []\n", "unknown key 'selct'"),
        ('[tool.mfkit-lint]\nselect = "MFK1"\n', "'select'"),
        ('[tool.mfkit-lint]\nignore = ["MFK1", 3]\n', "'ignore'"),
        ("[tool.mfkit-lint]\nextend-select = 1\n", "'extend-select'"),
        ('[tool.mfkit-lint]\nexclude = "build"\n', "'exclude'"),
        ("[tool.mfkit-lint]\nextend-exclude = [true]\n", "'extend-exclude'"),
        ('[tool.mfkit-lint]\nper-file-ignores = ["x"]\n', "'per-file-ignores'"),
        ('[tool.mfkit-lint.per-file-ignores]\n"*.py" = "MFK1"\n', "per-file-ignores.*.py"),
        ('[tool.mfkit-lint]\nunsafe-fixes = "yes"\n', "'unsafe-fixes' in [tool.mfkit-lint]"),
        ("[tool]\nmfkit-lint = 3\n", "must be a table"),
        ("[tool.mfkit-lint\nselect = []\n", "is not valid TOML"),
        ('[tool.mfkit-lint]\nselect = ["MFK1"]\nselect = ["MFK3"]\n', "is not valid TOML"),
    ],
)
def test_bad_configuration_is_rejected(tmp_path: Path, text: str, message: str):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(None, tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(info.value)  # says where
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.mfkit-lint]\nselct = []\n", "unknown key 'selct'"),
        ('[tool.mfkit-lint]\nselect = "MFK1"\n', "must be a list of strings"),
        ("[tool.mfkit-lint]\nunsafe-fixes = 1\n", "must be true or false"),
        ("[tool.mfkit-lint\n", "is not valid TOML"),
        ('[tool.mfkit-lint]\nselect = ["MFK-1"]\n', "invalid rule selector 'MFK-1'"),
        ('[tool.mfkit-lint]\nignore = ["MFK9"]\n', "'MFK9' matches no known rule"),
        ('[tool.mfkit-lint.per-file-ignores]\n"*.py" = ["XYZ"]\n', "'XYZ' matches no known rule"),
        ("tool = 3\n", None),  # not our table at all: the defaults apply
    ],
)
def test_bad_configuration_through_the_command_line(tmp_path: Path, text: str, message: str):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "retry.py").write_text(RETRY_ZERO)
    result = run_cli("retry.py", cwd=tmp_path)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    if message is None:
        assert result.returncode == 1, stderr
        assert b"MFK101" in result.stdout
        return
    assert result.returncode == 2
    assert result.stdout == b""
    assert stderr.startswith("mfkit-lint: error: ")
    assert message in stderr
    assert len(stderr.splitlines()) == 1


def test_standalone_config_file_has_top_level_keys(tmp_path: Path):
    config = tmp_path / "mfkit.toml"
    config.write_text('select = ["MFK1"]\nunsafe-fixes = true\n')
    settings = load_settings(config, tmp_path)
    assert settings.select == ("MFK1",)
    assert settings.unsafe_fixes is True
    config.write_text('[tool.mfkit-lint]\nselect = ["MFK1"]\n')  # not a pyproject.toml
    with pytest.raises(ConfigError, match="unknown key 'tool'"):
        load_settings(config, tmp_path)
