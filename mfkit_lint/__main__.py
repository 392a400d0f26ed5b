from mfkit_lint.cli import run_mfkit

run_mfkit()
