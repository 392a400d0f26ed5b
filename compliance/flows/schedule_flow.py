"""@schedule: the deployment must accept a cron schedule (firing it is not waited for)."""

from metaflow import FlowSpec, schedule, step


@schedule(hourly=True)
class ScheduleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduleFlow()
