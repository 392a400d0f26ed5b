"""The wheel installs only ``mfkit_lint``; the editable install maps the top-level parts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The built wheel, installed (without dependencies) into an empty target directory."""
    work = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(work), str(ROOT)], check=True)
    (wheel,) = work.glob("mfkit_lint-*.whl")
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def test_only_mfkit_lint_lands_in_site_packages(installed):
    top = {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")}
    assert top - {"bin"} == {"mfkit_lint"}
    for part in ("rules", "fixers", "docs"):
        assert (installed / "mfkit_lint" / part / "__init__.py").is_file()
    assert (installed / "mfkit_lint" / "docs" / "pitfalls" / "hardcoded-retry-count.md").is_file()


def test_wheel_serves_rules_and_pages(installed):
    probe = (
        "import mfkit_lint, mfkit_lint.rules.hardcoded_retry_count as r;"
        "from mfkit_lint.engine.docs import pitfall_page;"
        "print(mfkit_lint.__file__);"
        "print(pitfall_page(r.HardcodedRetryCount).splitlines()[0])"
    )
    # -S keeps the editable install of this checkout off sys.path: only the wheel is seen.
    env = dict(os.environ, PYTHONPATH=str(installed))
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env=env,
        cwd=installed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0].startswith(str(installed))
    assert out[1] == "# hardcoded-retry-count (MFK101)"


def test_editable_install_maps_the_top_level_folders():
    import mfkit_lint.fixers
    import mfkit_lint.rules

    assert Path(mfkit_lint.rules.__file__).parent == ROOT / "rules"
    assert Path(mfkit_lint.fixers.__file__).parent == ROOT / "fixers"
