"""`mfkit scaffold`: name checks, refusing to overwrite, --dry-run, and generated code that is
lint-clean (mfkit-lint, ruff) as written. The live runs are in test_scaffold_live.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, invoke, run_cli

from mfkit_lint.scaffold.generator import KINDS, METAFLOW_BUILTINS, ScaffoldError, plan


@pytest.fixture(scope="module", params=KINDS)
def generated(request, tmp_path_factory) -> tuple[str, Path]:
    kind = request.param
    target = tmp_path_factory.mktemp(kind) / "my_ext"
    result = invoke("scaffold", kind, "my_ext", str(target), tool="mfkit")
    assert result.returncode == 0, result.stderr
    return kind, target


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("my-scheduler", "not a Python identifier"),
        ("9lives", "not a Python identifier"),
        ("class", "not a Python identifier"),
        ("MyScheduler", "must be lowercase"),
        ("_private", "must be lowercase"),
        ("argo_workflows", "already a Metaflow built-in (argo-workflows)"),
        ("batch", "already a Metaflow built-in (batch)"),
        ("kubernetes", "already a Metaflow built-in"),
        ("step_functions", "already a Metaflow built-in (step-functions)"),
        ("airflow", "already a Metaflow built-in"),
        ("resources", "already a Metaflow built-in"),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_names_are_refused_with_exit_code_2(tmp_path, kind, name, why):
    result = invoke("scaffold", kind, name, str(tmp_path / "out"), tool="mfkit")
    assert result.returncode == 2
    assert why in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["my_scheduler", "slurm2", "nomad"])
def test_good_names_are_accepted(tmp_path, name):
    assert plan("orchestrator", name, tmp_path)


def test_builtin_names_cover_the_installed_metaflow():
    """Every name Metaflow registers itself must be refused; catches a newer Metaflow adding one."""
    import metaflow.plugins as plugins

    tables = (
        "CLIS_DESC",
        "TRAMPOLINE_CLIS_DESC",
        "STEP_DECORATORS_DESC",
        "FLOW_DECORATORS_DESC",
        "DEPLOYER_IMPL_PROVIDERS_DESC",
    )
    registered = {name.replace("_", "-") for table in tables for name, _ in getattr(plugins, table)}
    assert registered <= METAFLOW_BUILTINS, registered - METAFLOW_BUILTINS


def test_unknown_kind_is_a_usage_error(tmp_path):
    result = invoke("scaffold", "database", "x", str(tmp_path), tool="mfkit")
    assert result.returncode == 2
    with pytest.raises(ScaffoldError, match="unknown kind"):
        plan("database", "x", tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_dry_run_lists_the_files_and_writes_nothing(tmp_path, kind):
    target = tmp_path / "ext"
    result = invoke("scaffold", kind, "my_ext", str(target), "--dry-run", tool="mfkit")
    assert result.returncode == 0
    listed = result.stdout.decode().split()
    assert str(target / "pyproject.toml") in listed
    assert str(target / "metaflow_extensions/my_ext/plugins/mfextinit_my_ext.py") in listed
    assert str(target / ".github/workflows/ci.yml") in listed
    assert str(target / ".pre-commit-config.yaml") in listed
    assert not target.exists()


def test_default_directory_is_the_name(tmp_path):
    result = invoke("scaffold", "orchestrator", "my_ext", cwd=tmp_path, tool="mfkit")
    assert result.returncode == 0
    assert (tmp_path / "my_ext" / "pyproject.toml").is_file()


def test_an_existing_directory_is_kept_unless_forced(tmp_path):
    target = tmp_path / "ext"
    target.mkdir()
    mine = target / "pyproject.toml"
    mine.write_text("# mine\n")
    refused = invoke("scaffold", "orchestrator", "my_ext", str(target), tool="mfkit")
    assert refused.returncode == 2
    assert "--force" in refused.stderr.decode()
    assert mine.read_text() == "# mine\n"

    forced = invoke("scaffold", "orchestrator", "my_ext", str(target), "--force", tool="mfkit")
    assert forced.returncode == 0
    assert "metaflow-my_ext" in mine.read_text()


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "ext").write_text("")
    result = invoke("scaffold", KINDS[-1], "my_ext", str(tmp_path / "ext"), tool="mfkit")
    assert result.returncode == 2
    assert "not a directory" in result.stderr.decode()


def test_every_placeholder_is_filled(generated):
    _, root = generated
    for path in root.rglob("*"):
        assert "@@" not in str(path)
        assert not path.name.endswith(".tmpl")
        if path.is_file():
            assert "@@" not in path.read_text(encoding="utf-8"), path


def test_layout_metaflow_reads(generated):
    """The namespace directories have no __init__.py (it would break every Metaflow import)
    and the descriptors name modules and classes that exist."""
    kind, root = generated
    ext = root / "metaflow_extensions"
    assert not (ext / "__init__.py").exists()
    assert not (ext / "my_ext" / "__init__.py").exists()
    assert not (ext / "my_ext" / "plugins" / "__init__.py").exists()
    init = (ext / "my_ext" / "plugins" / "mfextinit_my_ext.py").read_text()
    namespace: dict = {}
    exec(compile(init, "mfextinit_my_ext.py", "exec"), namespace)  # a data-only module
    entries = [
        entry for key, value in namespace.items() if key.endswith("_DESC") for entry in value
    ]
    assert entries
    for name, target in entries:
        assert name == "my_ext" or kind == "backend"
        module, _, attribute = target.lstrip(".").rpartition(".")
        source = ext / "my_ext" / "plugins" / (module.replace(".", "/") + ".py")
        assert source.is_file(), target
        assert (
            f"{attribute} = " in source.read_text()
            or f"def {attribute}(" in source.read_text()
            or f"class {attribute}(" in source.read_text()
        )


def test_generated_code_has_no_mfkit_lint_findings(generated):
    _, root = generated
    result = run_cli(str(root), "--no-cache")
    assert result.returncode == 0, result.stdout.decode()


def test_generated_code_passes_ruff(generated):
    _, root = generated
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", str(root)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_templates_in_this_repo_are_not_linted_as_code():
    """The template files are package data, not Python: mfkit-lint and ruff never read them."""
    root = Path(__file__).resolve().parents[1]
    result = run_cli(str(root / "scaffold"), "--no-cache")
    assert result.returncode == 0, result.stdout.decode()
    templates = list((root / "scaffold" / "templates").rglob("*.tmpl"))
    assert templates
    assert not [t for t in (root / "scaffold" / "templates").rglob("*.py")]


def test_generated_python_compiles(generated):
    _, root = generated
    for path in root.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert sys.version_info >= (3, 9)
