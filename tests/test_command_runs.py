"""The command model walks each scope once: the run that found a helper's words also gives the
module's commands, its joins and its word lists, and the answers are those of a walk per
question (recursive helpers and chains longer than the inline limit included)."""

from __future__ import annotations

import ast
import textwrap
from collections import Counter

import pytest

from mfkit_lint.engine.source import Source
from mfkit_lint.model import commands as model
from mfkit_lint.model.module import ModuleModel

CHAIN = """
import sys

BASE = [sys.executable, "flow.py"]


def level4(x):
    return ["--tag", x]


def level3(x):
    return level4(x) + ["--branch", x]


def level2(x):
    return level3(x) + ["--datastore", "s3"]


def level1(x):
    return BASE + level2(x)


def step_cmd(x, run_id):
    cmd = level1(x)
    cmd += ["step", "start", "--run-id", run_id, "--task-id", "1", "--input-paths", "p"]
    return " ".join(cmd)


def init_cmd(x, run_id):
    return level2(x) + ["init", "--run-id", run_id, "--task-id", "1"]
"""

RECURSIVE = """
import sys


def top(x, again):
    if again:
        return other(x, False) + ["--tag", x]
    return [sys.executable, "flow.py"]


def other(x, again):
    return top(x, again) + ["--branch", x]


def step_cmd(x, run_id):
    cmd = other(x, True)
    cmd.extend(["step", "start", "--run-id", run_id, "--task-id", "1", "--input-paths", "p"])
    return cmd


def init_cmd(x, run_id):
    parts = top(x, True) + ["init", "--run-id", run_id, "--task-id", "1"]
    return shlex.join(parts)
"""

MODULE_LEVEL = """
import subprocess
import sys

TOP = [sys.executable, "flow.py", "--environment", "local"]
EXTRA = TOP + ["--no-pylint"]


def helper():
    return EXTRA + ["--datastore", "local"]


def run_step(run_id):
    subprocess.run(helper() + ["step", "a", "--run-id", run_id, "--task-id", "2"])
"""

# ``level3`` is first asked for its words at the inline limit (from the module level, three
# helpers down), where it cannot ask ``level4``; its own commands are those of a run that can.
DEEP_FIRST = """
import sys


def level4(x):
    return ["--tag", x]


def level3(x):
    return level4(x) + ["step", "s", "--run-id", x, "--task-id", "1", "--input-paths", "p"]


def level2(x):
    return level3(x)


def level1(x):
    return level2(x)


CMD = [sys.executable, "flow.py"] + level1("a")
"""

CASES = {
    "chain": CHAIN,
    "recursive": RECURSIVE,
    "module-level": MODULE_LEVEL,
    "deep-first": DEEP_FIRST,
}


def _module(code: str) -> ModuleModel:
    code = textwrap.dedent(code)
    return ModuleModel(Source(code), ast.parse(code))


def _words(tokens) -> list:
    return None if tokens is None else [(t.text, t.span, t.conditional, t.index) for t in tokens]


def _answers(module: ModuleModel, order: str) -> dict:
    """Every answer of the model about the module, the questions asked in ``order``."""
    functions = [f for fs in module.functions.values() for f in fs]
    joins = [n for n in ast.walk(module.tree) if model.joined_name(n) is not None]
    asked = {
        "commands": lambda: [(c.name, c.kind, _words(c.tokens)) for c in model.commands_of(module)],
        "returned": lambda: [_words(model.returned_words(module, f)) for f in functions],
        "lists": lambda: [[_words(w) for w in model.word_lists(module, f)] for f in functions],
        "joined": lambda: [_words(model.joined_words(module, j)) for j in joins],
    }
    keys = list(asked) if order == "commands first" else list(reversed(asked))
    return {key: asked[key]() for key in keys}


@pytest.mark.parametrize("order", ["commands first", "helpers first"])
@pytest.mark.parametrize("case", list(CASES))
def test_kept_runs_give_the_answers_of_a_walk_per_question(monkeypatch, case, order):
    kept = _answers(_module(CASES[case]), order)

    def fresh(module, function, depth):  # a run per question, as before runs were kept
        builder = model._ListBuilder(module, function, depth)
        builder.run(function.body if function is not None else module.tree.body)
        return builder

    monkeypatch.setattr(model, "_built", fresh)
    assert kept == _answers(_module(CASES[case]), order)
    assert kept["commands"], case  # (each case builds commands)


def _count_walks(monkeypatch) -> Counter:
    """How many times each scope (a function's name; None: the module) is walked from now on."""
    walked: Counter = Counter()
    real = model._ListBuilder.run

    def counting(self, body):
        walked[getattr(self.function, "name", None)] += 1
        return real(self, body)

    monkeypatch.setattr(model._ListBuilder, "run", counting)
    return walked


def test_each_scope_is_walked_once(monkeypatch):
    walked = _count_walks(monkeypatch)
    _answers(_module(CHAIN), "commands first")
    assert set(walked.values()) == {1}, walked
    assert "level4" in walked and None in walked


def test_a_run_that_met_an_unfinished_helper_is_not_kept(monkeypatch):
    """``top`` and ``other`` call each other: the run of ``other`` made while ``top``'s words
    are being worked out does not get them, so it does not stand for later runs."""
    walked = _count_walks(monkeypatch)
    module = _module(RECURSIVE)
    model.commands_of(module)
    assert walked["other"] == 2 or walked["top"] == 2, walked
    assert walked["step_cmd"] == 1


HERE = """
import sys

BASE = [sys.executable, "flow.py"]


def helper():
    return BASE + ["--tag", "x"]


CMD = helper()


def step_args(run_id):
    return BASE + ["step", "s", "--run-id", run_id, "--task-id", "1", "--input-paths", "p"]
"""

CALLER = """
import subprocess

from .here import step_args


def build(run_id):
    cmd = step_args(run_id)
    subprocess.run(cmd)
"""


@pytest.mark.parametrize("first", ["caller", "here"])
def test_a_helper_read_while_the_module_lists_are_followed_gets_no_words_yet(tmp_path, first):
    """``step_args`` reads the module-level ``BASE``: following the module's lists runs the
    module level, whose ``helper()`` reads ``BASE`` too while those lists are not known yet.
    That read is unknown (it made the analysis fail before), and the caller's command still
    gets ``BASE``'s words, whichever module is asked about first."""
    from pathlib import Path

    from mfkit_lint.model.project import ProjectIndex

    package = tmp_path / "sched"
    package.mkdir()
    for name, code in {"__init__": "", "here": HERE, "caller": CALLER}.items():
        (package / f"{name}.py").write_text(textwrap.dedent(code))
    index = ProjectIndex(sorted(package.glob("*.py")))
    order = ["caller", "here"] if first == "caller" else ["here", "caller"]
    found = {name: model.commands_of(index.model(package / f"{name}.py")) for name in order}
    for name in order:
        (command,) = found[name]
        assert [t.text for t in command.tokens][1:3] == ["flow.py", "step"], name
        assert not any(t.spread for t in command.tokens), name
    assert Path(found["caller"][0].tokens[1].span.file).name == "here.py"
