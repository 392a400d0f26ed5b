"""Generated code (helper templates, lists of generated lines) is linted where it is written."""

from conftest import codes, fix, fixes_in_generated_code, lint

HELPERS_AND_LINES = '''
import textwrap

_HELPERS = """
import subprocess, sys

def _step_cmd(step_name, run_id, task_id, input_paths, retry_count=0):
    cmd = [sys.executable, FLOW_FILE, "--no-pylint"]
    if PROJECT_BRANCH:
        cmd += ["--branch", PROJECT_BRANCH]
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(retry_count), "--input-paths", input_paths]
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


def init_lines():
    return "\\n".join([
        "_init_cmd = [sys.executable, FLOW_FILE, '--no-pylint']",
        "_init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']",
        "subprocess.run(_init_cmd, check=True)",
    ])


def write_flow(path):
    with open(path, "w") as f:
        f.write("\\n".join([_HELPERS, *task_lines("start"), init_lines()]))
'''


def test_findings_in_generated_code_land_on_the_real_lines():
    found = {(d.code, d.location.row) for d in lint(HELPERS_AND_LINES)}
    # the helper's retry_count default is never overridden by the generated call
    assert ("MFK101", 12) in found
    # the generated init misses the branch the generated step command passes
    assert ("MFK102", 31) in found


def test_fixes_inside_templates_are_written_back_or_explained():
    diagnostics = fixes_in_generated_code(HELPERS_AND_LINES)
    assert diagnostics
    # The init command is one generated line: the guarded --branch goes into that line's
    # literal, quoted like the line's own words (a double quote would close the literal).
    (branch,) = [d for d in diagnostics if d.code == "MFK102"]
    assert branch.fix is not None, branch.no_fix_reason
    fixed = fix(HELPERS_AND_LINES, "MFK102", unsafe=True)
    assert (
        "\"_init_cmd += [*(['--branch', PROJECT_BRANCH] if PROJECT_BRANCH else []), 'init', "
        "'--run-id', run_id, '--task-id', 'params']\","
    ) in fixed
    assert codes(fixed, "MFK102") == []
    assert fix(fixed, "MFK102", unsafe=True) == fixed


# A generated init command laid out one word per generated line (metaflow-flyte's shape).
INIT_LINES = """
_HEADER = \'\'\'
import os, subprocess, sys
PROJECT_BRANCH = os.environ.get("PROJECT_BRANCH", "")

def _step_cmd(step_name, run_id, task_id, input_paths):
    cmd = [sys.executable, FLOW_FILE, "--no-pylint"]
    if PROJECT_BRANCH:
        cmd += ["--branch", PROJECT_BRANCH]
    cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--input-paths", input_paths]
    return cmd
\'\'\'


def start_init_lines():
    indent = "    "
    return [
        "_init_cmd = [",
        indent + "sys.executable, FLOW_FILE,",
        indent + '"--no-pylint",',
        "]",
        "_init_cmd += [",
        indent + '"init",',
        indent + '"--run-id", run_id,',
        indent + '"--task-id", param_task_id,',
        "]",
        "subprocess.run(_init_cmd, check=True)",
    ]


def write_flow(out):
    out.write(_HEADER + "\\n".join(start_init_lines()))
"""


def test_branch_fix_in_lines_of_generated_code_stays_on_the_subcommands_line():
    (diag,) = lint(INIT_LINES, "MFK102")
    assert diag.fix is not None, diag.no_fix_reason
    fixed = fix(INIT_LINES, "MFK102", unsafe=True)
    assert (
        """indent + '*(["--branch", PROJECT_BRANCH] if PROJECT_BRANCH else []), "init",',"""
        in fixed
    )
    assert codes(fixed, "MFK102") == []
    assert fix(fixed, "MFK102", unsafe=True) == fixed
    namespace: dict = {}
    exec(compile(fixed, "codegen.py", "exec"), namespace)
    generated = namespace["_HEADER"] + "\n".join(namespace["start_init_lines"]())
    compile(generated, "generated.py", "exec")
    assert '*(["--branch", PROJECT_BRANCH] if PROJECT_BRANCH else []), "init",' in generated


def test_noqa_on_the_real_line_applies():
    code = HELPERS_AND_LINES.replace(
        """"_init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']",""",
        """"_init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']",  # noqa: MFK102""",
    )
    assert "MFK102" not in codes(code)


def test_template_holes_are_unknown_words_not_missing_options():
    code = '''
SCRIPT = """
import subprocess, sys
cmd = [
    sys.executable, FLOW_FILE,
    %(top_args)s,
    "init", "--run-id", run_id, "--task-id", "params",
]
subprocess.run(cmd, check=True)
""" % {"top_args": ", ".join(TOP)}

def build(branch):
    return SCRIPT
'''
    assert codes(code, "MFK102") == []


def test_prose_and_shell_are_not_parsed_as_python():
    code = '''
HELP = """Usage:
    python flow.py step start --run-id 1 --retry-count 0 --max-user-code-retries 0
and so on.
"""
'''
    assert codes(code) == []


def test_generated_code_with_a_syntax_error_is_skipped_silently():
    code = '''
BROKEN = """
def _cmd(run_id):
    return ["python", "flow.py", "step", "start", "--run-id", run_id, "--retry-count", "0"
"""
'''
    assert codes(code) == []


WRITER_LINES = """
def write_task(out, step_name):
    out.write("import subprocess, sys\\n")
    out.write("cmd = [sys.executable, FLOW_FILE, '--no-pylint', '--tag', TAG,\\n")
    out.write("       'step', %r, '--run-id', RUN_ID, '--task-id', TASK_ID,\\n" % step_name)
    out.write("       '--input-paths', INPUT_PATHS]\\n")
    out.write("subprocess.run(cmd, check=True)\\n")


def emit_init(cb):
    cb.emit("import subprocess, sys")
    cb.emit("subprocess.run([sys.executable, FLOW_FILE, 'init', '--run-id', RUN_ID], check=True)")
"""


def test_lines_written_one_call_at_a_time_are_generated_code():
    found = {(d.code, d.location.row) for d in lint(WRITER_LINES, "MFK1")}
    assert ("MFK103", 4) in found  # --tag before step, in lines written with out.write(...)
    assert ("MFK106", 12) in found  # init without --task-id, in lines emitted with cb.emit(...)


def test_text_written_line_by_line_that_is_not_python_stays_data():
    code = """
def write_manifest(out, image):
    out.write("steps:\\n")
    out.write("  - run: python flow.py --tag x step start --run-id 1 --retry-count 0\\n")
    out.write("    image: %s\\n" % image)
"""
    assert codes(code) == []


# -- strings that are data: a snippet is generated code only when the code uses it as code ----

SNIPPET = '''"""
import subprocess, sys
def run(run_id):
    subprocess.run([sys.executable, FLOW_FILE, "--tag", "x", "step", "start",
                    "--run-id", run_id, "--task-id", "t-1"], check=True)
"""'''


def test_a_snippet_handed_to_a_test_helper_is_data():
    assert codes("CASES = {'tag first': %s}\n" % SNIPPET) == []
    assert codes("import textwrap\ncheck(textwrap.dedent(%s))\n" % SNIPPET) == []


def test_the_same_snippet_used_as_code_is_linted():
    uses = {
        "written to a file": "CODE = %s\n\ndef write(f):\n    f.write(CODE)\n",
        "rendered": "CODE = %s\n\ndef render(**kw):\n    return CODE.format(**kw)\n",
        "run with python -c": "import sys\nCODE = %s\nARGV = [sys.executable, '-c', CODE]\n",
        "handed to exec": "exec(%s)\n",
        "part of generated lines": "PARTS = [%s, 'main()']\nTEXT = '\\n'.join(PARTS)\n",
        "returned and written": (
            "def body():\n    return %s\n\ndef write(out):\n    out.write(body())\n"
        ),
    }
    for how, code in uses.items():
        assert codes(code % SNIPPET, "MFK103") == ["MFK103"], how


def test_a_command_line_shown_only_in_messages_is_data():
    code = """
WRONG_ORDER = "python flow.py --tag x step start --run-id 1 --task-id 2"


def check(tag):
    if not tag:
        raise ValueError("tags go after the step name, not: " + WRONG_ORDER)
"""
    assert codes(code, "MFK103") == []
    run = code + "\n\ndef run():\n    subprocess.run(WRONG_ORDER, shell=True)\n"
    assert codes(run, "MFK103") == ["MFK103"]


PASTED_FRAGMENTS = """
SCRIPT = '''\\
import os
import subprocess
import sys

env = dict(os.environ)
env.update({
    "SCHEDULER_RUN": "1",
%(env_entries)s
})
cmd = [
    sys.executable, %(flow_file)r,
    %(top_args)s,
    %(step_args)s,
]
subprocess.run(cmd, env=env, check=True)
'''


class Compiler:
    def top_args(self, with_decos):
        args = ['"--quiet"', '"--no-pylint"']
        for deco in with_decos:
            args.append('"--with=%s"' % deco)
        return ", ".join(args)

    def step_args(self, step_name):
        args = ['"step"', repr(step_name), '"--run-id"', 'os.environ["RUN_ID"]']
        args += ['"--task-id"', 'os.environ["TASK_ID"]', '"--retry-count"', '"0"']
        args += ['"--input-paths"', 'os.environ["INPUT_PATHS"]']
        return ", ".join(args)

    def script(self, flow_file, step_name, with_decos, entries):
        return SCRIPT % {
            "env_entries": entries,
            "flow_file": flow_file,
            "top_args": self.top_args(with_decos),
            "step_args": self.step_args(step_name),
        }
"""


def test_fragments_pasted_among_generated_elements_are_read_once_where_they_are_written():
    # The step's fragments are a command of the generator and, pasted, of the generated
    # script (read because its dict hole becomes ``**_``): one finding, on the fragment.
    found = [(d.code, d.location.row, d.location.column) for d in lint(PASTED_FRAGMENTS)]
    assert [f for f in found if f[0] == "MFK101"] == [("MFK101", 30, 77)]
    # Alone, the generated command has an unknown flow file and spread top-level words:
    # nothing reports a missing top-level option on words it cannot see.
    assert [f for f in found if f[0] in ("MFK102", "MFK108", "MFK109")] == []
