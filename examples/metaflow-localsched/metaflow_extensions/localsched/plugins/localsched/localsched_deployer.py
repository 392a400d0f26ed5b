from metaflow.runner.deployer_impl import DeployerImpl


class LocalschedDeployer(DeployerImpl):
    TYPE = "localsched"

    def __init__(self, deployer_kwargs, **kwargs):
        self._deployer_kwargs = deployer_kwargs
        super().__init__(**kwargs)

    @property
    def deployer_kwargs(self):
        return self._deployer_kwargs

    @staticmethod
    def deployed_flow_type():
        from .localsched_objects import LocalschedDeployedFlow

        return LocalschedDeployedFlow
