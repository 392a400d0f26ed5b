"""The lint cache: it never changes a result, and it is invalidated by what changes results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import (
    BIN,
    CLEAN,
    RETRY_ZERO_UNSAFE_FIXED,
    TAG_BEFORE_STEP_FIXED,
    TUPLE_RUN_PARAMS_FIXED,
    invoke,
    run_cli,
)

from mfkit_lint.engine import cache as cache_module
from mfkit_lint.engine.cache import (
    CACHE_DIR_ENV,
    CACHE_DIR_NAME,
    Cache,
    fingerprint,
    project_context,
)
from mfkit_lint.engine.config import load_settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import rule_infos
from mfkit_lint.engine.session import RunOptions, Session


@pytest.fixture(autouse=True)
def _no_cache_override(monkeypatch):
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)


def packs(directory: Path) -> list[Path]:
    return sorted(directory.glob("pack-*.json"))


def entries(root: Path, directory: Optional[Path] = None) -> list[str]:
    """The keys of every entry of the cache of ``root`` (or in ``directory``)."""
    found = packs(directory or root / CACHE_DIR_NAME)
    return sorted(key for pack in found for key in json.loads(pack.read_bytes()))


def outputs(project: Path, *args: str) -> dict[str, bytes]:
    """What a user sees, in every format that shows fixes differently."""
    out = {}
    for fmt in (("--format", "json"), ("--format", "text", "--show-source"), ("--statistics",)):
        result = invoke(*fmt, *args, ".", cwd=project)
        out[" ".join(fmt)] = (result.returncode, result.stdout, result.stderr)
    result = invoke("--diff", "--unsafe-fixes", *args, ".", cwd=project)
    out["diff"] = (result.returncode, result.stdout, result.stderr)
    return out


def test_cached_and_uncached_runs_give_identical_output(bad_project: Path):
    uncached = outputs(bad_project, "--no-cache")
    assert not (bad_project / CACHE_DIR_NAME).exists()  # --no-cache writes nothing
    cold = outputs(bad_project)
    assert len(entries(bad_project)) >= 5  # one entry per file and selection
    warm = outputs(bad_project)
    assert cold == uncached
    assert warm == uncached
    # the JSON output carries the fixes' edits, which the cache does not hold
    fixes = [d["fix"] for d in json.loads(warm["--format json"][1]) if d["fix"]]
    assert fixes and all(f["edits"] for f in fixes)


def test_cache_directory_is_in_the_config_root_and_ignored_by_git(bad_project: Path):
    (bad_project / "pyproject.toml").write_text("[tool.mfkit-lint]\n")
    sub = bad_project / "sub"
    sub.mkdir()
    (sub / "deployer.py").write_text((bad_project / "deployer.py").read_text())
    result = run_cli("sub", cwd=bad_project)
    assert result.returncode == 1
    cache = bad_project / CACHE_DIR_NAME
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f068868")
    assert not (sub / CACHE_DIR_NAME).exists()
    # the cache is never linted itself, and a second run reads it
    again = run_cli(".", cwd=bad_project)
    assert CACHE_DIR_NAME not in again.stdout.decode()
    if shutil.which("git"):  # and git does not see it
        subprocess.run(["git", "init", "-q"], cwd=bad_project, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=bad_project,
            capture_output=True,
            check=True,
        )
        assert status.stdout and CACHE_DIR_NAME.encode() not in status.stdout


def test_cache_dir_from_the_environment(bad_project: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    result = run_cli(".", cwd=bad_project, tool="mfkit-lint")
    assert result.returncode == 1
    assert not (bad_project / CACHE_DIR_NAME).exists()
    assert len(entries(bad_project, tmp_path / "elsewhere")) >= 5


def _session(project: Path, **options) -> Session:
    settings = load_settings(None, project)
    return Session(Linter(settings), RunOptions(cache=True, **options))


def _summary(outcome) -> list[tuple]:
    return [
        (d.filename, d.location, d.end_location, d.code, d.message, d.fix)
        for d in outcome.diagnostics
    ] + [("error", e) for e in outcome.errors]


def test_a_warm_run_lints_nothing(bad_project: Path, monkeypatch):
    cold = _session(bad_project).run([str(bad_project)])
    assert cold.files == 5

    def no_linting(*args, **kwargs):
        raise AssertionError("linted although the cache has every file")

    monkeypatch.setattr(Linter, "lint_bytes", no_linting)
    monkeypatch.setattr(Linter, "lint_source", no_linting)
    warm = _session(bad_project).run([str(bad_project)])
    assert _summary(warm) == _summary(cold)
    assert set(warm.sources) == set(cold.sources)
    assert all(warm.sources[name].raw == cold.sources[name].raw for name in cold.sources)


@pytest.mark.parametrize("config", ["", 'ignore = ["MFK002"]'], ids=["default", "MFK002-ignored"])
def test_a_warm_run_decodes_only_the_text_it_uses(bad_project: Path, monkeypatch, config: str):
    """Cached files are read (their bytes are the key) but decoded only when their text is
    used; a file that does not decode stays without a source, as in a cold run."""
    from mfkit_lint.engine.source import Source

    (bad_project / "pyproject.toml").write_text(f"[tool.mfkit-lint]\n{config}\n")
    (bad_project / "latin.py").write_bytes("# coding: latin-1\nx = 'é'\n".encode("latin-1"))
    (bad_project / "broken.py").write_bytes(b"x = '\xff'\n")  # not UTF-8
    cold = _session(bad_project).run([str(bad_project)])
    assert str(bad_project / "broken.py") not in cold.sources
    decoded: list[bytes] = []
    real = Source.from_bytes.__func__

    def spy(cls, raw: bytes) -> Source:
        decoded.append(raw)
        return real(cls, raw)

    monkeypatch.setattr(Source, "from_bytes", classmethod(spy))
    warm = _session(bad_project).run([str(bad_project)])
    assert _summary(warm) == _summary(cold)
    assert set(warm.sources) == set(cold.sources)
    if not config:
        assert decoded == []
    for name, source in cold.sources.items():
        again = warm.sources[name]
        assert (again.text, again.encoding, again.raw) == (source.text, source.encoding, source.raw)


def test_in_project_mode_a_change_to_any_file_invalidates_the_tree(bad_project: Path, monkeypatch):
    """Linting a directory, rules may read the other files: every entry depends on all of them."""
    cold = _session(bad_project).run([str(bad_project)])
    linted: list[str] = []
    real = Linter.lint_bytes

    def spy(self, raw, filename):
        linted.append(Path(filename).name)
        return real(self, raw, filename)

    monkeypatch.setattr(Linter, "lint_bytes", spy)
    assert _summary(_session(bad_project).run([str(bad_project)])) == _summary(cold)
    assert linted == []
    (bad_project / "clean.py").write_text(CLEAN + "\n# edited\n")
    _session(bad_project).run([str(bad_project)])
    assert sorted(linted) == sorted(p.name for p in bad_project.glob("*.py"))
    linted.clear()
    (bad_project / "new.py").write_text("x = 1\n")  # a new file changes the tree too
    _session(bad_project).run([str(bad_project)])
    assert len(linted) == 6


def test_a_file_named_another_way_hits_and_reports_its_own_name(bad_project: Path, monkeypatch):
    # The same file of the same (unchanged) project, reached through a link: the cached
    # result is reported under the name it was asked for. (A copy is a new file of the
    # project, which changes what the project's other files may be told.)
    copy = bad_project / "steps_link.py"
    copy.symlink_to(bad_project / "steps.py")
    _session(bad_project).run([str(bad_project / "steps.py")])
    monkeypatch.setattr(Linter, "lint_bytes", lambda *a: pytest.fail("not a hit"))
    outcome = _session(bad_project).run([str(copy)])
    assert [(d.filename, d.code) for d in outcome.diagnostics if d.code == "MFK103"] == [
        (str(copy), "MFK103")
    ]


def test_a_changed_file_is_linted_again(bad_project: Path):
    assert invoke(".", cwd=bad_project).returncode == 1
    for name in ("deployer.py", "steps.py", "retry.py", "unsafe.py", "clean.py"):
        (bad_project / name).write_text("x = 1\n")
    result = invoke(".", cwd=bad_project)
    assert (result.returncode, result.stdout) == (0, b"All checks passed!\n")


@pytest.mark.parametrize(
    "config, kept",
    [
        ('ignore = ["MFK103"]', lambda name, code: code != "MFK103"),
        ('select = ["MFK3"]', lambda name, code: code.startswith("MFK3")),
        (
            'per-file-ignores = { "retry.py" = ["MFK101"] }',
            lambda name, code: (name, code) != ("retry.py", "MFK101"),
        ),
    ],
    ids=["ignore", "select", "per-file-ignores"],
)
def test_a_config_change_invalidates(bad_project: Path, config: str, kept):
    pyproject = bad_project / "pyproject.toml"
    pyproject.write_text("[tool.mfkit-lint]\n")

    def found() -> set[str]:
        result = invoke("--format", "json", ".", cwd=bad_project)
        return {f"{Path(d['filename']).name}:{d['code']}" for d in json.loads(result.stdout)}

    before = found()
    assert {"deployer.py:MFK301", "steps.py:MFK103", "retry.py:MFK101"} <= before
    pyproject.write_text(f"[tool.mfkit-lint]\n{config}\n")
    after = found()
    assert after == {f for f in before if kept(*f.split(":"))}
    pyproject.write_text("[tool.mfkit-lint]\n")
    assert found() == before


def test_a_change_to_the_analysis_code_invalidates(tmp_path: Path, monkeypatch):
    """An edited rule module (editable installs, upgraded plugins) changes the fingerprint."""
    module_file = tmp_path / "third_party_rules.py"
    module_file.write_text("# version 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # found by file, never imported
    plugin = ["third_party_rules"]
    first = fingerprint(modules=plugin)
    assert fingerprint(modules=plugin) == first
    module_file.write_text("# version 2\n")
    assert fingerprint(modules=plugin) != first
    assert "third_party_rules" not in sys.modules
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert fingerprint(modules=plugin) not in (first, fingerprint(modules=[]))
    assert fingerprint(modules=[]) != fingerprint(modules=plugin)


def test_the_fingerprint_is_remembered_until_a_file_changes(tmp_path: Path, monkeypatch):
    """With a cache directory the digest of the analysis code is kept, keyed by each file's
    size, inode and times: a changed file is hashed again."""
    module_file = tmp_path / "third_party_rules.py"
    module_file.write_text("# version 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = ["third_party_rules"]
    directory = tmp_path / "cache"
    # A file changed in the last two seconds could change again within one tick of the file
    # system's clock: nothing is remembered then.
    assert fingerprint(directory, plugin) == fingerprint(modules=plugin)
    assert not list(directory.glob("fingerprint-*"))
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)
    first = fingerprint(directory, plugin)
    assert first == fingerprint(modules=plugin)
    assert len(list(directory.glob("fingerprint-*"))) == 1
    hashed: list[str] = []
    real_sha256 = cache_module.hashlib.sha256

    def spy(data: bytes = b"") -> Any:
        hashed.append(data)
        return real_sha256(data)

    monkeypatch.setattr(cache_module.hashlib, "sha256", spy)
    assert fingerprint(directory, plugin) == first
    assert b"# version 1\n" not in hashed  # remembered, not read again
    module_file.write_text("# version 2, longer\n")
    second = fingerprint(directory, plugin)
    assert b"# version 2, longer\n" in hashed
    assert second != first
    assert second == fingerprint(modules=plugin)


def test_the_key_depends_on_bytes_and_codes(tmp_path: Path):
    cache = Cache(tmp_path, "salt")
    key = cache.key(b"x = 1\n", ("MFK001", "MFK101"))
    assert key == cache.key(b"x = 1\n", ("MFK001", "MFK101"))
    assert key != cache.key(b"x = 2\n", ("MFK001", "MFK101"))
    assert key != cache.key(b"x = 1\n", ("MFK001",))
    assert key != Cache(tmp_path, "other salt").key(b"x = 1\n", ("MFK001", "MFK101"))


def _same_as_uncached(project: Path, spoil) -> None:
    """Spoil the cache of a warm project: the output stays what an uncached run gives, and
    every entry is written again, whole."""
    expected = invoke("--format", "json", "--no-cache", ".", cwd=project)
    invoke(".", cwd=project)
    found = packs(project / CACHE_DIR_NAME)
    assert found
    for pack in found:
        spoil(pack)
    result = invoke("--format", "json", ".", cwd=project)
    assert (result.returncode, result.stdout, result.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )
    assert len(entries(project)) >= 5
    for pack in packs(project / CACHE_DIR_NAME):
        for written, diagnostics in json.loads(pack.read_bytes()).values():
            assert isinstance(written, int) and isinstance(diagnostics, list)


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'"text"', b"\xff\xfe\x00"],
    ids=["empty", "partial", "list", "string", "binary"],
)
def test_a_corrupt_or_partial_pack_is_a_miss(bad_project: Path, content: bytes):
    _same_as_uncached(bad_project, lambda pack: pack.write_bytes(content))


@pytest.mark.parametrize(
    "entry",
    [
        None,
        [],
        [1],
        [1, {}],
        [1, [["MFK101"]]],
        [1, [["MFK101", "x", "y", [1, 1, "2", 3], None, None]]],
        [1, [["MFK101", "x", "y", [1, 1, 2, 3], ["maybe", "fix"], None]]],
        [1, [["MFK101", "x", "y", [1, 1, 2, 3], None, 7]]],
        "text",
    ],
    ids=[
        "null",
        "empty",
        "short",
        "dict",
        "short-diagnostic",
        "bad-span",
        "bad-fix",
        "bad-reason",
        "string",
    ],
)
def test_corrupt_entries_are_misses(bad_project: Path, entry):
    def spoil(pack: Path) -> None:
        data = json.loads(pack.read_bytes())
        pack.write_text(json.dumps({key: entry for key in data}))

    _same_as_uncached(bad_project, spoil)


def test_an_unwritable_cache_location_is_ignored(bad_project: Path, tmp_path: Path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "cache"))
    expected = invoke("--no-cache", ".", cwd=bad_project)
    result = invoke(".", cwd=bad_project)
    assert (result.returncode, result.stdout, result.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )


def test_results_with_errors_are_not_cached(bad_project: Path, monkeypatch):
    from mfkit_lint.engine.registry import all_rules

    rule = next(r for r in all_rules() if r.code == "MFK103")

    def broken(self, module):
        raise ValueError("boom")

    monkeypatch.setattr(rule, "check", broken)
    files = [p.name for p in sorted(bad_project.glob("*.py"))]
    for _ in range(2):
        result = invoke(*files, cwd=bad_project)
        assert result.returncode == 2
        assert "steps.py: internal error in rule MFK103: ValueError: boom" in result.stderr.decode()
    linter = Linter(load_settings(None, bad_project))
    cache = Cache.for_linter(linter)

    def cached(name: str) -> bool:
        path = bad_project / name
        # A file's result depends on its project (here, the files of its directory).
        stamp = project_context(linter.project_files(str(path)))
        context = stamp + os.path.realpath(path).encode()
        key = cache.key(path.read_bytes(), linter.checked_codes(str(path)), context)
        return cache.get(key, name, cache.pack_for(stamp)) is not None

    assert cached("deployer.py")
    assert not cached("steps.py")  # the only file MFK103 runs on


def test_fix_from_a_warm_cache_fixes_for_real(bad_project: Path):
    core = ("--select", "MFK101,MFK103,MFK301")
    assert invoke(*core, "--unsafe-fixes", ".", cwd=bad_project).returncode == 1
    result = invoke(*core, "--fix", "--unsafe-fixes", ".", cwd=bad_project)
    assert result.returncode == 1  # retry.py has no fix
    assert (bad_project / "steps.py").read_text() == TAG_BEFORE_STEP_FIXED
    assert (bad_project / "deployer.py").read_text() == TUPLE_RUN_PARAMS_FIXED
    assert (bad_project / "unsafe.py").read_text() == RETRY_ZERO_UNSAFE_FIXED
    assert "(3 fixed, 1 remaining)." in result.stdout.decode()
    again = invoke(*core, "--fix", "--unsafe-fixes", ".", cwd=bad_project)
    assert "Found 1 error." in again.stdout.decode()


def test_concurrent_runs_share_the_cache_safely(bad_project: Path):
    expected = invoke("--format", "json", "--no-cache", ".", cwd=bad_project)
    env = dict(os.environ, NO_COLOR="1")
    procs = [
        subprocess.Popen(
            [str(BIN / "mfkit-lint"), "--format", "json", "."],
            cwd=bad_project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert (proc.returncode, out, err) == (1, expected.stdout, b"")
    assert len(entries(bad_project)) >= 5
    for pack in packs(bad_project / CACHE_DIR_NAME):
        assert all(isinstance(d, list) for _, d in json.loads(pack.read_bytes()).values())
    assert not list((bad_project / CACHE_DIR_NAME).glob(".tmp-*"))
    warm = invoke("--format", "json", ".", cwd=bad_project)
    assert warm.stdout == expected.stdout


def test_prune_drops_old_packs_and_orphaned_temporaries(tmp_path: Path):
    import time

    cache = Cache(tmp_path / "c", "salt")
    cache.put("ab" + "0" * 62, [], "old")
    cache.put("cd" + "1" * 62, [], "fresh")
    cache.flush()
    old, fresh = cache._pack_path("old"), cache._pack_path("fresh")
    orphan = tmp_path / "c" / ".tmp-killed"
    orphan.write_text("{")
    leftover = tmp_path / "c" / "ab" / ("0" * 62 + ".json")  # an entry of the older layout
    leftover.parent.mkdir()
    leftover.write_text("{}")
    now = time.time()
    for path in (old, leftover):
        os.utime(path, (now - 40 * 86400, now - 40 * 86400))
    os.utime(orphan, (now - 7200, now - 7200))
    assert cache.prune(now=now) == 3
    assert not os.path.exists(old) and not orphan.exists() and not leftover.exists()
    assert os.path.exists(fresh)
    assert cache.prune(now=now + 60) == 0  # not due again for a day


def test_prune_keeps_at_most_max_entries(tmp_path: Path, monkeypatch):
    """The packs written last are kept, up to MAX_ENTRIES entries in all."""
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 3)
    cache = Cache(tmp_path / "c", "salt")
    names = ["p0", "p1", "p2", "p3"]
    for i, name in enumerate(names):
        cache.put(f"{i:02d}" + "0" * 62, [], name)
        if name == "p2":
            cache.put(f"{i:02d}" + "1" * 62, [], name)
        cache.flush(now=1_000_000 + i)
        os.utime(cache._pack_path(name), (1_000_000 + i, 1_000_000 + i))
    cache.prune(now=1_000_010, force=True)
    assert [os.path.exists(cache._pack_path(n)) for n in names] == [False, False, True, True]


def test_a_pack_keeps_what_other_runs_wrote_and_drops_old_entries(tmp_path: Path, monkeypatch):
    now = 1_000_000_000
    monkeypatch.setattr(cache_module.time, "time", lambda: now)
    first, second = Cache(tmp_path, "salt"), Cache(tmp_path, "salt")
    first.put("a" * 64, [], "p")
    second.put("b" * 64, [], "p")  # a run that started before the first one wrote
    first.flush()
    second.flush()
    assert Cache(tmp_path, "salt").get("a" * 64, "x.py", "p") == []
    assert Cache(tmp_path, "salt").get("b" * 64, "x.py", "p") == []
    assert Cache(tmp_path, "salt").get("a" * 64, "x.py", "other") is None
    # an entry not written again for MAX_AGE_DAYS goes when its pack is next written
    monkeypatch.setattr(cache_module.time, "time", lambda: now + 40 * 86400)
    third = Cache(tmp_path, "salt")
    third.put("c" * 64, [], "p")
    third.flush()
    assert sorted(json.loads(Path(third._pack_path("p")).read_bytes())) == ["c" * 64]
    # and a pack never holds more than MAX_ENTRIES
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 2)
    third.put("d" * 64, [], "p")
    third.put("e" * 64, [], "p")
    third.flush()
    assert len(json.loads(Path(third._pack_path("p")).read_bytes())) == 2


def test_one_pack_per_project_state(bad_project: Path):
    """A warm run reads one file per project; a changed project starts a new pack."""
    invoke(".", cwd=bad_project)
    assert len(packs(bad_project / CACHE_DIR_NAME)) == 1
    invoke(".", cwd=bad_project)
    assert len(packs(bad_project / CACHE_DIR_NAME)) == 1
    (bad_project / "new.py").write_text("x = 1\n")
    invoke(".", cwd=bad_project)
    assert len(packs(bad_project / CACHE_DIR_NAME)) == 2


def test_a_cached_run_imports_no_rule(bad_project: Path):
    """A run whose files are all cached answers from the cache: no rule module, no module
    model (project mode still indexes the tree's files, which parses nothing)."""
    import subprocess

    code = (
        "import sys\n"
        "from mfkit_lint.cli import lint_command\n"
        "try:\n"
        "    lint_command.main(['--exit-zero', '-q', '.'], prog_name='mfkit-lint')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('mfkit_lint.rules', 'mfkit_lint.model.module', 'mfkit_lint.model.commands')\n"
        "loaded = [m for m in sys.modules if m.startswith(heavy)]\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    env = dict(os.environ, MFKIT_LINT_CACHE_DIR=str(bad_project / ".cache"))
    first = subprocess.run(
        [sys.executable, "-c", code], cwd=bad_project, env=env, capture_output=True, text=True
    )
    assert "LOADED []" not in first.stderr  # the cold run loads them
    second = subprocess.run(
        [sys.executable, "-c", code], cwd=bad_project, env=env, capture_output=True, text=True
    )
    assert "LOADED []" in second.stderr, second.stderr
    assert second.stdout == first.stdout and "MFK301" in second.stdout


def test_a_first_run_takes_the_fingerprint_only_to_store(bad_project: Path, monkeypatch):
    """With nothing in the cache directory to look up (a first run), neither the rule list nor
    a file's entry needs the fingerprint (which reads every analysis file): it is taken when
    the first result is stored, while the workers lint. What that run stores answers the next
    run as before: the same entries, and a rule list that spares it importing the rules."""
    taken: list[Path] = []
    real = cache_module.fingerprint

    def counted(directory: Optional[Path] = None, modules: Any = None) -> str:
        taken.append(directory)
        return real(directory, modules)

    monkeypatch.setattr(cache_module, "fingerprint", counted)
    monkeypatch.setattr(cache_module, "_SALTS", {})
    settings = load_settings(None, bad_project)
    missing = Cache.for_settings(settings)
    assert missing.rule_index() is None and not missing.has_entries(b"stamp")
    missing.directory.mkdir()
    first = Cache.for_settings(settings)
    assert first.rule_index() is None and not first.has_entries(b"stamp")  # an empty one
    assert taken == []
    linter = Linter(settings)
    first.put_rule_index(rule_infos())
    outcome = Session(linter, RunOptions(cache=True)).run([str(bad_project)])
    assert taken == [first.directory]  # once, by the run's first stored result
    assert {d.code for d in outcome.diagnostics} >= {"MFK301"}
    stored = entries(bad_project)
    assert len(stored) == len(list(bad_project.glob("*.py")))

    monkeypatch.setattr(cache_module, "_SALTS", {})
    second = Cache.for_settings(settings)
    assert second.rule_index() == list(rule_infos())
    assert taken == [first.directory] * 2  # a directory holding entries is asked with it
    warm = Linter(settings, index=second.rule_index())
    monkeypatch.setattr(warm, "lint_bytes", None)  # every file is answered by the cache
    again = Session(warm, RunOptions(cache=True)).run([str(bad_project)])
    assert again.errors == []
    assert [(d.code, d.filename, d.span) for d in again.diagnostics] == [
        (d.code, d.filename, d.span) for d in outcome.diagnostics
    ]
    assert entries(bad_project) == stored
