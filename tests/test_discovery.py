"""Resolving many paths, each directory once (``RealPaths``: file discovery, the project index
and a run's cache keys ask about every file of a few directories)."""

from __future__ import annotations

import os

from mfkit_lint.engine.discovery import RealPaths


def test_real_paths_agree_with_realpath_and_resolve_each_directory_once(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    for name in ("a.py", "b.py"):
        (real / name).write_text("")
    (tmp_path / "elsewhere.py").write_text("")
    (real / "link.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "alias").symlink_to(real)
    monkeypatch.chdir(tmp_path)
    alias = tmp_path / "alias"
    paths = [alias / "a.py", alias / "b.py", alias / "link.py", "alias/a.py", "a.py", "."]
    realpath = os.path.realpath
    expected = [realpath(p) for p in paths]
    asked: list[str] = []
    monkeypatch.setattr(os.path, "realpath", lambda p: asked.append(str(p)) or realpath(p))
    resolve = RealPaths()
    assert [resolve(p) for p in paths] == expected
    assert resolve(alias / "a.py") == str(real / "a.py")
    assert resolve(alias / "link.py") == str(tmp_path / "elsewhere.py")  # a link on its own
    assert asked.count(str(alias)) == 1  # however many of its files are asked about
