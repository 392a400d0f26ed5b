"""What a task sees of its environment, for backends: env vars, ids, resources."""

import os

from metaflow import FlowSpec, current, environment, resources, step


class EnvFlow(FlowSpec):
    @environment(vars={"MFKIT_ENV_PROBE": "on"})
    @resources(cpu=1, memory=600)
    @step
    def start(self):
        prefixes = ("MFKIT_", "METAFLOW_")
        self.task_env = {k: v for k, v in os.environ.items() if k.startswith(prefixes)}
        self.retry_count = current.retry_count
        self.items = [1, 2, 3]
        print("mfkit-compliance-stdout")
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.task_id_seen = current.task_id
        self.next(self.join)

    @step
    def join(self, inputs):
        self.task_ids = sorted(i.task_id_seen for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EnvFlow()
