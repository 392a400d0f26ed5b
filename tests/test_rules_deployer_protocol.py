"""MFK302, MFK304, MFK309, MFK401: the Deployer protocol and attempt counters, in the shapes
published extensions write them; fixes before/after."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import TINY_FLOW, codes, fix, lint

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


def test_fix_defines_the_missing_lookups_in_a_published_shape():
    # kestra/prefect/flyte shape: annotated TYPE, a property, run, from_deployment last.
    code = """
        from typing import ClassVar, Optional
        from metaflow.runner.deployer import DeployedFlow
        class KestraDeployedFlow(DeployedFlow):
            \"\"\"A flow deployed on Kestra.\"\"\"

            TYPE: ClassVar[Optional[str]] = "kestra"

            @property
            def id(self) -> str:
                return self.deployer.name

            @classmethod
            def from_deployment(cls, identifier: str, metadata: Optional[str] = None):
                return cls(deployer=_rebuild(identifier))

        def _rebuild(identifier):
            return identifier
    """
    fixed = fix(code, "MFK309", unsafe=True)
    stubs = (
        "        return cls(deployer=_rebuild(identifier))\n"
        "\n"
        "    @classmethod\n"
        "    def get_triggered_run(cls, identifier, run_id, metadata=None):\n"
        "        raise NotImplementedError(\n"
        "            \"the 'kestra' deployer does not implement get_triggered_run\"\n"
        "        )\n"
        "\n"
        "    @classmethod\n"
        "    def list_deployed_flows(cls, flow_name=None):\n"
        "        raise NotImplementedError(\n"
        "            \"the 'kestra' deployer does not implement list_deployed_flows\"\n"
        "        )\n"
        "\n"
        "def _rebuild"
    )
    original = textwrap.dedent(code)
    assert fixed == original.replace(
        "        return cls(deployer=_rebuild(identifier))\n\ndef _rebuild", stubs
    )
    assert codes(fixed, "MFK309") == []
    assert fix(code, "MFK309") == textwrap.dedent(code)  # unsafe: not applied by --fix alone
    assert fix(fixed, "MFK309", unsafe=True) == fixed  # a second --fix changes nothing


def test_fix_keeps_the_module_indentation_and_names_the_class_without_type():
    code = (
        "from metaflow.runner.deployer import DeployedFlow\n"
        "class SchedDeployedFlow(DeployedFlow):\n"
        "  def run(self, **kwargs):\n"
        "    return None  # trailing comment stays\n"
        "  # a comment at the end of the body\n"
    )
    fixed = fix(code, "MFK309", unsafe=True)
    assert fixed == (
        "from metaflow.runner.deployer import DeployedFlow\n"
        "class SchedDeployedFlow(DeployedFlow):\n"
        "  def run(self, **kwargs):\n"
        "    return None  # trailing comment stays\n"
        "\n"
        "  @classmethod\n"
        "  def from_deployment(cls, identifier, metadata=None):\n"
        "    raise NotImplementedError(\n"
        '        "SchedDeployedFlow does not implement from_deployment"\n'
        "    )\n"
        "\n"
        "  @classmethod\n"
        "  def get_triggered_run(cls, identifier, run_id, metadata=None):\n"
        "    raise NotImplementedError(\n"
        '        "SchedDeployedFlow does not implement get_triggered_run"\n'
        "    )\n"
        "\n"
        "  @classmethod\n"
        "  def list_deployed_flows(cls, flow_name=None):\n"
        "    raise NotImplementedError(\n"
        '        "SchedDeployedFlow does not implement list_deployed_flows"\n'
        "    )\n"
        "  # a comment at the end of the body\n"
    )
    assert codes(fixed, "MFK309") == []


def test_fix_through_an_intermediate_class_names_the_inherited_type():
    code = """
        import metaflow.runner.deployer as d
        class Base(d.DeployedFlow):
            TYPE = "sched"
        class SchedDeployedFlow(Base):
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                return cls(deployer=identifier)
    """
    fixed = fix(code, "MFK309", unsafe=True)
    assert codes(fixed, "MFK309") == []
    assert fixed.count("the 'sched' deployer does not implement get_triggered_run") == 2
    # SchedDeployedFlow's own from_deployment is kept, not overridden by a stub.
    sched = fixed[fixed.index("class SchedDeployedFlow") :]
    assert "return cls(deployer=identifier)" in sched
    assert "def from_deployment(cls, identifier, metadata=None):\n        raise" not in sched


def test_no_fix_for_a_one_line_class_body():
    code = """
        from metaflow.runner.deployer import DeployedFlow
        class SchedDeployedFlow(DeployedFlow): TYPE = "sched"
    """
    assert codes(code, "MFK309") == ["MFK309"]
    assert fix(code, "MFK309", unsafe=True) == textwrap.dedent(code)


def test_fixed_lookups_fail_with_their_message_in_metaflow_instead_of_argo(tmp_path):
    """Metaflow 2.19.39: without the lookups the call goes to Argo Workflows
    (KubernetesClientException without the kubernetes package); after the fix it raises the
    stub's NotImplementedError, also through DeployedFlow's per-type dispatch."""
    pytest.importorskip("metaflow")
    code = """
        from metaflow.runner.deployer import DeployedFlow
        class SchedDeployedFlow(DeployedFlow):
            TYPE = "sched"
            @classmethod
            def from_deployment(cls, identifier, metadata=None):
                return None
    """
    probe = textwrap.dedent("""
        import sys
        class Provider:
            TYPE = "sched"
            @staticmethod
            def deployed_flow_type():
                return SchedDeployedFlow
        for call in (lambda: SchedDeployedFlow.get_triggered_run("x", "1"),
                     lambda: SchedDeployedFlow.list_deployed_flows("F"),
                     lambda: Provider.deployed_flow_type().get_triggered_run("x", "1", None)):
            try:
                call()
            except Exception as exc:
                print(type(exc).__name__, str(exc).splitlines()[0])
    """)
    outputs = []
    for source in (textwrap.dedent(code), fix(code, "MFK309", unsafe=True)):
        script = tmp_path / "probe.py"
        script.write_text(source + probe)
        run = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env={**os.environ, "USERNAME": "dev"},
            timeout=300,
        )
        outputs.append(run.stdout.splitlines())
    before, after = outputs
    assert before and all(line.startswith("KubernetesClientException") for line in before)
    assert after == [
        "NotImplementedError the 'sched' deployer does not implement get_triggered_run",
        "NotImplementedError the 'sched' deployer does not implement list_deployed_flows",
        "NotImplementedError the 'sched' deployer does not implement get_triggered_run",
    ]


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


# -- MFK304 fix --------------------------------------------------------------------------------
KESTRA_DEPLOYER = """
    from typing import ClassVar, Dict, Optional, Type
    from metaflow.runner.deployer_impl import DeployerImpl


    class SchedDeployer(DeployerImpl):
        \"\"\"Deployer implementation for a scheduler.\"\"\"

        TYPE: ClassVar[Optional[str]] = "sched"

        def __init__(self, deployer_kwargs: Dict[str, str], **kwargs) -> None:
            self.deployer_kwargs = deployer_kwargs
            super().__init__(**kwargs)

        @staticmethod
        def deployed_flow_type() -> Type["SchedDeployedFlow"]:
            return SchedDeployedFlow
"""


def test_deployer_kwargs_fix_in_the_published_shape():
    fixed = fix(KESTRA_DEPLOYER, "MFK304")  # safe: applied by --fix alone
    assert fixed == textwrap.dedent(KESTRA_DEPLOYER).replace(
        "        self.deployer_kwargs = deployer_kwargs\n        super().__init__(**kwargs)\n",
        "        self._deployer_kwargs = deployer_kwargs\n"
        "        super().__init__(**kwargs)\n"
        "\n"
        "    @property\n"
        "    def deployer_kwargs(self):\n"
        "        return self._deployer_kwargs\n",
    )
    assert codes(fixed, "MFK304") == []
    assert fix(fixed, "MFK304") == fixed


def test_deployer_kwargs_fix_renames_every_assignment_and_adds_one_property():
    code = """
        import metaflow.runner.deployer_impl as impl
        class Base(impl.DeployerImpl):
            pass
        class SchedDeployer(Base):
            TYPE = "sched"
            def configure(this, **options):
                this.deployer_kwargs: dict = dict(options)
            def __init__(self, deployer_kwargs, **kwargs):
                if deployer_kwargs:
                    self.deployer_kwargs = deployer_kwargs
                else:
                    self.configure()
                super().__init__(**kwargs)
    """
    assert codes(code, "MFK304") == ["MFK304", "MFK304"]
    fixed = fix(code, "MFK304")
    assert "this._deployer_kwargs: dict = dict(options)" in fixed
    assert "self._deployer_kwargs = deployer_kwargs" in fixed
    assert fixed.count("def deployer_kwargs(") == 1
    # right after the first method that assigns it, in that method's receiver name
    assert "dict(options)\n\n    @property\n    def deployer_kwargs(this):\n" in fixed
    assert codes(fixed, "MFK304") == []
    assert fix(fixed, "MFK304") == fixed


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            """
            from metaflow.runner.deployer_impl import DeployerImpl
            class SchedDeployer(DeployerImpl):
                TYPE = "sched"
                def __init__(self, deployer_kwargs, **kwargs):
                    self._deployer_kwargs = {"defaults": True}
                    self.deployer_kwargs = deployer_kwargs
                    super().__init__(**kwargs)
            """,
            id="the private name is taken",
        ),
        pytest.param(
            """
            from metaflow.runner.deployer_impl import DeployerImpl
            class SchedDeployer(DeployerImpl):
                TYPE = "sched"
                def __init__(self, deployer_kwargs, **kwargs):
                    self.deployer_kwargs = deployer_kwargs
                    super().__init__(**kwargs)
                @property
                def deployer_kwargs(self):
                    return self._options
            """,
            id="its own read-only property returns something else",
        ),
    ],
)
def test_deployer_kwargs_no_fix_when_undecidable(code):
    diagnostics = lint(code, "MFK304")
    assert [d.code for d in diagnostics] == ["MFK304"]
    assert diagnostics[0].fix is None and diagnostics[0].no_fix_reason
    assert fix(code, "MFK304", unsafe=True) == textwrap.dedent(code)


def test_fixed_deployer_is_constructed_by_metaflow(tmp_path):
    """Metaflow 2.19.39: DeployerImpl.deployer_kwargs is a property without a setter, so the
    original constructor raises AttributeError; the fixed one builds the deployer (the CLI
    of a tiny flow is loaded) and the property returns what was passed."""
    pytest.importorskip("metaflow")
    (tmp_path / "flow.py").write_text(TINY_FLOW)
    probe = textwrap.dedent("""
        class SchedDeployedFlow:
            pass
        try:
            d = SchedDeployer({"queue": "q1"}, flow_file="flow.py")
            print("built", d.deployer_kwargs, d.TYPE)
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    outputs = []
    for source in (textwrap.dedent(KESTRA_DEPLOYER), fix(KESTRA_DEPLOYER, "MFK304")):
        (tmp_path / "probe.py").write_text(source + probe)
        run = subprocess.run(
            [sys.executable, "probe.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "USERNAME": "dev"},
            timeout=300,
        )
        outputs.append(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr)
    before, after = outputs
    assert before.startswith("AttributeError") and "deployer_kwargs" in before
    assert after == "built {'queue': 'q1'} sched"
