"""Several run parameters of different types, given at trigger time."""

from metaflow import FlowSpec, Parameter, step


class ParamsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.1, type=float)
    label = Parameter("label", default="default")
    count = Parameter("count", default=1, type=int)

    @step
    def start(self):
        self.seen = {"alpha": self.alpha, "label": self.label, "count": self.count}
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParamsFlow()
