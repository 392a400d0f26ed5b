"""Where the project ends (issue 8, class 5).

A file's project is the nearest directory holding pyproject.toml, setup.py, setup.cfg or .git,
whatever way the file was named: a directory, the file by name (pre-commit), stdin with
--stdin-filename, flake8 or the language server all give the same findings for the same
file, and two projects linted in one run never see each other's files.
"""

import json
import textwrap
from pathlib import Path

import pytest
from conftest import invoke, run_cli

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.source import Source

# Builds step commands by hand: MFK210 unless something in its project applies @environment.
BUILDER = """
import subprocess, sys

def run_step(flow_file, step, run_id, task_id, input_paths, env):
    cmd = [sys.executable, flow_file, "--no-pylint", "step", step, "--run-id", run_id,
           "--task-id", task_id, "--input-paths", input_paths, "--retry-count", "0",
           "--max-user-code-retries", "1"]
    subprocess.run(cmd, env=env, check=True)
"""
HANDLER = """
def apply(step, cli_args):
    for deco in step.decorators:
        deco.runtime_step_cli(cli_args, 0, 0, None)
"""


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    def write(path: Path, code: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))

    write(tmp_path / "alpha" / "pyproject.toml", "[project]\nname = 'alpha'\n")
    write(tmp_path / "alpha" / "alpha_ext" / "builder.py", BUILDER)
    write(tmp_path / "beta" / "setup.cfg", "")
    write(tmp_path / "beta" / "beta_ext" / "builder.py", BUILDER)
    write(tmp_path / "beta" / "beta_ext" / "hooks.py", HANDLER)
    return tmp_path


def _json(result) -> set[tuple[str, str, int]]:
    return {
        (Path(d["filename"]).name, d["code"], d["location"]["row"])
        for d in json.loads(result.stdout)
    }


def test_two_projects_in_one_run_do_not_leak(projects: Path):
    together = invoke("--format", "json", "--exit-zero", "--no-cache", ".", cwd=projects)
    found = {(p, c) for p, c, _ in _json(together)}
    # beta applies @environment's vars in hooks.py; alpha does not, whatever beta does.
    assert ("builder.py", "MFK210") in found
    alpha = invoke("--format", "json", "--exit-zero", "--no-cache", "alpha", cwd=projects)
    beta = invoke("--format", "json", "--exit-zero", "--no-cache", "beta", cwd=projects)
    assert _json(together) == _json(alpha) | _json(beta)
    assert "MFK210" not in {c for _, c, _ in _json(beta)}


def test_every_way_of_naming_the_file_gives_the_same_findings(projects: Path):
    builder = projects / "alpha" / "alpha_ext" / "builder.py"
    by_dir = invoke("--format", "json", "--exit-zero", "--no-cache", "alpha", cwd=projects)
    by_name = invoke("--format", "json", "--exit-zero", "--no-cache", str(builder), cwd=projects)
    by_stdin = invoke(
        "--format",
        "json",
        "--exit-zero",
        "--no-cache",
        "-",
        "--stdin-filename",
        str(builder),
        stdin=builder.read_bytes(),
        cwd=projects,
    )
    expected = _json(by_dir)
    assert {c for _, c, _ in expected} >= {"MFK101", "MFK210"}
    assert _json(by_name) == expected
    assert _json(by_stdin) == expected
    # The language server and flake8 hand the engine one source with its path.
    text = builder.read_text()
    lsp = Linter(Settings()).lint_source(Source(text, "utf-8", text.encode()), str(builder))
    assert {("builder.py", d.code, d.location.row) for d in lsp} == expected
    flake8 = run_cli("--select", "MFK", str(builder), cwd=projects, tool="flake8")
    rows = {
        (line.split(":")[1], line.split()[1])
        for line in flake8.stdout.decode().splitlines()
        if line.strip()
    }
    assert rows == {(str(row), code) for _, code, row in expected}


def _aged(root: Path, seconds: float = 3600) -> None:
    """Every file and directory under ``root`` last changed ``seconds`` ago."""
    import os
    import time

    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then))


def _listed(root: Path, store: Path) -> list[str]:
    from mfkit_lint.engine.discovery import forget_projects, project_listing

    forget_projects()  # as each CLI run does: only the stored listing survives
    return sorted(
        p.relative_to(root).as_posix()
        for p in project_listing(Settings(root=root), root, store).files
    )


def test_a_stored_project_listing_follows_the_tree(tmp_path: Path):
    """A later run reuses the listing kept in the cache only while the tree is unchanged."""
    root = tmp_path / "proj"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "setup.cfg").write_text("")
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "pkg" / "sub" / "b.py").write_text("y = 2\n")
    store = tmp_path / "cache"
    _aged(root)
    assert _listed(root, store) == ["pkg/a.py", "pkg/sub/b.py"]
    assert list(store.glob("listing-*.json"))  # kept: nothing had just changed
    (root / "pkg" / "sub" / "c.py").write_text("z = 3\n")  # a new file deep down
    assert _listed(root, store) == ["pkg/a.py", "pkg/sub/b.py", "pkg/sub/c.py"]
    _aged(root)
    assert _listed(root, store) == ["pkg/a.py", "pkg/sub/b.py", "pkg/sub/c.py"]
    (root / "pkg" / "a.py").unlink()
    assert _listed(root, store) == ["pkg/sub/b.py", "pkg/sub/c.py"]
    _aged(root)
    assert _listed(root, store) == ["pkg/sub/b.py", "pkg/sub/c.py"]
    (root / ".gitignore").write_text("pkg/\n")
    _aged(root)  # even with the directory's time unchanged, the new .gitignore is seen
    assert _listed(root, store) == []
    (root / ".gitignore").write_text("other/\n")
    _aged(root)
    assert _listed(root, store) == ["pkg/sub/b.py", "pkg/sub/c.py"]


def test_a_listing_taken_right_after_a_change_is_not_kept(tmp_path: Path):
    """A change in the same tick of the file system's clock would not show: not stored."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    store = tmp_path / "cache"
    assert _listed(root, store) == ["a.py"]
    assert not list(store.glob("listing-*.json"))
