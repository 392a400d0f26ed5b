"""One parse per file and run: the linter and the project index share the trees they parse.

A module asked about by another one (its helper builds a command, a name is searched in the
project) is parsed once, whichever of the two comes first: the index lends its tree to the
linter, and the linter lends the tree of the file it lints to the index (kept for the files
linted last, within a budget). The answers are the ones separate parses give.
"""

from __future__ import annotations

import ast
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.session import RunOptions, Session
from mfkit_lint.engine.source import Source
from mfkit_lint.model import project as project_module
from mfkit_lint.model.project import ProjectIndex

PYPROJECT = '[project]\nname = "myscheduler-ext"\nversion = "0.1.0"\n'

# common.py's helper starts the command that step.py completes: linting common.py asks the
# index about step.py (who calls top_args?), linting step.py asks about common.py (what does
# the imported helper return?). --tag before the step subcommand is reported in common.py.
COMMON = """
import sys


def top_args(flow_file, tag):
    return [sys.executable, flow_file, "--environment", "local", "--tag", tag]
"""

STEP = """
from .common import top_args


def step_cmd(flow_file, tag, step_name, run_id, task_id, input_paths):
    cmd = top_args(flow_file, tag)
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--input-paths", input_paths]
    return cmd
"""


def _package(tmp_path: Path, **files: str) -> Path:
    base = tmp_path / "ext"
    for name, code in {"pyproject.toml": PYPROJECT, "sched/__init__.py": "", **files}.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    return base


def _count_parses(monkeypatch) -> Counter:
    """How often each text is parsed (by the linter, the index or anyone else)."""
    counts: Counter = Counter()
    real = ast.parse

    def counting(source, *args, **kwargs):
        counts[source if isinstance(source, str) else source.decode()] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return counts


def _asked(monkeypatch) -> list[str]:
    """The files the project index is asked to model, by name."""
    asked: list[str] = []
    real = ProjectIndex.model

    def spy(self, path):
        asked.append(Path(path).name)
        return real(self, path)

    monkeypatch.setattr(ProjectIndex, "model", spy)
    return asked


def _findings(base: Path) -> list[tuple[str, int, str]]:
    linter = Linter(Settings(root=base), Selection(("MFK103",)))
    outcome = Session(linter, RunOptions(jobs=1, cache=False)).run([str(base)])
    return sorted((Path(d.filename).name, d.location.row, d.code) for d in outcome.diagnostics)


@pytest.mark.parametrize(
    ("helper", "caller"),
    [("sched/common.py", "sched/step.py"), ("sched/z_common.py", "sched/a_step.py")],
    ids=["helper-linted-first", "caller-linted-first"],
)
def test_each_file_is_parsed_once_whichever_is_linted_first(tmp_path, monkeypatch, helper, caller):
    step = STEP.replace(".common", "." + Path(helper).stem)
    base = _package(tmp_path, **{helper: COMMON, caller: step})
    counts = _count_parses(monkeypatch)
    asked = _asked(monkeypatch)
    assert _findings(base) == [(Path(helper).name, 6, "MFK103")]
    # Each module was asked about by the other one's analysis, and parsed once all the same.
    assert Path(helper).name in asked and Path(caller).name in asked
    assert counts[textwrap.dedent(COMMON)] == 1
    assert counts[textwrap.dedent(step)] == 1


def test_the_same_findings_without_sharing(tmp_path, monkeypatch):
    """Separate parses (nothing kept, nothing lent) give the same answers."""
    base = _package(tmp_path, **{"sched/common.py": COMMON, "sched/step.py": STEP})
    shared = _findings(base)
    monkeypatch.setattr(ProjectIndex, "lend", lambda self, path, source, tree, module: None)
    monkeypatch.setattr(ProjectIndex, "parsed", lambda self, path, raw: None)
    assert _findings(base) == shared == [("common.py", 6, "MFK103")]


def _lend(index: ProjectIndex, path: Path) -> ast.Module:
    source = Source.from_bytes(path.read_bytes())
    tree = ast.parse(source.text)
    index.lend(path, source, tree, None)
    return tree


def test_the_last_linted_trees_are_kept_within_the_budget(tmp_path, monkeypatch):
    paths = []
    for name in ("a", "b", "c", "d"):
        path = tmp_path / f"{name}.py"
        path.write_text(f"{name.upper()} = 1\n" + "# padding\n" * 40)  # ~400 bytes each
        paths.append(path)
    monkeypatch.setattr(project_module, "KEPT_SOURCE_BYTES", 1000)
    index = ProjectIndex(paths)
    trees = [_lend(index, path) for path in paths]
    # d is being linted, c was linted last, b fits in the budget beside them, a was dropped.
    assert index.model(paths[3]).tree is trees[3]
    assert index.model(paths[2]).tree is trees[2]
    assert index.model(paths[1]).tree is trees[1]
    assert index.model(paths[0]).tree is not trees[0]
    assert ast.dump(index.model(paths[0]).tree) == ast.dump(trees[0])


def test_the_file_linted_last_is_kept_whatever_its_size(tmp_path, monkeypatch):
    """``x.py`` is often asked about by the next file (``x_cli.py``), however big it is."""
    big = tmp_path / "big.py"
    big.write_text("X = 1\n" + "# padding\n" * 500)
    small = tmp_path / "big_cli.py"
    small.write_text("from big import X\n")
    monkeypatch.setattr(project_module, "KEPT_SOURCE_BYTES", 100)
    index = ProjectIndex([big, small])
    big_tree = _lend(index, big)
    _lend(index, small)
    assert index.model(big).tree is big_tree


def test_a_lent_tree_of_other_bytes_is_not_used(tmp_path):
    """The linter may lint text that is not on disk (a fix being checked, an unsaved buffer):
    the index reads the file."""
    path = tmp_path / "mod.py"
    path.write_text("ON_DISK = 1\n")
    index = ProjectIndex([path])
    source = Source.from_bytes(b"IN_THE_EDITOR = 1\n")
    index.lend(path, source, ast.parse(source.text), None)
    model = index.model(path)
    assert model is not None and "ON_DISK" in ast.dump(model.tree)


def test_the_index_takes_the_linters_tree_facts(tmp_path):
    from mfkit_lint.model.module import ModuleModel

    path = tmp_path / "mod.py"
    path.write_text("def f():\n    return g(1)\n")
    source = Source.from_bytes(path.read_bytes())
    tree = ast.parse(source.text)
    linted = ModuleModel(source, tree, path=path)
    assert linted.functions and linted.calls_by_name  # computed while linting
    index = ProjectIndex([path])
    index.lend(path, source, tree, linted)
    model = index.model(path)
    assert model is not None and model.tree is tree and model.project is index
    assert model.functions is linted.functions
    assert model.calls_by_name is linted.calls_by_name


def test_the_owner_of_a_node_is_found_once_its_module_is_parsed(tmp_path):
    """A node of the linted file has no owner in the index until the index takes over the
    tree the linter lent it: "no owner" is not remembered past that."""
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    return [1]\n")
    source = Source.from_bytes(path.read_bytes())
    tree = ast.parse(source.text)
    node = tree.body[0]
    index = ProjectIndex([path])
    index.lend(path, source, tree, None)
    assert index.owner(node) is None
    model = index.model(path)
    assert model is not None and model.tree is tree
    assert index.owner(node) is model


def test_an_owner_is_not_given_to_another_node_of_the_same_id(tmp_path, monkeypatch):
    """The trees of linted files are freed, and a new node may get a freed node's id: an
    answer is remembered for the node itself, not for its id."""
    path = tmp_path / "mod.py"
    path.write_text("X = 1\n")
    index = ProjectIndex([path])
    model = index.model(path)
    assert model is not None
    mine = model.tree.body[0]
    assert index.owner(mine) is model
    stranger = ast.parse("Y = 2\n").body[0]
    monkeypatch.setattr(project_module, "id", lambda node: 1, raising=False)  # every id alike
    assert index.owner(mine) is model
    assert index.owner(stranger) is None
    assert index.owner(mine) is model
