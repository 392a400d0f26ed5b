"""The pre-commit hooks, run for real: ``pre-commit try-repo`` builds the hooks' environment
from this repository and runs them on a throw-away git repository.

try-repo installs a repository from a git commit (its HEAD, plus tracked files changed since,
but never untracked ones), so the hooks are tried from a snapshot: this working tree (tracked
and untracked files, what .gitignore ignores left out) committed to a temporary repository.
That way the test checks the hooks as they are on disk, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, RETRY_ZERO, TAG_BEFORE_STEP, TAG_BEFORE_STEP_FIXED

ROOT = Path(__file__).resolve().parent.parent
GIT = ("git", "-c", "user.name=mfkit-test", "-c", "user.email=test@example.invalid")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    ).stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding a commit of this working tree."""
    try:
        listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    except (subprocess.CalledProcessError, OSError):
        pytest.skip("not a git checkout: nothing for pre-commit to install the hooks from")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():  # tracked files deleted in the working tree are left out
            dest = snapshot / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=snapshot)
    return snapshot


# Other rules come and go: the projects below select the two rules their files are about.
PYPROJECT = '[tool.mfkit-lint]\nselect = ["MFK101", "MFK103"]\n'
PLAIN = "def add(a, b):\n    return a + b\n"


def make_project(root: Path, files: dict[str, str]) -> Path:
    """A user's git repository holding ``files`` and a pyproject.toml."""
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, text in files.items():
        (root / name).write_text(text)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    return root


def try_repo(repo: Path, *files: str, cwd: Path) -> subprocess.Popen:
    pre_commit = BIN / "pre-commit"
    cmd = [str(pre_commit)] if pre_commit.exists() else [sys.executable, "-m", "pre_commit"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    return subprocess.Popen(
        [*cmd, "try-repo", str(repo), "--color", "never", "--verbose", "--files", *files],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        output, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"pre-commit try-repo timed out:\n{output}")
    return proc.returncode, output


def hook_status(output: str) -> dict[str, str]:
    """Hook name -> Passed/Failed/Skipped, from pre-commit's status lines."""
    status = {}
    for line in output.splitlines():
        for word in ("Passed", "Failed", "Skipped"):
            if line.endswith(word) and "..." in line:
                status[line.split("...")[0].rstrip(".").strip()] = word
    return status


def test_hooks_fail_on_findings_fix_them_and_pass_on_clean_files(hook_repo: Path, tmp_path: Path):
    bad = make_project(
        tmp_path / "bad",
        {
            "steps.py": TAG_BEFORE_STEP,  # MFK103, safe fix
            "retry.py": RETRY_ZERO,  # MFK101, no fix
            "clean.py": PLAIN,
            "notes.txt": "--tag before step\n",  # not Python: no hook looks at it
        },
    )
    # A clean file, and one as the fix hook leaves it.
    good = make_project(tmp_path / "good", {"clean.py": PLAIN, "steps.py": TAG_BEFORE_STEP_FIXED})
    # Each try-repo run builds the hooks' environment afresh: run the two side by side.
    bad_run = try_repo(hook_repo, "steps.py", "retry.py", "clean.py", "notes.txt", cwd=bad)
    good_run = try_repo(hook_repo, "clean.py", "steps.py", cwd=good)
    bad_code, bad_output = finish(bad_run)
    good_code, good_output = finish(good_run)

    assert bad_code == 1, bad_output
    assert hook_status(bad_output) == {"mfkit-lint": "Failed", "mfkit-lint --fix": "Failed"}
    # mfkit-lint reports both findings ...
    assert "steps.py:9:9: MFK103 [*] --tag must come after" in bad_output
    assert "retry.py:18:9: MFK101 --retry-count is always 0" in bad_output
    assert "notes.txt:" not in bad_output
    # ... the fix hook rewrites the file that has a fix and leaves the others alone
    assert "files were modified by this hook" in bad_output
    assert (bad / "steps.py").read_text() == TAG_BEFORE_STEP_FIXED
    assert (bad / "retry.py").read_text() == RETRY_ZERO
    assert (bad / "clean.py").read_text() == PLAIN

    assert good_code == 0, good_output
    assert hook_status(good_output) == {"mfkit-lint": "Passed", "mfkit-lint --fix": "Passed"}
    assert (good / "steps.py").read_text() == TAG_BEFORE_STEP_FIXED


def test_manifest_is_valid():
    pre_commit = BIN / "pre-commit"
    cmd = [str(pre_commit)] if pre_commit.exists() else [sys.executable, "-m", "pre_commit"]
    result = subprocess.run(
        [*cmd, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    import yaml  # pre-commit depends on PyYAML

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [(h["id"], h["entry"], h["language"]) for h in hooks] == [
        ("mfkit-lint", "mfkit-lint --force-exclude", "python"),
        ("mfkit-lint-fix", "mfkit-lint --fix --force-exclude", "python"),
    ]
    assert all(h["require_serial"] is True for h in hooks)
