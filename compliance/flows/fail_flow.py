"""A flow whose step always fails: the orchestrator must report the run as failed."""

from metaflow import FlowSpec, step


class FailFlow(FlowSpec):
    @step
    def start(self):
        self.attempted = True
        if self.attempted:
            raise RuntimeError("mfkit-compliance: this flow fails on purpose")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailFlow()
