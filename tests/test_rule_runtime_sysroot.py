"""MFK207 runtime-sysroot-override: only generated (worker) code is concerned."""

import pytest
from conftest import codes

# Generated code is linted where a template holds it (and the extension writes it out); the
# rule looks only there.
WRAP = '''
SCRIPT = """
import os
import subprocess
{body}
subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root, "step", "start",
                "--run-id", run_id, "--task-id", "t-1", "--input-paths", "p"], check=True)
"""


def write_worker(out):
    out.write(SCRIPT)
'''

POSITIVE = {
    "sysroot variable from os.environ.get": """
datastore_root = "/srv/compiled/.metaflow"
_sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
if _sysroot:
    datastore_root = os.path.join(_sysroot, ".metaflow")
""",
    "joined directly": """
datastore_root = os.path.join(os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"], ".metaflow")
""",
    "os.getenv into a root variable": """
root = os.getenv("METAFLOW_DATASTORE_SYSROOT_LOCAL", "/srv/compiled")
datastore_root = root + "/.metaflow"
""",
    "annotated assignment": """
local_root: str = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", "")
datastore_root = local_root
""",
}

NEGATIVE = {
    "compiled value baked in": """
datastore_root = "/srv/compiled/.metaflow"
""",
    "saved and restored around a Client call": """
datastore_root = "/srv/compiled/.metaflow"
_old_root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(datastore_root)
""",
    "setting it for the child, not reading it": """
datastore_root = "/srv/compiled/.metaflow"
os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = "/srv/compiled"
""",
}


@pytest.mark.parametrize("body", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports_in_generated_code(body):
    assert codes(WRAP.format(body=body), "MFK207") == ["MFK207"]


@pytest.mark.parametrize("body", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent_in_generated_code(body):
    assert codes(WRAP.format(body=body), "MFK207") == []


def test_the_extensions_own_compile_time_code_may_read_it():
    code = """
import os

def compile_flow(self):
    sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", os.path.expanduser("~"))
    return sysroot
"""
    assert codes(code, "MFK207") == []
