"""MFK101 hardcoded-retry-count."""

import textwrap

import pytest
from conftest import codes, fix, lint, lint_tree

POSITIVE = {
    "list literal with a string zero": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths):
            return [sys.executable, flow_file, "step", step, "--run-id", run_id,
                    "--task-id", task_id, "--retry-count", "0", "--input-paths", paths]
    """,
    "list built piece by piece with str(0)": """
        import sys
        def step_cmd(flow_file, step, run_id, task_id, paths):
            cmd = [sys.executable, flow_file, "--no-pylint"]
            cmd += ["step", step]
            cmd.extend(["--run-id", run_id, "--task-id", task_id])
            cmd.append("--retry-count")
            cmd.append(str(0))
            return cmd
    """,
    "parameter default that no caller overrides (the kit scaffold)": """
        import sys
        class Deployer:
            def _build_step_command(self, step, run_id, task_id, paths, retry_count=0):
                cmd = [sys.executable, "flow.py", "step", step, "--run-id", run_id,
                       "--task-id", task_id, "--retry-count", str(retry_count),
                       "--input-paths", paths]
                return cmd

            def compile(self, steps):
                return [self._build_step_command(s, "r1", "1", "r1/_parameters/1") for s in steps]
    """,
    "f-string command": """
        def step_line(flow_file, step, run_id):
            return f"python {flow_file} step {step} --run-id {run_id} --task-id 1 --retry-count 0 --input-paths {run_id}/_parameters/1"
    """,
    "multi-line bash template": '''
        SCRIPT = """#!/bin/bash
        set -e
        python {flow} --no-pylint step {step} \\\\
            --run-id "$RUN_ID" \\\\
            --task-id "$TASK_ID" \\\\
            --retry-count 0 \\\\
            --input-paths "$INPUT_PATHS"
        """
    ''',
    "--retry-count=0 in one word": """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count=0"]
    """,
    "percent-formatted shell line": """
        def line(flow, run_id):
            return "python %s step start --run-id %s --task-id 1 --retry-count %d" % (flow, run_id, 0)
    """,
    "Python-literal fragments for a generated script": """
        def step_args(step_name, max_retries):
            args = ['"step"', '"%s"' % step_name, '"--run-id"', 'run_id',
                    '"--retry-count"', '"0"', '"--max-user-code-retries"', '"%d"' % max_retries]
            return ", ".join(args)
    """,
    "a module constant": """
        RETRIES = "0"
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", RETRIES]
    """,
}

NEGATIVE = {
    "a parameter callers pass": """
        class D:
            def _cmd(self, step, run_id, retry_count=0):
                return ["python", "flow.py", "step", step, "--run-id", run_id,
                        "--retry-count", str(retry_count)]
            def run(self, ctx):
                return self._cmd("start", "r1", retry_count=ctx.retry_number)
    """,
    "a parameter with no caller in this module (cannot decide)": """
        def step_cmd(step, run_id, retry_count=0):
            return ["python", "flow.py", "step", step, "--run-id", run_id,
                    "--retry-count", str(retry_count)]
    """,
    "Argo-style template placeholder": """
        def cmd(run_id):
            return "python flow.py step start --run-id %s --retry-count {{retries}}" % run_id
    """,
    "bash variable": '''
        SCRIPT = """
        python flow.py step start --run-id "$RUN_ID" --task-id 1 --retry-count "$RETRY_COUNT"
        """
    ''',
    "no retries configured for the step": """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id,
                    "--retry-count", "0", "--max-user-code-retries", "0"]
    """,
    "option text in a docstring and a click declaration": '''
        import click
        @click.option("--retry-count", default=0)
        def step(retry_count):
            """Run `python flow.py step start --run-id 1 --retry-count 0` by hand."""
    ''',
    "a reassigned counter": """
        import os
        def cmd(run_id):
            retry = 0
            if os.environ.get("AWS_BATCH_JOB_ATTEMPT"):
                retry = int(os.environ["AWS_BATCH_JOB_ATTEMPT"]) - 1
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", str(retry)]
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK101") == ["MFK101"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK101") == []


def test_points_at_the_value_and_says_what_to_do():
    (diag,) = lint(POSITIVE["list literal with a string zero"], "MFK101")
    assert (diag.location.row, diag.location.column) == (5, 52)
    assert "always 0" in diag.message and "attempt" in diag.message
    assert diag.fix is None  # no attempt counter in scope: nothing to thread


def test_fix_threads_the_attempt_parameter_in_a_list():
    before = """
        def cmd(run_id, attempt):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    after = fix(before, "MFK101", unsafe=True)
    assert '"--retry-count", str(attempt)]' in after
    assert codes(after, "MFK101") == []
    assert fix(after, "MFK101", unsafe=True) == after  # idempotent


def test_fix_threads_the_attempt_into_an_fstring():
    before = """
        def line(run_id, retry_count):
            return f"python flow.py step start --run-id {run_id} --retry-count 0 --input-paths x"
    """
    after = fix(before, "MFK101", unsafe=True)
    assert "--retry-count {retry_count} --input-paths" in after
    assert codes(after, "MFK101") == []


def test_fix_is_unsafe_only():
    before = """
        def cmd(run_id, attempt):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    assert fix(before, "MFK101", unsafe=False) == textwrap.dedent(before)


def test_no_fix_with_retries_meaning_the_maximum():
    code = """
        def build(step, run_id, retries):
            return ["python", "flow.py", "step", step, "--run-id", run_id,
                    "--retry-count", "0", "--max-user-code-retries", str(retries)]
    """
    (diag,) = lint(code, "MFK101")
    assert diag.fix is None


def test_no_fix_for_a_parameter_default():
    (diag,) = lint(
        POSITIVE["parameter default that no caller overrides (the kit scaffold)"], "MFK101"
    )
    assert diag.fix is None
    assert "scheduler is not known" in diag.no_fix_reason  # nothing says which scheduler


# A step command whose retry count is a helper's default, called from the scheduler's task
# without it: the fix passes the scheduler's verified counter, converted to 0-based.
SCHEDULED = """
    import subprocess
    {imports}


    def _step_cmd(step_name, run_id, retry_count=0):
        return ["python", "flow.py", "step", step_name, "--run-id", run_id, "--task-id", "1",
                "--retry-count", str(retry_count), "--max-user-code-retries", "2"]


    def run_task(step_name, run_id):
        cmd = _step_cmd(
            step_name, run_id,
        )
        subprocess.run(cmd, check=True)
        subprocess.run(_step_cmd("end", run_id), check=True)
"""


@pytest.mark.parametrize(
    "imports, counter, imported",
    [
        # Prefect: run_count starts at 1, read from the runtime module
        (
            "from prefect import task",
            "prefect.runtime.task_run.run_count - 1",
            "import subprocess, prefect.runtime.task_run",
        ),
        # Temporal: the activity's attempt starts at 1, read through a call
        (
            "from temporalio import activity",
            "temporalio.activity.info().attempt - 1",
            "import subprocess, temporalio.activity",
        ),
        # Flyte: an environment variable that starts at 0; os is imported already
        (
            "import os\nimport flytekit",
            'int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))',
            "import subprocess\nimport os\nimport flytekit",
        ),
    ],
)
def test_fix_passes_the_schedulers_verified_counter_to_each_call(imports, counter, imported):
    before = textwrap.dedent(SCHEDULED).format(imports=imports)
    (diag,) = lint(before, "MFK101")
    assert diag.fix is not None and diag.fix.applicability.value == "unsafe"
    after = fix(before, "MFK101", unsafe=True)
    assert after.startswith(f"\n{imported}\n")
    # in the multi-line call: on the line of the last positional argument
    assert f"step_name, run_id, retry_count={counter},\n    )" in after
    # in the one-line call
    assert f'_step_cmd("end", run_id, retry_count={counter})' in after
    assert codes(after, "MFK101") == []
    assert fix(after, "MFK101", unsafe=True) == after
    compile(after, "fixed.py", "exec")


@pytest.mark.parametrize(
    "imports, reason",
    [
        # Kestra's counter is a template variable: only a string Kestra renders can hold it
        ("from kestra import Kestra", "is not a module attribute"),
        # Windmill exposes no attempt counter at all
        ("import wmill", "windmill's attempt counter is not verified"),
        # Dagster's counter is read from the op's context, not from a module
        ("import dagster", "is not a module attribute"),
        # two schedulers: which one runs the task is not known
        ("import prefect\nimport dagster", "scheduler is not known"),
    ],
)
def test_no_counter_fix_without_a_verified_module_counter(imports, reason):
    (diag,) = lint(textwrap.dedent(SCHEDULED).format(imports=imports), "MFK101")
    assert diag.fix is None
    assert reason in diag.no_fix_reason


def test_fix_in_generated_lines_edits_the_template_literals():
    code = '''
import textwrap

_HEADER = [
    "import json",
    "import subprocess",
    "from prefect import flow, task",
    "FLOW_FILE = %r" % "flow.py",
    "ENV = 'local'",
]

_HELPERS = """
import subprocess, sys

def _step_cmd(step_name, run_id, task_id, input_paths, retry_count=0):
    cmd = [sys.executable, FLOW_FILE, "--no-pylint", "--environment", ENV]
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(retry_count), "--max-user-code-retries", "3",
            "--input-paths", input_paths]
    return cmd
"""

_INDENT = "    "


def task_lines(step_name):
    lines = []
    lines.append("cmd = _step_cmd(")
    lines.append(_INDENT + "%r, run_id, task_id, input_paths," % step_name)
    lines.append(")")
    lines.append("subprocess.run(cmd, check=True)")
    return lines


def write_flow(out):
    out.write("\\n".join([*_HEADER, _HELPERS, *task_lines("start")]))
'''
    (diag,) = lint(code, "MFK101")
    assert diag.fix is not None, diag.no_fix_reason
    after = fix(code, "MFK101", unsafe=True)
    # the last plain import of the generated code takes the module (one line, one literal)
    assert "\nimport subprocess, sys, prefect.runtime.task_run\n" in after
    assert (
        '_INDENT + "%r, run_id, task_id, input_paths, '
        'retry_count=prefect.runtime.task_run.run_count - 1," % step_name'
    ) in after
    assert codes(after, "MFK101") == []
    # the generator still generates code that parses and passes the counter
    namespace: dict = {}
    exec(compile(after, "codegen.py", "exec"), namespace)
    generated = "\n".join(
        [*namespace["_HEADER"], namespace["_HELPERS"], *namespace["task_lines"]("start")]
    )
    compile(generated, "generated.py", "exec")
    assert "retry_count=prefect.runtime.task_run.run_count - 1" in generated


def test_message_names_the_call_that_leaves_the_default():
    code = """
        def step_cmd(run_id, retry_count=0):
            return ["python", "flow.py", "step", "start", "--run-id", run_id,
                    "--retry-count", str(retry_count)]

        def fallback(run_id, retry_count=0):
            return step_cmd(run_id, retry_count=retry_count)

        def submit(run_id):
            return fallback(run_id)
    """
    (diag,) = lint(code, "MFK101")
    # The cause is the call of fallback() without retry_count (line 10), followed through
    # step_cmd(), which only hands fallback's own parameter on.
    assert "fallback() is called without 'retry_count' (line 10)" in diag.message


def test_message_names_every_call_the_value_model_counted():
    # The value model's call sites decide the value and name the calls: an unbound call
    # (``Runner.step_cmd(self, "end")``) passes ``self`` positionally, so "end" is the step,
    # not the retry count (counting self out of it would take "end" for the retry count).
    code = """
        import sys
        class Runner:
            def step_cmd(self, step, retry_count=0):
                return [sys.executable, "flow.py", "step", step, "--run-id", "1",
                        "--retry-count", str(retry_count)]
            def run(self):
                self.step_cmd("start")
                Runner.step_cmd(self, "end")
    """
    (diag,) = lint(code, "MFK101")
    assert "step_cmd() is called without 'retry_count' (line 8, 9)" in diag.message


def test_a_call_in_another_module_is_named_and_withdraws_the_fix():
    files = {
        "pyproject.toml": '[project]\nname = "ext"\nversion = "0"\n',
        "ext/__init__.py": "",
        "ext/common.py": """
            import sys
            import prefect
            def step_cmd(step, run_id, retry_count=0):
                return [sys.executable, "flow.py", "step", step, "--run-id", run_id,
                        "--retry-count", str(retry_count)]
        """,
        "ext/runner.py": """
            from ext.common import step_cmd
            def run(run_id):
                return step_cmd("start", run_id)
        """,
    }
    (diag,) = lint_tree(files, "MFK101")
    assert diag.filename == "ext/common.py"
    assert "step_cmd() is called without 'retry_count' (line runner.py:4)" in diag.message
    assert diag.fix is None and "another module" in diag.no_fix_reason


def test_message_for_a_literal_names_no_call():
    code = """
        def cmd(run_id):
            return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"]
    """
    (diag,) = lint(code, "MFK101")
    assert "called without" not in diag.message


# -- a scheduler whose attempt counter is a template variable (Kestra) -------------------------
# metaflow-kestra's shape: the step arguments are words of generated Python kept as quoted
# literals, joined into a script that Kestra renders (it already holds {{ ... }} expressions).
KESTRA_WORDS = '''
class Compiler:
    def _step_args(self, step_name, max_retries):
        args = [
            '"step"',
            '"%s"' % step_name,
            '"--run-id"', 'run_id',
            '"--task-id"', 'task_id',
            '"--retry-count"', '"0"',
            '"--max-user-code-retries"', '"%d"' % max_retries,
        ]
        return ", ".join(args)

    def _step_script(self, node):
        return """\\
import subprocess, sys
from kestra import Kestra
run_id = "{{ outputs.init.vars.run_id }}"
task_id = "t-{{ taskrun.id }}"
cmd = [sys.executable, "flow.py", "--environment", "local", %(step_args)s]
subprocess.run(cmd, check=True)
Kestra.outputs({"task_id": task_id})
""" % {"step_args": self._step_args(node.name, 3)}
'''

# The same count inside a script template itself, as a list element and as a shell word.
KESTRA_SCRIPT = '''
SCRIPT = """\\
import subprocess, sys
from kestra import Kestra
run_id = "{{ outputs.init.vars.run_id }}"
cmd = [sys.executable, "flow.py", "--environment", "local", "step", "start",
       "--run-id", run_id, "--task-id", "t-1", "--input-paths", run_id + "/_parameters/p",
       "--retry-count", "0", "--max-user-code-retries", "2"]
subprocess.run(cmd, check=True)
"""


def write(out):
    out.write(SCRIPT)
'''

KESTRA_SHELL = '''
SCRIPT = """\\
import subprocess
from kestra import Kestra
subprocess.run(
    "python flow.py --environment local step start --run-id {{ outputs.init.vars.run_id }}"
    " --task-id t-1 --input-paths p --retry-count 0 --max-user-code-retries 2",
    shell=True, check=True,
)
"""


def write(out):
    out.write(SCRIPT)
'''


@pytest.mark.parametrize(
    "code, expected",
    [
        (KESTRA_WORDS, """'"--retry-count"', '"{{ taskrun.attemptsCount }}"',"""),
        (KESTRA_SCRIPT, '"--retry-count", "{{ taskrun.attemptsCount }}",'),
        (KESTRA_SHELL, " --retry-count {{ taskrun.attemptsCount }} --max-user-code-retries 2"),
    ],
    ids=["quoted words of generated code", "list in a script", "shell line in a script"],
)
def test_kestra_gets_its_rendered_attempt_counter(code, expected):
    (diag,) = lint(code, "MFK101")
    assert diag.fix is not None, diag.no_fix_reason
    assert diag.fix.applicability.value == "unsafe"
    after = fix(code, "MFK101", unsafe=True)
    assert expected in after
    assert after.count("{{ taskrun.attemptsCount }}") == 1
    assert codes(after, "MFK101") == []
    assert fix(after, "MFK101", unsafe=True) == after
    compile(after, "fixed.py", "exec")


@pytest.mark.parametrize(
    "change",
    [
        # the script relies on no rendering: a template expression would stay literal text
        ('run_id = "{{ outputs.init.vars.run_id }}"', "run_id = sys.argv[1]"),
        # no scheduler whose counter is a template variable
        ("from kestra import Kestra", "import json"),
    ],
    ids=["not rendered", "not kestra"],
)
def test_no_rendered_counter_where_nothing_renders_it(change):
    code = KESTRA_SCRIPT.replace(*change)
    assert code != KESTRA_SCRIPT
    (diag,) = lint(code, "MFK101")
    assert diag.fix is None


def test_the_extensions_own_argv_word_never_gets_a_template():
    code = """
        from kestra import Kestra

        TEMPLATE = "{{ taskrun.id }}"

        def step_cmd(flow, run_id):
            return ["python", flow, "step", "start", "--run-id", run_id, "--task-id", "t",
                    "--input-paths", "p", "--retry-count", "0", "--max-user-code-retries", "2"]
    """
    (diag,) = lint(code, "MFK101")
    assert diag.fix is None
