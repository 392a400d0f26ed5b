"""The settings one compliance run hands from the command line to its pytest process (as JSON)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Optional

# The pytest process finds its settings through this variable.
SETTINGS_ENV = "MFKIT_COMPLIANCE_SETTINGS"


@dataclass
class Settings:
    kind: str  # "orchestrator" or "backend"
    name: str  # the scheduler type or the backend decorator name
    timeout: float = 300.0
    deploy_args: dict[str, str] = field(default_factory=dict)
    create_args: dict[str, str] = field(default_factory=dict)
    declared: list[str] = field(default_factory=list)
    backend_image: Optional[str] = None
    results_file: str = ""
    # A service profile (e.g. a local Prefect server) may pin the datastore root and HOME of
    # every test to one directory when its workers cannot be told another one.
    shared_root: Optional[str] = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def dump(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def from_environment(cls) -> Settings:
        path = os.environ.get(SETTINGS_ENV)
        if not path:
            raise RuntimeError(
                "the compliance suite runs through `mfkit compliance ...`, not bare pytest"
            )
        with open(path, encoding="utf-8") as handle:
            return cls(**json.load(handle))
