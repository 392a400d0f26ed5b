"""Compute-backend rules (MFK402, MFK602-MFK607) and the backend ``<name> step`` model, on
single modules and on multi-module backends in project mode."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from conftest import codes, fix, lint

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.source import Source
from mfkit_lint.model.module import ModuleModel
from mfkit_lint.model.project import ProjectIndex
from mfkit_lint.rules.code_package_locality import CodePackageLocality, _may_name_a_temp_path
from mfkit_lint.rules.conda_remote_commands import CondaRemoteCommands
from mfkit_lint.rules.infra_vs_step_exit_code import InfraVsStepExitCode
from mfkit_lint.rules.metadata_sync import MetadataSync
from mfkit_lint.rules.resources_merge import ResourcesMerge
from mfkit_lint.rules.runtime_environment_unset import RuntimeEnvironmentUnset
from mfkit_lint.rules.task_id_hardcoded import TaskIdHardcoded

RULES = [
    InfraVsStepExitCode,
    MetadataSync,
    CodePackageLocality,
    ResourcesMerge,
    CondaRemoteCommands,
    RuntimeEnvironmentUnset,
    TaskIdHardcoded,
]
CASES = [(r, i, c) for r in RULES for i, c in enumerate(c.code for c in r.VALID)]
BAD_CASES = [(r, i, c) for r in RULES for i, c in enumerate(c.code for c in r.INVALID)]


@pytest.mark.parametrize(
    ("rule", "index", "code"), CASES, ids=[f"{r.code}-{i}" for r, i, _ in CASES]
)
def test_valid_cases_are_clean(rule, index, code):
    assert codes(code, rule.code) == []


@pytest.mark.parametrize(
    ("rule", "index", "code"), BAD_CASES, ids=[f"{r.code}-{i}" for r, i, _ in BAD_CASES]
)
def test_invalid_cases_are_reported(rule, index, code):
    assert rule.code in codes(code, rule.code)


# -- a backend spread over modules, linted as a project ---------------------------------------

DECORATOR = """
from metaflow.decorators import StepDecorator
from metaflow.metadata_provider.util import sync_local_metadata_to_datastore
from metaflow.metaflow_config import DATASTORE_LOCAL_DIR


class MyBackendDecorator(StepDecorator):
    name = "mybackend"
    supports_conda_environment = True
    defaults = {"image": None}

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        if retry_count <= max_user_code_retries:
            cli_args.commands = ["mybackend", "step"]
            cli_args.command_args.append(self.package_url)

    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
"""

CLI = """
from metaflow._vendor import click
from metaflow.metadata_provider.util import sync_local_metadata_from_datastore

from .executor import run_job


@click.group()
def cli():
    pass


@cli.group(name="mybackend", help="My backend")
def mybackend_group():
    pass


@mybackend_group.command(help="Run one task on my backend")
@click.argument("step-name")
@click.argument("code-package-url")
@click.option("--image")
@click.option("--run-id")
@click.option("--task-id")
@click.option("--input-paths")
@click.option("--split-index")
@click.option("--retry-count", default=0)
@click.option("--max-user-code-retries", default=0)
@click.option("--tag", multiple=True)
@click.option("--namespace")
@click.pass_context
def step(ctx, step_name, code_package_url, image, **kwargs):
    try:
        run_job(step_name, code_package_url, image, kwargs)
    finally:
        sync_local_metadata_from_datastore(".metaflow", ctx.obj.task_datastore)
"""

EXECUTOR = """
import sys

from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY


def run_job(step_name, url, image, options):
    try:
        job = submit(step_name, url, image, options)
    except ConnectionError:
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    sys.exit(job.wait())
"""


def _line(code: str, text: str) -> int:
    """1-based line of the first line of ``code`` containing ``text``, as written to disk."""
    lines = textwrap.dedent(code).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _project(tmp_path: Path, select: str, **files: str) -> set[tuple[str, int, str]]:
    paths = []
    for name, code in files.items():
        path = tmp_path / "mybackend" / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(code))
        paths.append(path)
    linter = Linter(Settings(), Selection((select,)))
    linter.project = ProjectIndex(paths)
    found = set()
    for path in paths:
        for diag in linter.lint_path(path).diagnostics:
            found.add((Path(diag.filename).name, diag.location.row, diag.code))
    return found


def test_a_complete_backend_over_three_modules_is_clean(tmp_path):
    assert _project(tmp_path, "MFK", decorator=DECORATOR, cli=CLI, executor=EXECUTOR) == set()


def test_disallow_retry_exit_seen_in_another_module_only_in_project_mode(tmp_path):
    without = EXECUTOR.replace("sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)", "raise")
    found = _project(tmp_path, "MFK402", decorator=DECORATOR, cli=CLI, executor=without)
    assert found == {("cli.py", _line(CLI, "def step("), "MFK402")}


def test_a_comment_naming_the_exit_code_does_not_count(tmp_path):
    without = EXECUTOR.replace(
        "sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)",
        "raise  # TODO: sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)",
    )
    found = _project(tmp_path, "MFK402", decorator=DECORATOR, cli=CLI, executor=without)
    assert {c for _, _, c in found} == {"MFK402"}


def test_exit_with_the_literal_code_counts(tmp_path):
    literal = EXECUTOR.replace("sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)", "raise SystemExit(202)")
    assert _project(tmp_path, "MFK402", decorator=DECORATOR, cli=CLI, executor=literal) == set()


def test_metadata_sync_halves_are_reported_separately(tmp_path):
    no_home = CLI.replace(
        'sync_local_metadata_from_datastore(".metaflow", ctx.obj.task_datastore)', "pass"
    )
    found = _project(tmp_path, "MFK602", decorator=DECORATOR, cli=no_home, executor=EXECUTOR)
    assert found == {("cli.py", _line(CLI, "def step("), "MFK602")}
    no_save = DECORATOR.replace(
        "sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)", "pass"
    )
    found = _project(tmp_path, "MFK602", decorator=no_save, cli=CLI, executor=EXECUTOR)
    assert found == {("decorator.py", _line(DECORATOR, "class MyBackend"), "MFK602")}


def test_single_module_without_the_other_half_stays_silent():
    # Without a project, a module holding only the click command cannot be judged.
    assert codes(CLI.replace("sync_local_metadata_from_datastore(", "print("), "MFK602") == []


# -- the backend's own `<name> step` subcommand (MFK109) -----------------------------------------

LAUNCHER = """
import subprocess
import sys


def relaunch(script, step_name, url, run_id, task_id, paths):
    cmd = [sys.executable, script, "mybackend", "step", step_name, url,
           "--image", "python:3.11", "--run-id", run_id, "--task-id", task_id,
           "--input-paths", paths]
    return subprocess.run(cmd).returncode
"""


def test_backend_step_options_come_from_its_click_declarations(tmp_path):
    found = _project(tmp_path, "MFK109", cli=CLI, launcher=LAUNCHER, executor=EXECUTOR)
    assert found == set()


def test_an_option_the_backend_does_not_declare_is_reported(tmp_path):
    launcher = LAUNCHER.replace('"--image"', '"--gpu-type"')
    found = _project(tmp_path, "MFK109", cli=CLI, launcher=launcher, executor=EXECUTOR)
    assert found == {("launcher.py", _line(launcher, "--gpu-type"), "MFK109")}


def test_core_step_options_are_not_assumed_for_a_backend_step(tmp_path):
    # --clone-run-id is a core `step` option, but this backend's step does not declare it.
    launcher = LAUNCHER.replace('"--input-paths", paths]', '"--clone-run-id", "r1"]')
    found = _project(tmp_path, "MFK109", cli=CLI, launcher=launcher, executor=EXECUTOR)
    assert {(f, c) for f, _, c in found} == {("launcher.py", "MFK109")}


def test_an_unknown_plugin_step_is_not_judged(tmp_path):
    # No declarations of `otherbackend` anywhere: its options cannot be checked.
    launcher = LAUNCHER.replace('"mybackend", "step"', '"otherbackend", "step"').replace(
        '"--image"', '"--gpu-type"'
    )
    assert _project(tmp_path, "MFK109", cli=CLI, launcher=launcher) == set()


def test_with_value_is_not_a_plugin_group():
    code = """
    import sys
    def cmd(flow, run_id, paths):
        return [sys.executable, flow, "--with", "batch", "step", "start", "--run-id", run_id,
                "--task-id", "t-1", "--input-paths", paths, "--image", "x"]
    """
    assert codes(code, "MFK109") == ["MFK109"]  # --image is no option of the core step


def test_backend_step_missing_an_option_the_runtime_passes(tmp_path):
    cli = CLI.replace('@click.option("--split-index")\n', "").replace(
        '@click.option("--tag", multiple=True)\n', ""
    )
    found = _project(tmp_path, "MFK109", cli=cli, executor=EXECUTOR)
    assert found == {("cli.py", _line(cli, "def step("), "MFK109")}
    message = lint(textwrap.dedent(cli), "MFK109")[0].message
    assert "--split-index, --tag" in message


# -- MFK604 fixes ---------------------------------------------------------------------------------


def test_resources_reads_are_rewritten_through_attributes_and_the_fix_is_idempotent():
    before = ResourcesMerge.INVALID[1].code
    after = fix(before, "MFK604", unsafe=True)
    assert 'if "cpu" in deco.attributes and deco.attributes.get("cpu") is not None:' in after
    assert 'max(self.attributes["cpu"] or 0, deco.attributes.get("cpu"))' in after
    assert codes(after, "MFK604") == []
    assert fix(after, "MFK604", unsafe=True) == textwrap.dedent(after)


def test_resources_overwrite_becomes_max_and_update_keeps_larger_values():
    after = fix(ResourcesMerge.INVALID[2].code, "MFK604", unsafe=True)
    assert (
        'self.attributes["memory"] = max(float(self.attributes["memory"] or 0), '
        'float(deco.attributes["memory"] or 0))'
    ) in after
    assert "self.attributes.update({k: max(float(self.attributes.get(k) or 0)" in after
    assert codes(after, "MFK604") == []


def test_resources_fix_needs_unsafe_fixes():
    before = ResourcesMerge.INVALID[2].code
    assert fix(before, "MFK604") == textwrap.dedent(before)


def test_resources_fix_keeps_parentheses_and_comments():
    code = """
    from metaflow.decorators import StepDecorator

    class B(StepDecorator):
        name = "b"

        def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
            res = next((d for d in decos if d.name == "resources"), None)
            self.gpu = (res.gpu)  # the user's GPUs
    """
    after = fix(code, "MFK604", unsafe=True)
    assert 'self.gpu = (res.attributes.get("gpu"))  # the user\'s GPUs' in after


def test_resources_look_alikes():
    # A different decorator's attribute read in the other branch, and @resources itself.
    code = """
    from metaflow.decorators import StepDecorator

    class B(StepDecorator):
        name = "b"
        defaults = {"cpu": 1}

        def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
            for deco in decos:
                if deco.name == "pypi":
                    self.python = deco.python
                elif deco.name == "resources":
                    self.attributes["cpu"] = max(
                        float(self.attributes["cpu"]), float(deco.attributes["cpu"])
                    )
    """
    assert codes(code, "MFK604") == []


def test_isinstance_selects_the_resources_decorator():
    code = """
    from metaflow.decorators import StepDecorator
    from metaflow.plugins.resources_decorator import ResourcesDecorator

    class B(StepDecorator):
        name = "b"

        def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
            for deco in decos:
                if isinstance(deco, ResourcesDecorator):
                    self.memory = getattr(deco, "memory", 4096)
    """
    assert codes(code, "MFK604") == ["MFK604"]
    after = fix(code, "MFK604", unsafe=True)
    assert 'self.memory = deco.attributes.get("memory", 4096)' in after


# -- MFK607 shapes ----------------------------------------------------------------------------------

TASK_ID_POSITIVE = {
    "percent format": """
        def line(flow, step_name, run_id, paths):
            return "python %s step %s --run-id %s --task-id 1 --input-paths %s" % (
                flow, step_name, run_id, paths)
    """,
    "str.format": """
        def line(flow, step_name, run_id, paths):
            return "python {} step {} --run-id {} --task-id {} --input-paths {}".format(
                flow, step_name, run_id, "0", paths)
    """,
    "bash template": '''
        SCRIPT = """#!/bin/bash
        set -e
        python "$FLOW" step "$STEP" --run-id "$RUN_ID" --task-id 7 --input-paths "$PATHS"
        """
    ''',
    "helper default never overridden": """
        import sys
        def cmd(flow, step_name, run_id, paths, task_id="t-1"):
            return [sys.executable, flow, "step", step_name, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]
        def go(flow, step_name, run_id, paths):
            return cmd(flow, step_name, run_id, paths)
    """,
}
TASK_ID_NEGATIVE = {
    "per-task id in a loop": """
        import sys
        def cmds(flow, step_name, run_id, paths, n):
            return [[sys.executable, flow, "step", step_name, "--run-id", run_id,
                     "--task-id", f"t-{i}", "--input-paths", paths] for i in range(n)]
    """,
    "helper default overridden by the caller": """
        import sys
        def cmd(flow, step_name, run_id, paths, task_id="t-1"):
            return [sys.executable, flow, "step", step_name, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]
        def go(flow, step_name, run_id, paths, tid):
            return cmd(flow, step_name, run_id, paths, task_id=tid)
    """,
    "bash variable": '''
        SCRIPT = """
        python "$FLOW" step "$STEP" --run-id "$RUN_ID" --task-id "$TASK_ID" --input-paths x
        """
    ''',
    "the end step only": """
        def end_line(flow, run_id, paths):
            return f"python {flow} step end --run-id {run_id} --task-id t-9 --input-paths {paths}"
    """,
}


@pytest.mark.parametrize("code", TASK_ID_POSITIVE.values(), ids=TASK_ID_POSITIVE)
def test_constant_task_id_shapes(code):
    assert codes(code, "MFK607") == ["MFK607"]


@pytest.mark.parametrize("code", TASK_ID_NEGATIVE.values(), ids=TASK_ID_NEGATIVE)
def test_task_id_look_alikes(code):
    assert codes(code, "MFK607") == []


# -- MFK603 / MFK605 / MFK606 look-alikes ----------------------------------------------------------


def test_code_package_from_a_helper_is_not_judged():
    code = """
    def job(client, package):
        return client.submit(code_package_url=package_location(package))
    """
    assert codes(code, "MFK603") == []


def test_code_package_attribute_assigned_both_a_url_and_a_temp_path_is_not_judged():
    code = """
    import tempfile

    class D:
        def a(self, package):
            self.package_url = package.package_url()

        def b(self):
            self.package_url = tempfile.mkdtemp()

        def submit(self, client):
            client.run(package_url=self.package_url)
    """
    assert codes(code, "MFK603") == []


PACKAGE_OPTION_LAUNCHER = """
import subprocess
import sys
import tempfile


def launch(flow_file, step_name, run_id, task_id, paths):
    _, local_package = tempfile.mkstemp(suffix=".tgz")
    cmd = [sys.executable, flow_file, "step", step_name, "--run-id", run_id,
           "--task-id", task_id, "--input-paths", paths, "--code-package-url", local_package]
    subprocess.run(cmd)
"""


def test_code_package_url_option_of_a_command_is_a_sink():
    assert codes(PACKAGE_OPTION_LAUNCHER, "MFK603") == ["MFK603"]
    url = PACKAGE_OPTION_LAUNCHER.replace(
        '_, local_package = tempfile.mkstemp(suffix=".tgz")',
        "local_package = package.package_url()",
    )
    assert codes(url, "MFK603") == []
    # Another option with the temp path, and the option's words taken apart in a message.
    other = PACKAGE_OPTION_LAUNCHER.replace('"--code-package-url"', '"--package-suffixes"')
    assert codes(other, "MFK603") == []


def test_code_package_url_option_spelled_only_in_another_module(tmp_path):
    # The command's string names the option through a constant of another module: this file
    # never spells it, the project does.
    launcher = """
    import subprocess
    import tempfile

    from .opts import CODE_URL


    def launch(step_name, run_id, task_id, paths):
        _, local_package = tempfile.mkstemp(suffix=".tgz")
        cmd = ("python flow.py step " + step_name + " --run-id " + run_id + " --task-id "
               + task_id + " --input-paths " + paths + " " + CODE_URL + " " + local_package)
        subprocess.run(cmd, shell=True)
    """
    opts = 'CODE_URL = "--code-package-url"\n'
    found = _project(tmp_path, "MFK603", launcher=launcher, opts=opts)
    assert found == {("launcher.py", _line(launcher, "+ task_id"), "MFK603")}
    other = 'CODE_URL = "--package-suffixes"\n'
    assert _project(tmp_path, "MFK603", launcher=launcher, opts=other) == set()


def test_code_package_url_option_completed_by_another_modules_constant(tmp_path):
    # Neither file spells the whole option: the command's string ends it with a constant of
    # another module.
    launcher = """
    import subprocess
    import tempfile

    from .opts import SUFFIX


    def launch(step_name, run_id, task_id, paths):
        _, local_package = tempfile.mkstemp(suffix=".tgz")
        cmd = ("python flow.py step " + step_name + " --run-id " + run_id + " --task-id "
               + task_id + " --input-paths " + paths + " --code-package-" + SUFFIX + " "
               + local_package)
        subprocess.run(cmd, shell=True)
    """
    found = _project(tmp_path, "MFK603", launcher=launcher, opts='SUFFIX = "url"\n')
    assert found == {("launcher.py", _line(launcher, "+ local_package)"), "MFK603")}
    assert _project(tmp_path, "MFK603", launcher=launcher, opts='SUFFIX = "uri"\n') == set()


def test_temp_prefix_from_another_modules_constant(tmp_path):
    # The path's prefix is a constant of another module: this module spells no temp path.
    submit = """
    from .paths import SCRATCH


    def submit(client, run_id):
        client.run_job(run_id, code_package_url=f"{SCRATCH}/job.tar")
    """
    found = _project(tmp_path, "MFK603", submit=submit, paths='SCRATCH = "/tmp"\n')
    assert found == {("submit.py", _line(submit, "code_package_url="), "MFK603")}
    s3 = 'SCRATCH = "s3://bucket/code"\n'
    assert _project(tmp_path, "MFK603", submit=submit, paths=s3) == set()


def test_temp_prefix_through_a_variable_or_a_parameter():
    local = """
    def submit(client, run_id):
        scratch = "/tmp"
        client.run_job(run_id, code_package_url=f"{scratch}/job.tar")
    """
    assert codes(local, "MFK603") == ["MFK603"]
    assert codes(local.replace('"/tmp"', '"s3://bucket"'), "MFK603") == []
    parameter = """
    def submit(client, run_id, root):
        client.run_job(run_id, code_package_url=root + "/job.tar")

    def go(client):
        submit(client, "r1", "/tmp")
        submit(client, "r2", "/tmp")
    """
    assert codes(parameter, "MFK603") == ["MFK603"]
    assert codes(parameter.replace('"/tmp")', '"s3://b")'), "MFK603") == []


def _model(code: str) -> ModuleModel:
    text = textwrap.dedent(code)
    return ModuleModel(Source(text, "utf-8", text.encode()), ast.parse(text))


def test_a_sum_with_a_number_or_a_display_on_its_right_is_never_a_temp_path():
    """The command model is asked only where a value can be a temp path: a ``+`` whose right
    side is a number or a display never folds to a string, whatever its left side."""
    template = """
    import subprocess

    def launch(flow_file, root, runs):
        subprocess.run(["python", flow_file, "step", "start", "--code-package-url", URL])
        return runs + EXTRA
    """
    clean = ("root + 1", "[root] + ['x']", "root + ['x']", "root + ('x',)", "f'{root + 2}'")
    for url, extra in (*((u, "1") for u in clean), ("'x'", "[1]"), ("'x'", "{root: 1}")):
        module = _model(template.replace("URL", url).replace("EXTRA", extra))
        assert not _may_name_a_temp_path(module), (url, extra)
    for url in ("root + '/pkg.tgz'", "'/tmp/' + root + 1", "f'{root}/pkg'", "root + 'x' + root"):
        module = _model(template.replace("URL", url).replace("EXTRA", "1"))
        assert _may_name_a_temp_path(module), url
    # what that leaves out is never reported
    sums = """
    def submit(client, run_id, root, n):
        client.run_job(run_id, code_package_url=root + n + 1)
        client.run_job(run_id, code_package_url=root + ["/job.tar"])

    def go(client):
        submit(client, "r1", "/tmp", "/x")
    """
    assert codes(sums, "MFK603") == []
    assert codes(sums.replace(" + 1)", " + '1')"), "MFK603") == ["MFK603"]


def test_code_package_url_option_in_generated_code():
    code = '''
    SCRIPT = """
    import subprocess, sys, tempfile
    _, local = tempfile.mkstemp(suffix=".tgz")
    subprocess.run([sys.executable, %(flow)r, "step", %(step)r, "--run-id", "1",
                    "--task-id", "2", "--input-paths", "x", "--code-package-url", local])
    """


    def write(path, flow, step):
        with open(path, "w") as f:
            f.write(SCRIPT % {"flow": flow, "step": step})
    '''
    found = lint(code, "MFK603")
    assert [(d.code, d.location.row) for d in found] == [("MFK603", _line(code, "--task-id"))]
    kept = code.replace('tempfile.mkstemp(suffix=".tgz")', "(None, sys.argv[1])")
    assert codes(kept, "MFK603") == []


def test_conda_built_in_remote_name_and_computed_attribute_are_trusted():
    base = """
    from metaflow.decorators import StepDecorator

    class SlurmDecorator(StepDecorator):
        name = "slurm"

        def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
            cli_args.commands = ["slurm", "step"]
    """
    assert codes(base, "MFK605") == []
    computed = base.replace(
        'name = "slurm"', 'name = "hpc"\n        supports_conda_environment = CONDA_OK'
    )
    assert codes(computed, "MFK605") == []


def test_runtime_environment_set_in_another_module_counts(tmp_path):
    cli = CLI.replace(
        '@click.option("--namespace")\n',
        '@click.option("--namespace")\n@click.option("--num-parallel", default=0)\n',
    )
    found = _project(tmp_path, "MFK606", cli=cli, executor=EXECUTOR)
    assert found == {("cli.py", _line(cli, "def step("), "MFK606")}
    env = 'JOB_ENV = {"METAFLOW_RUNTIME_ENVIRONMENT": "mybackend"}\n'
    assert _project(tmp_path, "MFK606", cli=cli, executor=EXECUTOR, env=env) == set()
    mention = '# we never set METAFLOW_RUNTIME_ENVIRONMENT\nprint("METAFLOW_RUNTIME_ENVIRONMENT")\n'
    assert _project(tmp_path, "MFK606", cli=cli, executor=EXECUTOR, env=mention) != set()


def test_runtime_environment_named_by_a_constant_is_not_reported(tmp_path):
    """The variable's name kept in a constant and the constant used as the key, in the same
    module or imported from another one: it may well be set, so nothing is reported."""
    cli = CLI.replace(
        '@click.option("--namespace")\n',
        '@click.option("--namespace")\n@click.option("--num-parallel", default=0)\n',
    )
    for name in "abc":
        (tmp_path / name).mkdir()
    local = 'RUNTIME = "METAFLOW_RUNTIME_ENVIRONMENT"\nJOB_ENV = {RUNTIME: "mybackend"}\n'
    assert _project(tmp_path / "a", "MFK606", cli=cli, executor=EXECUTOR, env=local) == set()
    consts = 'RUNTIME_ENV: str = "METAFLOW_RUNTIME_ENVIRONMENT"\n'
    job = "from .consts import RUNTIME_ENV\n\ndef job_env():\n    return {RUNTIME_ENV: 'mine'}\n"
    found = _project(tmp_path / "b", "MFK606", cli=cli, executor=EXECUTOR, consts=consts, job=job)
    assert found == set()
    # Compared with the name itself, not a text holding it: a longer constant is no binding.
    other = 'HELP = "METAFLOW_RUNTIME_ENVIRONMENT is set by the scheduler"\n'
    found = _project(tmp_path / "c", "MFK606", cli=cli, executor=EXECUTOR, env=other)
    assert found == {("cli.py", _line(cli, "def step("), "MFK606")}


def test_a_backend_launcher_is_not_judged_as_a_step_process_by_mfk201():
    launcher = textwrap.dedent(LAUNCHER).replace(
        "subprocess.run(cmd)", "subprocess.run(cmd, env={'PATH': '/usr/bin'})"
    )
    assert codes(launcher, "MFK201") == []
    core = launcher.replace('"mybackend", "step", step_name, url,', '"step", step_name,').replace(
        '"--image", "python:3.11", ', ""
    )
    assert codes(core, "MFK201") == ["MFK201"]


def test_generated_code_fragments_name_a_variable_not_a_constant():
    code = """
    def step_args(step_name, max_retries):
        args = ['"step"', '"%s"' % step_name, '"--run-id"', 'run_id', '"--task-id"', 'task_id']
        return ", ".join(args)
    """
    assert codes(code, "MFK607") == []
    constant = code.replace("'task_id']", """'"1"']""")
    assert codes(constant, "MFK607") == ["MFK607"]


def test_a_builder_only_ever_called_for_named_single_task_steps():
    code = """
    import sys

    class Compiler:
        def step_command(self, step_name, run_id, task_id, paths):
            return [sys.executable, "flow.py", "step", step_name, "--run-id", run_id,
                    "--task-id", task_id, "--input-paths", paths]

    def run_all(compiler, run_id, paths):
        for step in ("start", "end"):
            compiler.step_command(step, run_id, "t-1", paths)
    """
    assert codes(code, "MFK607") == []
    generic = code.replace('for step in ("start", "end"):', "for step in graph_steps():")
    assert codes(generic, "MFK607") == ["MFK607"]


def test_a_backend_decorator_declares_its_capabilities(tmp_path):
    plugins = tmp_path / "metaflow_extensions" / "acme" / "plugins" / "acme"
    plugins.mkdir(parents=True)
    decorator = plugins / "acme_decorator.py"
    decorator.write_text(textwrap.dedent(DECORATOR))
    linter = Linter(Settings(), Selection(("MFK505",)))
    linter.project = ProjectIndex([decorator])
    found = [(d.location.row, d.code) for d in linter.lint_path(decorator).diagnostics]
    assert found == [(_line(DECORATOR, "class MyBackend"), "MFK505")]
    beside = plugins / "capabilities.py"
    beside.write_text("SUPPORTED_CAPABILITIES = frozenset()\n")
    linter.project = ProjectIndex([decorator, beside])
    assert linter.lint_path(decorator).diagnostics == []
