"""Linting never imports the analyzed code, metaflow, or libcst (fixes do import libcst)."""

import subprocess
import sys
import textwrap


def _modules_after(code: str, tmp_path) -> set[str]:
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from pathlib import Path
            from mfkit_lint.engine.config import Settings
            from mfkit_lint.engine.linter import Linter
            from mfkit_lint.engine.session import RunOptions, Session
            Session(Linter(Settings()), RunOptions({code})).run([sys.argv[1]])
            print("\\n".join(sorted(sys.modules)))
            """
        )
    )
    target = tmp_path / "ext"
    target.mkdir()
    (target / "flow_cli.py").write_text(
        "import metaflow\n"
        "open('SENTINEL', 'w').write('executed')\n"
        "def trigger(run_params, deployer_attribute_file=None):\n"
        "    x.trigger(run_params=tuple(run_params))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert not (tmp_path / "SENTINEL").exists()
    return set(out.stdout.split())


def test_lint_imports_neither_metaflow_nor_libcst(tmp_path):
    modules = _modules_after("", tmp_path)
    assert "metaflow" not in modules
    assert "libcst" not in modules
    assert "flow_cli" not in modules


def test_fix_imports_libcst_but_not_the_code(tmp_path):
    modules = _modules_after("fix=True", tmp_path)
    assert "libcst" in modules
    assert "metaflow" not in modules
    assert "flow_cli" not in modules


def _modules_after_cli(args: list[str], files: dict[str, str], tmp_path) -> set[str]:
    """sys.modules after the mfkit-lint CLI ran in-process on ``files`` (twice: cold, then warm
    from the cache)."""
    target = tmp_path / "ext"
    target.mkdir()
    for name, text in files.items():
        (target / name).write_text(text)
    probe = (
        "import sys\n"
        "from mfkit_lint.cli import lint_command\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        lint_command.main(sys.argv[1:], prog_name='mfkit-lint')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *args, str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (target / ".mfkit_lint_cache").is_dir()
    return set(out.stderr.split())


CORE = ("--select", "MFK101,MFK301")  # rules whose fixes these files do or do not offer
NOTHING_TO_FIX = {
    "clean.py": "import subprocess\n\n\ndef f(flow):\n    subprocess.run(['python', flow])\n",
    # a finding whose fix is unsafe: --fix without --unsafe-fixes does not apply it
    "unsafe.py": (
        "def run_step(flow, attempt):\n"
        "    return [flow, 'step', 'a', '--run-id', '1', '--task-id', 't-1',\n"
        "            '--input-paths', 'x', '--retry-count', '0']\n"
    ),
}


def test_fix_with_nothing_to_fix_never_imports_libcst(tmp_path):
    modules = _modules_after_cli(["--fix", "--diff", *CORE], NOTHING_TO_FIX, tmp_path)
    assert "mfkit_lint.engine.session" in modules
    assert "libcst" not in modules
    assert "mfkit_lint.fixers.apply" not in modules


def test_fix_imports_libcst_only_for_a_file_with_a_fix(tmp_path):
    files = dict(NOTHING_TO_FIX)
    files["deployer.py"] = (
        "def run(self, **kwargs):\n"
        "    run_params = tuple(kwargs)\n"
        "    return self.trigger(run_params=run_params)\n"
    )
    assert "libcst" in _modules_after_cli(["--fix", "--diff", *CORE], files, tmp_path)


def test_loading_the_rules_and_a_clean_lint_build_no_fix_data(tmp_path):
    """Rules build fix data (fixers/data.py, a fifth of the rules' load time) only for a
    finding they report: loading them and linting code without findings never imports it."""
    clean = {"clean.py": NOTHING_TO_FIX["clean.py"]}
    assert "mfkit_lint.fixers.data" not in _modules_after_cli([], clean, tmp_path)


def test_a_finding_with_a_fix_builds_its_fix_data(tmp_path):
    modules = _modules_after_cli(["--select", "MFK101"], NOTHING_TO_FIX, tmp_path)
    assert "mfkit_lint.fixers.data" in modules
