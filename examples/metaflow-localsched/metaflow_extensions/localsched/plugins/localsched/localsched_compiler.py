"""Compiles a flow into a bash runner script plus per-step commands for the scheduler."""

import os
import shlex
import sys

RUNNER_TEMPLATE = """#!/usr/bin/env bash
set -euo pipefail
export METAFLOW_DATASTORE_SYSROOT_LOCAL={sysroot}/.metaflow
RUN_ID="localsched-$(date +%s)"
{python} {flow_file} --no-pylint init --run-id "$RUN_ID" --task-id params
"""


class LocalschedCompiler:
    def __init__(self, flow, flow_file, datastore_root, tags=None, branch=None, namespace=None):
        self.flow = flow
        self.flow_file = flow_file
        self.datastore_root = datastore_root
        self.tags = tags or []
        self.branch = branch
        self.namespace = namespace

    def _top_level(self):
        top = [sys.executable, self.flow_file, "--no-pylint", "--quiet"]
        top += ["--datastore", "local", "--datastore-root", self.datastore_root]
        for tag in self.tags:
            top += ["--tag", tag]
        return top

    def step_command(self, step_name, run_id, task_id, input_paths, split_index=None):
        cmd = self._top_level()
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
            "0",  # TODO: the scheduler's attempt number
            "--input-paths",
            input_paths,
        ]
        if split_index is not None:
            cmd += ["--split-index", str(split_index)]
        return cmd

    def init_command(self, run_id):
        return [
            sys.executable,
            self.flow_file,
            "--no-pylint",
            "init",
            "--run-id",
            run_id,
            "--task-id",
            "params",
        ]

    def step_env(self):
        env = dict(os.environ)
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = self.datastore_root
        env["METAFLOW_DATASTORE_ROOT"] = self.datastore_root
        return env

    def runner_script(self, sysroot):
        return RUNNER_TEMPLATE.format(
            sysroot=sysroot, python=sys.executable, flow_file=shlex.quote(self.flow_file)
        )
