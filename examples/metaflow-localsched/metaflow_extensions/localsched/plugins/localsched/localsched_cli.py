import json
import os
import subprocess
import sys
import uuid

from metaflow._vendor import click
from metaflow.exception import MetaflowException

from .localsched_compiler import LocalschedCompiler, top_level_options


@click.group()
def cli():
    pass


@cli.group(help="Deploy and trigger flows on localsched.")
@click.pass_obj
def localsched(obj):
    pass


def _linear_steps(graph):
    """The steps of a linear flow, in order (localsched runs nothing else)."""
    node = graph["start"]
    while True:
        if node.type not in ("start", "linear", "end"):
            raise MetaflowException("localsched runs linear flows only (%s)" % node.name)
        yield node.name
        if node.type == "end":
            return
        node = graph[node.out_funcs[0]]


def _run_steps(compiler, graph, run_id, run_params):
    """Runs every task in order, each retried as often as its @retry allows."""
    env = compiler.step_env()
    subprocess.run(compiler.init_command(run_id, run_params), check=True, env=env)
    input_paths = "%s/_parameters/params" % run_id
    for number, step in enumerate(_linear_steps(graph), start=1):
        task_id = str(number)
        cmd = compiler.step_command(step, run_id, task_id, input_paths)
        for _attempt in range(compiler.retries(step) + 1):
            if subprocess.run(cmd, env=env).returncode == 0:
                break
        else:
            raise MetaflowException("step %s failed" % step)
        input_paths = "%s/%s/%s" % (run_id, step, task_id)


@localsched.command(help="Trigger the deployed flow.")
@click.option("--run-param", "run_params", multiple=True, default=None)
@click.option("--tag", "tags", multiple=True, help="Tag the run's tasks.")
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
def trigger(obj, run_params, tags, deployer_attribute_file=None):
    run_id = "localsched-" + uuid.uuid4().hex[:12]
    compiler = LocalschedCompiler(
        obj.flow,
        os.path.abspath(sys.argv[0]),
        obj.flow_datastore.datastore_root,
        tags=tags,
        branch=top_level_options(obj.flow).get("branch"),
    )
    _run_steps(compiler, obj.graph, run_id, run_params or ())
    if deployer_attribute_file:
        with open(deployer_attribute_file, "w") as f:
            json.dump({"name": obj.flow.name, "pathspec": "%s/%s" % (obj.flow.name, run_id)}, f)
    obj.echo("Run %s finished" % run_id)
