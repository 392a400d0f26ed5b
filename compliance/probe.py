"""Run in a child process before the suite: import Metaflow with the extension installed and
report (as one JSON line) what it registers: the names on offer, the declared capabilities and
where the extension's source lives. A broken extension then fails here with a clear message."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any, Optional

from mfkit_lint.compliance.caps import normalize


def _declared(cls: type) -> Optional[list[Any]]:
    """SUPPORTED_CAPABILITIES from the class, its module, or a module of its package."""
    found = getattr(cls, "SUPPORTED_CAPABILITIES", None)
    if found is not None:
        return list(found)
    module = sys.modules[cls.__module__]
    if hasattr(module, "SUPPORTED_CAPABILITIES"):
        return list(module.SUPPORTED_CAPABILITIES)
    package = cls.__module__.rpartition(".")[0]
    paths = getattr(sys.modules.get(package), "__path__", None)
    for info in pkgutil.iter_modules(paths or []):
        try:
            other = importlib.import_module("%s.%s" % (package, info.name))
        except Exception:  # a module that needs an optional dependency says nothing
            continue
        if hasattr(other, "SUPPORTED_CAPABILITIES"):
            return list(other.SUPPORTED_CAPABILITIES)
    return None


def _extension_root(cls: type) -> str:
    """The extension's own top directory inside metaflow_extensions/ (what mfkit-lint reads)."""
    path = Path(inspect.getfile(cls)).resolve()
    for parent in path.parents:
        if parent.parent.name == "metaflow_extensions":
            return str(parent)
    return str(path.parent)


def probe(kind: str, name: str) -> dict[str, Any]:
    from metaflow import plugins

    if kind == "orchestrator":
        offered = {p.TYPE: p for p in plugins.DEPLOYER_IMPL_PROVIDERS if p.TYPE}
        key = name if name in offered else name.replace("_", "-")
    else:
        offered = {d.name: d for d in plugins.STEP_DECORATORS}
        key = name
    cls = offered.get(key)
    result: dict[str, Any] = {"offered": sorted(offered), "found": cls is not None}
    if cls is None:
        return result
    declared = _declared(cls)
    names, unknown = normalize(declared or [])
    result.update(
        declared=names if declared is not None else None,
        unknown=unknown,
        source=_extension_root(cls),
        cls="%s.%s" % (cls.__module__, cls.__name__),
    )
    return result


def main() -> None:
    kind, name = sys.argv[1], sys.argv[2]
    try:
        result = probe(kind, name)
    except Exception as exc:  # reported to the user by the runner, never as a traceback
        result = {"error": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write("\nMFKIT-PROBE " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
