"""MFK501-MFK504, MFK506 (extension registration, project mode) and MFK701/MFK702 (GitHub
workflows as YAML sources): findings, look-alikes, fixes, and the engine around YAML."""

import textwrap
from pathlib import Path

from conftest import lint, lint_tree, run_cli

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.registry import rules_for_capability

CONFIG = "metaflow_extensions/acme/plugins/mfextinit_acme.py"
DEPLOYER = "metaflow_extensions/acme/plugins/acme/acme_deployer.py"
GOOD_DEPLOYER = """
    from metaflow.runner.deployer_impl import DeployerImpl
    class AcmeDeployer(DeployerImpl):
        TYPE = "acme"
"""
CAPS = "from mfkit_lint.contract.capabilities import REQUIRED as SUPPORTED_CAPABILITIES\n"


def found(files, select):
    return sorted((d.filename, d.code) for d in lint_tree(files, select))


def test_a_well_formed_extension_is_clean():
    files = {
        CONFIG: """
            CLIS_DESC = [("acme", ".acme.acme_cli.cli")]
            DEPLOYER_IMPL_PROVIDERS_DESC = [
                ("acme", ".acme.acme_deployer.AcmeDeployer"),
            ]
        """,
        DEPLOYER: GOOD_DEPLOYER,
        "metaflow_extensions/acme/plugins/acme/__init__.py": "",
        "metaflow_extensions/acme/plugins/acme/acme_cli.py": "import click\ncli = click.group()\n",
        "metaflow_extensions/acme/__init__.py": "",
        "metaflow_extensions/acme/config/mfextinit_acme.py": "ACME_URL = None\n",
        "metaflow_extensions/acme/plugins/acme/capabilities.py": CAPS,
    }
    assert found(files, "MFK5") == []


def test_registration_is_project_mode_only():
    text = 'DEPLOYER_IMPL_PROVIDERS_DESC = ("acme", ".acme.acme_deployer.AcmeDeployer")\n'
    assert [d.code for d in lint(text, "MFK5")] == []


def test_deployer_without_any_configuration_file():
    assert found({DEPLOYER: GOOD_DEPLOYER}, "MFK501") == [(DEPLOYER, "MFK501")]


def test_deployer_registered_by_absolute_path_counts():
    files = {
        CONFIG: """
            DEPLOYER_IMPL_PROVIDERS_DESC = [
                ("acme", "metaflow_extensions.acme.plugins.acme.acme_deployer.AcmeDeployer"),
            ]
        """,
        DEPLOYER: GOOD_DEPLOYER,
        "metaflow_extensions/acme/plugins/acme/capabilities.py": CAPS,
    }
    assert found(files, "MFK5") == []


def test_configuration_without_organization_level():
    files = {"metaflow_extensions/plugins/mfextinit_acme.py": "CLIS_DESC = []\n"}
    assert found(files, "MFK501") == [("metaflow_extensions/plugins/mfextinit_acme.py", "MFK501")]


def test_deployer_base_class_without_type_needs_no_registration():
    files = {
        CONFIG: 'DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]\n',
        DEPLOYER: GOOD_DEPLOYER + "\n    class Base(DeployerImpl):\n        pass\n",
    }
    assert found(files, "MFK501") == []


def test_malformed_descriptor_fixes(tmp_path: Path):
    config = tmp_path / CONFIG
    config.parent.mkdir(parents=True)
    config.write_text(
        'CLIS_DESC = {"acme": ".acme.acme_cli.cli"}\n'
        'DEPLOYER_IMPL_PROVIDERS_DESC = "acme", ".acme.acme_deployer.AcmeDeployer"  # the deployer\n',
        encoding="utf-8",
    )
    result = run_cli("--fix", "--no-cache", "--select", "MFK502", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert config.read_text(encoding="utf-8") == (
        'CLIS_DESC = [("acme", ".acme.acme_cli.cli")]\n'
        'DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]  # the deployer\n'
    )


def test_malformed_element_has_no_fix_and_computed_descriptors_are_not_judged():
    files = {
        CONFIG: """
            NAMES = ["acme"]
            STEP_DECORATORS_DESC = [(n, ".acme.deco.%s" % n) for n in NAMES]
            CLIS_DESC = [("acme", ".acme.acme_cli.cli", "extra")]
        """
    }
    diagnostics = [d for d in lint_tree(files, "MFK502")]
    assert [(d.code, d.location.row) for d in diagnostics] == [("MFK502", 4)]
    assert diagnostics[0].fix is None


def test_descriptor_type_mismatch_and_missing_class():
    files = {
        CONFIG: """
            DEPLOYER_IMPL_PROVIDERS_DESC = [
                ("acme", ".acme.acme_deployer.AcmeDeployer"),
                ("acme2", ".acme.acme_deployer.Other"),
            ]
        """,
        DEPLOYER: GOOD_DEPLOYER.replace('"acme"', '"acme-x"'),
    }
    messages = [d.message for d in lint_tree(files, "MFK503")]
    assert len(messages) == 2
    assert "TYPE is 'acme-x'" in messages[0]
    assert "defines no Other" in messages[1]


def test_descriptor_to_a_module_that_reexports_is_fine():
    files = {
        CONFIG: 'DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.AcmeDeployer")]\n',
        "metaflow_extensions/acme/plugins/acme/__init__.py": "from .acme_deployer import AcmeDeployer\n",
        DEPLOYER: GOOD_DEPLOYER,
    }
    assert found(files, "MFK503") == []


def test_namespace_init_and_two_configuration_files():
    files = {
        "metaflow_extensions/__init__.py": "",
        CONFIG: "CLIS_DESC = []\n",
        "metaflow_extensions/acme/plugins/__init__.py": "",
    }
    assert found(files, ["MFK504", "MFK506"][0]) == [("metaflow_extensions/__init__.py", "MFK504")]
    assert found(files, "MFK506") == [("metaflow_extensions/acme/plugins/__init__.py", "MFK506")]


# -- CI workflows ------------------------------------------------------------------------------
WORKFLOW = ".github/workflows/ci.yml"


def test_workflow_findings_point_at_the_yaml_line_and_noqa_works():
    files = {
        WORKFLOW: """
            name: ci
            on: [push]
            env:
              ROOT: ${{ env.HOME }}/x  # noqa: MFK701
            jobs:
              test:
                runs-on: ubuntu-latest
                env:
                  A: ${{ github.workspace }}
                  B: "${{ env.HOME }}"
                steps:
                  - run: pytest
        """
    }
    diagnostics = lint_tree(files, "MFK7")
    assert [(d.filename, d.code, d.location.row, d.location.column) for d in diagnostics] == [
        (WORKFLOW, "MFK701", 11, 10)
    ]


def test_yaml_parse_error_is_mfk001_with_position():
    diagnostics = lint_tree({WORKFLOW: "on: push\njobs:\n  test: [unclosed\n"}, "MFK7")
    assert [(d.code, d.location.row) for d in diagnostics] == [("MFK001", 4)]
    assert diagnostics[0].message.startswith("YAML syntax error:")


def test_pyyaml_is_imported_only_when_a_yaml_source_is_linted(tmp_path: Path):
    """Loading the rules and linting Python imports no YAML parser (a tenth of the start-up);
    a workflow in the tree is parsed and checked all the same."""
    import subprocess
    import sys

    (tmp_path / "flow.py").write_text("x = 1\n")
    code = (
        "import sys\n"
        "from mfkit_lint.cli import lint_command\n"
        "try:\n"
        "    lint_command.main(['--no-cache', '-q', *sys.argv[1:]], prog_name='mfkit-lint')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('YAML', 'yaml' in sys.modules, file=sys.stderr)\n"
    )

    def run(*paths: str) -> subprocess.CompletedProcess:
        args = [sys.executable, "-c", code, *paths]
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    python_only = run("flow.py")
    assert "YAML False" in python_only.stderr, python_only.stderr
    workflow = tmp_path / WORKFLOW
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  t:\n    env:\n      A: ${{ env.HOME }}\n")
    with_workflow = run(".")
    assert "YAML True" in with_workflow.stderr, with_workflow.stderr
    assert "MFK701" in with_workflow.stdout


def test_other_yaml_files_are_not_read_in_a_directory_walk():
    files = {"config/ci.yml": "env:\n  A: ${{ env.HOME }}\njobs: {t: {env: {B: '${{ env.X }}'}}}\n"}
    assert lint_tree(files, "MFK7") == []


def test_artifact_collisions():
    base = """
        on: push
        jobs:
          test:
            strategy:
              matrix:
                python: ["3.10", "3.12"]
                os: [ubuntu-latest]
            runs-on: ${{ matrix.os }}
            steps:
              - uses: actions/upload-artifact@%s
                with:
                  name: %s
                  path: coverage.xml
    """

    def codes_for(version, name):
        return [d.code for d in lint_tree({WORKFLOW: base % (version, name)}, "MFK702")]

    assert codes_for("v4", "coverage") == ["MFK702"]
    assert codes_for("v4.4.0", "coverage-${{ github.sha }}") == ["MFK702"]
    assert codes_for("v4", "coverage-${{ matrix.python }}") == []
    assert codes_for("v3", "coverage") == []  # v3 appended to one artifact
    assert codes_for("1a2b3c4d5e6f", "coverage") == []  # a sha: version unknown


def test_single_cell_matrix_and_conditional_upload():
    text = textwrap.dedent("""
        on: push
        jobs:
          test:
            strategy:
              matrix:
                python: ["3.10", "3.12"]
            runs-on: ubuntu-latest
            steps:
              - uses: actions/upload-artifact@v4
                if: matrix.python == '3.12'
                with:
                  name: coverage
                  path: coverage.xml
          one:
            strategy:
              matrix:
                python: ["3.12"]
            runs-on: ubuntu-latest
            steps:
              - uses: actions/upload-artifact@v4
    """)
    assert lint_tree({WORKFLOW: text}, "MFK702") == []


# -- capabilities ------------------------------------------------------------------------------
def test_failed_capability_maps_back_to_rules():
    codes = {r.code for r in rules_for_capability(Cap.FROM_DEPLOYMENT)}
    assert {"MFK302", "MFK309"} <= codes
    assert "MFK401" in {r.code for r in rules_for_capability("RETRY")}
    assert all(r.capability == Cap.RETRY for r in rules_for_capability("RETRY"))


def test_every_kit_pitfall_is_mapped_to_a_rule_or_a_compliance_test():
    import re

    from mfkit_lint.engine.registry import all_rules

    readme = (Path(__file__).parent.parent / "docs" / "pitfalls" / "README.md").read_text()
    section = readme.split("## The orchestrator kit's 42 pitfalls", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| \d+ \|", line)]
    numbers = [int(line.split("|")[1]) for line in rows]
    assert len(rows) == 42
    assert set(numbers) == set(range(1, 43)) - {35}
    known = {r.code for r in all_rules()} | {"MFK205", "MFK209"}
    for row in rows:
        detected_by = row.split("|")[3]
        named = set(re.findall(r"MFK\d{3}", detected_by))
        assert named <= known, row
        assert (
            named
            or "compliance" in detected_by
            or "not a rule" in detected_by
            or ("runtime only" in detected_by)
        ), row


def test_capabilities_declared_in_the_class_by_import_or_outside_an_extension():
    in_class = GOOD_DEPLOYER + "        SUPPORTED_CAPABILITIES = {'LINEAR_DAG'}\n"
    imported = "from .caps import SUPPORTED_CAPABILITIES\n" + textwrap.dedent(GOOD_DEPLOYER)
    assert found({DEPLOYER: in_class}, "MFK505") == []
    assert found({DEPLOYER: imported}, "MFK505") == []
    assert found({"acme/acme_deployer.py": GOOD_DEPLOYER}, "MFK505") == []
    other_package = {
        DEPLOYER: GOOD_DEPLOYER,
        "metaflow_extensions/acme/plugins/other/caps.py": "SUPPORTED_CAPABILITIES = set()\n",
    }
    assert found(other_package, "MFK505") == [(DEPLOYER, "MFK505")]


def test_a_configuration_file_excluded_from_linting_still_registers(tmp_path: Path):
    files = {
        CONFIG: 'DEPLOYER_IMPL_PROVIDERS_DESC = [("acme", ".acme.acme_deployer.AcmeDeployer")]\n',
        DEPLOYER: GOOD_DEPLOYER,
        "pyproject.toml": '[tool.mfkit-lint]\nextend-exclude = ["mfextinit_*.py"]\n',
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = run_cli("--no-cache", "--select", "MFK501", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode()
