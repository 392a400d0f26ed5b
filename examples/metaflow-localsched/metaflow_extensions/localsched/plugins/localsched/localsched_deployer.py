from metaflow.runner.deployer_impl import DeployerImpl

# What localsched promises, by the orchestrator kit's capability names (mfkit compliance tests
# these and skips the rest).
SUPPORTED_CAPABILITIES = frozenset({"LINEAR_DAG", "RETRY", "RUN_PARAMS", "PROJECT_BRANCH"})
UNSUPPORTED_CAPABILITIES = {
    "BRANCHING": "runs linear flows only (one step after the other)",
    "FOREACH": "runs linear flows only (one step after the other)",
}


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
