"""Turns a deployed flow into the commands the local scheduler runs: one ``init``, then one
``step`` command per task."""

import os
import sys

from metaflow.decorators import flow_decorators


def top_level_options(flow):
    """What the flow's decorators add before the subcommand (``--branch`` of @project)."""
    options = {}
    for deco in flow_decorators(flow):
        options.update(deco.get_top_level_options())
    return options


class LocalschedCompiler:
    def __init__(self, flow, flow_file, datastore_root, tags=(), branch=None):
        self.flow = flow
        self.flow_file = flow_file
        self.datastore_root = datastore_root
        self.tags = list(tags)
        self.branch = branch

    def _top_level(self):
        top = [sys.executable, self.flow_file, "--no-pylint", "--quiet"]
        top += ["--datastore", "local", "--datastore-root", self.datastore_root]
        return top

    def step_command(self, step_name, run_id, task_id, input_paths):
        cmd = self._top_level()
        for tag in self.tags:
            cmd += ["--tag", tag]
        if self.branch:
            cmd += ["--branch", self.branch]
        cmd += [
            "step",
            step_name,
            "--run-id",
            run_id,
            "--task-id",
            task_id,
            "--retry-count",
            "0",
            "--max-user-code-retries",
            str(self.retries(step_name)),
            "--input-paths",
            input_paths,
        ]
        return cmd

    def init_command(self, run_id, run_params):
        cmd = self._top_level() + ["init", "--run-id", run_id, "--task-id", "params"]
        for param in run_params:
            name, _, value = param.partition("=")
            cmd += ["--%s" % name, value]
        return cmd

    def retries(self, step_name):
        """How often the scheduler retries a failed task of this step (its @retry)."""
        user_code_retries = 0
        for deco in self.flow._graph[step_name].decorators:
            user_code_retries = max(user_code_retries, deco.step_task_retry_count()[0])
        return user_code_retries

    def step_env(self):
        env = dict(os.environ)
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = self.datastore_root
        return env
