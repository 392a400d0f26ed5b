"""@resources on a step: the orchestrator must accept and forward it, and the step must run."""

from metaflow import FlowSpec, resources, step


class ResourcesFlow(FlowSpec):
    @resources(cpu=1, memory=512)
    @step
    def start(self):
        self.ran = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResourcesFlow()
