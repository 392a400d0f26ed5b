"""start -> middle -> end; artifacts, retry counts and a log line the suite reads back."""

import os
import sys

from metaflow import FlowSpec, current, step

LOG_MARKER = "mfkit-compliance-stdout"


class LinearFlow(FlowSpec):
    @step
    def start(self):
        self.retry_count = current.retry_count
        self.task_env = {k: v for k, v in os.environ.items() if k.startswith("MFKIT_")}
        self.next(self.middle)

    @step
    def middle(self):
        print(LOG_MARKER)
        print("mfkit-compliance-stderr", file=sys.stderr)
        self.value = 42
        self.payload = {"numbers": list(range(10)), "text": "x" * 1000}
        self.next(self.end)

    @step
    def end(self):
        self.total = self.value + 1


if __name__ == "__main__":
    LinearFlow()
