"""The seeds: each rule's bug and its correct form, as extensions write them.

Notation of ``command()``: pieces separated by ``|``; ``?var`` first: the piece may be made
conditional on ``var``; ``name!`` a computed string, ``name~`` a value made a string with ``str()``,
``K:name=text`` a constant that may live elsewhere (module constant, parameter default, attribute,
dict entry); ``@`` marks the word on whose line the finding must be (bugs only).
"""

from __future__ import annotations

from spelling import Env, EnvEntry, Expr, Key, Seed, command

# The top of a command line and the usual task options, written once.
EXE = "sys.executable! flow_file! --no-pylint"
ENV = "--environment env_type!"
TASK = "--run-id run_id! | --task-id task_id! | --input-paths input_paths!"
STEP = "step step_name!"
TASK_PARAMS = ("flow_file", "env_type", "step_name", "run_id", "task_id", "input_paths")

# A correct extension applies @environment's vars; modules that start steps carry this so that
# only the rule under test speaks.
APPLIES_ENV_VARS = """
def environment_vars(step):
    return {k: str(v) for k, v in step.environment.attributes["vars"].items()}
"""


HELP_TEXT = """
def describe_inputs():
    return "inputs: --input-paths, or METAFLOW_STEP_INPUT_PATHS when click reads the env"
"""

BRANCH_MESSAGE = """
def branch_warning(branch):
    return "branch %s: METAFLOW_BRANCH is not forwarded to the workers" % branch
"""

UNRELATED_HOOK = """
class SchedulerStepDecorator:
    name = "myscheduler"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.command_options["max-user-code-retries"] = max_user_code_retries
"""


def _step(rule, name, bug, spec, params=TASK_PARAMS, doc="", **kw) -> Seed:
    return Seed(rule, name, bug, tuple(params), command(spec), doc, **kw)


SYSROOT = EnvEntry('"METAFLOW_DATASTORE_SYSROOT_LOCAL"', Expr("sysroot"))
CONFIG = EnvEntry('"METAFLOW_FLOW_CONFIG_VALUE"', Expr("config_value"))

SEEDS: list[Seed] = [
    # -- MFK101 hardcoded-retry-count ---------------------------------------------------------
    _step(
        "MFK101",
        "retry-zero",
        True,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count @K:retry_count=0"
        " | --max-user-code-retries max_retries~",
        (*TASK_PARAMS, "max_retries"),
        "the attempt counter is a constant 0",
    ),
    _step(
        "MFK101",
        "retry-zero-tagged",
        True,
        f"{EXE} | {ENV} | {STEP} | ?tag --tag tag! | {TASK} | --retry-count @K:retry_count=0",
        (*TASK_PARAMS, "tag"),
        "a constant 0 among conditional options",
    ),
    _step(
        "MFK101",
        "retry-counter",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count attempt~"
        " | --max-user-code-retries max_retries~",
        (*TASK_PARAMS, "attempt", "max_retries"),
        "the scheduler's attempt counter",
    ),
    _step(
        "MFK101",
        "retry-zero-no-retries",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count K:retry_count=0"
        " | --max-user-code-retries K:max_user_code_retries=0",
        doc="no retries configured: attempt 0 is right",
    ),
    # -- MFK102 missing-branch ----------------------------------------------------------------
    _step(
        "MFK102",
        "step-without-branch",
        True,
        f"{EXE} | {ENV} | @{STEP} | {TASK}",
        (*TASK_PARAMS, "branch"),
        "a branch in scope, not passed to the step",
    ),
    _step(
        "MFK102",
        "init-without-branch",
        True,
        f"{EXE} | @init | --run-id run_id! | --task-id K:params_task=params",
        ("flow_file", "run_id", "branch"),
        "a branch in scope, not passed to init",
        func="init_cmd",
    ),
    _step(
        "MFK102",
        "step-with-branch",
        False,
        f"{EXE} | {ENV} | ?branch --branch branch! | {STEP} | {TASK}",
        (*TASK_PARAMS, "branch"),
        "the branch before the subcommand",
    ),
    _step(
        "MFK102",
        "init-with-branch",
        False,
        f"{EXE} | ?branch --branch branch! | init | --run-id run_id! | --task-id K:params_task=params",
        ("flow_file", "run_id", "branch"),
        "the branch before init",
        func="init_cmd",
    ),
    # -- MFK103 tag-before-subcommand ---------------------------------------------------------
    _step(
        "MFK103",
        "tag-before-step",
        True,
        f"{EXE} | {ENV} | ?tag @--tag tag! | {STEP} | {TASK}",
        (*TASK_PARAMS, "tag"),
        "--tag before step",
    ),
    _step(
        "MFK103",
        "tag-before-init",
        True,
        f"{EXE} | ?tag @--tag tag! | init | --run-id run_id! | --task-id K:params_task=params",
        ("flow_file", "run_id", "tag"),
        "--tag before init",
        func="init_cmd",
    ),
    _step(
        "MFK103",
        "tag-after-step",
        False,
        f"{EXE} | {ENV} | {STEP} | ?tag --tag tag! | {TASK}",
        (*TASK_PARAMS, "tag"),
        "--tag after the step name",
    ),
    _step(
        "MFK103",
        "tag-after-init",
        False,
        f"{EXE} | init | ?tag --tag tag! | --run-id run_id! | --task-id K:params_task=params",
        ("flow_file", "run_id", "tag"),
        "--tag after init",
        func="init_cmd",
    ),
    # -- MFK104 missing-input-paths -----------------------------------------------------------
    _step(
        "MFK104",
        "step-without-input-paths",
        True,
        f"{EXE} | {ENV} | @{STEP} | --run-id run_id! | --task-id task_id! | --retry-count attempt~",
        ("flow_file", "env_type", "step_name", "run_id", "task_id", "attempt"),
        "no --input-paths",
        plugin=True,
    ),
    _step(
        "MFK104",
        "start-without-input-paths",
        True,
        f"{EXE} | {ENV} | @step start | --run-id run_id! | --task-id task_id!",
        ("flow_file", "env_type", "run_id", "task_id"),
        "start needs --input-paths too",
        func="start_cmd",
        plugin=True,
    ),
    _step(
        "MFK104",
        "step-with-input-paths",
        False,
        f"{EXE} | {ENV} | {STEP} | --run-id run_id! | --task-id task_id!"
        " | ?input_paths --input-paths input_paths!",
        doc="--input-paths passed (under a condition)",
    ),
    # -- MFK105 missing-split-index -----------------------------------------------------------
    _step(
        "MFK105",
        "foreach-child-without-split-index",
        True,
        f"{EXE} | {ENV} | @{STEP} | --run-id run_id! | --task-id task_id!"
        " | --input-paths input_paths!",
        ("flow_file", "env_type", "step_name", "run_id", "input_paths", "split_index"),
        "the split index only names the task",
        prelude=('task_id = f"{step_name}-{split_index}"',),
        func="foreach_child_cmd",
        plugin=True,
    ),
    _step(
        "MFK105",
        "foreach-child-with-split-index",
        False,
        f"{EXE} | {ENV} | {STEP} | --run-id run_id! | --task-id task_id!"
        " | --input-paths input_paths! | ?split_index --split-index split_index~",
        ("flow_file", "env_type", "step_name", "run_id", "input_paths", "split_index"),
        "the split index passed",
        prelude=('task_id = f"{step_name}-{split_index}"',),
        func="foreach_child_cmd",
    ),
    # -- MFK106 init-without-task-id ----------------------------------------------------------
    _step(
        "MFK106",
        "init-without-task-id",
        True,
        f"{EXE} | @init | --run-id run_id!",
        ("flow_file", "run_id"),
        "init without --task-id",
        func="init_cmd",
    ),
    _step(
        "MFK106",
        "init-tagged-without-task-id",
        True,
        f"{EXE} | @init | --run-id run_id! | ?tag --tag tag!",
        ("flow_file", "run_id", "tag"),
        "init with a tag, without --task-id",
        func="init_cmd",
    ),
    _step(
        "MFK106",
        "init-with-task-id",
        False,
        f"{EXE} | init | --run-id run_id! | --task-id K:params_task=params | ?tag --tag tag!",
        ("flow_file", "run_id", "tag"),
        "init with its task id",
        func="init_cmd",
    ),
    # -- MFK107 run-param-option --------------------------------------------------------------
    _step(
        "MFK107",
        "run-param-on-init",
        True,
        f"{EXE} | init | --run-id run_id! | --task-id K:params_task=params"
        " | @--run-param K:run_param=alpha=0.5",
        ("flow_file", "run_id"),
        "--run-param with a literal value",
        func="init_cmd",
    ),
    _step(
        "MFK107",
        "run-param-computed",
        True,
        f"{EXE} | init | --run-id run_id! | --task-id K:params_task=params"
        " | @--run-param param_spec!",
        ("flow_file", "run_id", "name", "value"),
        "--run-param with a computed value",
        prelude=('param_spec = "%s=%s" % (name, value)',),
        func="init_cmd",
    ),
    _step(
        "MFK107",
        "parameter-option-on-init",
        False,
        f"{EXE} | init | --run-id run_id! | --task-id K:params_task=params | --alpha K:alpha=0.5",
        ("flow_file", "run_id"),
        "a flow parameter as its own option",
        func="init_cmd",
    ),
    _step(
        "MFK107",
        "extension-trigger-run-param",
        False,
        "sys.executable! flow_file! | myscheduler trigger | --run-param K:run_param=alpha=0.5",
        ("flow_file",),
        "the extension's own trigger takes --run-param",
        func="trigger_cmd",
    ),
    # -- MFK108 missing-environment -----------------------------------------------------------
    _step(
        "MFK108",
        "step-without-environment",
        True,
        f"{EXE} | @{STEP} | {TASK}",
        doc="no --environment before step",
        plugin=True,
    ),
    _step(
        "MFK108",
        "step-with-environment",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK}",
        doc="--environment before step",
    ),
    _step(
        "MFK108",
        "step-with-environment-word",
        False,
        f"{EXE} | --environment=conda | {STEP} | {TASK}",
        doc="--environment=conda as one word",
    ),
    # -- MFK109 option-wrong-level ------------------------------------------------------------
    _step(
        "MFK109",
        "namespace-before-init",
        True,
        f"{EXE} | ?namespace @--namespace namespace! | init | --run-id run_id!"
        " | --task-id K:params_task=params",
        ("flow_file", "run_id", "namespace"),
        "--namespace is not a top-level option",
        func="init_cmd",
    ),
    _step(
        "MFK109",
        "clone-run-id-on-init",
        True,
        f"{EXE} | init | --run-id run_id! | --task-id K:params_task=params"
        " | ?origin_run_id @--clone-run-id origin_run_id!",
        ("flow_file", "run_id", "origin_run_id"),
        "init takes no --clone-run-id",
        func="init_cmd",
    ),
    _step(
        "MFK109",
        "branch-after-step",
        True,
        f"{EXE} | {ENV} | {STEP} | ?branch @--branch branch! | {TASK}",
        (*TASK_PARAMS, "branch"),
        "--branch after the subcommand",
    ),
    _step(
        "MFK109",
        "unknown-step-option",
        True,
        f"{EXE} | {ENV} | {STEP} | {TASK} | @--pod-namespace pod_namespace!",
        (*TASK_PARAMS, "pod_namespace"),
        "an option Metaflow's step does not have",
        plugin=True,
    ),
    _step(
        "MFK109",
        "namespace-after-step",
        False,
        f"{EXE} | {ENV} | {STEP} | --namespace K:namespace=team | {TASK}",
        doc="--namespace is a step option",
    ),
    _step(
        "MFK109",
        "with-before-step",
        False,
        f"{EXE} | {ENV} | ?with_spec --with with_spec! | {STEP} | {TASK}",
        (*TASK_PARAMS, "with_spec"),
        "--with is a top-level option",
    ),
    # -- MFK110 branch-formatted-name ---------------------------------------------------------
    _step(
        "MFK110",
        "branch-from-current",
        True,
        f"{EXE} | {ENV} | --branch @current.branch_name! | {STEP} | {TASK}",
        doc="the formatted branch from current",
        module="from metaflow import current\n",
    ),
    _step(
        "MFK110",
        "branch-from-project-info",
        True,
        f"{EXE} | {ENV} | --branch @project_info['branch']! | {STEP} | {TASK}",
        (*TASK_PARAMS, "project_info"),
        "the formatted branch from the project info",
    ),
    _step(
        "MFK110",
        "branch-raw",
        False,
        f"{EXE} | {ENV} | ?branch --branch branch! | {STEP} | {TASK}",
        (*TASK_PARAMS, "branch"),
        "the raw branch the user gave",
    ),
    # -- MFK113 integer-ids-local-metadata ----------------------------------------------------
    _step(
        "MFK113",
        "integer-task-id",
        True,
        f"{EXE} | {ENV} | {STEP} | --run-id run_id! | --task-id @task_number~"
        " | --input-paths input_paths!",
        ("flow_file", "env_type", "step_name", "run_id", "input_paths", "finished"),
        "the task id is a number",
        prelude=("task_number = len(finished) + 1",),
    ),
    _step(
        "MFK113",
        "prefixed-task-id",
        False,
        f"{EXE} | {ENV} | {STEP} | --run-id run_id! | --task-id task_id!"
        " | --input-paths input_paths!",
        ("flow_file", "env_type", "step_name", "run_id", "input_paths", "finished"),
        "the task id is not a number",
        prelude=('task_id = "t-%d" % (len(finished) + 1)',),
    ),
    # -- MFK201 missing-flow-config-value -----------------------------------------------------
    _step(
        "MFK201",
        "step-env-without-config",
        True,
        f"{EXE} | {ENV} | @{STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot"),
        "the step's env lacks the flow config",
        func="run_step",
        env=Env(True, (SYSROOT,)),
        module=APPLIES_ENV_VARS,
        plugin=True,
        env_spellings=True,
    ),
    _step(
        "MFK201",
        "step-env-with-config",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value"),
        "the flow config in the env",
        func="run_step",
        env=Env(True, (SYSROOT, CONFIG)),
        module=APPLIES_ENV_VARS,
        env_spellings=True,
    ),
    _step(
        "MFK201",
        "step-with-config-option",
        False,
        f"{EXE} | {ENV} | --config-value config_name! config_json! | {STEP} | {TASK}",
        (*TASK_PARAMS, "config_name", "config_json", "sysroot"),
        "--config-value on the line",
        func="run_step",
        env=Env(True, (SYSROOT,)),
        module=APPLIES_ENV_VARS,
    ),
    # -- MFK202 sysroot-vs-datastore-root -----------------------------------------------------
    Seed(
        "MFK202",
        "sysroot-ends-in-metaflow",
        True,
        ("flow_file",),
        (),
        "the sysroot is the root",
        func="step_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"METAFLOW_DATASTORE_SYSROOT_LOCAL"',
                    Key("sysroot", "/mnt/shared/.metaflow"),
                    True,
                ),
            ),
        ),
        env_spellings=True,
    ),
    Seed(
        "MFK202",
        "sysroot-joined-metaflow",
        True,
        ("shared_dir",),
        (),
        "joined with .metaflow",
        func="step_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"METAFLOW_DATASTORE_SYSROOT_LOCAL"',
                    Expr("os.path.join(shared_dir, '.metaflow')"),
                    True,
                ),
            ),
        ),
        env_spellings=True,
    ),
    Seed(
        "MFK202",
        "sysroot-parent",
        False,
        ("flow_file",),
        (),
        "the directory above .metaflow",
        func="step_env",
        env=Env(
            True, (EnvEntry('"METAFLOW_DATASTORE_SYSROOT_LOCAL"', Key("sysroot", "/mnt/shared")),)
        ),
        env_spellings=True,
    ),
    Seed(
        "MFK202",
        "sysroot-dirname",
        False,
        ("datastore_root",),
        (),
        "dirname of the root",
        func="step_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"METAFLOW_DATASTORE_SYSROOT_LOCAL"', Expr("os.path.dirname(datastore_root)")
                ),
            ),
        ),
        env_spellings=True,
    ),
    # -- MFK203 ignored-parameter-env ---------------------------------------------------------
    Seed(
        "MFK203",
        "parameters-json-env",
        True,
        ("parameters",),
        (),
        "METAFLOW_PARAMETERS",
        func="init_env",
        env=Env(True, (EnvEntry('"METAFLOW_PARAMETERS"', Expr("json.dumps(parameters)"), True),)),
        env_spellings=True,
    ),
    Seed(
        "MFK203",
        "parameter-per-name-env",
        True,
        ("parameters",),
        (),
        "METAFLOW_PARAMETER_<NAME>",
        func="init_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"METAFLOW_PARAMETER_%s" % name.upper()',
                    Expr("str(value)"),
                    True,
                    "for name, value in parameters.items():",
                ),
            ),
        ),
        env_spellings=True,
    ),
    Seed(
        "MFK203",
        "init-env-per-name",
        False,
        ("parameters",),
        (),
        "METAFLOW_INIT_<NAME>",
        func="init_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"METAFLOW_INIT_%s" % name.upper().replace("-", "_")',
                    Expr("str(value)"),
                    False,
                    "for name, value in parameters.items():",
                ),
            ),
        ),
        env_spellings=True,
    ),
    # -- MFK204 extension-on-pythonpath -------------------------------------------------------
    Seed(
        "MFK204",
        "extension-root-on-path",
        True,
        ("flow_file",),
        (),
        "the extension's checkout",
        func="step_env",
        env=Env(
            True,
            (
                EnvEntry(
                    '"PYTHONPATH"',
                    Expr("_EXT_ROOT + os.pathsep + os.environ.get('PYTHONPATH', '')"),
                    True,
                ),
            ),
        ),
        module='_EXT_ROOT = __file__.split("metaflow_extensions")[0]\n',
        env_spellings=True,
    ),
    Seed(
        "MFK204",
        "code-package-on-path",
        False,
        ("code_dir",),
        (),
        "the unpacked code package",
        func="step_env",
        env=Env(True, (EnvEntry('"PYTHONPATH"', Expr("code_dir")),)),
        env_spellings=True,
    ),
    # -- MFK206 auth-env-not-forwarded --------------------------------------------------------
    _step(
        "MFK206",
        "env-from-scratch",
        True,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value"),
        "the env is built from nothing",
        func="run_step",
        env=Env(False, (SYSROOT, CONFIG), True),
        module=APPLIES_ENV_VARS,
        env_spellings=True,
    ),
    _step(
        "MFK206",
        "env-inherited",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value"),
        "the env starts from os.environ",
        func="run_step",
        env=Env(True, (SYSROOT, CONFIG)),
        module=APPLIES_ENV_VARS,
        env_spellings=True,
    ),
    # -- MFK210 environment-vars-dropped ------------------------------------------------------
    _step(
        "MFK210",
        "vars-dropped",
        True,
        f"{EXE} | {ENV} | @{STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value"),
        "@environment vars never applied",
        func="run_step",
        env=Env(True, (SYSROOT, CONFIG)),
    ),
    _step(
        "MFK210",
        "vars-applied",
        False,
        f"{EXE} | {ENV} | {STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value", "step"),
        "@environment vars applied to the env",
        func="run_step",
        env=Env(
            True,
            (
                SYSROOT,
                CONFIG,
                EnvEntry(
                    "name",
                    Expr("value"),
                    False,
                    "for name, value in environment_vars(step).items():",
                ),
            ),
        ),
        module=APPLIES_ENV_VARS,
        env_spellings=True,
    ),
    # -- a word in the file must not switch a rule off (issue 8, class 4) -------------------
    _step(
        "MFK104",
        "env-name-in-help-text",
        True,
        f"{EXE} | {ENV} | @step start | --run-id run_id! | --task-id task_id!",
        ("flow_file", "env_type", "run_id", "task_id"),
        "the variable click reads is only named in a help text",
        func="start_cmd",
        module=HELP_TEXT,
    ),
    _step(
        "MFK102",
        "branch-env-name-in-message",
        True,
        f"{EXE} | {ENV} | @{STEP} | {TASK}",
        (*TASK_PARAMS, "branch"),
        "the branch variable is only named in a message",
        module=BRANCH_MESSAGE,
    ),
    _step(
        "MFK210",
        "vars-dropped-unrelated-hook",
        True,
        f"{EXE} | {ENV} | @{STEP} | {TASK} | --retry-count attempt~",
        (*TASK_PARAMS, "attempt", "sysroot", "config_value"),
        "a decorator hook named runtime_step_cli that does not apply the vars",
        func="run_step",
        env=Env(True, (SYSROOT, CONFIG)),
        module=UNRELATED_HOOK,
    ),
]
