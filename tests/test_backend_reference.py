"""Metaflow's own compute backends (plugins/aws/batch, plugins/kubernetes) are correct code:
every rule is silent on them, while the backend model does recognise them as backends (so the
silence is not for lack of looking)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session
from mfkit_lint.engine.source import Source
from mfkit_lint.model.backends import backend_decorators, module_backend_steps
from mfkit_lint.model.module import ModuleModel

metaflow = pytest.importorskip("metaflow")
PLUGINS = Path(metaflow.__file__).parent / "plugins"
BACKENDS = {"batch": PLUGINS / "aws" / "batch", "kubernetes": PLUGINS / "kubernetes"}


def _model(path: Path) -> ModuleModel:
    source = Source.from_bytes(path.read_bytes())
    return ModuleModel(source, ast.parse(source.text), path=path)


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def backend(request, tmp_path_factory):
    """The backend's package copied to a folder of its own, so it is linted as one project."""
    target = tmp_path_factory.mktemp(request.param) / request.param
    shutil.copytree(BACKENDS[request.param], target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "pyproject.toml").write_text("[project]\nname = 'reference'\n")
    return request.param, target


def test_every_rule_is_silent_on_metaflows_own_backend(backend):
    _, root = backend
    outcome = Session(Linter(Settings(root=root)), RunOptions()).run([str(root)])
    assert outcome.errors == []
    assert [(d.filename, d.location.row, d.code) for d in outcome.diagnostics] == []


def test_the_backend_model_recognises_it(backend):
    name, root = backend
    steps = [s for p in root.glob("*_cli.py") for s in module_backend_steps(_model(p))]
    assert [s.group for s in steps] == [name]
    assert {"--run-id", "--task-id", "--input-paths", "--retry-count"} <= steps[0].options
    decorators = [g for p in root.glob("*_decorator.py") for _, g in backend_decorators(_model(p))]
    assert decorators == [name]
