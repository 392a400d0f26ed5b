"""A step that sleeps past its @timeout; @catch turns the timeout into a value."""

import time

from metaflow import FlowSpec, catch, step, timeout

SLEEP_SECONDS = 120


class TimeoutFlow(FlowSpec):
    @catch(var="timed_out")
    @timeout(seconds=5)
    @step
    def start(self):
        time.sleep(SLEEP_SECONDS)
        self.next(self.end)

    @step
    def end(self):
        self.fired = self.timed_out is not None


if __name__ == "__main__":
    TimeoutFlow()
