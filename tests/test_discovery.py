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


def _walk_asking_each_path(finder, root):
    """The files a walk finds when every entry's own path is asked of ``excluded`` (what the
    walk decides per directory must be the same)."""
    from pathlib import Path

    from mfkit_lint.engine import discovery

    forced = finder.excluded(root, is_dir=True, base=root.parent)

    def skip(path: Path, is_dir: bool) -> bool:
        if forced:
            return discovery._defaults().match_file(path.name + ("/" if is_dir else ""))
        return finder.excluded(path, is_dir, base=root)

    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        current = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not skip(current / d, True))
        for name in sorted(filenames):
            path = current / name
            wanted = name.endswith((".py", ".pyi")) or discovery.is_workflow_file(path)
            if wanted and not skip(path, False):
                found.append(path)
    return found


def test_a_walk_decides_per_directory_as_it_would_per_path(tmp_path, monkeypatch):
    """Exclude patterns (anchored, nested, negated, with a slash), .gitignore files at several
    levels (with negations), symbolic links to files and directories inside and outside the
    configuration root, broken links, a directory named although ignored, a walk outside the
    root and one named by a relative path: the same files as asking each path on its own."""
    from pathlib import Path

    from mfkit_lint.engine.config import load_settings
    from mfkit_lint.engine.discovery import FileFinder

    repo = tmp_path / "repo"
    files = [
        "a.py",
        "top_only.py",
        "notes.log",
        "keep.py",
        "build/b.py",
        "generated/g.py",
        "docs/d.py",
        "docs/deeper/d2.py",
        "sub/a.py",
        "sub/local.py",
        "sub/important.py",
        "sub/ignored_dir/x.py",
        "sub/ignored_dir/kept.py",
        "sub/nested/x/deep.py",
        "sub/nested/shallow.py",
        "sub/skip_me.py",
        "env/e.py",
        "pkg.egg-info/p.py",
        ".github/workflows/ci.yml",
        "sub/.github/workflows/ci.yaml",
        "sub/dist/t.pyi",
        "space dir/s.py",
        "ünï/u.py",
    ]
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x = 1\n")
    (repo / ".git").mkdir()
    (repo / "pyproject.toml").write_text(
        '[tool.mfkit-lint]\nextend-exclude = ["/generated", "docs/*.py", "**/skip_me.py", '
        '"!keep.py", "sub/nested/"]\n'
    )
    (repo / ".gitignore").write_text(
        "*.log\nbuild/\n/top_only.py\nsub/ignored_dir/\n!sub/ignored_dir/kept.py\n"
    )
    (repo / "sub" / ".gitignore").write_text("local.py\n*.py\n!important.py\n!a.py\n")
    (repo / "assets").mkdir()  # no entry of it is asked about: its .gitignore is never read
    (repo / "assets" / "logo.png").write_bytes(b"")
    (repo / "assets" / ".gitignore").write_text("*.png\n")
    outside = tmp_path / "outside"
    (outside / "o").mkdir(parents=True)
    (outside / "o" / "o.py").write_text("")
    (outside / ".gitignore").write_text("o/ignored.py\n")
    (outside / "o" / "ignored.py").write_text("")
    (repo / "linked.py").symlink_to(repo / "sub" / "a.py")
    (repo / "linkdir").symlink_to(repo / "sub")
    (repo / "out.py").symlink_to(outside / "o" / "o.py")
    (repo / "outdir").symlink_to(outside / "o", target_is_directory=True)
    (repo / "broken.py").symlink_to(tmp_path / "nowhere.py")
    (repo / "sub" / "build.py").symlink_to(repo / "build" / "b.py")
    (outside / "o" / "back.py").symlink_to(repo / "top_only.py")
    settings = load_settings(None, repo)
    assert settings.root == repo
    monkeypatch.chdir(repo)
    roots = [repo, repo / "sub", repo / "build", Path("sub"), Path("."), outside, repo / "outdir"]
    for root in roots:
        asking, walking = FileFinder(settings), FileFinder(settings)
        expected = _walk_asking_each_path(asking, root)
        assert list(walking._walk(root, [])) == expected, root
        # (the .gitignore files read are those a kept listing watches)
        assert sorted(walking.gitignore.loaded()) == sorted(asking.gitignore.loaded()), root
        without_gitignore = FileFinder(settings, respect_gitignore=False)
        expected = _walk_asking_each_path(without_gitignore, root)
        assert list(FileFinder(settings, respect_gitignore=False)._walk(root, [])) == expected
    found = {p.relative_to(repo).as_posix() for p in FileFinder(settings)._walk(repo, [])}
    assert {"a.py", "keep.py", "sub/a.py", "sub/important.py", "linked.py", "out.py"} <= found
    assert not found & {"top_only.py", "build/b.py", "generated/g.py", "docs/d.py", "sub/local.py"}
