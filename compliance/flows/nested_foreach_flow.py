"""A foreach inside a foreach (2 x 2 tasks)."""

from metaflow import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.outer = ["a", "b"]
        self.next(self.outer_body, foreach="outer")

    @step
    def outer_body(self):
        self.letter = self.input
        self.inner = [1, 2]
        self.next(self.inner_body, foreach="inner")

    @step
    def inner_body(self):
        self.cell = "%s%d" % (self.letter, self.input)
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.cells = [i.cell for i in inputs]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.cells = sorted(c for i in inputs for c in i.cells)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedForeachFlow()
