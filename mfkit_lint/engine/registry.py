"""Finding the rules (through the ``mfkit_lint.rules`` entry point group) and selecting them."""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from mfkit_lint.engine.diagnostic import FIXERS_PACKAGE, codemod_target
from mfkit_lint.engine.rule import Rule

if TYPE_CHECKING:
    from mfkit_lint.contract.capabilities import Cap
    from mfkit_lint.engine.config import Settings

ENTRY_POINT_GROUP = "mfkit_lint.rules"
_CODE = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
_SELECTOR = re.compile(r"^(ALL|[A-Z]{2,5}[0-9]{0,3})$")


class RegistryError(Exception):
    """A rule plugin is missing or malformed, or a selector names no rule."""


class SyntaxErrorRule(Rule):
    """Reported by the engine when a file does not parse; no other rule can run on it."""

    code = "MFK001"
    name = "syntax-error"
    summary = "the file is not valid Python, so nothing else can be checked"

    def check(self, module):  # pragma: no cover - the engine reports this itself
        return ()


class UndecodableFileRule(Rule):
    """Reported by the engine when a file's bytes are not text in its declared encoding."""

    code = "MFK002"
    name = "undecodable-file"
    summary = "the file's bytes are not text in its declared encoding (PEP 263)"

    def check(self, module):  # pragma: no cover - the engine reports this itself
        return ()


ENGINE_RULES: tuple[type[Rule], ...] = (SyntaxErrorRule, UndecodableFileRule)


@lru_cache(maxsize=1)
def _entry_points() -> Sequence[Any]:
    """The entry points of the group (with ``name``, ``value`` and ``load()``), read once per
    process: the rules and the cache's fingerprint ask for them."""
    found = _read_entry_points()
    if found is not None:
        return found
    from importlib.metadata import entry_points

    eps = entry_points()
    if hasattr(eps, "select"):
        return tuple(eps.select(group=ENTRY_POINT_GROUP))
    return tuple(eps.get(ENTRY_POINT_GROUP, ()))  # Python 3.9


class _EntryPoint(NamedTuple):
    """An entry point of the group, loaded as importlib.metadata loads it."""

    name: str
    value: str

    def load(self) -> object:
        match = re.match(_ENTRY_POINT_VALUE, self.value)
        if match is None:  # malformed: importlib.metadata says so its own way
            from importlib.metadata import EntryPoint

            return EntryPoint(self.name, self.value, ENTRY_POINT_GROUP).load()
        import importlib

        target = importlib.import_module(match.group("module"))
        for attribute in filter(None, (match.group("attr") or "").split(".")):
            target = getattr(target, attribute)
        return target


# importlib.metadata's syntax of an entry point: module, optional :attribute, optional [extras]
_ENTRY_POINT_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
_METADATA_DIRS = (".dist-info", ".egg-info")


def _read_entry_points() -> Optional[tuple[_EntryPoint, ...]]:
    """The group's entry points as ``importlib.metadata.entry_points`` finds them: in the
    ``entry_points.txt`` of the metadata directories of the entries of ``sys.path``, in that
    order, the first distribution of each (normalised) name hiding the others. Importing
    importlib.metadata alone costs a lint about a tenth of its start-up. None where the
    environment holds anything else it reads (a zip or egg on the path, another finder of
    distributions, Python 3.9, which keeps every copy) or a file it rejects: it answers then."""
    import importlib.machinery

    if sys.version_info < (3, 10):
        return None
    if importlib.machinery.PathFinder not in sys.meta_path:
        return None
    for finder in sys.meta_path:
        if finder is not importlib.machinery.PathFinder and hasattr(finder, "find_distributions"):
            return None
    seen: set[str] = set()
    found: list[_EntryPoint] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            return None
        root = entry or "."
        try:
            children = os.listdir(root)
        except Exception:
            if os.path.lexists(root):
                return None  # a zip archive (or a directory it may read otherwise)
            continue
        if os.path.basename(root).lower().endswith(".egg"):
            return None
        for child in children:
            if not child.lower().endswith(_METADATA_DIRS):
                continue
            if child.startswith(".") or not child.endswith(_METADATA_DIRS):
                return None  # (its name then comes from the METADATA file)
            name = re.sub(r"[-_.]+", "_", child.rpartition(".")[0].partition("-")[0]).lower()
            if name in seen:
                continue
            seen.add(name)
            try:
                with open(os.path.join(root, child, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
                continue  # no entry points
            except (OSError, ValueError):
                return None
            group = None
            for line in text.splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith("[") and line.endswith("]"):
                    group = line.strip("[]")
                elif group is not None:
                    key, equals, value = line.partition("=")
                    if not equals:
                        return None
                    if group == ENTRY_POINT_GROUP:
                        found.append(_EntryPoint(key.strip(), value.strip()))
    return tuple(found)


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every known rule class, engine codes first, sorted by code; loaded once per process."""
    rules: dict[str, type[Rule]] = {r.code: r for r in ENGINE_RULES}
    for ep in _entry_points():
        try:
            target = ep.load()
        except Exception as exc:
            raise RegistryError(f"cannot load rule plugin {ep.name} ({ep.value}): {exc}") from exc
        for rule in _rules_of(ep.name, target):
            if rule.code in rules and rules[rule.code] is not rule:
                raise RegistryError(f"rule code {rule.code} is registered twice ({ep.value})")
            rules[rule.code] = rule
    if len(rules) == len(ENGINE_RULES):
        raise RegistryError(
            "no rules are registered under the entry point group "
            f"{ENTRY_POINT_GROUP!r}: is mfkit-lint installed (pip install mfkit-lint)?"
        )
    return tuple(sorted(rules.values(), key=lambda r: r.code))


def _modules_of(package: types.ModuleType) -> list[types.ModuleType]:
    """A package stands for every module in it (one rule per file needs no entry point each)."""
    if not hasattr(package, "__path__"):
        return [package]
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__, package.__name__ + "."))
    return [package, *(importlib.import_module(name) for name in names)]


def _rules_of(ep_name: str, target: object) -> list[type[Rule]]:
    """An entry point names one Rule class, or a module or package: then every Rule class
    defined in it."""
    if isinstance(target, types.ModuleType):
        found = [
            obj
            for module in _modules_of(target)
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj.__module__ == module.__name__
            and "code" in vars(obj)
        ]
    else:
        found = [target]  # type: ignore[list-item]
    for rule in found:
        _validate(ep_name, rule)
    return found


def _validate(ep_name: str, rule: object) -> None:
    if not (isinstance(rule, type) and issubclass(rule, Rule)):
        raise RegistryError(f"entry point {ep_name} names neither a Rule subclass nor a module")
    for attr in ("code", "name", "summary"):
        if not isinstance(getattr(rule, attr, None), str):
            raise RegistryError(f"rule {ep_name} has no {attr}")
    if not _CODE.match(rule.code):
        raise RegistryError(f"rule {ep_name} has a malformed code {rule.code!r}")
    fix = getattr(rule, "fix", None)
    if fix is not None and not _shipped_link(rule, fix.codemod):
        problem = _codemod_problem(fix.codemod)
        if problem:
            raise RegistryError(f"rule {rule.code}'s fix names {fix.codemod!r}: {problem}")


BUILTIN_RULES = "mfkit_lint.rules"


def _shipped_link(rule: type[Rule], reference: str) -> bool:
    """A built-in rule's link to a built-in fixer: both ship in this package, and its tests
    check every such link (tests/test_fixer_link.py). Reading the fixers' source again at each
    start would cost a cold run ~8 ms before its workers start; a plugin's links are read."""
    module, _ = codemod_target(reference)
    return rule.__module__.startswith(BUILTIN_RULES + ".") and module.startswith(
        FIXERS_PACKAGE + "."
    )


@cache
def _codemod_problem(reference: str) -> Optional[str]:
    """Why a codemod reference does not name a class, or None. The fixer's source is read,
    not imported: loading the rules must not import libcst."""
    import ast
    import importlib.util

    module, cls = codemod_target(reference)
    if not cls:
        return "expected 'module:Class'"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return f"no module {module}"
    try:
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot read {spec.origin}: {exc}"
    defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    defined |= {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    return None if cls in defined else f"{module} defines no {cls}"


@dataclass(frozen=True)
class RuleInfo:
    """What selection and the cache need to know of a rule, without importing its module."""

    code: str
    scope: str


def rule_infos() -> tuple[RuleInfo, ...]:
    """Every rule as RuleInfo (imports the rules)."""
    return tuple(RuleInfo(r.code, r.scope.value) for r in all_rules())


def plugin_modules() -> list[str]:
    """The module (or package) of every rule plugin entry point."""
    return sorted({ep.value.split(":", 1)[0].strip() for ep in _entry_points()})


def plugin_sources(modules: Sequence[str]) -> list[Path]:
    """The source files of these plugin modules, found without importing them (a warm cached
    run never loads a rule): what the cache fingerprints."""
    import importlib.util

    files: list[Path] = []
    for module in modules:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            files.append(Path(module))  # named in the fingerprint; loading will report it
            continue
        for location in spec.submodule_search_locations or ():
            files.extend(sorted(Path(location).rglob("*.py")))
        if not spec.submodule_search_locations and spec.origin:
            files.append(Path(spec.origin))
    return files


def rules_for_capability(capability: Cap | str) -> tuple[type[Rule], ...]:
    """The rules that protect ``capability``: what would have caught, before anything ran, a
    compliance test that failed for it. Accepts a ``Cap`` or its name (``"RETRY"``)."""
    from mfkit_lint.contract.capabilities import Cap

    try:
        wanted = Cap(capability)
    except ValueError as exc:
        raise RegistryError(f"unknown capability: {capability}") from exc
    return tuple(r for r in all_rules() if r.capability == wanted)


def rule_by_code(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    raise RegistryError(f"unknown rule code: {code}")


def check_settings(settings: Settings) -> None:
    """Raise RegistryError when the configuration's selectors (``select``, ``ignore``,
    ``extend-select``, ``per-file-ignores``) are malformed or match no known rule."""
    known = [r.code for r in all_rules()]
    Selection(settings.select, settings.ignore, settings.extend_select).validate(known)
    for pattern, codes in settings.per_file_ignores:
        try:
            Selection((), codes).validate(known)
        except RegistryError as exc:
            raise RegistryError(f"per-file-ignores {pattern!r}: {exc}") from exc


def _prefix_len(code: str, selectors: Iterable[str]) -> int:
    best = -1
    for sel in selectors:
        if sel == "ALL":
            best = max(best, 0)
        elif code.startswith(sel):
            best = max(best, len(sel))
    return best


@dataclass(frozen=True)
class Selection:
    """ruff-like selection: the most specific matching selector wins; ignore wins a tie."""

    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()

    def enabled(self, code: str) -> bool:
        selected = _prefix_len(code, self.select + self.extend_select)
        return selected >= 0 and selected > _prefix_len(code, self.ignore)

    def ignores(self, code: str) -> bool:
        """An ignore selector matches ``code`` at least as specifically as any select does."""
        ignored = _prefix_len(code, self.ignore)
        return ignored >= 0 and ignored >= _prefix_len(code, self.select + self.extend_select)

    def validate(self, codes: Sequence[str]) -> None:
        for sel in self.select + self.ignore + self.extend_select:
            if not _SELECTOR.match(sel):
                raise RegistryError(f"invalid rule selector {sel!r} (expected e.g. MFK101 or MFK1)")
            if sel != "ALL" and not any(c.startswith(sel) for c in codes):
                raise RegistryError(f"rule selector {sel!r} matches no known rule")


def parse_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """Split comma-separated selector lists (CLI or config) and normalise them."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(out)
