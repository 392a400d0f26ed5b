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
