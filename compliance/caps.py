"""Which capabilities a run must prove, which the extension declares, and the rules behind each."""

from __future__ import annotations

from collections.abc import Iterable

from mfkit_lint.contract.capabilities import REQUIRED, Cap

# TRIGGER (trigger returns before the run ends, a failed run is reported failed) and DATASTORE
# (artifacts and logs readable through the Client) are not in the kit's list because every
# Deployer user relies on them; the runner holds every orchestrator to them.
ORCHESTRATOR_REQUIRED = frozenset(c.value for c in REQUIRED | {Cap.TRIGGER, Cap.DATASTORE})
ORCHESTRATOR_OPTIONAL = frozenset(c.value for c in Cap) - ORCHESTRATOR_REQUIRED

# What a compute backend must do for `--with NAME` steps (the backend kit's checks).
BACKEND_REQUIRED = frozenset(
    {"ENV_VARS", "ARTIFACTS", "RETRY_COUNT", "LOGS", "METADATA", "RESOURCES", "FOREACH_IDS"}
)
BACKEND_OPTIONAL = frozenset({"INFRA_RETRY", "CONDA"})


def required(kind: str) -> frozenset[str]:
    return ORCHESTRATOR_REQUIRED if kind == "orchestrator" else BACKEND_REQUIRED


def known(kind: str) -> frozenset[str]:
    if kind == "orchestrator":
        return ORCHESTRATOR_REQUIRED | ORCHESTRATOR_OPTIONAL
    return BACKEND_REQUIRED | BACKEND_OPTIONAL


def is_required(kind: str, cap: str) -> bool:
    return cap in required(kind)


def normalize(values: Iterable[object]) -> tuple[list[str], list[str]]:
    """Capability names from whatever an extension declares (our Cap, the kits' own Cap enums,
    plain strings); the second list holds what is not a capability name."""
    names, unknown = [], []
    for value in values:
        name = getattr(value, "name", None) or getattr(value, "value", None) or str(value)
        name = str(name).strip().upper()
        (names if name else unknown).append(name or repr(value))
    return sorted(set(names)), unknown


def _rules() -> tuple:
    """The installed rules; none when a rule plugin is broken: the live results still count,
    only their link to static rules is lost."""
    from mfkit_lint.engine.registry import RegistryError, all_rules

    try:
        return all_rules()
    except RegistryError:
        return ()


def rules_for_cap(cap: str) -> list[str]:
    """The static rules that protect a capability (the registry's Cap -> rules mapping); none
    for the backend checks, which are not orchestrator capabilities."""
    from mfkit_lint.engine.registry import RegistryError, rules_for_capability

    try:
        return [rule.code for rule in rules_for_capability(cap)]
    except RegistryError:
        return []


def rule_pages(codes: Iterable[str]) -> dict[str, str]:
    """Rule code -> its pitfall page name, for the codes this mfkit-lint knows."""
    by_code = {rule.code: rule.name for rule in _rules()}
    return {code: by_code[code] for code in codes if code in by_code}
