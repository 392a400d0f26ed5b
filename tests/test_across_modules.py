"""A project's modules read together: values, helpers and generated code across files.

Each case is a small package linted as a directory (the CLI's way): what one module defines,
another uses, and the answer must be the one the same code gets in one module.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.session import RunOptions, Session
from mfkit_lint.model.commands import _def_of, _may_define
from mfkit_lint.model.project import ProjectIndex

PYPROJECT = '[project]\nname = "myscheduler-ext"\nversion = "0.1.0"\n'


def findings(tmp_path: Path, select: str, **files: str) -> list[tuple[str, int, str]]:
    """(file, row, code) of every finding when the package is linted as a directory."""
    base = tmp_path / "ext"
    files = {"pyproject.toml": PYPROJECT, "sched/__init__.py": "", **files}
    for name, code in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    linter = Linter(Settings(root=base), Selection((select,)))
    outcome = Session(linter, RunOptions()).run([str(base)])
    return sorted(
        (Path(d.filename).resolve().relative_to(base.resolve()).as_posix(), d.location.row, d.code)
        for d in outcome.diagnostics
    )


# -- generated code is read by the project rules -----------------------------------------------

GENERATED_STEP = '''
STEP_MODULE = """\\
import os
import subprocess
import sys


def run_step(flow_file, step_name, run_id, task_id, input_paths, attempt):
    env = dict(os.environ)
    cmd = [sys.executable, flow_file, "--environment", "local", "step", step_name,
           "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths,
           "--retry-count", str(attempt)]
    subprocess.run(cmd, env=env, check=True)
"""


def write_step_module(path):
    with open(path, "w") as f:
        f.write(STEP_MODULE)
'''

TEMPLATES_WITH_CLIARGS = """
from metaflow.runtime import CLIArgs


def step_templates(task):
    return CLIArgs(task).get_args()
"""


def test_generated_step_without_configs_is_reported(tmp_path):
    found = findings(tmp_path, "MFK201", **{"sched/codegen.py": GENERATED_STEP})
    assert found == [("sched/codegen.py", 10, "MFK201")]


def test_generated_step_is_judged_with_the_module_that_generates_it(tmp_path):
    """The generator builds the step commands with CLIArgs (which adds --config-value): the
    generated code gets its configs from there."""
    generator = GENERATED_STEP + TEMPLATES_WITH_CLIARGS
    found = findings(tmp_path, "MFK201", **{"sched/codegen.py": generator})
    assert found == []


def test_generated_step_without_environment_vars_is_reported(tmp_path):
    found = findings(tmp_path, "MFK210", **{"sched/codegen.py": GENERATED_STEP})
    assert found == [("sched/codegen.py", 10, "MFK210")]


def test_generated_step_is_silent_when_another_module_applies_the_vars(tmp_path):
    applies = """
    def apply_decorators(step, cli_args):
        for deco in step.decorators:
            deco.runtime_step_cli(cli_args, 0, 0, None)
    """
    found = findings(
        tmp_path, "MFK210", **{"sched/codegen.py": GENERATED_STEP, "sched/decos.py": applies}
    )
    assert found == []


# -- values and helpers of another module -------------------------------------------------------

STEP_WITH = """
import sys
{imports}


def step_cmd(flow_file, step_name, run_id, task_id, input_paths):
    return [sys.executable, flow_file, "--environment", "local", "step", step_name,
            "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths,
            "--retry-count", {retry}]
"""


def test_a_constant_imported_from_another_module_is_followed(tmp_path):
    spellings = {
        "from sched.common import RETRY_COUNT": "RETRY_COUNT",
        "from .common import RETRY_COUNT as RETRIES": "RETRIES",
        "from sched import common": "common.RETRY_COUNT",
        "import sched.common as common": "common.RETRY_COUNT",
    }
    for imports, retry in spellings.items():
        step = STEP_WITH.format(imports=imports, retry=retry)
        found = findings(
            tmp_path, "MFK101", **{"sched/common.py": 'RETRY_COUNT = "0"\n', "sched/step.py": step}
        )
        assert found == [("sched/step.py", 9, "MFK101")], imports


def test_a_value_the_other_module_computes_stays_unknown(tmp_path):
    common = "import os\nRETRY_COUNT = os.environ['ATTEMPT']\n"
    step = STEP_WITH.format(imports="from .common import RETRY_COUNT", retry="RETRY_COUNT")
    found = findings(tmp_path, "MFK101", **{"sched/common.py": common, "sched/step.py": step})
    assert found == []


def test_a_name_outside_the_project_is_not_followed(tmp_path):
    step = STEP_WITH.format(imports="from othertool import RETRY_COUNT", retry="RETRY_COUNT")
    found = findings(
        tmp_path, "MFK101", **{"sched/step.py": step, "othertool.py": 'RETRY_COUNT = "0"\n'}
    )
    assert found == [("sched/step.py", 9, "MFK101")]  # othertool.py is in the project here
    found = findings(tmp_path / "alone", "MFK101", **{"sched/step.py": step})
    assert found == []


TOP_ARGS = """
import sys


def top_args(flow_file, tag):
    return [sys.executable, flow_file, "--environment", "local", "--tag", tag]
"""

TOP_ARGS_WITH_BRANCH = """
import sys


def top_args(flow_file, branch):
    return [sys.executable, flow_file, "--environment", "local", "--branch", branch]
"""

STEP_FROM_HELPER = """
from .common import top_args


def step_cmd(flow_file, {extra}, step_name, run_id, task_id, input_paths):
    cmd = top_args(flow_file, {extra})
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--input-paths", input_paths]
    return cmd
"""


def test_top_level_words_from_a_helper_of_another_module_complete_the_command(tmp_path):
    """The caller has the branch; the helper of common.py builds the top level without it."""
    step = STEP_FROM_HELPER.format(extra="branch")
    found = findings(tmp_path, "MFK102", **{"sched/common.py": TOP_ARGS, "sched/step.py": step})
    assert found == [("sched/step.py", 7, "MFK102")]


def test_a_helper_that_passes_the_branch_is_the_correct_look_alike(tmp_path):
    step = STEP_FROM_HELPER.format(extra="branch")
    found = findings(
        tmp_path, "MFK102", **{"sched/common.py": TOP_ARGS_WITH_BRANCH, "sched/step.py": step}
    )
    assert found == []


def test_a_helper_whose_def_line_is_continued_is_followed(tmp_path):
    """Whether the other module can define the helper is asked of its bytes before it is
    parsed: ``def`` and the name apart over a line continuation still define it."""
    common = TOP_ARGS.replace("def top_args(", "def \\\n    top_args(")
    step = STEP_FROM_HELPER.format(extra="branch")
    found = findings(tmp_path, "MFK102", **{"sched/common.py": common, "sched/step.py": step})
    assert found == [("sched/step.py", 7, "MFK102")]


def test_a_helper_whose_name_is_not_in_the_bytes_is_followed(tmp_path):
    """The bytes are not the text: a coding declaration (UTF-7 spells ``t`` as ``+AHQ-``), or
    a name Python normalises (a full-width t, U+FF54). Such a module is parsed to tell."""
    step = STEP_FROM_HELPER.format(extra="branch")
    for case, common in (
        ("utf7", "# coding: utf-7\n" + TOP_ARGS.replace("def top_args(", "def +AHQ-op_args(")),
        ("nfkc", TOP_ARGS.replace("def top_args(", "def \uff54op_args(")),
    ):
        files = {"sched/common.py": common, "sched/step.py": step}
        found = findings(tmp_path / case, "MFK102", **files)
        assert found == [("sched/step.py", 7, "MFK102")], case


def test_a_class_of_the_helpers_name_is_not_followed(tmp_path):
    common = """
    class top_args(list):
        def __init__(self, flow_file, tag):
            super().__init__([flow_file, "--tag", tag])
    """
    step = STEP_FROM_HELPER.format(extra="branch")
    found = findings(tmp_path, "MFK102", **{"sched/common.py": common, "sched/step.py": step})
    assert found == []


def test_a_finding_on_a_helper_word_is_never_placed_in_the_callers_file(tmp_path):
    """--tag before step is written in common.py: the caller's file gets no finding at the
    helper's line numbers."""
    step = STEP_FROM_HELPER.format(extra="tag")
    found = findings(tmp_path, "MFK103", **{"sched/common.py": TOP_ARGS, "sched/step.py": step})
    assert found == [("sched/common.py", 6, "MFK103")]  # where --tag is written


def test_a_helper_whose_words_no_command_puts_before_a_subcommand_is_silent(tmp_path):
    caller = """
    from .common import top_args


    def image_cmd(flow_file, tag):
        return top_args(flow_file, tag) + ["--rm"]
    """
    found = findings(tmp_path, "MFK103", **{"sched/common.py": TOP_ARGS, "sched/other.py": caller})
    assert found == []


def test_a_workflow_read_from_stdin_is_checked(tmp_path):
    """The workflow rules need no other file: stdin (an editor's buffer) gets them too."""
    from conftest import run_cli

    workflow = (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    env:\n      ROOT: ${{ env.HOME }}/x\n    steps:\n      - run: pytest\n"
    )
    result = run_cli(
        "--stdin-filename", ".github/workflows/ci.yml", "-", cwd=tmp_path, stdin=workflow.encode()
    )
    assert "MFK701" in result.stdout.decode()


# -- what a helper of another module returns ----------------------------------------------------

DEPLOYER_USING = """\
from metaflow.runner.deployer import DeployedFlow
{imports}


class SchedulerDeployedFlow(DeployedFlow):
    def trigger(self, **kwargs):
        run_params = {call}(kwargs)
        return self._trigger(run_params=run_params)
"""


def test_a_helper_of_another_module_returns_its_value_to_the_caller(tmp_path):
    common = "def format_params(kwargs):\n    return tuple('%s=%s' % kv for kv in kwargs.items())\n"
    for imports, call in {
        "from sched.common import format_params": "format_params",
        "from . import common": "common.format_params",
    }.items():
        deployer = DEPLOYER_USING.format(imports=imports, call=call)
        found = findings(
            tmp_path, "MFK301", **{"sched/common.py": common, "sched/deployer.py": deployer}
        )
        assert found == [("sched/deployer.py", 8, "MFK301")], imports


def test_a_helper_of_another_module_returning_a_list_on_some_path_is_silent(tmp_path):
    common = (
        "def format_params(kwargs):\n"
        "    if not kwargs:\n"
        "        return []\n"
        "    return tuple('%s=%s' % kv for kv in kwargs.items())\n"
    )
    deployer = DEPLOYER_USING.format(
        imports="from sched.common import format_params", call="format_params"
    )
    found = findings(
        tmp_path, "MFK301", **{"sched/common.py": common, "sched/deployer.py": deployer}
    )
    assert found == []


# -- the byte test before another module is parsed for a helper ----------------------------------

DEFINING = [
    "def top_args(a):\n    pass\n",
    "async def top_args(a):\n    pass\n",
    "x = 1\ndef\ttop_args():\n    pass\n",
    "def\ftop_args():\n    pass\n",
    "def \\\n    top_args():\n    pass\n",
    "def \\\r\n  \\\r\n top_args():\r\n    pass\r\n",
    "def \\\rtop_args():\r    pass\r",
    "class A:\n    def  top_args(self):\n        pass\n",
]
NOT_DEFINING = [
    "top_args = make()\n",
    "def top_args_v2():\n    pass\n",
    "undef = 1\ntop_args = undef\n",
    "def f(top_args):\n    pass\n",
    "class top_args:\n    pass\n",
]


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def defines_top_args(source: str) -> bool:
    tree = ast.parse(source)
    return any(isinstance(n, FUNCTIONS) and n.name == "top_args" for n in ast.walk(tree))


@pytest.mark.parametrize("source", DEFINING)
def test_every_spelling_of_a_def_is_seen_in_the_bytes(source):
    assert defines_top_args(source)
    assert _def_of(source.encode(), b"top_args")


@pytest.mark.parametrize("source", NOT_DEFINING)
def test_a_source_without_the_def_is_told_from_its_bytes(source):
    assert not defines_top_args(source)
    assert not _def_of(source.encode(), b"top_args")


def test_a_def_in_a_comment_only_sends_the_module_to_the_parser():
    """The byte test is a necessary condition: a commented-out def passes it, and the parsed
    module tells that nothing defines the name."""
    source = "# def top_args(flow_file) moved to common.py\n"
    assert _def_of(source.encode(), b"top_args") and not defines_top_args(source)


# Texts whose bytes are not their identifiers: each is read the way the parser reads it.
OTHER_TEXTS = [
    pytest.param("# Helpers \u2014 shared\n{code}", "utf-8", id="em-dash"),
    pytest.param("\ufeff{code}", "utf-8", id="BOM"),
    pytest.param("# -*- coding: latin-1 -*-\n# caf\u00e9\n{code}", "latin-1", id="latin-1"),
    pytest.param("# coding: utf-7\n{code}", "utf-7", id="utf-7"),
]


def _may_define_top_args(tmp_path: Path, raw: bytes) -> bool:
    """The byte test's answer for a project file of these bytes, asked by an importer."""
    path = tmp_path / "common.py"
    path.write_bytes(raw)
    return _may_define(_Importer(ProjectIndex([path])), path, "top_args")


class _Importer:
    """What the byte test reads of the importing module: its project (and its memo)."""

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.analyses: dict = {}


@pytest.mark.parametrize(("template", "encoding"), OTHER_TEXTS)
def test_a_text_that_is_not_plain_ascii_is_read_as_the_parser_reads_it(
    tmp_path, template, encoding
):
    """Every spelling of a def is seen in such a text too (a full-width letter, U+FF54, is the
    ``t`` the parser names), and a text without the def is told apart: it is not parsed to
    answer."""
    for code in [*DEFINING, "def \uff54op_args(a):\n    pass\n"]:
        text = template.format(code=code)
        if encoding == "latin-1" and "\uff54" in text:
            continue  # (no full-width letter in latin-1)
        assert defines_top_args(text.lstrip("\ufeff")), (template, code)
        assert _may_define_top_args(tmp_path, text.encode(encoding)), (template, code)
    for code in NOT_DEFINING:
        text = template.format(code=code)
        assert not defines_top_args(text.lstrip("\ufeff")), (template, code)
        assert not _may_define_top_args(tmp_path, text.encode(encoding)), (template, code)


def test_an_undecodable_file_is_not_asked_about(tmp_path):
    """Bytes that are not the declared encoding: the index cannot parse them either."""
    raw = b"# -*- coding: utf-8 -*-\ndef top_args(a):  # \xff\n    pass\n"
    assert b"def top_args" in raw
    assert ProjectIndex([tmp_path / "x.py"])._parse(_written(tmp_path / "x.py", raw)) is None
    assert not _may_define_top_args(tmp_path, raw)


def _written(path: Path, raw: bytes) -> Path:
    path.write_bytes(raw)
    return path


def test_a_non_ascii_module_without_the_helper_is_not_parsed_for_it(tmp_path, monkeypatch):
    """A module whose text has an em dash and no def of the helper: the caller's question
    about the helper is answered without parsing it; with the def, the helper is followed."""
    parsed: list[str] = []
    real = ProjectIndex._parse

    def spy(self, path):
        parsed.append(Path(path).name)
        return real(self, path)

    monkeypatch.setattr(ProjectIndex, "_parse", spy)
    step = STEP_FROM_HELPER.format(extra="branch")
    elsewhere = "# Helpers \u2014 shared\nimport sys\ntop_args = sys.argv\n"
    found = findings(
        tmp_path / "no", "MFK102", **{"sched/common.py": elsewhere, "sched/step.py": step}
    )
    assert found == [] and "common.py" not in parsed
    defined = "# Helpers \u2014 shared\n" + TOP_ARGS
    found = findings(
        tmp_path / "yes", "MFK102", **{"sched/common.py": defined, "sched/step.py": step}
    )
    assert found == [("sched/step.py", 7, "MFK102")] and "common.py" in parsed
