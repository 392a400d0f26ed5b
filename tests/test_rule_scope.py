"""Rules that declare where they can report: by the directories of a file's path (the
metaflow_extensions/ layout rules) and by whether they read generated code. A file no rule
can apply to is parsed (a syntax error is still reported) and nothing more; the declarations
never change a result."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_tree
from test_embedded import HELPERS_AND_LINES

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import all_rules
from mfkit_lint.engine.rule import Rule, SourceKind
from mfkit_lint.model import embedded, module

LAYOUT = {"MFK501", "MFK504", "MFK506"}
# An extension tree with a finding of each layout rule, and a copy of the same files outside
# metaflow_extensions/ (where Metaflow never looks, so none of them applies).
TREE = {
    "metaflow_extensions/__init__.py": "",
    "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
    "metaflow_extensions/acme/plugins/mfextinit_acme_extra.py": "CLIS_DESC = []\n",
    "metaflow_extensions/acme/plugins/acme/acme_deployer.py": """
        from metaflow.runner.deployer_impl import DeployerImpl
        class AcmeDeployer(DeployerImpl):
            TYPE = "acme"
    """,
    "metaflow_extensions/acme/plugins/acme/misplaced/mfextinit_acme.py": "CLIS_DESC = []\n",
}
ELSEWHERE = {path.replace("metaflow_extensions", "extensions"): code for path, code in TREE.items()}


def _layout_rules() -> list[type[Rule]]:
    return [r for r in all_rules() if r.code in LAYOUT]


def _spy_checks(monkeypatch) -> list[tuple[str, str]]:
    """(code, path) of every layout rule check; generated code has no path ("")."""
    calls: list[tuple[str, str]] = []
    for rule in _layout_rules():
        real = rule.check

        def spy(self, module, _real=real, _code=rule.code):
            calls.append((_code, module.path.as_posix() if module.path else ""))
            return _real(self, module)

        monkeypatch.setattr(rule, "check", spy)
    return calls


def test_the_layout_rules_declare_the_extension_directory_and_no_generated_code():
    for rule in _layout_rules():
        assert rule.directories == ("metaflow_extensions",)
        assert rule.reads_generated is False


def test_a_layout_rule_reports_in_an_extension_tree_and_is_not_run_elsewhere(monkeypatch):
    calls = _spy_checks(monkeypatch)
    found = sorted(
        (d.code, d.filename) for d in lint_tree({**TREE, **ELSEWHERE}, "MFK5") if d.code in LAYOUT
    )
    assert found == [
        ("MFK501", "metaflow_extensions/acme/plugins/acme/acme_deployer.py"),
        ("MFK501", "metaflow_extensions/acme/plugins/acme/misplaced/mfextinit_acme.py"),
        ("MFK504", "metaflow_extensions/__init__.py"),
        ("MFK506", "metaflow_extensions/acme/plugins/mfextinit_acme.py"),
    ]
    assert all("/metaflow_extensions/" in path for _, path in calls), calls
    assert {code for code, _ in calls} == LAYOUT


def test_a_file_no_rule_applies_to_gets_no_model_but_its_syntax_error(monkeypatch):
    built: list[str] = []
    real_init = module.ModuleModel.__init__

    def spy(self, *args, **kwargs):
        built.append(str(kwargs.get("path")))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(module.ModuleModel, "__init__", spy)
    files = {
        "metaflow_extensions/__init__.py": "",
        "pkg/plain.py": "import os\nprint(os.getcwd())\n",
        "pkg/broken.py": "def f(:\n",
    }
    found = sorted((d.code, d.filename) for d in lint_tree(files, "MFK5"))
    assert found == [("MFK001", "pkg/broken.py"), ("MFK504", "metaflow_extensions/__init__.py")]
    assert [Path(p).name for p in built] == ["__init__.py"]  # only the file a rule may judge


def test_generated_code_is_extracted_only_for_rules_that_read_it(monkeypatch):
    # A module that generates Python (helper templates, generated lines): MFK101 reads the
    # generated code, the layout rules do not.
    files = {"metaflow_extensions/acme/plugins/acme/codegen.py": HELPERS_AND_LINES}
    extracted: list[bool] = []
    real = embedded.embedded_sources

    def spy(model):
        extracted.append(model.generated)
        return real(model)

    monkeypatch.setattr(embedded, "embedded_sources", spy)
    calls = _spy_checks(monkeypatch)
    assert lint_tree(files, "MFK5") == []
    assert extracted == []  # only layout rules ran: no extraction
    assert calls and all(path for _, path in calls)  # never on generated code
    with_generated = lint_tree(files, "MFK101")
    assert extracted == [False]
    assert [(d.code, d.location.row) for d in with_generated] == [("MFK101", 12)]


def test_the_rules_of_a_file_depend_on_its_directory_alone():
    """What a linter decides for a directory's files is kept for them, and never carried over
    to a file of another directory or to another list of rules."""
    linter = Linter(Settings())
    inside, outside = "metaflow_extensions/acme/plugins/a.py", "extensions/acme/plugins/a.py"
    for name in ("a.py", "b.py"):
        inside, outside = inside.replace("a.py", name), outside.replace("a.py", name)
        assert {r.code for r in linter._rules_for(inside, SourceKind.PYTHON)} >= LAYOUT
        assert not LAYOUT & {r.code for r in linter._rules_for(outside, SourceKind.PYTHON)}
    workflow = linter._rules_for(".github/workflows/ci.yml", SourceKind.YAML)
    assert workflow and all(r.kind is SourceKind.YAML for r in workflow)
    linter._rules = [r for r in linter.rules if r.code == "MFK504"]
    assert [r.code for r in linter._rules_for(inside, SourceKind.PYTHON)] == ["MFK504"]
    assert linter._rules_for(outside, SourceKind.PYTHON) == []
