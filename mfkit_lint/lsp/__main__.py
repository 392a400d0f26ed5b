import sys

from mfkit_lint.lsp import INSTALL_HINT, missing_dependencies


def _run() -> None:
    missing = missing_dependencies()
    if missing:
        sys.exit(
            f"mfkit-lint: error: the language server needs {' and '.join(missing)}: {INSTALL_HINT}"
        )
    from mfkit_lint.lsp.server import main  # pygls is imported only here

    main()


_run()
