"""MFK109 option-wrong-level."""

import re
import textwrap
from pathlib import Path

import pytest
from conftest import codes, fix, lint

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pitfalls" / "option-wrong-level.md"

POSITIVE = {
    "--namespace in shared top-level parts (windmill)": """
        class Compiler:
            def _base_cmd_parts(self):
                parts = ["python3", self.flow_file, "--no-pylint", "--quiet"]
                if self.namespace:
                    parts += ["--namespace", self.namespace]
                return parts

            def _init(self):
                init_parts = self._base_cmd_parts() + [
                    "init", "--run-id", "$RUN_ID", "--task-id", "windmill-params",
                ]
                return " ".join(init_parts)
    """,
    "--clone-run-id after init (kestra)": """
        import subprocess, sys

        def init(run_id, params_task_id, origin_run_id):
            cmd = [sys.executable, "flow.py", "--quiet", "init", "--run-id", run_id,
                   "--task-id", params_task_id]
            if origin_run_id:
                cmd += ["--clone-run-id", origin_run_id]
            subprocess.run(cmd, check=True)
    """,
    "--clone-run-id before step (prefect fallback)": """
        import sys

        def _fallback_step_cmd(step_name, run_id, task_id, input_paths, origin):
            cmd = [sys.executable, FLOW_FILE, "--no-pylint", "--with=prefect_internal"]
            if origin:
                cmd += ["--clone-run-id", origin]
            cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
                    "--input-paths", input_paths]
            return cmd
    """,
    "--with after step (flyte)": """
        import sys

        def _step_cmd(step_name, run_id, task_id, input_paths):
            cmd = [sys.executable, FLOW_FILE, "--no-pylint"]
            cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id,
                    "--input-paths", input_paths]
            for _deco in WITH_DECORATORS:
                cmd += [f"--with={_deco}"]
            return cmd
    """,
    "--branch after step, list literal": """
        def cmd(flow, step, run_id, branch):
            return ["python", flow, "step", step, "--run-id", run_id, "--branch", branch]
    """,
    "--branch after init in an f-string": """
        def line(flow, run_id, branch):
            return f"python {flow} init --run-id {run_id} --task-id p --branch {branch}"
    """,
    "--namespace before step in a bash template": '''
        SCRIPT = """
        set -e
        python flow.py --namespace "$NS" step start --run-id "$RUN_ID" --task-id 1 \\
            --input-paths "$RUN_ID/_parameters/0"
        """
    ''',
    "bash line forwarding extra arguments": '''
        RUN = """
        python flow.py --no-pylint step "$STEP" --run-id "$RUN_ID" --task-id 1 "$@" --with retry
        """
    ''',
    "option unknown to Metaflow after step": """
        def cmd(flow, run_id, url):
            return ["python", flow, "step", "start", "--run-id", run_id,
                    "--code-package-url", url]
    """,
    "option unknown to Metaflow before the subcommand": """
        def cmd(flow, run_id):
            return ["python", flow, "--verbose", "--quiet", "step", "start", "--run-id", run_id]
    """,
    "--namespace on init (known to step and run)": """
        def cmd(flow, run_id, ns):
            return ["python", flow, "init", "--run-id", run_id, "--task-id", "p",
                    "--namespace", ns]
    """,
    "--namespace before run": """
        def cmd(ns):
            return ["python", "flow.py", "--namespace", ns, "run", "--max-workers", "4"]
    """,
    "generated code in a helper template": '''
        _HELPERS = """
        import sys

        def _step_cmd(step_name, run_id, task_id):
            cmd = [sys.executable, FLOW_FILE, "--no-pylint"]
            cmd += ["step", step_name, "--run-id", run_id, "--task-id", task_id]
            for _deco in WITH_DECORATORS:
                cmd += ["--with=" + _deco]
            return cmd
        """
        def flow_file_text(tasks):
            return "\\n\\n".join([_HELPERS, *tasks])
    ''',
}

NEGATIVE = {
    "flow parameters on init and run": """
        def init(flow, run_id, params):
            cmd = ["python", flow, "init", "--run-id", run_id, "--task-id", "p",
                   "--alpha", "0.5", "--learning-rate", "0.1"]
            for k, v in params.items():
                cmd += ["--%s" % k, str(v)]
            return cmd

        def run(flow):
            return ["python", flow, "run", "--alpha", "1", "--with", "retry"]
    """,
    "--tag before the subcommand is MFK103's": """
        def cmd(flow, run_id, tag):
            return ["python", flow, "--tag", tag, "step", "start", "--run-id", run_id]
    """,
    "--run-param is MFK107's": """
        def cmd(flow, run_id):
            return ["python", flow, "init", "--run-id", run_id, "--task-id", "p",
                    "--run-param", "a=1"]
    """,
    "a backend's own step group": """
        def cmd(flow, step, run_id, image):
            return ["python", flow, "--quiet", "kubernetes", "step", step,
                    "--run-id", run_id, "--image", image, "--cpu", "2"]
    """,
    "the extension's own CLI": """
        def cmd(flow, ns):
            return ["python", flow, "--quiet", "argo-workflows", "create",
                    "--only-json", "--namespace", ns]
    """,
    "a wrapper command in front": """
        def cmd(image, flow, run_id):
            return ["docker", "run", "--rm", "-v", "/data:/data", image,
                    "python", "flow.py", "step", "start", "--run-id", run_id]
    """,
    "prose that mentions a command": """
        def hint():
            raise ValueError(
                "Add --input-paths to every step command including start: "
                "--input-paths {run_id}/_parameters/1"
            )
    """,
    "click declarations and docstrings": '''
        import click

        @click.option("--namespace", default=None)
        @click.option("--clone-run-id", default=None)
        def create(namespace, clone_run_id):
            """Runs `python flow.py --namespace x step start --run-id 1` for you."""
    ''',
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK109") == ["MFK109"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK109") == []


def test_messages_say_where_the_option_belongs():
    (before,) = lint(POSITIVE["--clone-run-id before step (prefect fallback)"], "MFK109")
    assert "option of 'step'" in before.message and "after 'step NAME'" in before.message
    (after,) = lint(POSITIVE["--with after step (flyte)"], "MFK109")
    assert "top-level option" in after.message and "before the subcommand" in after.message
    (init,) = lint(POSITIVE["--clone-run-id after init (kestra)"], "MFK109")
    assert "'init' does not take --clone-run-id (only 'step' takes it)" in init.message
    (unknown,) = lint(POSITIVE["option unknown to Metaflow after step"], "MFK109")
    assert "no such option: --code-package-url" in unknown.message


def test_reported_on_the_option_word():
    (diag,) = lint(POSITIVE["--branch after step, list literal"], "MFK109")
    assert (diag.location.row, diag.location.column) == (3, 63)


def test_one_report_for_a_helper_shared_by_two_commands():
    code = """
        import sys

        def _top(ns):
            return [sys.executable, FLOW, "--namespace", ns]

        def init_cmd(ns, run_id):
            return _top(ns) + ["init", "--run-id", run_id, "--task-id", "p"]

        def step_cmd(ns, run_id):
            return _top(ns) + ["step", "start", "--run-id", run_id, "--task-id", "1"]
    """
    assert codes(code, "MFK109") == ["MFK109"]


def test_no_fix_for_words_inside_a_bigger_list():
    # Removing one option from the middle of a command is left to the author.
    for name in (
        "option unknown to Metaflow after step",
        "--namespace on init (known to step and run)",
    ):
        (diag,) = lint(POSITIVE[name], "MFK109")
        assert diag.fix is None, name
        assert diag.no_fix_reason, name


def test_a_guarded_option_init_does_not_take_is_removed_as_an_unsafe_fix():
    before = POSITIVE["--clone-run-id after init (kestra)"]
    (diag,) = lint(before, "MFK109")
    assert diag.fix is not None and diag.fix.applicability.value == "unsafe"
    assert fix(before, "MFK109") == textwrap.dedent(before)  # not with --fix alone
    after = fix(before, "MFK109", unsafe=True)
    assert "--clone-run-id" not in after and "if origin_run_id" not in after
    assert "subprocess.run(cmd, check=True)" in after
    assert codes(after, "MFK109") == []


def test_a_loop_adding_top_level_options_moves_before_the_subcommand_statement():
    before = POSITIVE["--with after step (flyte)"]
    after = fix(before, "MFK109")
    body = after.split("def _step_cmd", 1)[1]
    assert body.index("for _deco in WITH_DECORATORS:") < body.index('cmd += ["step"')
    assert codes(after, "MFK109") == []
    assert fix(after, "MFK109") == after


def test_fix_moves_a_top_level_option_before_the_subcommand():
    before = POSITIVE["--branch after step, list literal"]
    after = fix(before, "MFK109")
    assert '["python", flow, "--branch", branch, "step", step, "--run-id", run_id]' in after
    assert codes(after, "MFK109") == []
    assert fix(after, "MFK109") == after


def test_fix_moves_a_subcommand_option_after_the_step_name():
    before = """
        def cmd(flow, run_id, ns):
            return ["python", flow, "--namespace", ns, "step", "start", "--run-id", run_id]
    """
    after = fix(before, "MFK109")
    assert '["python", flow, "step", "start", "--namespace", ns, "--run-id", run_id]' in after
    assert fix(after, "MFK109") == after


def test_fix_moves_across_lists_keeping_the_layout():
    before = """
        def cmd(flow, run_id, branch):
            top = [
                "python",
                flow,
            ]
            return top + [
                "init",
                "--run-id",
                run_id,
                "--branch",
                branch,
            ]
    """
    after = fix(before, "MFK109")
    assert '        "python",\n        flow,\n    ]' in after
    assert (
        '[\n        "--branch",\n        branch,\n        "init",\n        "--run-id",\n' in after
    )
    assert "        run_id,\n    ]" in after
    assert codes(after, "MFK109") == []
    assert fix(after, "MFK109") == after


def test_fix_moves_both_values_of_a_two_value_option():
    before = """
        def cmd(flow, run_id, cfg):
            return ["python", flow, "init", "--run-id", run_id, "--task-id", "p",
                    "--config-value", "cfg", cfg]
    """
    after = fix(before, "MFK109")
    assert '["python", flow, "--config-value", "cfg", cfg, "init", "--run-id"' in after
    assert fix(after, "MFK109") == after


def test_fix_moves_text_in_strings():
    after = fix(POSITIVE["--branch after init in an f-string"], "MFK109")
    assert 'f"python {flow} --branch {branch} init --run-id {run_id} --task-id p"' in after
    assert fix(after, "MFK109") == after
    bash = fix(POSITIVE["--namespace before step in a bash template"], "MFK109")
    assert 'python flow.py step start --namespace "$NS" --run-id "$RUN_ID"' in bash
    assert codes(bash, "MFK109") == []


def test_shared_mover_keeps_percent_placeholders_in_order():
    """Moving ``--opt %s`` past another ``%s`` would hand the arguments to the wrong words,
    for MFK109 and for MFK103 (which shares the machinery)."""
    for option, code in (("--namespace", "MFK109"), ("--tag", "MFK103")):
        before = f"""
            def line(flow, value, step, run_id):
                return "python %s {option} %s step %s --run-id %s --task-id 1" % (
                    flow, value, step, run_id
                )
        """
        assert codes(before, code) == [code]
        assert fix(before, code) == textwrap.dedent(before)
    safe = """
        def line(flow, step, run_id):
            return "python %s --namespace ns step %s --run-id %s" % (flow, step, run_id)
    """
    assert '"python %s step %s --namespace ns --run-id %s"' in fix(safe, "MFK109")


def test_no_fix_when_the_option_and_its_value_are_in_different_lists():
    before = """
        def cmd(flow, run_id, branch):
            cmd = ["python", flow, "step", "start", "--run-id", run_id, "--branch"]
            cmd += [branch]
            return cmd
    """
    (diag,) = lint(before, "MFK109")
    assert diag.fix is None


def test_a_helper_option_no_caller_takes_is_removed_from_the_helper_as_an_unsafe_fix():
    before = POSITIVE["--namespace in shared top-level parts (windmill)"]
    (diag,) = lint(before, "MFK109")
    assert diag.fix is not None and diag.fix.applicability.value == "unsafe"
    after = fix(before, "MFK109", unsafe=True)
    assert "--namespace" not in after and "if self.namespace" not in after
    assert codes(after, "MFK109") == []


# A helper shared by 'step' (which takes --namespace after 'step NAME') and 'init' (which does
# not take it at all), in the shapes extensions build it: a method returning a list built
# piece by piece, and a module function whose parameter the callers name differently.
SHARED_METHOD = """
    class Compiler:
        def _base_cmd_parts(self):
            parts = ["python3", self.flow_file, "--no-pylint", "--quiet"]
            if self.namespace:
                parts += ["--namespace", self.namespace]
            for deco in self.with_decorators:
                parts += ["--with", deco]
            return parts

        def _step_cmd(self, step_name):
            parts = self._base_cmd_parts()
            parts += ["step", step_name]
            for tag in self.tags:
                parts += ["--tag", tag]
            return " ".join(parts)

        def _init(self):
            init_parts = self._base_cmd_parts() + [
                "init", "--run-id", "$RUN_ID", "--task-id", "params",
            ]
            return " ".join(init_parts)
"""

SHARED_FUNCTION = """
    import sys


    def _top_level_args(inp):
        args = ["--quiet", '--metadata=%s' % inp.metadata]
        if inp.namespace:
            args.append('--namespace=%s' % inp.namespace)
        return args


    def build_step(spec, run_id, task_id, paths):
        cmd = [sys.executable, spec.flow_file] + _top_level_args(spec)
        cmd += ['step', spec.step_name]
        cmd += ['--run-id', run_id, '--task-id', task_id, '--input-paths', paths]
        return cmd


    def build_init(spec, run_id):
        top = _top_level_args(spec)
        init_args = ['init', '--run-id', run_id, '--task-id', 'params']
        return [sys.executable, spec.flow_file] + top + init_args
"""


def test_a_helper_option_moves_after_step_and_leaves_init_per_command():
    (diag,) = lint(SHARED_METHOD, "MFK109")
    assert diag.fix is not None and diag.fix.applicability.value == "unsafe"
    after = fix(SHARED_METHOD, "MFK109", unsafe=True)
    helper, step, init = (
        after.split("def _base_cmd_parts", 1)[1].split("def _step_cmd", 1)[0],
        after.split("def _step_cmd", 1)[1].split("def _init", 1)[0],
        after.split("def _init", 1)[1],
    )
    assert "--namespace" not in helper and "--namespace" not in init
    assert (
        step.index('parts += ["step", step_name]')
        < step.index('if self.namespace:\n            parts += ["--namespace", self.namespace]')
        < step.index("for tag in self.tags")
    )
    assert codes(after, "MFK109") == []
    assert fix(after, "MFK109", unsafe=True) == after


def test_a_helper_option_moved_into_a_caller_takes_the_callers_names_and_quotes():
    after = fix(SHARED_FUNCTION, "MFK109", unsafe=True)
    step = after.split("def build_step", 1)[1].split("def build_init", 1)[0]
    assert (
        "cmd += ['step', spec.step_name]\n"
        "    if spec.namespace:\n"
        "        cmd.append('--namespace=%s' % spec.namespace)\n"
        "    cmd += ['--run-id'"
    ) in step
    assert "namespace" not in after.split("def build_step", 1)[0]
    assert "namespace" not in after.split("def build_init", 1)[1]
    assert codes(after, "MFK109") == []


# metaflow-temporal's shape: the helper's words also build a ``dump`` command (a core command
# that only reads artifacts), whose options the contract snapshot describes too.
SHARED_WITH_DUMP = (
    SHARED_FUNCTION
    + """

    def build_dump(spec, run_id, task_id):
        top_level = _top_level_args(spec)
        return [sys.executable, spec.flow_file] + top_level + [
            "dump",
            "--max-value-size=0",
            "%s/_parameters/%s" % (run_id, task_id),
        ]
"""
)


def test_a_helper_option_no_dump_command_takes_leaves_dump_and_moves_for_step():
    (diag,) = lint(SHARED_WITH_DUMP, "MFK109")
    assert diag.fix is not None and diag.fix.applicability.value == "unsafe"
    after = fix(SHARED_WITH_DUMP, "MFK109", unsafe=True)
    step = after.split("def build_step", 1)[1].split("def build_init", 1)[0]
    assert "if spec.namespace:\n        cmd.append('--namespace=%s' % spec.namespace)" in step
    assert after.count("--namespace") == 1  # only step's copy: init and dump take none
    assert codes(after, "MFK109") == []
    assert fix(after, "MFK109", unsafe=True) == after


def test_an_option_only_dump_takes_is_unknown_to_step():
    code = """
        def cmd(flow, run_id):
            return ["python", flow, "step", "start", "--run-id", run_id, "--include", "x"]
    """
    (diag,) = lint(code, "MFK109")
    assert "'step' does not take --include" not in diag.message  # dump is not a subcommand
    assert "--include is not an option of 'step'" in diag.message


@pytest.mark.parametrize(
    "change, reason",
    [
        # a caller whose subcommand the contract does not know (a plugin's group, not a core
        # command): what it takes is unknown
        (
            (
                "def build_init(spec, run_id):",
                "def build_logs(spec, run_id):\n"
                "    return [sys.executable, spec.flow_file] + _top_level_args(spec) + "
                "['logs', run_id]\n\n\n"
                "def build_init(spec, run_id):",
            ),
            "no subcommand the linter knows",
        ),
        # a public helper may be called from other modules
        (("_top_level_args", "top_level_args"), "callers the linter does not see"),
        # a helper handed on as a value is called where the linter cannot follow
        (
            (
                "def build_init(spec, run_id):",
                "HOOKS = [_top_level_args]\n\n\ndef build_init(spec, run_id):",
            ),
            "callers the linter does not see",
        ),
        # the caller's list is not the one the step statement adds to (a local of that name)
        (
            (
                "cmd += ['step', spec.step_name]",
                "if spec:\n        cmd += ['step', spec.step_name]",
            ),
            "statement of its own",
        ),
    ],
)
def test_no_per_command_move_when_a_caller_cannot_be_decided(change, reason):
    code = textwrap.dedent(SHARED_FUNCTION).replace(*change)
    (diag,) = [d for d in lint(code, "MFK109") if "--namespace" in d.message]
    assert diag.fix is None
    assert reason in diag.no_fix_reason


def _blocks(section: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_page_example_is_reported_and_its_use_instead_is_clean():
    (example,) = _blocks("Example")
    assert codes(example, "MFK109") == ["MFK109"] * 4
    (use_instead,) = _blocks("Use instead")
    assert [c for c in codes(use_instead) if c in ("MFK103", "MFK107", "MFK109")] == []
