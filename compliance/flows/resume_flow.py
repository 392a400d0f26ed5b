"""A flow whose middle step fails unless it runs in a resumed run: resuming the failed run
clones start and runs the rest again."""

from metaflow import FlowSpec, current, step


class ResumeFlow(FlowSpec):
    @step
    def start(self):
        self.start_value = "started"
        self.next(self.process)

    @step
    def process(self):
        if current.origin_run_id is None:
            raise RuntimeError("mfkit-compliance: failing so that the run can be resumed")
        self.process_value = "processed"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumeFlow()
