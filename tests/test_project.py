"""Project mode: parameters of a builder in one module are filled by callers in another."""

import textwrap
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.model.backends import calls_named, is_called
from mfkit_lint.model.project import ProjectIndex
from mfkit_lint.model.values import values_of

BUILDER = """
import sys

def step_command(flow_file, step, run_id, task_id, retry_count=0):
    return [sys.executable, flow_file, "step", step, "--run-id", run_id,
            "--task-id", task_id, "--retry-count", str(retry_count)]
"""

CALLER_WITHOUT_COUNTER = """
from ext.builder import step_command

def run(flow_file, run_id):
    return step_command(flow_file, "start", run_id, "t-1")
"""

CALLER_WITH_COUNTER = """
from ext.builder import step_command

def run(flow_file, run_id, attempt):
    return step_command(flow_file, "start", run_id, "t-1", retry_count=attempt)
"""


@pytest.fixture
def tree(tmp_path: Path):
    def make(**files: str) -> list[Path]:
        paths = []
        for name, code in files.items():
            path = tmp_path / "ext" / f"{name}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_text(textwrap.dedent(code))
            paths.append(path)
        return paths

    return make


def _codes(paths: list[Path], project: bool) -> set[tuple[str, str]]:
    linter = Linter(Settings(), Selection(("MFK101",)))
    if project:
        linter.project = ProjectIndex(paths)
    found = set()
    for path in paths:
        for diag in linter.lint_path(path).diagnostics:
            found.add((Path(diag.filename).name, diag.code))
    return found


def test_a_default_no_caller_anywhere_overrides_is_found_across_modules(tree):
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER)
    assert _codes(paths, project=True) == {("builder.py", "MFK101")}


def test_a_file_linted_alone_still_belongs_to_its_project(tree):
    """Named by itself (pre-commit, flake8, the language server), the file gets the findings
    of its project: the other modules of its directory (it has no pyproject/setup/.git root)."""
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER)
    assert _codes(paths[:1], project=False) == {("builder.py", "MFK101")}
    assert _codes(paths, project=False) == _codes(paths, project=True)


def test_a_caller_that_passes_the_counter_makes_it_fine(tree):
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER, other=CALLER_WITH_COUNTER)
    assert _codes(paths, project=True) == set()


def test_a_second_definition_of_the_name_makes_it_undecidable(tree):
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER, twin=BUILDER)
    assert _codes(paths, project=True) == set()


def test_a_function_passed_around_is_not_only_called(tree):
    handed_over = """
    from ext.builder import step_command

    def register(registry):
        registry["step"] = step_command
    """
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER, registry=handed_over)
    assert _codes(paths, project=True) == set()


def test_unreadable_and_broken_project_files_are_skipped(tree, tmp_path):
    paths = tree(builder=BUILDER, caller=CALLER_WITHOUT_COUNTER)
    broken = tmp_path / "ext" / "broken.py"
    broken.write_text("def step_command(:\n")
    missing = tmp_path / "ext" / "gone.py"
    linter = Linter(Settings(), Selection(("MFK101",)))
    linter.project = ProjectIndex([*paths, broken, missing])
    diags = linter.lint_path(paths[0]).diagnostics
    assert [d.code for d in diags] == ["MFK101"]


def test_the_modules_mentioning_a_name_are_parsed_as_the_question_reaches_them(tree):
    paths = tree(a="x = 1\n", b="x = 2\n", c="y = x\n", d="z = 3\n")
    index = ProjectIndex(paths)
    found = index.mentioning("x", besides=paths[0])
    assert next(found).path == paths[1]
    assert set(index._models) == {paths[1]}  # c.py is parsed only when asked for
    assert [m.path for m in found] == [paths[2]]
    assert [m.path for m in index.mentioning("x")] == paths[:3]
    assert [m.path for m in index.modules_mentioning("x")] == paths[:3]


def test_a_builder_that_hands_its_function_over_itself_parses_no_caller(tree):
    """Whether every call of a function can be read is first asked of its own module: when the
    module passes it around, the callers in other modules would not change the answer."""
    for registry, answer in (("REGISTRY = {'step': step_command}", None), ("", ["caller.py"])):
        paths = tree(builder=f"{BUILDER}\n{registry}\n", caller=CALLER_WITHOUT_COUNTER)
        index = ProjectIndex(paths)
        builder = index.model(paths[0])
        (function,) = builder.functions["step_command"]
        sites = values_of(builder).argument_sites(function, function.args.args[-1])
        if answer is None:
            assert sites is None
            assert paths[1] not in index._models  # the caller was never parsed
        else:
            assert [owner.module.path.name for _, _, owner in sites] == answer


def test_a_call_found_before_the_other_modules_parses_none_of_them(tree):
    paths = tree(a="sync()\n", b="sync()\n", c="def sync():\n    pass\n")
    index = ProjectIndex(paths)
    a, c = index.model(paths[0]), index.model(paths[2])
    assert is_called(a, "sync")
    assert set(index._models) == {paths[0], paths[2]}  # b.py is never parsed
    assert is_called(c, "sync")  # in a.py, the first other module holding the name
    assert paths[1] not in index._models
    assert [m.path for m, _ in calls_named(c, "sync")] == paths[:2]
