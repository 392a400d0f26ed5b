"""MFK202 sysroot-vs-datastore-root."""

import subprocess
import sys
import textwrap

import pytest
from conftest import codes, fix, lint

POSITIVE = {
    "dict() keyword": """
        def env_for(root):
            return dict(METAFLOW_DATASTORE_SYSROOT_LOCAL=root + "/.metaflow")
    """,
    "literal ending in .metaflow in an env dict": """
        env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data/mf/.metaflow", "PATH": "/usr/bin"}
    """,
    "os.environ subscript with os.path.join": """
        import os
        def setup(root):
            os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.join(root, ".metaflow")
    """,
    "the flow datastore's root (through a variable, TYPE-formatted key)": """
        def step_env(self):
            env = {}
            datastore_root = getattr(self.flow_datastore, "datastore_root", None)
            if datastore_root:
                env["METAFLOW_DATASTORE_SYSROOT_%s" % self.flow_datastore.TYPE.upper()] = datastore_root
            return env
    """,
    "the same value as --datastore-root": """
        import sys
        def run_step(root, step, run_id):
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": root}
            cmd = [sys.executable, "flow.py", "--datastore-root", root, "step", step,
                   "--run-id", run_id, "--task-id", "1"]
            return cmd, env
    """,
    "export in a bash template": '''
        SCRIPT = """#!/bin/bash
        export METAFLOW_DATASTORE_SYSROOT_LOCAL=/tmp/mf/.metaflow
        python flow.py step start --run-id "$RUN_ID" --task-id 1
        """
    ''',
    "f-string suffix and setdefault": """
        import os
        def env_for(base):
            env = dict(os.environ)
            env.setdefault("METAFLOW_DATASTORE_SYSROOT_LOCAL", f"{base}/.metaflow")
            return env
    """,
}

NEGATIVE = {
    "dirname of the datastore root": """
        import os
        def env_for(datastore_root):
            return {"METAFLOW_DATASTORE_SYSROOT_LOCAL": os.path.dirname(datastore_root)}
    """,
    "a private attribute that holds the sysroot (naming trap)": """
        import os
        class Compiler:
            def __init__(self):
                self._datastore_root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", "")
            def env(self):
                return {"METAFLOW_DATASTORE_SYSROOT_LOCAL": self._datastore_root}
            def cmd(self):
                return ["python", "flow.py", "--datastore-root", self._datastore_root + "/.metaflow",
                        "step", "start", "--run-id", "1", "--task-id", "1"]
    """,
    "non-local datastores in the else branch of a local check": """
        import os
        def env_for(self):
            env = {}
            root = self.flow_datastore.datastore_root
            if self.flow_datastore.TYPE == "local":
                env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(root)
            else:
                env["METAFLOW_DATASTORE_SYSROOT_%s" % self.flow_datastore.TYPE.upper()] = root
            return env
    """,
    "S3 sysroot equal to the root is right": """
        def env_for(root):
            return {"METAFLOW_DATASTORE_SYSROOT_S3": root}
    """,
    "reading the variable, not setting it": """
        import os
        sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", "/tmp/.metaflow")
    """,
    "sysroot joined to .metaflow for --datastore-root": """
        import os
        def cmd(sysroot, run_id):
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot}
            return ["python", "flow.py", "--datastore-root", os.path.join(sysroot, ".metaflow"),
                    "step", "start", "--run-id", run_id, "--task-id", "1"], env
    """,
    "a sentence in a string, not a shell assignment": """
        NOTE = "The runner sets METAFLOW_DATASTORE_SYSROOT_LOCAL=/tmp/x/.metaflow for you."
    """,
    "help text mentioning the variable": """
        import click
        @click.option("--container-sysroot", help="sets METAFLOW_DATASTORE_SYSROOT_LOCAL=<path>/.metaflow inside pods")
        def trigger(container_sysroot):
            pass
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK202") == ["MFK202"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK202") == []


def test_same_value_message_says_where_each_side_looks():
    (diag,) = lint(POSITIVE["the same value as --datastore-root"], "MFK202")
    assert "same value as --datastore-root" in diag.message
    assert "X/.metaflow/<Flow>" in diag.message


def test_message_explains_the_nesting():
    (diag,) = lint(POSITIVE["literal ending in .metaflow in an env dict"], "MFK202")
    assert ".metaflow/.metaflow" in diag.message
    assert (diag.location.row, diag.location.column) == (2, 44)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "literal ending in .metaflow in an env dict",
            '"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data/mf",',
        ),
        ("os.environ subscript with os.path.join", '["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = root\n'),
        ("export in a bash template", "export METAFLOW_DATASTORE_SYSROOT_LOCAL=/tmp/mf\n"),
        ("f-string suffix and setdefault", '"METAFLOW_DATASTORE_SYSROOT_LOCAL", base)'),
        ("dict() keyword", "dict(METAFLOW_DATASTORE_SYSROOT_LOCAL=root)"),
    ],
)
def test_safe_fix_strips_the_literal_suffix(name, expected):
    after = fix(POSITIVE[name], "MFK202")
    assert expected in after
    assert codes(after, "MFK202") == []
    assert fix(after, "MFK202") == after


@pytest.mark.parametrize(
    "name",
    [
        "the flow datastore's root (through a variable, TYPE-formatted key)",
        "the same value as --datastore-root",
    ],
)
def test_no_fix_when_the_value_is_not_a_literal(name):
    (diag,) = lint(POSITIVE[name], "MFK202")
    assert diag.fix is None


# -- the flow datastore's root: its parent --------------------------------------------------------
TEMPORAL_SHAPE = """
    import os
    class Compiler:
        def step_env(self):
            env = {}
            datastore_root = getattr(self.flow_datastore, "datastore_root", None)
            if datastore_root:
                env["METAFLOW_DATASTORE_SYSROOT_%s" % self.flow_datastore.TYPE.upper()] = datastore_root
            return env
"""


def test_fix_gives_the_parent_of_the_root_for_the_local_datastore_only():
    code = textwrap.dedent(TEMPORAL_SHAPE)
    fixed = fix(code, "MFK202", unsafe=True)
    assert fixed == code.replace(
        "upper()] = datastore_root\n",
        'upper()] = os.path.dirname(datastore_root) if self.flow_datastore.TYPE == "local" '
        "else datastore_root\n",
    )
    assert codes(fixed, "MFK202") == []
    assert fix(fixed, "MFK202", unsafe=True) == fixed
    assert fix(code, "MFK202") == code  # unsafe (the key's TYPE is not checked): not by --fix


def test_safe_fix_for_the_local_key():
    code = """
        import os
        def env_for(flow_datastore):
            return {"METAFLOW_DATASTORE_SYSROOT_LOCAL": flow_datastore.datastore_root}
    """
    fixed = fix(code, "MFK202")
    assert fixed == textwrap.dedent(code).replace(
        ": flow_datastore.datastore_root}", ": os.path.dirname(flow_datastore.datastore_root)}"
    )
    assert codes(fixed, "MFK202") == []


def test_no_fix_for_the_root_without_import_os():
    (diag,) = lint(TEMPORAL_SHAPE.replace("    import os\n", ""), "MFK202")
    assert diag.fix is None and "import os" in diag.no_fix_reason


def test_fixed_sysroot_gives_metaflow_the_same_local_root(tmp_path):
    """Metaflow 2.19.39's LocalStorage computes its root from the sysroot the fixed code
    exports: the flow datastore's own root (the original gives <root>/.metaflow)."""
    pytest.importorskip("metaflow")
    root = tmp_path / "data" / ".metaflow"
    root.mkdir(parents=True)
    probe = textwrap.dedent(f"""
        import subprocess, sys
        class Datastore:
            TYPE = "local"
            datastore_root = {str(root)!r}
        compiler = Compiler()
        compiler.flow_datastore = Datastore()
        env = dict(os.environ, **compiler.step_env(), USERNAME="dev")
        code = ("from metaflow.plugins.datastores.local_storage import LocalStorage; "
                "print(LocalStorage.get_datastore_root_from_config(print))")
        print(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True).stdout.strip())
    """)
    roots = []
    for source in (textwrap.dedent(TEMPORAL_SHAPE), fix(TEMPORAL_SHAPE, "MFK202", unsafe=True)):
        (tmp_path / "probe.py").write_text(source + probe)
        run = subprocess.run(
            [sys.executable, "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        roots.append(run.stdout.strip())
    assert roots == [str(root / ".metaflow"), str(root)]
