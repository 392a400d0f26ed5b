"""The README's two commands work and CI runs the README's test command verbatim."""

import re
import shutil
from pathlib import Path

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_test_command():
    test_command = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_ci_runs_the_readme_try_it_command_in_its_own_virtualenv():
    run_command = next(b.strip() for b in _bash_blocks() if "mfkit-lint examples/" in b)
    # Systems whose Python refuses system-wide installs: the command makes its own venv first.
    assert run_command.startswith("python3 -m venv ")
    assert run_command.index("activate") < run_command.index("pip install")
    assert f"bash -c '{run_command}' || [ $? -eq 1 ]" in (ROOT / ".ci" / "run").read_text()


def test_readme_run_command_lints_the_bundled_example(tmp_path):
    run_command = next(b.strip() for b in _bash_blocks() if "mfkit-lint examples/" in b)
    target = run_command.split("mfkit-lint ", 1)[1].split()[0]
    shutil.copytree(ROOT / target, tmp_path / target)
    result = run_cli(target, "--format", "concise", cwd=tmp_path)
    assert result.returncode == 1
    found = sorted(line.split()[1] for line in result.stdout.decode().splitlines())
    assert found == [
        "MFK101",
        "MFK102",
        "MFK103",
        "MFK108",
        "MFK202",
        "MFK210",
        "MFK301",
        "MFK303",
        "MFK309",
    ]


def test_every_finding_of_the_example_is_explained_in_its_readme(tmp_path):
    example = ROOT / "examples" / "metaflow-localsched"
    result = run_cli(".", "--format", "concise", "--no-cache", cwd=example)
    codes = {line.split()[1] for line in result.stdout.decode().splitlines()}
    table = (example / "README.md").read_text()
    for code in codes:
        assert f"| {code} |" in table, code
