import json
import subprocess
import time
import uuid

from metaflow._vendor import click

from .localsched_compiler import LocalschedCompiler


@click.group()
def cli():
    pass


@cli.group(help="Deploy and trigger flows on localsched.")
@click.pass_obj
def localsched(obj):
    pass


def _run_steps(compiler, run_id):
    """Runs every step, one after the other, and waits for each."""
    subprocess.run(compiler.init_command(run_id), check=True, env=compiler.step_env())
    for step in ("start", "end"):
        cmd = compiler.step_command(step, run_id, "1", "%s/_parameters/params" % run_id)
        subprocess.run(cmd, check=True, env=compiler.step_env())


@localsched.command(help="Trigger the deployed flow.")
@click.option("--run-param", "run_params", multiple=True, default=None)
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
def trigger(obj, run_params, deployer_attribute_file=None):
    run_id = "localsched-" + uuid.uuid4().hex[:12]
    compiler = LocalschedCompiler(
        obj.flow, obj.flow_file, obj.flow_datastore.datastore_root, branch=obj.branch
    )
    started = time.time()
    _run_steps(compiler, run_id)
    if deployer_attribute_file:
        with open(deployer_attribute_file, "w") as f:
            json.dump({"name": obj.flow.name, "pathspec": "%s/%s" % (obj.flow.name, run_id)}, f)
    obj.echo("Run %s finished in %ds" % (run_id, time.time() - started))
