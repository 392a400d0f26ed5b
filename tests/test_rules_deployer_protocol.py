"""MFK302, MFK304, MFK309, MFK401: the Deployer protocol and attempt counters, in the shapes
published extensions write them; fixes before/after."""

import textwrap

import pytest
from conftest import codes, fix

# -- MFK302 ------------------------------------------------------------------------------------
FROM_DEPLOYMENT_POSITIVE = {
    "attribute": """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                d = SchedDeployer(flow_file=None, deployer_kwargs={})
                d.flow_name = identifier
                return cls(deployer=d)
    """,
    "dict entry": """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier: str, metadata=None):
                info = {"name": identifier, "flow_name": identifier}
                return cls._from_info(info)
    """,
    "client Flow lookup": """
        from metaflow import Flow
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                latest = Flow(identifier).latest_run
                return cls(deployer=_rebuild(latest))
    """,
}
FROM_DEPLOYMENT_NEGATIVE = {
    "rsplit": """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                d = SchedDeployer(flow_file=None, deployer_kwargs={})
                d.flow_name = identifier.rsplit(".", 1)[-1]
                return cls(deployer=d)
    """,
    "a path identifier the extension defines (windmill shape)": """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                if "/" in identifier:
                    flow_name = identifier
                return cls(deployer=_rebuild(flow_name))
    """,
    "identifier only kept as the deployment name": """
        class SchedDeployedFlow(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                d = SchedDeployer(flow_file=None, deployer_kwargs={})
                d.name = identifier
                return cls(deployer=d)
    """,
    "another method's flow_name": """
        def lookup(identifier):
            flow_name = identifier
            return flow_name
    """,
}


@pytest.mark.parametrize("case", FROM_DEPLOYMENT_POSITIVE.values(), ids=FROM_DEPLOYMENT_POSITIVE)
def test_from_deployment_dotted_found(case):
    assert codes(case, "MFK302") == ["MFK302"]


@pytest.mark.parametrize("case", FROM_DEPLOYMENT_NEGATIVE.values(), ids=FROM_DEPLOYMENT_NEGATIVE)
def test_from_deployment_dotted_silent(case):
    assert codes(case, "MFK302") == []


def test_from_deployment_dotted_fix_touches_only_the_flow_name():
    after = fix(FROM_DEPLOYMENT_POSITIVE["dict entry"], "MFK302")
    assert 'info = {"name": identifier, "flow_name": identifier.split(".")[-1]}' in after
    assert codes(after, "MFK302") == []
    assert fix(after, "MFK302") == after


# -- MFK304 ------------------------------------------------------------------------------------
def test_deployer_kwargs_through_a_local_base_class():
    code = """
        from metaflow.runner.deployer_impl import DeployerImpl
        class Base(DeployerImpl):
            pass
        class SchedDeployer(Base):
            TYPE = "sched"
            def __init__(self, deployer_kwargs: dict, **kwargs) -> None:
                self.deployer_kwargs: dict = deployer_kwargs
                super().__init__(**kwargs)
    """
    assert codes(code, "MFK304") == ["MFK304"]


@pytest.mark.parametrize(
    "code",
    [
        # a property with a setter makes the assignment legal
        """
        class SchedDeployer(DeployerImpl):
            def __init__(self, deployer_kwargs, **kwargs):
                self.deployer_kwargs = deployer_kwargs
            @property
            def deployer_kwargs(self):
                return self._kw
            @deployer_kwargs.setter
            def deployer_kwargs(self, value):
                self._kw = value
        """,
        # the base is not visible: cannot tell
        """
        from .base import SchedBase
        class SchedDeployer(SchedBase):
            def __init__(self, deployer_kwargs, **kwargs):
                self.deployer_kwargs = deployer_kwargs
        """,
        # another class entirely
        """
        class Options:
            def __init__(self, deployer_kwargs):
                self.deployer_kwargs = deployer_kwargs
        """,
    ],
)
def test_deployer_kwargs_look_alikes(code):
    assert codes(code, "MFK304") == []


def test_deployer_kwargs_only_property_still_read_only():
    code = """
        class SchedDeployer(DeployerImpl):
            def __init__(self, deployer_kwargs, **kwargs):
                self.deployer_kwargs = deployer_kwargs
            @property
            def deployer_kwargs(self):
                return {}
    """
    assert codes(code, "MFK304") == ["MFK304"]


# -- MFK309 ------------------------------------------------------------------------------------
def test_lookups_defined_by_an_intermediate_class_count():
    code = """
        from metaflow.runner.deployer import DeployedFlow
        class Base(DeployedFlow):
            @classmethod
            def from_deployment(cls, identifier, metadata=None): ...
            @classmethod
            def get_triggered_run(cls, identifier, run_id, metadata=None): ...
            @classmethod
            def list_deployed_flows(cls, flow_name=None): ...
        class SchedDeployedFlow(Base):
            TYPE = "sched"
    """
    assert codes(code, "MFK309") == []


def test_lookups_missing_through_an_intermediate_class():
    code = """
        import metaflow.runner.deployer as d
        class Base(d.DeployedFlow):
            pass
        class SchedDeployedFlow(Base):
            @classmethod
            def from_deployment(cls, identifier, metadata=None): ...
    """
    found = codes(code, "MFK309")
    assert found == ["MFK309", "MFK309"]  # Base and SchedDeployedFlow both lack them


# -- MFK401 ------------------------------------------------------------------------------------
RETRY_POSITIVE = {
    "airflow try_number from the context": """
        def build(context, flow, step, run_id):
            ti = context["ti"]
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "1",
                    "--input-paths", run_id + "/_parameters/1", "--retry-count", str(ti.try_number)]
    """,
    "aws batch env var read with getenv": """
        import os
        def build(flow, step, run_id, task_id, inputs):
            cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
            cmd += ["--input-paths", inputs]
            cmd += ["--retry-count", os.getenv("AWS_BATCH_JOB_ATTEMPT")]
            return cmd
    """,
    "shell template with the batch variable": """
        SCRIPT = "python flow.py step start --run-id $RUN_ID --task-id 1 --input-paths $RUN_ID/_parameters/1 --retry-count $AWS_BATCH_JOB_ATTEMPT"
    """,
}
RETRY_NEGATIVE = {
    "0-based dagster retry_number": """
        def build(context, flow, step, run_id):
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "1",
                    "--input-paths", run_id + "/_parameters/1",
                    "--retry-count", str(context.retry_number)]
    """,
    "converted shell arithmetic": """
        SCRIPT = "python flow.py step start --run-id $RUN_ID --task-id 1 --input-paths $RUN_ID/_parameters/1 --retry-count $((AWS_BATCH_JOB_ATTEMPT-1))"
    """,
    "variable corrected later": """
        from temporalio import activity
        def build(flow, step, run_id):
            attempt = activity.info().attempt
            attempt -= 1
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "1",
                    "--input-paths", run_id + "/_parameters/1", "--retry-count", str(attempt)]
    """,
}


@pytest.mark.parametrize("case", RETRY_POSITIVE.values(), ids=RETRY_POSITIVE)
def test_retry_count_indexing_found(case):
    assert codes(case, "MFK401") == ["MFK401"]


@pytest.mark.parametrize("case", RETRY_NEGATIVE.values(), ids=RETRY_NEGATIVE)
def test_retry_count_indexing_silent(case):
    assert codes(case, "MFK401") == []


def test_retry_count_indexing_fix():
    before = """
        from temporalio import activity
        def run_step(flow, step, run_id):
            return ["python", flow, "step", step, "--run-id", run_id, "--task-id", "1",
                    "--input-paths", run_id + "/_parameters/1",
                    "--retry-count", str(activity.info().attempt)]
    """
    after = fix(before, "MFK401")
    assert '"--retry-count", str(activity.info().attempt - 1)]' in after
    assert codes(after, "MFK401") == []
    assert fix(after, "MFK401") == after


def test_retry_count_through_a_variable_has_no_fix():
    code = (
        textwrap.dedent(RETRY_POSITIVE["airflow try_number from the context"])
        .replace("str(ti.try_number)", "n")
        .replace('ti = context["ti"]', 'ti = context["ti"]\n    n = ti.try_number')
    )
    assert codes(code, "MFK401") == ["MFK401"]
    assert fix(code, "MFK401") == textwrap.dedent(code)
