import sys

from metaflow.runner.deployer import DeployedFlow, TriggeredRun
from metaflow.runner.utils import get_lower_level_group, handle_timeout, temporary_fifo


class LocalschedTriggeredRun(TriggeredRun):
    @property
    def status(self):
        run = self.run
        return "SUCCEEDED" if run is not None and run.successful else "RUNNING"


class LocalschedDeployedFlow(DeployedFlow):
    TYPE = "localsched"

    def run(self, **kwargs):
        run_params = tuple("%s=%s" % (k, v) for k, v in kwargs.items())
        return self.trigger(run_params=run_params)

    def trigger(self, **kwargs):
        with temporary_fifo() as (attribute_file_path, attribute_file_fd):
            command = get_lower_level_group(
                self.deployer.api,
                self.deployer.top_level_kwargs,
                self.deployer.TYPE,
                self.deployer.deployer_kwargs,
            ).trigger(deployer_attribute_file=attribute_file_path, **kwargs)
            pid = self.deployer.spm.run_command(
                [sys.executable, *command],
                env=self.deployer.env_vars,
                cwd=self.deployer.cwd,
                show_output=self.deployer.show_output,
            )
            content = handle_timeout(
                attribute_file_fd, self.deployer.spm.get(pid), self.deployer.file_read_timeout
            )
            return LocalschedTriggeredRun(deployer=self.deployer, content=content)
