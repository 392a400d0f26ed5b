"""The generated extensions for real: pip-installed (editable) into a fresh virtualenv that
borrows this environment's Metaflow, they register with Metaflow and run real flows; the
generated project's own tests are what runs. Also the orchestrator kit's validator on the
generated orchestrator, with its output recorded in docs/scaffold.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from conftest import invoke

# The orchestrator kit's regex validator; its checks and false alarms are listed in
# docs/scaffold.md.
KIT = "metaflow-orchestrator-kit==0.1.1"
KIT_FALSE_ALARMS = {"run_params uses list() not tuple()"}


def _venv_with_extension(root: Path, project: Path) -> Path:
    """A virtualenv that sees this environment's packages (Metaflow, pytest) through a .pth
    file, with PROJECT pip-installed in editable mode: the way an author installs it."""
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = subprocess.run(
        [*pip, "install", "-q", "--no-deps", "-e", str(project)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    return python


def _scaffold(kind: str, name: str, target: Path) -> None:
    result = invoke("scaffold", kind, name, str(target), tool="mfkit")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def orchestrator(tmp_path_factory) -> tuple[Path, Path, float]:
    root = tmp_path_factory.mktemp("orchestrator")
    started = time.monotonic()
    project = root / "nomad_local"
    _scaffold("orchestrator", "nomad_local", project)
    return project, _venv_with_extension(root, project), started


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAFLOW_")}
    env.update(USERNAME="dev", METAFLOW_HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    return env


def test_orchestrator_first_triggered_run(orchestrator, tmp_path):
    """From `mfkit scaffold` to a successful triggered run: Deployer().create().trigger()."""
    project, python, started = orchestrator
    sysroot = tmp_path / "datastore"
    sysroot.mkdir()
    script = (
        "import sys\n"
        "from metaflow import Deployer, Run, metadata, namespace\n"
        "deployed = Deployer(sys.argv[1], show_output=False).nomad_local().create()\n"
        "triggered = deployed.trigger(n=2)\n"
        "print(triggered.wait_for_completion(timeout=300))\n"
        "metadata('local@' + sys.argv[2]); namespace(None)\n"
        "run = Run(triggered.pathspec)\n"
        "print(run.successful, run.data.message, sorted(s.id for s in run))\n"
    )
    env = _clean_env(tmp_path / "home")
    env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = str(sysroot)
    flow = project / "tests" / "flows" / "linear_flow.py"
    result = subprocess.run(
        [str(python), "-c", script, str(flow), str(sysroot)],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "SUCCEEDED",
        "True hello 3 ['end', 'middle', 'start']",
    ]
    print("scaffold -> first successful triggered run: %.1f s" % elapsed)


def test_orchestrator_generated_test_suite(orchestrator, tmp_path):
    """The generated project's own tests: branches, nested foreach, retry, catch, timeout,
    resources, @environment, @project branch, config, run params, from_deployment,
    get_triggered_run, list_deployed_flows, a failing flow, resume."""
    project, python, _ = orchestrator
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path / "home"),
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r"^5 passed", result.stdout, re.M), result.stdout


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("backend")
    project = root / "slurm_local"
    _scaffold("backend", "slurm_local", project)
    return project, _venv_with_extension(root, project)


def test_backend_generated_test_suite(backend, tmp_path):
    """The generated backend's own tests: `python flow.py --with NAME run` runs every step as
    a job (env vars, @resources, foreach, @retry with the real attempt), logs and metadata come
    back, the Client sees it all."""
    project, python = backend
    env = _clean_env(tmp_path / "home")
    env["METAFLOW_SLURM_LOCAL_SCRATCH"] = str(tmp_path)
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r"^7 passed", result.stdout, re.M), result.stdout
    assert list(tmp_path.glob("slurm_local-job-*")) == []  # every job's scratch dir released


def _kit_validator(tmp_path: Path) -> Path:
    target = tmp_path / "kit"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), KIT],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    return target


def test_orchestrator_kit_validator(orchestrator, tmp_path):
    project, _, _ = orchestrator
    kit = _kit_validator(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "metaflow_orchestrator_kit.validate", str(project)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(kit)),
        timeout=120,
    )
    print(result.stdout)
    failed = {
        line.split("FAIL", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith("FAIL")
    }
    assert failed == KIT_FALSE_ALARMS, result.stdout
    assert "Results: 31 passed, 1 failed" in result.stdout
