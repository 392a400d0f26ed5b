"""A value that is one of several spellings (each branch of a conditional, each assignment that
reaches the use) is modelled as such: its option words are on some paths, and every rule asks
the same question of them (MFK102: is --branch there on some path; MFK103/MFK109: is the option
misplaced on some path)."""

import ast
import json
import textwrap
from pathlib import Path

import pytest
from conftest import fix, invoke, lint

from mfkit_lint.engine.source import Source
from mfkit_lint.model.commands import Presence, commands_of
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.values import values_of


def _module(code: str) -> ModuleModel:
    code = textwrap.dedent(code)
    return ModuleModel(Source(code), ast.parse(code))


def _use(module: ModuleModel, name: str) -> ast.expr:
    """The last load of ``name`` (or ``self.name``) in the module."""
    loads = [
        n
        for n in ast.walk(module.tree)
        if isinstance(n, (ast.Name, ast.Attribute))
        and (n.id if isinstance(n, ast.Name) else n.attr) == name
        and isinstance(n.ctx, ast.Load)
    ]
    return max(loads, key=lambda n: (n.lineno, n.col_offset))


def _alternatives(code: str, name: str = "opt") -> list:
    module = _module(code)
    found = values_of(module).alternatives(_use(module, name))
    return [ast.literal_eval(a) if isinstance(a, ast.Constant) else ast.unparse(a) for a in found]


@pytest.mark.parametrize(
    "code, expected",
    [
        ("def f(t):\n    opt = '--tag x ' if t else ''\n    return opt", ["--tag x ", ""]),
        (
            "def f(t):\n    opt = ''\n    if t:\n        opt = '--tag x '\n    return opt",
            ["", "--tag x "],
        ),
        (
            "def f(t):\n    if t:\n        opt = 'a'\n    else:\n        opt = 'b'\n    return opt",
            ["a", "b"],
        ),
        # a later assignment on every path hides the first one
        ("def f(t):\n    opt = 'a'\n    opt = 'b'\n    return opt", ["b"]),
        # a parameter reassigned under a condition: its own value, or the new one
        ("def f(opt):\n    if not opt:\n        opt = 'x'\n    return opt", ["opt", "x"]),
        # a value changed in a loop or by += is not followed
        ("def f(ts):\n    opt = ''\n    for t in ts:\n        opt += t\n    return opt", ["opt"]),
        ("def f(ts):\n    for opt in ts:\n        pass\n    return opt", ["opt"]),
        # a helper's returns, one per path; one that may fall off its end is not followed
        (
            "def h(t):\n    if t:\n        return 'a'\n    return 'b'\n"
            "def f(t):\n    opt = h(t)\n    return opt",
            ["a", "b"],
        ),
        (
            "def h(t):\n    if t:\n        return 'a'\ndef f(t):\n    opt = h(t)\n    return opt",
            ["h(t)"],
        ),
        # self.<attr> set earlier in the same method; set elsewhere: not followed
        ("def f(self):\n    self.opt = 'a'\n    return self.opt", ["a"]),
        ("def f(self):\n    return self.opt", ["self.opt"]),
    ],
)
def test_alternatives_are_the_values_reaching_the_use(code, expected):
    assert sorted(_alternatives(code)) == sorted(expected)


def _words(code: str) -> list[list[tuple[str, bool]]]:
    return [
        [(t.text, t.conditional) for t in command.tokens if t.text is not None]
        for command in commands_of(_module(code))
    ]


def test_a_conditional_option_piece_is_spliced_into_the_string_as_conditional_words():
    code = """
    def cmd(flow, step, run_id, tag):
        tag_opt = f"--tag {tag} " if tag else ""
        return f"python {flow} {tag_opt}step {step} --run-id {run_id}"
    """
    words = _words(code)
    assert len(words) == 1
    assert words[0][2:6] == [("--tag", True), ("\ufffc", True), ("step", False), ("\ufffc", False)]


def test_an_option_piece_assigned_once_is_spliced_as_unconditional_words():
    code = """
    def cmd(flow, step, run_id, tag):
        tag_opt = "--tag %s " % tag
        return "python %s %sstep %s --run-id %s" % (flow, tag_opt, step, run_id)
    """
    assert _words(code)[0][2:4] == [("--tag", False), ("\ufffc", False)]


@pytest.mark.parametrize(
    "piece",
    [
        'f"{tag}" if tag else ""',  # not option words: one unknown word
        'python_exe() if tag else ""',  # one path's value is unknown
        '"--ta" if tag else ""',  # glued to the next word
    ],
)
def test_pieces_that_are_not_whole_option_words_stay_a_hole(piece):
    code = f"""
    def cmd(flow, step, run_id, tag):
        tag_opt = {piece}
        return f"python {{flow}} {{tag_opt}}g step {{step}} --run-id {{run_id}}"
    """
    assert all(not any(c for _, c in words) for words in _words(code))


TAG_IN_STRING = """
def step_cmd(flow_file, step_name, run_id, task_id, tag, branch):
    tag_opt = ""
    if tag:
        tag_opt = "--tag %s " % tag
    branch_opt = f"--branch {branch} " if branch else ""
    return (
        f"python {flow_file} {branch_opt}{tag_opt}"
        f"step {step_name} --run-id {run_id} --task-id {task_id} --input-paths {run_id}/start/1"
    )
"""


def test_one_line_missing_branch_and_tag_the_same_answer_on_some_path():
    """The issue's example: the branch is there on the path that has one (no MFK102), the tag
    is before the subcommand on the path that has one (MFK103, on the piece's line)."""
    found = [
        (d.code, d.location.row) for d in lint(TAG_IN_STRING) if d.code in ("MFK102", "MFK103")
    ]
    assert found == [("MFK103", 5)]


def test_a_misplaced_conditional_piece_has_no_fix_in_the_command_string():
    """Moving the words inside the command's literal is not possible: they are in another
    string, on some paths only; the fixer leaves the code as it is."""
    assert fix(TAG_IN_STRING, "MFK103") == TAG_IN_STRING


def test_the_same_piece_after_the_subcommand_is_correct():
    code = TAG_IN_STRING.replace("{branch_opt}{tag_opt}", "{branch_opt}").replace(
        "{run_id}/start/1", "{run_id}/start/1 {tag_opt}"
    )
    assert [d.code for d in lint(code) if d.code in ("MFK102", "MFK103")] == []


def test_a_misplaced_option_piece_on_some_path_is_mfk109():
    code = """
    def init_cmd(flow_file, run_id, namespace):
        ns_opt = ""
        if namespace:
            ns_opt = "--namespace {} ".format(namespace)
        return "python {} {}init --run-id {} --task-id 1".format(flow_file, ns_opt, run_id)
    """
    assert [(d.code, d.location.row) for d in lint(code, "MFK109")] == [("MFK109", 5)]


def test_shell_alternate_value_expansion_is_words_on_some_runs():
    from mfkit_lint.model.shell import split_commands

    words = split_commands('python3 "$F" ${TAG:+--tag "$TAG"} step s ${X:-y} ${Y:+a}b')[0]
    assert [(w.text, w.conditional) for w in words] == [
        ("python3", False),
        ("$F", False),
        ("--tag", True),
        ("$TAG", True),
        ("step", False),
        ("s", False),
        ("${X:-y}", False),  # a default value: one word
        ("${Y:+a}b", False),  # glued to another word: one word
    ]


BASH_SCRIPT = '''
STEP_SCRIPT = """\\
#!/bin/bash
set -euo pipefail
python3 "$FLOW_FILE" --no-pylint \\\\
    %s \\\\
    step "$STEP_NAME" \\\\
    --run-id "$RUN_ID" --task-id "$TASK_ID" --input-paths "$INPUT_PATHS"
"""


def write_script(path):
    with open(path, "w") as f:
        f.write(STEP_SCRIPT)
'''


@pytest.mark.parametrize(
    "piece, expected",
    [
        ('${NS:+--namespace "$NS"}', [("MFK109", 6)]),
        ('--namespace "$NS"', [("MFK109", 6)]),
        ('${BRANCH:+--branch "$BRANCH"}', []),
    ],
)
def test_a_bash_script_with_the_flow_file_in_a_shell_variable_is_checked(piece, expected):
    found = [(d.code, d.location.row) for d in lint(BASH_SCRIPT % piece, "MFK109")]
    assert found == expected


FRAGMENTS = """
def write_step(out, flow_file, step_name, run_id, task_id):
    args = ['sys.executable', repr(flow_file), '"--no-pylint"']
    args.append('"step"')
    args += [repr(step_name), '"--run-id"', repr(run_id), '"--task-id"', repr(task_id)]
    out.write("import subprocess, sys\\n")
    out.write(%s)
    out.write("subprocess.run(cmd, check=True)\\n")
"""


def test_a_list_of_source_fragments_pasted_as_a_whole_list_is_the_generated_command():
    code = FRAGMENTS % '"cmd = [%s]\\n" % ", ".join(args)'
    assert [(d.code, d.location.row) for d in lint(code, "MFK104")] == [("MFK104", 4)]


@pytest.mark.parametrize(
    "paste",
    [
        '"cmd = [%s, *EXTRA]\\n" % ", ".join(args)',  # more words where it is pasted
        '"cmd = [%s] + EXTRA\\n" % ", ".join(args)',
        '"run(%s)\\n" % ", ".join(args)',  # call arguments, not a list
    ],
)
def test_fragments_completed_where_they_are_pasted_are_not_judged(paste):
    assert lint(FRAGMENTS % paste, "MFK104") == []


def test_fragment_words_are_literals_values_or_expressions():
    code = FRAGMENTS % '"cmd = [%s]\\n" % ", ".join(args)'
    (command,) = commands_of(_module(code))
    assert [t.text for t in command.tokens[:4]] == ["\ufffc", "\ufffc", "--no-pylint", "step"]
    assert ast.unparse(command.tokens[1].expr) == "flow_file"  # repr(x): the value of x


@pytest.mark.parametrize(
    "build, tuple_on_every_path",
    [
        ("params = tuple(pairs) if pairs else ()", True),
        ("params = list(pairs)\n    params = tuple(params)", True),
        ("self.params = tuple(pairs)\n    params = self.params", True),
        ("params = tuple(pairs) if pairs else []", False),  # a list on one path
        ("params = ()\n    if pairs:\n        params = list(pairs)", False),
    ],
)
def test_run_params_is_a_tuple_on_every_path(build, tuple_on_every_path):
    code = f"""
def trigger(self, **kwargs):
    pairs = ["%s=%s" % kv for kv in kwargs.items()]
    {build}
    return self._trigger(run_params=params)
"""
    last = len(code.splitlines())  # the finding is on the value handed on
    expected = [last] if tuple_on_every_path else []
    assert [d.location.row for d in lint(code, "MFK301")] == expected


ATTR_STEP = """
import sys


class StepCommands:
    def __init__(self):
        self.retry_count = "0"

    def step_cmd(self, flow_file, step_name, run_id, task_id, input_paths, max_retries):
        return [
            sys.executable, flow_file, "step", step_name, "--run-id", run_id,
            "--task-id", task_id, "--input-paths", input_paths,
            "--retry-count", self.retry_count, "--max-user-code-retries", str(max_retries),
        ]
"""


def _lint_project(tmp_path, files: dict) -> list[tuple[str, int]]:
    for name, code in {"pyproject.toml": "[project]\nname = 'ext'\n", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    out = invoke("--format", "json", "--select", "MFK101", str(tmp_path))
    return [(Path(d["filename"]).name, d["location"]["row"]) for d in json.loads(out.stdout)]


def test_an_attribute_only_its_init_sets_is_a_constant(tmp_path):
    assert _lint_project(tmp_path, {"ext/steps.py": ATTR_STEP}) == [("steps.py", 13)]


@pytest.mark.parametrize(
    "other",
    [
        # set again in the module, on any object, or through setattr
        ("ext/steps.py", ATTR_STEP + "\n\ndef bump(c, n):\n    c.retry_count = str(n)\n"),
        ("ext/steps.py", ATTR_STEP + "\n\ndef bump(c, n):\n    setattr(c, 'retry_count', n)\n"),
        # set by another module of the project
        ("ext/runner.py", "def retry(cmds, n):\n    cmds.retry_count = str(n)\n"),
    ],
)
def test_an_attribute_set_elsewhere_is_not_a_constant(tmp_path, other):
    files = {"ext/steps.py": ATTR_STEP}
    files[other[0]] = other[1]
    assert _lint_project(tmp_path, files) == []


SCRIPT_WRITER = '''
STEP_SCRIPT = """\\
#!/bin/bash
python3 "$FLOW_FILE" step "$STEP_NAME" --run-id "$RUN_ID" --task-id "$TASK_ID" \\\\
    --input-paths "$INPUT_PATHS"
"""


def write_step(path, branch):
    with open(path, "w") as f:
        f.write(STEP_SCRIPT)
'''


def test_a_script_constant_one_function_writes_is_built_with_that_functions_values():
    """The branch is in scope where the script is written, and the script has no --branch."""
    assert [(d.code, d.location.row) for d in lint(SCRIPT_WRITER, "MFK102")] == [("MFK102", 4)]


def test_a_script_constant_several_functions_read_has_no_one_scope():
    code = SCRIPT_WRITER + "\n\ndef show():\n    print(STEP_SCRIPT)\n"
    assert lint(code, "MFK102") == []


@pytest.mark.parametrize(
    "build, presence",
    [
        ('f"python {flow} --branch {b} step {s} --run-id 1 --task-id 1"', "EVERY"),
        ('f"python {flow} {opt}step {s} --run-id 1 --task-id 1"', "SOME"),
        ('f"python {flow} step {s} --run-id 1 --task-id 1"', "NONE"),
    ],
)
def test_presence_of_an_option_over_the_paths(build, presence):
    code = f"""
    def cmd(flow, s, b):
        opt = f"--branch {{b}} " if b else ""
        return {build}
    """
    (command,) = commands_of(_module(code))
    assert command.presence("--branch") is Presence[presence]
    assert command.has_option("--branch") is (presence != "NONE")
