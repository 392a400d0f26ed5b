"""`--metaflow-src`: Metaflow's own end-to-end suite (test/ux) run against the extension in
deployer mode, as the orchestrator kit's `test` command does. The suite reads its backends from
the ux_test_config.yaml beside its conftest, so it runs from a temporary copy with that file
written for this extension; the source tree itself is never changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional
from xml.etree import ElementTree

# Which capability a test of Metaflow's suite exercises, from its name (first match wins).
_CAP_BY_NAME = (
    ("nested_foreach", "NESTED_FOREACH"),
    ("foreach", "FOREACH"),
    ("from_deployment", "FROM_DEPLOYMENT"),
    ("retry", "RETRY"),
    ("catch", "CATCH"),
    ("timeout", "TIMEOUT"),
    ("resources", "RESOURCES"),
    ("project", "PROJECT_BRANCH"),
    ("custom_branch", "PROJECT_BRANCH"),
    ("config", "CONFIG_EXPR"),
    ("mutable", "CONFIG_EXPR"),
    ("conda", "CONDA"),
    ("resume", "RESUME"),
    ("schedule", "SCHEDULE"),
    ("fail", "TRIGGER"),
    ("branch", "BRANCHING"),
    ("condition", "BRANCHING"),
    ("split", "BRANCHING"),
)


def cap_of(test_name: str) -> str:
    name = test_name.split("[", 1)[0]
    for word, cap in _CAP_BY_NAME:
        if word in name:
            return cap
    return "LINEAR_DAG"


def modules(source: Path) -> list[str]:
    core = source / "test" / "ux" / "core"
    return sorted(p.stem[len("test_") :] for p in core.glob("test_*.py") if p.stem != "test_utils")


def prepare(
    source: Path, workdir: Path, scheduler: str, create_args: dict[str, str], wanted: list[str]
) -> tuple[Path, list[str]]:
    """Copy test/ux into workdir, write its config for this scheduler; the test files to run."""
    have = modules(source)
    unknown = [m for m in wanted if m not in have]
    if unknown:
        from mfkit_lint.compliance.runner import ComplianceError

        raise ComplianceError(
            "no test module %s in %s/test/ux/core; there are: %s"
            % (", ".join(unknown), source, ", ".join(have))
        )
    target = workdir / "metaflow-ux" / "ux"
    shutil.copytree(source / "test" / "ux", target)
    backend = {
        "name": scheduler,
        "scheduler_type": scheduler,
        "cluster": None,
        "decospec": None,
        "deploy_args": create_args,
        "enabled": True,
    }
    # JSON is YAML: the suite reads this file with OmegaConf.
    (target / "ux_test_config.yaml").write_text(json.dumps({"backends": [backend]}, indent=2))
    return target, [str(target / "core" / ("test_%s.py" % m)) for m in wanted]


def pytest_args(target: Path, files: list[str], scheduler: str) -> list[str]:
    return [
        "-c",
        str(target / "pytest.ini"),
        "--rootdir",
        str(target),
        "--exec-mode",
        "deployer",
        "--only-backend",
        scheduler,
        *files,
    ]


def merge_junit(into: str, other: str) -> None:
    """Append the other file's test suites to the first JUnit file (pytest writes one each)."""
    base = ElementTree.parse(into)
    root = base.getroot()
    extra = ElementTree.parse(other).getroot()
    suites = [extra] if extra.tag == "testsuite" else list(extra)
    if root.tag == "testsuite":
        wrapper = ElementTree.Element("testsuites")
        wrapper.append(root)
        root = wrapper
        base = ElementTree.ElementTree(root)
    for suite in suites:
        suite.set("name", "metaflow-test-ux")
        root.append(suite)
    base.write(into, encoding="utf-8", xml_declaration=True)


def default_junit(path: Optional[str]) -> Optional[str]:
    return None if path is None else path + ".metaflow-ux.xml"
