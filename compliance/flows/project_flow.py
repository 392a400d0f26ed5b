"""@project: every task must see the branch the deployment was made for."""

from metaflow import FlowSpec, current, project, step


@project(name="mfkit_compliance")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.branch = current.branch_name
        self.project = current.project_name
        self.next(self.middle)

    @step
    def middle(self):
        self.branch = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        self.branch = current.branch_name


if __name__ == "__main__":
    ProjectFlow()
