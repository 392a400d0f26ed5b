"""Rule plugins, found through the ``mfkit_lint.rules`` entry point group. The registry reads
the distributions' entry points itself (importing importlib.metadata costs a lint about a tenth
of its start-up): it must find what importlib.metadata finds, or leave the answer to it."""

from __future__ import annotations

import importlib
import os
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Optional

from conftest import BIN

from mfkit_lint.engine import registry

PLUGIN = """\
from mfkit_lint.engine.rule import Finding, Rule


class EveryModule(Rule):
    code = "XPL901"
    name = "every-module"
    summary = "reports the first statement of every module"

    def check(self, module):
        if module.tree.body:
            yield Finding(module.tree.body[0], "MESSAGE")
"""


def run_cli(*args: str, cwd: Optional[Path] = None, **env: str) -> subprocess.CompletedProcess:
    command = [str(BIN / "mfkit-lint"), *args]
    environment = dict(os.environ, NO_COLOR="1", **env)
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, timeout=120)


def distribution(root: Path, name: str, entry_points: Optional[str]) -> None:
    info = root / name
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.split('-')[0]}\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def as_read() -> Optional[list[tuple[str, str]]]:
    found = registry._read_entry_points()
    return None if found is None else [(ep.name, ep.value) for ep in found]


def as_importlib_reads() -> list[tuple[str, str]]:
    group = metadata.entry_points().select(group=registry.ENTRY_POINT_GROUP)
    return [(ep.name, ep.value) for ep in group]


def test_this_environment_is_read_as_importlib_metadata_reads_it():
    found = as_read()
    assert found is not None and ("builtin", "mfkit_lint.rules") in found
    assert found == as_importlib_reads()


def test_sections_comments_duplicates_and_egg_info(tmp_path: Path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    distribution(
        first,
        "Acme_Rules-1.0.dist-info",
        "# a comment\n[console_scripts]\nacme = acme_rules:main\n\n[mfkit_lint.rules]\n"
        "  acme = acme_rules : AcmeRule [extra]  \nmore=acme_rules.more\n",
    )
    # the same distribution (names are compared normalised) later on the path: hidden
    distribution(second, "acme.rules-2.0.dist-info", "[mfkit_lint.rules]\nold = acme_old\n")
    distribution(second, "other-0.1.egg-info", "[mfkit_lint.rules]\nother = other_rules\n")
    distribution(second, "no_entry_points-1.0.dist-info", None)
    (second / "loose-1.0.egg-info").write_text("Metadata-Version: 1.0\n")  # a file, not a dir
    (first / "acme_rules.py").write_text(PLUGIN.replace("EveryModule", "AcmeRule"))
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    found = as_read()
    assert found == as_importlib_reads()
    assert ("acme", "acme_rules : AcmeRule [extra]") in found
    assert ("other", "other_rules") in found and ("old", "acme_old") not in found
    ours = next(ep for ep in registry._read_entry_points() if ep.name == "acme")
    theirs = next(ep for ep in metadata.entry_points(group=registry.ENTRY_POINT_GROUP))
    assert ours.load() is theirs.load() is importlib.import_module("acme_rules").AcmeRule


def test_what_only_importlib_metadata_reads_is_left_to_it(tmp_path: Path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path / "plain"))
    distribution(tmp_path / "plain", "fine-1.0.dist-info", "[mfkit_lint.rules]\nfine = fine\n")
    assert as_read() is not None
    # a line it cannot split into name = value (importlib.metadata raises on it)
    distribution(tmp_path / "plain", "broken-1.0.dist-info", "[mfkit_lint.rules]\nbroken\n")
    assert as_read() is None
    monkeypatch.undo()
    # a zip archive on the path
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\n")
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", "[mfkit_lint.rules]\nz = zipped\n")
    monkeypatch.syspath_prepend(str(archive))
    assert as_read() is None
    assert ("z", "zipped") in as_importlib_reads()
    monkeypatch.undo()
    # a name whose case hides it from the directory name (read from METADATA instead)
    distribution(tmp_path / "upper", "Shout-1.0.DIST-INFO", "[mfkit_lint.rules]\ns = shout\n")
    monkeypatch.syspath_prepend(str(tmp_path / "upper"))
    assert as_read() is None


def test_an_installed_plugin_is_run_and_a_changed_one_invalidates_the_cache(tmp_path: Path):
    plugins, project = tmp_path / "plugins", tmp_path / "project"
    distribution(plugins, "every_module-0.1.dist-info", "[mfkit_lint.rules]\nX = every_module\n")
    (plugins / "every_module.py").write_text(PLUGIN.replace("MESSAGE", "first"))
    project.mkdir()
    (project / "flow.py").write_text("x = 1\n")
    env = {"PYTHONPATH": str(plugins), "MFKIT_LINT_CACHE_DIR": str(tmp_path / "cache")}

    def lint() -> str:
        result = run_cli("--select", "XPL", "--format", "concise", ".", cwd=project, **env)
        assert result.returncode == 1, result.stderr.decode()
        return result.stdout.decode()

    assert "flow.py:1:1: XPL901 first" in lint()
    listed = run_cli("--list-rules", **env).stdout.decode()
    assert "XPL901  every-module" in listed
    (plugins / "every_module.py").write_text(PLUGIN.replace("MESSAGE", "second"))
    assert "flow.py:1:1: XPL901 second" in lint()  # not the cached "first"
