"""@conda with one small package: the step must run inside the resolved environment."""

from metaflow import FlowSpec, conda_base, step


@conda_base(python="3.11", packages={"six": "1.16.0"})
class CondaFlow(FlowSpec):
    @step
    def start(self):
        import six

        self.six_version = six.__version__
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CondaFlow()
