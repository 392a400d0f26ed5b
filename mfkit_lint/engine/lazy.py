"""Modules imported when first used, for what only some runs need."""

from __future__ import annotations

import importlib
import types
from typing import Any, Optional


class LazyModule:
    """Stands for the module ``name`` and imports it when one of its attributes is first read.
    Importing PyYAML costs a lint of Python files about a tenth of its start-up (its reader
    compiles large regular expressions), although only YAML sources (CI workflows) need it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Optional[types.ModuleType] = None

    def __getattr__(self, attribute: str) -> Any:
        # (only called for what this object lacks: every attribute of the module)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazily imported module {self._name!r}>"
