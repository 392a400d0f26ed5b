"""The language server (``mfkit lsp``): a thin pygls adapter over the engine.

``adapter`` turns engine results into LSP values and needs only lsprotocol; ``server`` is the
pygls wiring (document sync, debouncing, logging). Nothing here imports pygls at package import
time, so ``mfkit-lint`` never pays for it.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "install the lsp extra (pip install '.[lsp]' in the mfkit-lint checkout)"


def missing_dependencies() -> list[str]:
    """The language server's dependencies that are not installed."""
    return [name for name in ("pygls", "lsprotocol") if importlib.util.find_spec(name) is None]
