"""Generated code (helper templates, lists of generated lines) is linted where it is written."""

import textwrap

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


# -- statements spread over several generated lines ---------------------------------------------
# metaflow-prefect's shape: a helper returns the lines of the generated init, one element per
# line, the indented ones spelled ``_INDENT + '...'``. The guarded --clone-run-id (init does not
# take it) is one statement over two elements: the fix removes both elements.
INIT_LIST = """
import sys

_INDENT = "    "


def _start_init_lines():
    return [
        "init_cmd = [",
        _INDENT + "sys.executable, FLOW_FILE,",
        _INDENT + '"--no-pylint",',
        "]",
        "if ORIGIN_RUN_ID:",
        _INDENT + 'init_cmd += ["--clone-run-id", ORIGIN_RUN_ID]',
        "init_cmd += [",
        _INDENT + '"init",',
        _INDENT + '"--run-id", run_id,',
        _INDENT + '"--task-id", param_task_id,',
        "]",
        "for _tag in TAGS:",
        _INDENT + 'init_cmd += ["--tag", _tag]',
        "_run_cmd(init_cmd)",
    ]


def write_flow(out):
    out.write("\\n".join(_start_init_lines()))
"""


def _generated(fixed: str, function: str) -> str:
    namespace: dict = {}
    exec(compile(fixed, "codegen.py", "exec"), namespace)
    return "\n".join(namespace[function]())


def test_a_statement_over_two_generated_line_elements_is_removed_element_by_element():
    (diag,) = fixes_in_generated_code(INIT_LIST, "MFK109")
    assert diag.fix is not None, diag.no_fix_reason
    assert diag.fix.applicability.value == "unsafe"
    fixed = fix(INIT_LIST, "MFK109", unsafe=True)
    assert '"if ORIGIN_RUN_ID:"' not in fixed and "--clone-run-id" not in fixed
    assert '        "]",\n        "init_cmd += [",\n        _INDENT + \'"init",\',' in fixed
    assert codes(fixed, "MFK1") == []
    assert fix(fixed, "MFK109", unsafe=True) == fixed
    generated = _generated(fixed, "_start_init_lines")
    compile(generated, "generated.py", "exec")
    assert generated.splitlines()[3:5] == ["]", "init_cmd += ["]


def test_the_generated_init_without_the_statement_is_accepted_by_metaflow(tmp_path):
    import os
    import subprocess

    from conftest import TINY_FLOW

    flow = tmp_path / "flow.py"
    flow.write_text(TINY_FLOW)

    def init_argv(code: str) -> list:
        scope = {
            "sys": __import__("sys"),
            "FLOW_FILE": str(flow),
            "ORIGIN_RUN_ID": "r-0",
            "run_id": "r-1",
            "param_task_id": "p-1",
            "TAGS": ["nightly"],
            "_run_cmd": lambda cmd: None,
        }
        exec(compile(_generated(code, "_start_init_lines"), "generated.py", "exec"), scope)
        return scope["init_cmd"]

    env = dict(os.environ, USERNAME="dev", METAFLOW_HOME=str(tmp_path / "home"))
    for code, returncode in ((INIT_LIST, 2), (fix(INIT_LIST, "MFK109", unsafe=True), 0)):
        done = subprocess.run(
            [*init_argv(textwrap.dedent(code)), "--help"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == returncode, done.stderr


# The same statement written one ``lines.append(...)`` per generated line, last in the lines.
INIT_APPENDS = """
def write_init(out):
    lines = []
    lines.append("init_cmd = [sys.executable, FLOW_FILE, '--no-pylint']")
    lines.append("init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']")
    lines.append("if NAMESPACE:")
    lines.append("    init_cmd += ['--namespace', NAMESPACE]")
    out.write("\\n".join(lines))
"""


def test_a_statement_over_two_appended_lines_is_removed_statement_by_statement():
    (diag,) = fixes_in_generated_code(INIT_APPENDS, "MFK109")
    assert diag.fix is not None, diag.no_fix_reason
    fixed = fix(INIT_APPENDS, "MFK109", unsafe=True)
    assert fixed == textwrap.dedent(
        """
        def write_init(out):
            lines = []
            lines.append("init_cmd = [sys.executable, FLOW_FILE, '--no-pylint']")
            lines.append("init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']")
            out.write("\\n".join(lines))
        """
    )
    assert codes(fixed, "MFK1") == []
    assert fix(fixed, "MFK109", unsafe=True) == fixed


# A guarded --clone-run-id before 'step' in generated lines (the last element of one list,
# the step statement in another): the statement moves after the step statement, its
# elements' source text kept.
STEP_LISTS = """
_INDENT = "    "


def _step_lines():
    lines = [
        "cmd = [sys.executable, FLOW_FILE, '--environment', ENV_TYPE]",
        "if ORIGIN_RUN_ID:",
        _INDENT + "cmd += ['--clone-run-id', ORIGIN_RUN_ID]",
    ]
    lines += [
        "cmd += ['step', STEP_NAME]",
        "cmd += ['--run-id', run_id, '--task-id', task_id, '--input-paths', paths]",
        "subprocess.run(cmd, check=True)",
    ]
    return lines


def write_flow(out):
    out.write("\\n".join(_step_lines()))
"""


def test_a_statement_over_two_generated_lines_moves_across_the_subcommand():
    (diag,) = fixes_in_generated_code(STEP_LISTS, "MFK109")
    assert diag.fix is not None, diag.no_fix_reason
    assert diag.fix.applicability.value == "safe"
    fixed = fix(STEP_LISTS, "MFK109")
    generated = _generated(fixed, "_step_lines").splitlines()
    assert generated[:4] == [
        "cmd = [sys.executable, FLOW_FILE, '--environment', ENV_TYPE]",
        "cmd += ['step', STEP_NAME]",
        "if ORIGIN_RUN_ID:",
        "    cmd += ['--clone-run-id', ORIGIN_RUN_ID]",
    ]
    assert "_INDENT + \"cmd += ['--clone-run-id', ORIGIN_RUN_ID]\"" in fixed  # its spelling kept
    assert codes(fixed, "MFK1") == []
    assert fix(fixed, "MFK109") == fixed


def test_a_blank_generated_line_inside_the_statement_goes_with_it():
    code = INIT_LIST.replace(
        """        "if ORIGIN_RUN_ID:",\n""", """        "if ORIGIN_RUN_ID:",\n        "",\n"""
    )
    assert code != INIT_LIST
    fixed = fix(code, "MFK109", unsafe=True)
    assert fixed == fix(INIT_LIST, "MFK109", unsafe=True)


# Lines written with their own newline (``out.write("...\\n")``): each piece also ends the
# blank line the virtual module puts between pieces, so the statement's lines are not one
# piece each. No fix, and the reason says so.
WRITTEN_WITH_NEWLINES = """
def write_init(out):
    out.write("import subprocess, sys\\n")
    out.write("init_cmd = [sys.executable, FLOW_FILE, '--no-pylint']\\n")
    out.write("if ORIGIN_RUN_ID:\\n")
    out.write("    init_cmd += ['--clone-run-id', ORIGIN_RUN_ID]\\n")
    out.write("init_cmd += ['init', '--run-id', run_id, '--task-id', 'params']\\n")
    out.write("subprocess.run(init_cmd, check=True)\\n")
"""


def test_no_piece_fix_when_the_lines_are_not_one_piece_each():
    (diag,) = fixes_in_generated_code(WRITTEN_WITH_NEWLINES, "MFK109")
    assert diag.fix is None
    assert diag.no_fix_reason == (
        "in generated code: the changed text spans a template hole, an escape sequence or "
        "two literals"
    )
    assert fix(WRITTEN_WITH_NEWLINES, "MFK109", unsafe=True) == textwrap.dedent(
        WRITTEN_WITH_NEWLINES
    )


# A helper shared by 'step' and 'init' inside generated lines (windmill's shape, generated):
# the per-command move writes the helper's statement, renamed for the step builder, as new
# generated lines (plain literals) after the step statement, and removes it from the helper.
HELPER_LINES = """
import sys

_INDENT = "    "


def _helper_lines():
    return [
        "def _top_level_args(inp):",
        _INDENT + "args = ['--quiet', '--environment', ENV_TYPE]",
        _INDENT + "if inp.namespace:",
        _INDENT + _INDENT + "args += ['--namespace', inp.namespace]",
        _INDENT + "return args",
        "",
        "def build_step(spec, run_id, task_id, paths):",
        _INDENT + "cmd = [sys.executable, FLOW_FILE] + _top_level_args(spec)",
        _INDENT + "cmd += ['step', spec.step_name]",
        _INDENT + "cmd += ['--run-id', run_id, '--task-id', task_id, '--input-paths', paths]",
        _INDENT + "return cmd",
        "",
        "def build_init(spec, run_id):",
        _INDENT + "top = _top_level_args(spec)",
        _INDENT + "init = ['init', '--run-id', run_id, '--task-id', 'params']",
        _INDENT + "return [sys.executable, FLOW_FILE] + top + init",
    ]


def write_flow(out):
    out.write("\\n".join(_helper_lines()))
"""


def test_a_helper_option_in_generated_lines_moves_per_command_as_new_lines():
    (diag,) = fixes_in_generated_code(HELPER_LINES, "MFK109")
    assert diag.fix is not None, diag.no_fix_reason
    fixed = fix(HELPER_LINES, "MFK109", unsafe=True)
    generated = _generated(fixed, "_helper_lines")
    assert "inp.namespace" not in generated
    assert (
        "    cmd += ['step', spec.step_name]\n"
        "    if spec.namespace:\n"
        "        cmd += ['--namespace', spec.namespace]\n"
        "    cmd += ['--run-id'"
    ) in generated
    # New lines, indented the way the other pieces are.
    assert '        _INDENT + "if spec.namespace:",\n' in fixed
    assert "        _INDENT + _INDENT + \"cmd += ['--namespace', spec.namespace]\",\n" in fixed
    compile(generated, "generated.py", "exec")
    assert codes(fixed, "MFK109") == []
    assert fix(fixed, "MFK109", unsafe=True) == fixed


def test_new_generated_lines_are_plain_literals_indented_like_the_template():
    # Indentation spelled inside the literals, every line four more spaces in (the virtual
    # module is dedented; the new lines get the four spaces back).
    code = HELPER_LINES
    for expression, spaces in (('_INDENT + _INDENT + "', '"        '), ('_INDENT + "', '"    ')):
        code = code.replace(expression, spaces)
    code = code.replace('        "', '        "    ').replace('"    ",', '"",')
    assert "_INDENT +" not in code
    fixed = fix(code, "MFK109", unsafe=True)
    assert '        "        if spec.namespace:",\n' in fixed
    assert "        \"            cmd += ['--namespace', spec.namespace]\",\n" in fixed
    generated = _generated(fixed, "_helper_lines")
    compile(textwrap.dedent(generated), "generated.py", "exec")
    assert "inp.namespace" not in generated
    assert fix(fixed, "MFK109", unsafe=True) == fixed
