"""Seeds of the deployer side (MFK301, MFK303): each shape is an equivalent way of writing the
varying part; ``  #@`` ends the lines where the finding must be."""

from __future__ import annotations

from spelling import Shape, TextSeed

DEPLOYED_FLOW = """
from metaflow.runner.deployer import DeployedFlow


<<module>>


class SchedulerDeployedFlow(DeployedFlow):
    TYPE = "scheduler"

    def trigger(self, **kwargs):
        <<body>>
"""

PAIRS = '"%s=%s" % (k, v) for k, v in kwargs.items()'

TUPLE_SHAPES = (
    (
        "generator",
        Shape(body=f"run_params = tuple({PAIRS})\nreturn self._trigger(run_params=run_params)  #@"),
    ),
    (
        "inline",
        Shape(body=f"return self._trigger(run_params=tuple({PAIRS}))  #@"),
    ),
    (
        "sorted",
        Shape(
            body='run_params = tuple(sorted("%s=%s" % item for item in kwargs.items()))\n'
            "return self._trigger(run_params=run_params)  #@"
        ),
    ),
    (
        "literal",
        Shape(
            body='run_params = ("alpha=%s" % kwargs["alpha"],)\n'
            "return self._trigger(run_params=run_params)  #@"
        ),
    ),
    (
        "via-list",
        Shape(
            body=f"pairs = [{PAIRS}]\nrun_params = tuple(pairs)\n"
            "return self._trigger(run_params=run_params)  #@"
        ),
    ),
    (
        "reassigned",
        Shape(
            body=f"run_params = [{PAIRS}]\nrun_params = tuple(run_params)\n"
            "return self._trigger(run_params=run_params)  #@"
        ),
    ),
    (
        "conditional",
        Shape(
            body=f"run_params = tuple({PAIRS}) if kwargs else ()\n"
            "return self._trigger(run_params=run_params)  #@"
        ),
    ),
    (
        "subscript",
        Shape(
            body='trigger_kwargs = {"deployer_attribute_file": None}\n'
            f'trigger_kwargs["run_params"] = tuple({PAIRS})  #@\n'
            "return self._trigger(**trigger_kwargs)"
        ),
    ),
    (
        "dict-literal",
        Shape(
            body=f"params = tuple({PAIRS})\n"
            'trigger_kwargs = {"run_params": params}  #@\n'
            "return self._trigger(**trigger_kwargs)"
        ),
    ),
    (
        "helper",
        Shape(
            module=f"def _format_params(kwargs):\n    return tuple({PAIRS})",
            body="run_params = _format_params(kwargs)\n"
            "return self._trigger(run_params=run_params)  #@",
        ),
    ),
    (
        "attribute",
        Shape(
            body=f"self._run_params = tuple({PAIRS})\n"
            "return self._trigger(run_params=self._run_params)  #@"
        ),
    ),
    (
        "helper-split",
        Shape(
            module="from myscheduler_ext.common import format_params",
            body="run_params = format_params(kwargs)\n"
            "return self._trigger(run_params=run_params)  #@",
            common=f"def format_params(kwargs):\n    return tuple({PAIRS})",
        ),
    ),
)

LIST_SHAPES = (
    (
        "comprehension",
        Shape(body=f"run_params = [{PAIRS}]\nreturn self._trigger(run_params=run_params)"),
    ),
    (
        "inline",
        Shape(body=f"return self._trigger(run_params=[{PAIRS}])"),
    ),
    (
        "sorted",
        Shape(
            body='run_params = sorted("%s=%s" % item for item in kwargs.items())\n'
            "return self._trigger(run_params=run_params)"
        ),
    ),
    (
        "converted",
        Shape(
            body=f"run_params = tuple({PAIRS})\nreturn self._trigger(run_params=list(run_params))"
        ),
    ),
    (
        "reassigned",
        Shape(
            body=f"run_params = tuple({PAIRS})\nrun_params = list(run_params)\n"
            "return self._trigger(run_params=run_params)"
        ),
    ),
    (
        "conditional",
        Shape(
            body=f"run_params = [{PAIRS}] if kwargs else []\n"
            "return self._trigger(run_params=run_params)"
        ),
    ),
    (
        "subscript",
        Shape(
            body='trigger_kwargs = {"deployer_attribute_file": None}\n'
            f'trigger_kwargs["run_params"] = [{PAIRS}]\n'
            "return self._trigger(**trigger_kwargs)"
        ),
    ),
    (
        "helper",
        Shape(
            module=f"def _format_params(kwargs):\n    return [{PAIRS}]",
            body="run_params = _format_params(kwargs)\nreturn self._trigger(run_params=run_params)",
        ),
    ),
    (
        "helper-converts",
        Shape(
            module=f"def _format_params(kwargs):\n    return list(tuple({PAIRS}))",
            body="run_params = _format_params(kwargs)\nreturn self._trigger(run_params=run_params)",
        ),
    ),
    (
        "helper-split",
        Shape(
            module="from myscheduler_ext.common import format_params",
            body="run_params = format_params(kwargs)\nreturn self._trigger(run_params=run_params)",
            common=f"def format_params(kwargs):\n    return [{PAIRS}]",
        ),
    ),
)

TRIGGER_COMMAND = """
import json
import subprocess
import time

import click


<<module>>


@click.command()
@click.option("--deployer-attribute-file", default=None)
@click.pass_obj
def trigger(obj, deployer_attribute_file=None):
    <<body>>
"""

WRITE = """with open(deployer_attribute_file, "w") as f:  #@
    json.dump({"name": obj.name, "flow_name": obj.flow_name, "metadata": "{}"}, f)"""

WRITE_FIRST = """with open(deployer_attribute_file, "w") as f:
    json.dump({"name": obj.name, "flow_name": obj.flow_name, "metadata": "{}"}, f)"""

# A runner started with its output away from trigger's pipes (the attribute file is the point).
DETACHED_MODULE = (
    "import os\n\nDETACHED = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
    "start_new_session=True)"
)

AFTER_RUN_SHAPES = (
    (
        "waitpid",
        Shape(
            module=DETACHED_MODULE,
            body="driver = subprocess.Popen([obj.python, obj.driver, obj.name], **DETACHED)\n"
            "os.waitpid(driver.pid, 0)\n" + WRITE,
        ),
    ),
    (
        "waitpid-helper-record",
        Shape(
            module=DETACHED_MODULE + "\n\n\ndef start_run(obj):\n"
            "    driver = subprocess.Popen([obj.python, obj.driver, obj.name], **DETACHED)\n"
            '    return {"driver_pid": driver.pid}',
            body='record = start_run(obj)\nos.waitpid(record["driver_pid"], 0)\n' + WRITE,
        ),
    ),
    (
        "os-wait",
        Shape(
            module=DETACHED_MODULE,
            body="subprocess.Popen([obj.python, obj.driver, obj.name], **DETACHED)\nos.wait()\n"
            + WRITE,
        ),
    ),
    (
        "polling-loop",
        Shape(
            body="execution = obj.client.start(obj.name)\n"
            "while not obj.client.is_done(execution):\n    time.sleep(10)\n" + WRITE
        ),
    ),
    (
        "subprocess-run",
        Shape(
            body='subprocess.run(["python", obj.flow_file, "--no-pylint", "run"], check=True)\n'
            + WRITE
        ),
    ),
    (
        "wait-helper",
        Shape(
            module="def _wait(client, execution):\n"
            "    while not client.is_done(execution):\n        time.sleep(10)",
            body="execution = obj.client.start(obj.name)\n_wait(obj.client, execution)\n" + WRITE,
        ),
    ),
    (
        "wait-for-call",
        Shape(
            body="execution = obj.client.start(obj.name)\n"
            "obj.client.wait_for_completion(execution)\n" + WRITE
        ),
    ),
    (
        "write-text",
        Shape(
            body="execution = obj.client.start(obj.name)\n"
            "while not obj.client.is_done(execution):\n    time.sleep(10)\n"
            "payload = json.dumps({'name': obj.name, 'metadata': '{}'})\n"
            "Path(deployer_attribute_file).write_text(payload)  #@",
            module="from pathlib import Path",
        ),
    ),
    (
        "guarded-write",
        Shape(
            body="execution = obj.client.start(obj.name)\n"
            "while not obj.client.is_done(execution):\n    time.sleep(10)\n"
            "if deployer_attribute_file:  #@\n" + "\n".join("    " + w for w in WRITE.split("\n"))
        ),
    ),
    (
        "wait-helper-split",
        Shape(
            module="from myscheduler_ext.common import wait_until_done",
            body="execution = obj.client.start(obj.name)\n"
            "wait_until_done(obj.client, execution)\n" + WRITE,
            common="import time\n\n\ndef wait_until_done(client, execution):\n"
            "    while not client.is_done(execution):\n        time.sleep(10)",
        ),
    ),
    (
        "run-helper-chain",
        Shape(
            module="def _run_to_end(obj):\n"
            "    execution = obj.client.start(obj.name)\n"
            "    _poll(obj.client, execution)\n"
            "    return execution\n\n\n"
            "def _poll(client, execution):\n"
            "    while not client.is_done(execution):\n        time.sleep(10)",
            body="_run_to_end(obj)\n" + WRITE,
        ),
    ),
    (
        "popen-wait",
        Shape(
            body='proc = subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"])\n'
            "proc.wait()\n" + WRITE
        ),
    ),
    (
        "popen-communicate",
        Shape(
            body="out, err = subprocess.Popen(\n"
            '    ["python", obj.flow_file, "--no-pylint", "run"],\n'
            "    stdout=subprocess.PIPE,\n    stderr=subprocess.PIPE,\n).communicate()\n" + WRITE
        ),
    ),
    (
        "popen-context",
        Shape(
            body='with subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"]) as proc:\n'
            "    obj.record(proc.pid)\n" + WRITE
        ),
    ),
    (
        "popen-wait-helper",
        Shape(
            module="def _start(obj):\n"
            '    return subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"])',
            body="proc = _start(obj)\nproc.wait()\n" + WRITE,
        ),
    ),
    (
        "popen-wait-split",
        Shape(
            module="from myscheduler_ext.common import start_run",
            body="proc = start_run(obj.flow_file)\nproc.wait()\n" + WRITE,
            common="import subprocess\n\n\ndef start_run(flow_file):\n"
            '    return subprocess.Popen(["python", flow_file, "--no-pylint", "run"])',
        ),
    ),
)

WRITE_FIRST_SHAPES = (
    (
        "popen-not-waited",
        Shape(
            module=DETACHED_MODULE,
            body='proc = subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"], **DETACHED)\n'
            "obj.record(proc.pid)\n" + WRITE_FIRST,
        ),
    ),
    (
        "popen-wait-other-tool",
        Shape(
            body='proc = subprocess.Popen(["kubectl", "apply", "-f", obj.manifest])\n'
            "proc.wait()\n" + WRITE_FIRST
        ),
    ),
    (
        "double-fork-popen-wait",
        Shape(
            module=DETACHED_MODULE,
            body="pid = os.fork()\nif pid == 0:\n    if os.fork() == 0:\n"
            '        run = ["python", obj.flow_file, "--no-pylint", "run"]\n'
            "        subprocess.Popen(run, **DETACHED).wait()\n"
            "    os._exit(0)\nos.waitpid(pid, 0)\n" + WRITE_FIRST,
        ),
    ),
    (
        "write-then-communicate",
        Shape(
            body=WRITE_FIRST
            + '\nproc = subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"])\n'
            "proc.communicate()"
        ),
    ),
    (
        "double-fork",
        Shape(
            module="import os",
            body="pid = os.fork()\nif pid == 0:\n    if os.fork() == 0:\n"
            "        os.execv(obj.python, [obj.python, obj.driver, obj.name])\n"
            "    os._exit(0)\nos.waitpid(pid, 0)\n" + WRITE_FIRST,
        ),
    ),
    (
        "waitpid-nohang",
        Shape(
            module=DETACHED_MODULE,
            body="driver = subprocess.Popen([obj.python, obj.driver, obj.name], **DETACHED)\n"
            "os.waitpid(driver.pid, os.WNOHANG)\n" + WRITE_FIRST,
        ),
    ),
    (
        "submit-only",
        Shape(body="execution = obj.client.start(obj.name)\n" + WRITE_FIRST),
    ),
    (
        "write-then-wait",
        Shape(
            body=WRITE_FIRST + "\nexecution = obj.client.start(obj.name)\n"
            "while not obj.client.is_done(execution):\n    time.sleep(10)"
        ),
    ),
    (
        "detached-runner",
        Shape(
            body='subprocess.Popen(["python", obj.flow_file, "--no-pylint", "run"],\n'
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n" + WRITE_FIRST
        ),
    ),
    (
        "loop-not-waiting",
        Shape(
            body="for attempt in range(3):\n"
            "    if obj.client.ping():\n        break\n    time.sleep(1)\n"
            "execution = obj.client.start(obj.name)\n" + WRITE_FIRST
        ),
    ),
    (
        "helper-submits",
        Shape(
            module="def _submit(client, name):\n    return client.start(name)",
            body="execution = _submit(obj.client, obj.name)\n" + WRITE_FIRST,
        ),
    ),
)

CREATE_COMMAND = """
import json
import time

import click


<<module>>


@click.command()
@click.option("--deployer-attribute-file", default=None)
@click.pass_obj
def create(obj, deployer_attribute_file=None):
    <<body>>
"""

# create may wait for the scheduler to index the deployment before writing the file (issue 8,
# class 8: Deployer.create() waits for the file with the same timeout, a late write works).
CREATE_SHAPES = (
    (
        "wait-for-index",
        Shape(
            body="obj.client.deploy(obj.name, obj.spec)\n"
            "while not obj.client.is_indexed(obj.name):\n    time.sleep(1)\n" + WRITE_FIRST
        ),
    ),
    (
        "wait-helper",
        Shape(
            module="def _wait_for_index(client, name):\n"
            "    while not client.is_indexed(name):\n        time.sleep(1)",
            body="obj.client.deploy(obj.name, obj.spec)\n"
            "_wait_for_index(obj.client, obj.name)\n" + WRITE_FIRST,
        ),
    ),
)

STEP_BUILDER = """
import os
import subprocess
import sys

<<module>>


def run_step(flow_file, step_name, run_id, task_id, input_paths, tag, sysroot):
    <<body>>
"""

CORRECT_STEP = """cmd = [sys.executable, flow_file, "--no-pylint", "step", step_name, "--tag", tag]
cmd += ["--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths]
return cmd"""

# Strings that show a command without being one: examples, messages, help (issue 8, class 7).
DATA_SHAPES = (
    (
        "docstring",
        Shape(
            body='"""Not: python flow.py --tag T step NAME --run-id R --task-id T --input-paths P'
            '"""\n' + CORRECT_STEP
        ),
    ),
    (
        "message-constant",
        Shape(
            module='WRONG_ORDER = "python flow.py --tag x step start --run-id 1 --task-id 2"',
            body="if not tag:\n    raise ValueError('tags go after the step name, not: ' + "
            "WRONG_ORDER)\n" + CORRECT_STEP,
        ),
    ),
    (
        "code-example-string",
        Shape(
            module='EXAMPLE = """cmd = [sys.executable, "flow.py", "--tag", "x", "step", "start",'
            ' "--run-id", "1", "--task-id", "2", "--input-paths", "p"]"""',
            body=CORRECT_STEP,
        ),
    ),
    (
        "click-help",
        Shape(
            module="import click\n\n"
            'tag_option = click.option("--tag", "tags", multiple=True, help="--tag before step")',
            body=CORRECT_STEP,
        ),
    ),
)

RUN_STEP = """subprocess.run(
    [sys.executable, flow_file, "--no-pylint", "step", step_name, "--run-id", run_id,
     "--task-id", task_id, "--input-paths", input_paths],
    env=env,
    check=True,
)"""

# The step gets the worker's whole environment, spelled in ways other than dict(os.environ);
# and a scratch environment for a command that is not a step.
INHERITED_SHAPES = (
    (
        "update-from-environ",
        Shape(
            body='env = {}\nenv.update(os.environ)\nenv["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = sysroot\n'
            + RUN_STEP
        ),
    ),
    (
        "base-env-helper",
        Shape(
            module="def _base_env():\n    return dict(os.environ)",
            body='env = _base_env()\nenv["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = sysroot\n'
            + RUN_STEP,
        ),
    ),
    (
        "merged-literal",
        Shape(
            body='env = {**os.environ, "METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot}\n' + RUN_STEP
        ),
    ),
    (
        "other-tool",
        Shape(
            body='env = {"KUBECONFIG": os.path.join(sysroot, "kubeconfig")}\n'
            'subprocess.run(["kubectl", "apply", "-f", flow_file], env=env, check=True)'
        ),
    ),
)

# A runner that hands on the deploy-time @project options from its plan (MFK102): forwarding
# --production when it was given but never --branch loses the branch a flow was deployed with.
PROJECT_RUNNER = """
import os
import sys

<<module>>


class Runner:
    def __init__(self, plan):
        self.plan = plan

    def step_cmd(self, step_name, run_id, task_id, input_paths):
        <<body>>
"""

PROJECT_TOP = """def top_level(plan):
    cmd = [sys.executable, plan["flow_file"], "--no-pylint"]
<<branch>>    if plan["project"].get("production"):
        cmd += ["--production"]
    return cmd"""
PROJECT_BRANCH = """    if plan["project"].get("branch"):
        cmd += ["--branch", plan["project"]["branch"]]
"""
TASK_WORDS = '"--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths'
STEP_FROM_TOP = (
    'return top_level(self.plan) + [\n    "step", step_name,  #@\n    %s,\n]' % TASK_WORDS
)

PRODUCTION_ONLY_SHAPES = (
    ("helper", Shape(module=PROJECT_TOP.replace("<<branch>>", ""), body=STEP_FROM_TOP)),
    (
        "starred",
        Shape(
            body='production = self.plan["project"].get("production")\n'
            'return [sys.executable, self.plan["flow_file"], *(["--production"] if production '
            'else []),\n    "step", step_name,  #@\n    %s]' % TASK_WORDS
        ),
    ),
    (
        "append",
        Shape(
            body='cmd = [sys.executable, self.plan["flow_file"]]\n'
            'if self.plan["project"].get("production"):\n    cmd.append("--production")\n'
            'cmd += ["step", step_name,  #@\n    %s]\nreturn cmd' % TASK_WORDS
        ),
    ),
    (
        "init",
        Shape(
            module=PROJECT_TOP.replace("<<branch>>", ""),
            body='return top_level(self.plan) + ["init",  #@\n    "--run-id", run_id, '
            '"--task-id", task_id]',
        ),
    ),
)

PROJECT_FORWARDED_SHAPES = (
    ("both", Shape(module=PROJECT_TOP.replace("<<branch>>", PROJECT_BRANCH), body=STEP_FROM_TOP)),
    (
        "always-production",
        Shape(
            body='return [sys.executable, self.plan["flow_file"], "--production",\n'
            '    "step", step_name, %s]' % TASK_WORDS
        ),
    ),
    (
        "branch-in-env",
        Shape(
            module=PROJECT_TOP.replace("<<branch>>", "")
            + "\n\n\ndef step_env(plan):\n    env = dict(os.environ)\n"
            '    env["METAFLOW_FLOW_BRANCH"] = plan["project"]["branch"] or ""\n    return env',
            body=STEP_FROM_TOP.replace("  #@", ""),
        ),
    ),
)

# A runner whose plan dict carries the @project branch (MFK102): init passes it from the plan,
# a step command built where the same plan is in reach does not.
PLAN_RUNNER = """
import sys

<<module>>


class Runner:
    def __init__(self, plan):
        self.plan = plan

    def init_cmd(self, run_id):
        cmd = [sys.executable, self.plan["flow_file"]]
        if self.plan.get("branch"):
            cmd += ["--branch", self.plan["branch"]]
        return cmd + ["init", "--run-id", run_id, "--task-id", "params"]

    def step_cmd(self, step_name, run_id, task_id, input_paths):
        <<body>>
"""

PLAN_WITHOUT_BRANCH_SHAPES = (
    (
        "list",
        Shape(
            body='return [sys.executable, self.plan["flow_file"],\n    "step", step_name,  #@\n'
            "    %s]" % TASK_WORDS
        ),
    ),
    (
        "append",
        Shape(
            body='cmd = [sys.executable, self.plan["flow_file"]]\n'
            'cmd += ["step", step_name,  #@\n    %s]\nreturn cmd' % TASK_WORDS
        ),
    ),
    (
        "plan-in-local",
        Shape(
            body="plan = self.plan\n"
            'top = [sys.executable, plan["flow_file"], "--no-pylint"]\n'
            'return top + ["step", step_name,  #@\n    %s]' % TASK_WORDS
        ),
    ),
)

PLAN_WITH_BRANCH_SHAPES = (
    (
        "append",
        Shape(
            body='cmd = [sys.executable, self.plan["flow_file"]]\n'
            'if self.plan.get("branch"):\n    cmd += ["--branch", self.plan["branch"]]\n'
            'cmd += ["step", step_name, %s]\nreturn cmd' % TASK_WORDS
        ),
    ),
    (
        "starred",
        Shape(
            body='branch = self.plan.get("branch")\n'
            'return [sys.executable, self.plan["flow_file"], *(["--branch", branch] if branch '
            'else []),\n    "step", step_name, %s]' % TASK_WORDS
        ),
    ),
    (
        "helper-without-the-plan",
        Shape(
            module="def step_words(step_name, run_id, task_id, input_paths):\n"
            '    return ["step", step_name, %s]' % TASK_WORDS,
            body='top = [sys.executable, self.plan["flow_file"]]\n'
            'if self.plan.get("branch"):\n    top += ["--branch", self.plan["branch"]]\n'
            "return top + step_words(step_name, run_id, task_id, input_paths)",
        ),
    ),
)

# A runner's attempt loop (MFK401): the loop index already counts from 0, as --retry-count does.
ATTEMPT_LOOP = """
import subprocess
import sys

<<module>>


def run_task(flow_file, step_name, run_id, task_id, input_paths, attempts):
    <<body>>
"""

HEAD = (
    'cmd = [sys.executable, flow_file, "step", step_name, "--run-id", run_id,\n'
    '       "--task-id", task_id, "--input-paths", input_paths,\n'
)


def _attempts(value: str, before: str = "", loop: str = "for attempt in range(attempts):") -> str:
    """A loop that runs the step command with ``--retry-count value`` until it succeeds
    (``value`` may end with the anchor, which must end its line)."""
    head = HEAD.replace("\n", "\n    ")
    word, anchor = (value[:-4], value[-4:]) if value.endswith("  #@") else (value, "")
    return (
        '%s\n    %s%s       "--retry-count", %s]%s\n'
        "    if subprocess.run(cmd).returncode == 0:\n        return"
        % (loop, before, head, word, anchor)
    )


SHIFTED_SHAPES = (
    ("inline", Shape(body=_attempts("str(attempt + 1)  #@"))),
    ("fstring", Shape(body=_attempts('f"{attempt + 1}"  #@'))),
    ("variable", Shape(body=_attempts("str(retry)", "retry = attempt + 1  #@\n    "))),
    (
        "enumerate",
        Shape(
            body=_attempts(
                "str(1 + number)  #@", loop="for number, _ in enumerate(range(attempts)):"
            )
        ),
    ),
    (
        "helper-parameter",
        Shape(
            module="def step_cmd(flow_file, step_name, run_id, task_id, input_paths, attempt):\n"
            "    "
            + HEAD.replace("\n", "\n    ")
            + '       "--retry-count", str(attempt + 1)]  #@\n'
            "    return cmd",
            body="for attempt in range(attempts):\n    subprocess.run(step_cmd(flow_file, "
            "step_name, run_id, task_id, input_paths, attempt), check=True)",
        ),
    ),
)

ZERO_BASED_SHAPES = (
    ("index", Shape(body=_attempts("str(attempt)"))),
    (
        "from-one-minus-one",
        Shape(body=_attempts("str(attempt - 1)", loop="for attempt in range(1, attempts + 1):")),
    ),
    (
        "shown-one-based",
        Shape(
            body=_attempts(
                "str(attempt)", 'print("attempt %d of %d" % (attempt + 1, attempts))\n    '
            )
        ),
    ),
    (
        "counter-from-one",
        Shape(
            body="attempt = 0\n"
            + _attempts("str(attempt - 1)", "attempt += 1\n    ", loop="while attempt < attempts:")
        ),
    ),
)

# The trigger command's options handed to Metaflow's click API (MFK301): an option that takes
# several values accepts a list or a one-element tuple, any other tuple fails the type check.
GROUP = (
    "get_lower_level_group(\n    self.deployer.api, self.deployer.top_level_kwargs, "
    "self.deployer.TYPE, self.deployer.deployer_kwargs\n)"
)
CLICK_API = "from metaflow.runner.utils import get_lower_level_group"

CLICK_TUPLE_SHAPES = (
    (
        "chained",
        Shape(
            module=CLICK_API,
            body="return %s.trigger(\n    deployer_attribute_file=path,\n"
            "    run_param=tuple(%s),  #@\n)" % (GROUP, '"%s=%s" % kv for kv in kwargs.items()'),
        ),
    ),
    (
        "group-variable",
        Shape(
            module=CLICK_API,
            body='group = %s\npairs = tuple(sorted("%%s=%%s" %% kv for kv in kwargs.items()))\n'
            "return group.trigger(deployer_attribute_file=path, run_param=pairs)  #@" % GROUP,
        ),
    ),
    (
        "tags-literal",
        Shape(
            module=CLICK_API,
            body='return %s.trigger(deployer_attribute_file=path, tag=("a", "b"))  #@' % GROUP,
        ),
    ),
)

CLICK_LIST_SHAPES = (
    (
        "list",
        Shape(
            module=CLICK_API,
            body="return %s.trigger(\n    deployer_attribute_file=path,\n"
            '    run_param=["%%s=%%s" %% kv for kv in kwargs.items()],\n)' % GROUP,
        ),
    ),
    (
        "one-element",
        Shape(
            module=CLICK_API,
            body='return %s.trigger(deployer_attribute_file=path, tag=("a",))' % GROUP,
        ),
    ),
    (
        "converted",
        Shape(
            module=CLICK_API,
            body='pairs = tuple("%%s=%%s" %% kv for kv in kwargs.items())\n'
            "return %s.trigger(deployer_attribute_file=path, run_param=list(pairs))" % GROUP,
        ),
    ),
    (
        "not-the-click-api",
        Shape(body='return self._start(run_param=tuple("%s=%s" % kv for kv in kwargs.items()))'),
    ),
)

# What hands the flow's configs to the step (MFK201), decided from what the code does: reading
# them, or naming them, is no hand-over.
RUN_STEP_AT = RUN_STEP.replace(
    '[sys.executable, flow_file, "--no-pylint", "step", step_name, "--run-id", run_id,',
    '[sys.executable, flow_file, "--no-pylint", "step", step_name, "--run-id", run_id,  #@',
)
CONFIGS_READ_SHAPES = (
    (
        "read-into-a-plan",
        Shape(
            module="from metaflow.flowspec import FlowStateItems\n\n\n"
            "def plan_configs(flow):\n"
            '    return {"config_value": dict(flow._flow_state[FlowStateItems.CONFIGS] or {})}',
            body="env = dict(os.environ)\n" + RUN_STEP_AT,
        ),
    ),
    (
        "project-options-only",
        Shape(
            module="def top_options(flow):\n    options = {}\n"
            '    for deco in flow._flow_decorators.get("project", []):\n'
            "        options.update(deco.get_top_level_options())\n    return options",
            body="env = dict(os.environ)\n" + RUN_STEP_AT,
        ),
    ),
    (
        "named-only",
        Shape(
            module="config_value = None  # filled in when the flow has Configs",
            body="env = dict(os.environ)\n" + RUN_STEP_AT,
        ),
    ),
)

CONFIGS_PASSED_SHAPES = (
    (
        "helper-dict",
        Shape(
            module="import json\n\n\ndef config_env(configs):\n"
            '    return {"METAFLOW_FLOW_CONFIG_VALUE": json.dumps(configs)}',
            body="env = dict(os.environ)\nenv.update(config_env({}))\n" + RUN_STEP,
        ),
    ),
    (
        "other-module",
        Shape(
            common="import json\nimport os\n\n\ndef step_env(configs):\n"
            "    env = dict(os.environ)\n"
            '    env["METAFLOW_FLOW_CONFIG_VALUE"] = json.dumps(configs)\n    return env',
            module="from .common import step_env",
            body="env = step_env({})\n" + RUN_STEP,
        ),
    ),
    (
        "config-value-option",
        Shape(
            body="env = dict(os.environ)\nsubprocess.run(\n"
            '    [sys.executable, flow_file, "--config-value", "cfg", sysroot, "step", step_name,\n'
            '     "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths],\n'
            "    env=env,\n    check=True,\n)"
        ),
    ),
    (
        "dict-to-cli-options",
        Shape(
            module="from metaflow.util import dict_to_cli_options",
            body='top = list(dict_to_cli_options({"config_value": {}}))\n'
            "env = dict(os.environ)\nsubprocess.run(\n"
            '    [sys.executable, flow_file, *top, "step", step_name,\n'
            '     "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths],\n'
            "    env=env,\n    check=True,\n)",
        ),
    ),
)

# A compute backend's own `<name> step` (MFK101, MFK401): it gets the task options from the
# runtime in **kwargs and hands them on to the core step with dict_to_cli_options; the runtime's
# retry_count is already the 0-based attempt.
BACKEND_STEP = """
import click
from metaflow import util

<<module>>


@click.group()
def cli():
    pass


@cli.group(name="mybackend")
def mybackend():
    pass


@mybackend.command()
@click.argument("step-name")
@click.option("--run-id")
@click.option("--task-id")
@click.option("--retry-count", default=0)
@click.option("--max-user-code-retries", default=0)
def step(step_name, **kwargs):
    <<body>>
"""
FORWARD = (
    'step_args = " ".join(util.dict_to_cli_options(kwargs))\n'
    'submit("python flow.py step %s %s" % (step_name, step_args))'
)


def _override(value: str, before: str = "") -> Shape:
    return Shape(body='%skwargs["retry_count"] = %s  #@\n%s' % (before, value, FORWARD))


BACKEND_CONSTANT_SHAPES = (
    ("zero", _override("0")),
    ("zero-string", _override('"0"')),
    ("module-constant", Shape(module="FIRST_ATTEMPT = 0", body=_override("FIRST_ATTEMPT").body)),
)
BACKEND_PLUS_ONE_SHAPES = (
    ("get-plus-one", _override('int(kwargs.get("retry_count") or 0) + 1')),
    ("subscript-plus-one", _override('int(kwargs["retry_count"]) + 1')),
    ("one-plus", _override('1 + kwargs["retry_count"]')),
    ("via-variable", _override("attempt + 1", 'attempt = int(kwargs["retry_count"])\n')),
)
BACKEND_FORWARDED_SHAPES = (
    ("unchanged", Shape(body=FORWARD)),
    (
        "normalised",
        Shape(body='kwargs["retry_count"] = int(kwargs.get("retry_count") or 0)\n' + FORWARD),
    ),
    ("other-option", Shape(body='kwargs["input_paths"] = "${INPUT_PATHS}"\n' + FORWARD)),
    (
        "after-the-forward",
        Shape(body=FORWARD + '\nkwargs["retry_count"] = 0  # the local record starts over'),
    ),
    (
        "shown-one-based",
        Shape(
            body='attempt = int(kwargs.get("retry_count") or 0)\n'
            'print("attempt %d" % (attempt + 1))\n' + FORWARD
        ),
    ),
)

# Generated code completed by the generator (issue 8, the real shapes behind docs/real-world.md's
# "Known misses"): a module constant rendered by its one ``.format``/``%``, the top-level words
# a helper builds written out with ``{top_args!r}``, source fragments joined with ``", "``
# among a generated list's elements, a bash template field filled with ``" ".join(parts)``.
COMPILER = """
import sys

<<module>>


class Compiler:
    def __init__(self, flow_file, namespace, origin_run_id):
        self.flow_file = flow_file
        self.namespace = namespace
        self.origin_run_id = origin_run_id

    <<body>>
"""

WRITE_OUT = """def compile(self, path):
    with open(path, "w") as f:
        f.write(%s)"""


def _preamble(command: str, fields: str = "") -> str:
    """A generated module kept in a constant and rendered with ``.format`` (``{{``/``}}``
    are its braces): ``command`` builds ``cmd`` in its ``run`` function."""
    return (
        "PREAMBLE = '''\\\n"
        "import subprocess\n"
        "import sys\n\n"
        "FLOW_FILE = {flow_file!r}\n"
        "ORIGIN_RUN_ID = {origin_run_id!r}\n"
        "TOP_ARGS = {top_args!r}\n"
        f"{fields}"
        'EXTRA_ENV = {{"SCHEDULER_RUN": "1"}}\n\n\n'
        "def run(run_id, step_name, task_id, input_paths):\n"
        f"{command}\n"
        "    subprocess.run(cmd, check=True, env=dict(EXTRA_ENV))\n"
        "'''"
    )


def _top_args(extra: str = "", more: str = "") -> str:
    """The helper that builds the top-level words, and the method that renders the module."""
    return (
        "def top_args(self):\n"
        '    args = ["--quiet", "--no-pylint"]\n'
        f"{extra}"
        "    return args\n\n"
        + WRITE_OUT
        % (
            "PREAMBLE.format(\n"
            "            flow_file=self.flow_file,\n"
            "            origin_run_id=self.origin_run_id,\n"
            "            top_args=self.top_args(),\n"
            f"{more}"
            "        )"
        )
    )


NAMESPACE_ON_TOP = (
    '    if self.namespace:\n        args.append(f"--namespace={self.namespace}")  #@\n'
)
INIT_WORDS = '["init", "--run-id", run_id, "--task-id", "params"]'
STEP_WORDS = (
    '["step", step_name, "--run-id", run_id, "--task-id", task_id, "--input-paths", input_paths]'
)

STEP_SCRIPT = """STEP_SCRIPT = '''\\
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
'''"""


def _fragments(top_extra: str = "", step_extra: str = "") -> str:
    """Source fragments for the top-level options and the step's, joined with ``", "`` and
    pasted among the elements of the generated command."""
    return (
        "def top_args_source(self):\n"
        "    args = ['\"--quiet\"', '\"--no-pylint\"']\n"
        f"{top_extra}"
        '    return ", ".join(args)\n\n'
        "def step_args_source(self, step_name):\n"
        "    args = ['\"step\"', repr(step_name), '\"--run-id\"', 'os.environ[\"RUN_ID\"]']\n"
        "    args += ['\"--task-id\"', 'os.environ[\"TASK_ID\"]']\n"
        "    args += ['\"--input-paths\"', 'os.environ[\"INPUT_PATHS\"]']\n"
        f"{step_extra}"
        '    return ", ".join(args)\n\n'
        "def step_script(self, step_name, env_vars):\n"
        '    entries = "\\n".join("    %r: %r," % (k, v) for k, v in env_vars.items())\n'
        "    return STEP_SCRIPT % {\n"
        '        "env_entries": entries,\n'
        '        "flow_file": self.flow_file,\n'
        '        "top_args": self.top_args_source(),\n'
        '        "step_args": self.step_args_source(step_name),\n'
        "    }"
    )


NAMESPACE_PARTS = "    if namespace:\n        %s += ['\"--namespace\"', repr(namespace)]"
NAMESPACE_FRAGMENT = (
    "    if self.namespace:\n        args.append('\"--namespace=%s\"' % self.namespace)"
)


def _bash(words: str, script_line: str, via_constant: bool) -> Shape:
    """A bash script whose command line is completed around ``" ".join(parts)``."""
    script = (
        "'''\\\n#!/bin/bash\nset -e\n"
        'if [ -n "$ORIGIN_RUN_ID" ]; then\n'
        f"  {script_line}\n"
        "else\n  {command}\nfi\n'''"
    )
    builder = (
        "def script(self):\n"
        f'    parts = ["python3", self.flow_file, "--no-pylint"]\n{words}'
        '    command = " ".join(parts)\n'
    )
    if via_constant:
        return Shape(
            module=f"SCRIPT = {script}",
            body=builder + "    return SCRIPT.format(command=command)",
        )
    return Shape(body=builder + f"    return {script}.format(command=command)")


def _bash_shapes(words: str, script_line: str) -> tuple[tuple[str, Shape], ...]:
    """The script as a literal rendered in place, and as a module constant."""
    return (
        ("join-into-bash-literal", _bash(words, script_line, via_constant=False)),
        ("join-into-bash-constant", _bash(words, script_line, via_constant=True)),
    )


def _bash_helper(top_extra: str, step_line: str) -> Shape:
    """The joined words come from a helper; the template adds the task options."""
    return Shape(
        module="SCRIPT = '''\\\n#!/bin/bash\nset -e\n" + step_line + "\n'''",
        body="def base_command(self, step_name):\n"
        '    parts = ["python3", self.flow_file, "--no-pylint"]\n'
        f"{top_extra}"
        '    parts += ["step", step_name]\n'
        '    return " ".join(parts)\n\n'
        "def script(self, step_name):\n"
        "    return SCRIPT.format(command=self.base_command(step_name))",
    )


BASH_INIT = '    parts += ["init", "--run-id", "$RUN_ID", "--task-id", "params"]\n'
BASH_STEP = (
    '    parts += ["step", "start", "--run-id", "$RUN_ID", "--task-id", "t-1"]\n'
    '    parts += ["--input-paths", "$RUN_ID/_parameters/params"]\n'
)
BASH_TASK_LINE = '{command} --run-id "$RUN_ID" --task-id "$TASK_ID" --input-paths "$INPUT_PATHS"'
CLONE_ON_INIT = '    if ORIGIN_RUN_ID:\n        cmd += ["--clone-run-id", ORIGIN_RUN_ID]'


def _through_parameters(top_extra: str, step_extra: str) -> Shape:
    """Fragments joined into list sources that a helper returns as a tuple; the caller
    unpacks it and hands each on, through parameters, to the templates of a preamble and a
    block pasted into each other."""
    return Shape(
        module="HEADER = '''\\\nimport os\nimport subprocess\nimport sys\n'''\n\n\n"
        "def command_lists(flow_file, namespace, step_name):\n"
        "    top_parts = ['sys.executable', repr(flow_file), '\"--no-pylint\"']\n"
        f"{top_extra}"
        "    step_parts = ['\"step\"', repr(step_name), '\"--run-id\"', 'run_id']\n"
        "    step_parts += ['\"--task-id\"', 'task_id']\n"
        f"{step_extra}"
        '    top_list = "[\\n        %s,\\n    ]" % ",\\n        ".join(top_parts)\n'
        '    step_list = "[\\n        %s,\\n    ]" % ",\\n        ".join(step_parts)\n'
        "    return top_list, step_list\n\n\n"
        "def preamble(step_name, top_list):\n"
        "    return '''{header}\n"
        "def run_{step_name}(run_id, task_id, input_paths):\n"
        "    env = os.environ.copy()\n"
        "    top_cmd = {top_list}\n"
        "'''.format(header=HEADER, step_name=step_name, top_list=top_list)\n\n\n"
        "def step_block(step_name, top_list, step_list):\n"
        "    return '''{preamble}\n"
        "    step_cmd = {step_list}\n"
        '    step_cmd += ["--input-paths", input_paths]\n'
        "    subprocess.run(top_cmd + step_cmd, env=env, check=True)\n"
        "'''.format(preamble=preamble(step_name, top_list), step_list=step_list)",
        body="def block(self, step_name):\n"
        "    top_list, step_list = command_lists(self.flow_file, self.namespace, step_name)\n"
        "    return step_block(step_name, top_list, step_list)",
    )


def _generated_shapes(wrong: bool) -> tuple[tuple[str, Shape], ...]:
    """The generated-code shapes with the option on the wrong side of the subcommand (the
    finding's line marked), or each option on its own side (the correct look-alike)."""
    anchor = "  #@" if wrong else ""
    if wrong:
        repr_list = Shape(
            module=_preamble(f"    cmd = [sys.executable, FLOW_FILE] + TOP_ARGS + {INIT_WORDS}"),
            body=_top_args(NAMESPACE_ON_TOP),
        )
    else:
        repr_list = Shape(
            module=_preamble(
                f"    cmd = [sys.executable, FLOW_FILE] + TOP_ARGS + {STEP_WORDS}\n"
                "    cmd += STEP_ARGS",
                fields="STEP_ARGS = {step_args!r}\n",
            ),
            body=_top_args(
                '    args.append("--with=retry")\n', "            step_args=self.step_args(),\n"
            )
            + "\n\ndef step_args(self):\n"
            "    args = []\n"
            "    if self.namespace:\n"
            '        args.append(f"--namespace={self.namespace}")\n'
            "    return args",
        )
    words = INIT_WORDS if wrong else STEP_WORDS
    clone = Shape(
        module=_preamble(
            f"    cmd = [sys.executable, FLOW_FILE] + TOP_ARGS + {words}\n" + CLONE_ON_INIT + anchor
        ),
        body=_top_args(),
    )
    fragment = NAMESPACE_FRAGMENT + anchor + "\n"
    fragments = _fragments(top_extra=fragment) if wrong else _fragments(step_extra=fragment)
    helper = (
        _bash_helper(
            '    if self.namespace:\n        parts += ["--namespace", self.namespace]  #@\n',
            BASH_TASK_LINE,
        )
        if wrong
        else _bash_helper(
            '    parts += ["--with", "retry"]\n',
            BASH_TASK_LINE + ' ${NAMESPACE:+--namespace "$NAMESPACE"}',
        )
    )
    return (
        ("format-constant-repr-list", repr_list),
        ("format-constant-clone-on-" + ("init" if wrong else "step"), clone),
        ("fragments-among-elements", Shape(module=STEP_SCRIPT, body=fragments)),
        *_bash_shapes(
            BASH_INIT if wrong else BASH_STEP, '{command} --clone-run-id "$ORIGIN_RUN_ID"' + anchor
        ),
        ("join-from-helper-into-bash", helper),
        (
            "fragments-through-parameters",
            _through_parameters(
                NAMESPACE_PARTS % "top_parts" + anchor + "\n" if wrong else "",
                "" if wrong else NAMESPACE_PARTS % "step_parts" + "\n",
            ),
        ),
    )


TEXT_SEEDS = (
    TextSeed(
        "MFK301",
        "run-params-tuple",
        True,
        DEPLOYED_FLOW,
        TUPLE_SHAPES,
        "run params handed to _trigger as a tuple",
    ),
    TextSeed(
        "MFK301",
        "run-params-list",
        False,
        DEPLOYED_FLOW,
        LIST_SHAPES,
        "run params handed on as a list",
    ),
    TextSeed(
        "MFK303",
        "attribute-file-after-run",
        True,
        TRIGGER_COMMAND,
        AFTER_RUN_SHAPES,
        "trigger writes the attribute file after the run",
    ),
    TextSeed(
        "MFK303",
        "attribute-file-first",
        False,
        TRIGGER_COMMAND,
        WRITE_FIRST_SHAPES,
        "trigger writes the attribute file before anything waits",
    ),
    TextSeed(
        "MFK303",
        "create-waits-for-index",
        False,
        CREATE_COMMAND,
        CREATE_SHAPES,
        "create waits for the deployment to be indexed, then writes the file",
    ),
    TextSeed(
        "MFK103",
        "command-shown-in-data",
        False,
        STEP_BUILDER,
        DATA_SHAPES,
        "a wrong command only in a docstring, a message, a code example or help text",
        "scheduler.py",
    ),
    TextSeed(
        "MFK206",
        "worker-env-inherited",
        False,
        STEP_BUILDER,
        INHERITED_SHAPES,
        "the worker's environment reaches the step; a scratch env for another tool",
        "scheduler.py",
    ),
    TextSeed(
        "MFK102",
        "production-without-branch",
        True,
        PROJECT_RUNNER,
        PRODUCTION_ONLY_SHAPES,
        "--production forwarded when it was given, --branch never",
        "scheduler.py",
    ),
    TextSeed(
        "MFK102",
        "plan-branch-not-forwarded",
        True,
        PLAN_RUNNER,
        PLAN_WITHOUT_BRANCH_SHAPES,
        "init passes the plan's branch, a step command in reach of the plan does not",
        "scheduler.py",
    ),
    TextSeed(
        "MFK102",
        "plan-branch-forwarded",
        False,
        PLAN_RUNNER,
        PLAN_WITH_BRANCH_SHAPES,
        "the plan's branch passed by every command",
        "scheduler.py",
    ),
    TextSeed(
        "MFK102",
        "production-and-branch",
        False,
        PROJECT_RUNNER,
        PROJECT_FORWARDED_SHAPES,
        "both @project options forwarded, production always, or the branch in the environment",
        "scheduler.py",
    ),
    TextSeed(
        "MFK401",
        "zero-based-plus-one",
        True,
        ATTEMPT_LOOP,
        SHIFTED_SHAPES,
        "a loop index that counts from 0 passed as index + 1",
        "scheduler.py",
    ),
    TextSeed(
        "MFK401",
        "zero-based-index",
        False,
        ATTEMPT_LOOP,
        ZERO_BASED_SHAPES,
        "the 0-based index itself, a 1-based loop minus 1, or + 1 only in a message",
        "scheduler.py",
    ),
    TextSeed(
        "MFK301",
        "click-api-tuple",
        True,
        DEPLOYED_FLOW.replace("**kwargs", "path, **kwargs"),
        CLICK_TUPLE_SHAPES,
        "a tuple of several values handed to Metaflow's click API for the trigger command",
    ),
    TextSeed(
        "MFK301",
        "click-api-list",
        False,
        DEPLOYED_FLOW.replace("**kwargs", "path, **kwargs"),
        CLICK_LIST_SHAPES,
        "a list or a one-element tuple for the click API; a tuple to a method of the extension",
    ),
    TextSeed(
        "MFK201",
        "configs-read-not-passed",
        True,
        STEP_BUILDER,
        CONFIGS_READ_SHAPES,
        "the configs read or named, never handed to the step",
        "scheduler.py",
    ),
    TextSeed(
        "MFK201",
        "configs-passed",
        False,
        STEP_BUILDER,
        CONFIGS_PASSED_SHAPES,
        "the configs handed on by a helper, another module, --config-value or dict_to_cli_options",
        "scheduler.py",
    ),
    TextSeed(
        "MFK101",
        "backend-step-constant-retry",
        True,
        BACKEND_STEP,
        BACKEND_CONSTANT_SHAPES,
        "a backend's step overwrites the runtime's retry_count with a constant",
        "backend_cli.py",
    ),
    TextSeed(
        "MFK101",
        "backend-step-forwards-retry",
        False,
        BACKEND_STEP,
        BACKEND_FORWARDED_SHAPES,
        "the runtime's retry_count forwarded (normalised, or overwritten only after)",
        "backend_cli.py",
    ),
    TextSeed(
        "MFK401",
        "backend-step-retry-plus-one",
        True,
        BACKEND_STEP,
        BACKEND_PLUS_ONE_SHAPES,
        "a backend's step forwards the runtime's 0-based retry_count + 1",
        "backend_cli.py",
    ),
    TextSeed(
        "MFK401",
        "backend-step-forwards-retry",
        False,
        BACKEND_STEP,
        BACKEND_FORWARDED_SHAPES,
        "the runtime's retry_count forwarded; + 1 only in a message",
        "backend_cli.py",
    ),
    TextSeed(
        "MFK109",
        "generated-option-wrong-level",
        True,
        COMPILER,
        _generated_shapes(wrong=True),
        "generated code or a script completed by the generator puts an option on the wrong side",
        "compiler.py",
    ),
    TextSeed(
        "MFK109",
        "generated-option-right-level",
        False,
        COMPILER,
        _generated_shapes(wrong=False),
        "the same generated code and scripts with each option on its own side",
        "compiler.py",
    ),
)
