"""@catch keeps the flow going after a step raises."""

from metaflow import FlowSpec, catch, step


class CatchFlow(FlowSpec):
    @catch(var="failure")
    @step
    def start(self):
        self.attempted = True
        if self.attempted:
            raise ValueError("mfkit-compliance: caught on purpose")
        self.next(self.end)

    @step
    def end(self):
        self.caught = self.failure is not None


if __name__ == "__main__":
    CatchFlow()
