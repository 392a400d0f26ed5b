"""MFK207 runtime-sysroot-override: only generated (worker) code is concerned."""

import textwrap

import pytest
from conftest import codes, fix, fixes_in_generated_code

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


# -- the fix: remove an override of a compiled root (unsafe) ----------------------------------

# metaflow-kestra's shape: a `%`-formatted init script, the override inside a guard on the
# datastore type, in a method that returns the script.
KESTRA = '''
class Compiler:
    def _init_script(self, params):
        return """\\
import os, subprocess, sys

run_id = "kestra-1"
# METAFLOW_DATASTORE_SYSROOT_LOCAL is the *parent* of the .metaflow directory.
_datastore_root = "{{ vars.DATASTORE_ROOT }}"
if "{{ vars.DATASTORE_TYPE }}" == "local":
    _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if _sysroot:
        _datastore_root = os.path.join(_sysroot, ".metaflow")

cmd = [sys.executable, "{{ vars.FLOW_FILE }}", "--datastore-root", _datastore_root,
       "init", "--run-id", run_id, "--task-id", "params"]
%(param_args)s
subprocess.run(cmd, check=True)
""" % {"param_args": params}

    def write(self, out, params):
        out.write(self._init_script(params))
'''

FIXED = {
    "kestra: override and its datastore-type guard": (
        KESTRA,
        """_datastore_root = "{{ vars.DATASTORE_ROOT }}"

cmd = [sys.executable""",
    ),
    "two statements at the top level of a script": (
        WRAP.format(body=POSITIVE["sysroot variable from os.environ.get"]),
        """datastore_root = "/srv/compiled/.metaflow"

subprocess.run(""",
    ),
    "inside a generated function, the guard beside other code": (
        WRAP.format(
            body="""
def run(run_id):
    datastore_root = "/srv/compiled/.metaflow"
    if MODE == "local":
        sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
        if sysroot:
            datastore_root = os.path.join(sysroot, ".metaflow")
        print("local run")
    return datastore_root
"""
        ),
        """    if MODE == "local":
        print("local run")
    return datastore_root""",
    ),
}


@pytest.mark.parametrize("code, expected", FIXED.values(), ids=FIXED.keys())
def test_an_override_of_a_compiled_root_is_removed_as_an_unsafe_fix(code, expected):
    (diag,) = fixes_in_generated_code(code, "MFK207")
    assert diag.fix is not None, diag.no_fix_reason
    assert diag.fix.applicability.value == "unsafe"
    assert fix(code, "MFK207") == textwrap.dedent(code)  # not with --fix alone
    fixed = fix(code, "MFK207", unsafe=True)
    assert expected in fixed
    assert "os.environ" not in fixed
    assert codes(fixed) == [c for c in codes(code) if c != "MFK207"]
    assert fix(fixed, "MFK207", unsafe=True) == fixed


NO_FIX = {
    # nothing compiled to fall back on
    "no compiled value": """
_sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
if _sysroot:
    datastore_root = os.path.join(_sysroot, ".metaflow")
""",
    # the value read is used again later
    "the value read is used again": """
datastore_root = "/srv/compiled/.metaflow"
_sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
if _sysroot:
    datastore_root = os.path.join(_sysroot, ".metaflow")
print(_sysroot)
""",
    # the guard does more than override the root
    "the guard does more": """
datastore_root = "/srv/compiled/.metaflow"
_sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
if _sysroot:
    datastore_root = os.path.join(_sysroot, ".metaflow")
    os.makedirs(datastore_root, exist_ok=True)
""",
    # the compiled value is itself only set on one path
    "compiled value set conditionally": """
if COMPILED:
    datastore_root = "/srv/compiled/.metaflow"
_sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
if _sysroot:
    datastore_root = os.path.join(_sysroot, ".metaflow")
""",
    # used after the guard that holds the read
    "the value read is used after the enclosing block": """
datastore_root = "/srv/compiled/.metaflow"
if MODE == "local":
    _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if _sysroot:
        datastore_root = os.path.join(_sysroot, ".metaflow")
print(_sysroot)
""",
    # in a loop, a use before the read sees the previous iteration's value
    "the value read is used in the loop before the read": """
datastore_root = "/srv/compiled/.metaflow"
for attempt in range(2):
    print(_sysroot)
    _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if _sysroot:
        datastore_root = os.path.join(_sysroot, ".metaflow")
""",
    "joined directly": POSITIVE["joined directly"],
    "a default in the read": POSITIVE["os.getenv into a root variable"],
}


@pytest.mark.parametrize("body", NO_FIX.values(), ids=NO_FIX.keys())
def test_no_fix_where_the_read_is_not_a_removable_override(body):
    (diag,) = fixes_in_generated_code(WRAP.format(body=body), "MFK207")
    assert diag.fix is None
    assert "not an override of a compiled value" in diag.no_fix_reason


# metaflow-kestra's init and step scripts, pasted one after the other: each rebinds the names,
# so each override is removed on its own.
TWO_SCRIPTS = """
datastore_root = "/srv/compiled/.metaflow"
if MODE == "local":
    _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if _sysroot:
        datastore_root = os.path.join(_sysroot, ".metaflow")
subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root, "init"], check=True)
datastore_root = "/srv/compiled/.metaflow"
if MODE == "local":
    _sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if _sysroot:
        datastore_root = os.path.join(_sysroot, ".metaflow")
subprocess.run(["python", FLOW_FILE, "--datastore-root", datastore_root, "step"], check=True)
"""


def test_scripts_that_rebind_the_read_are_fixed_one_by_one():
    code = WRAP.format(body=TWO_SCRIPTS)
    diags = fixes_in_generated_code(code, "MFK207")
    assert len(diags) == 2
    assert all(d.fix is not None for d in diags), [d.no_fix_reason for d in diags]
    fixed = fix(code, "MFK207", unsafe=True)
    assert "os.environ" not in fixed
    assert fixed.count('datastore_root = "/srv/compiled/.metaflow"') == 2
    assert "MFK207" not in codes(fixed)
    assert fix(fixed, "MFK207", unsafe=True) == fixed
