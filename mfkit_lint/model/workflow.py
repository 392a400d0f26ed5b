"""GitHub Actions workflows as the CI rules query them (on top of the YAML document model)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.model.yaml_document import YamlDocument, elements, items, scalar, value

yaml = LazyModule("yaml")  # (imported when a YAML source is read: engine/lazy.py)

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def jobs(document: YamlDocument) -> Iterator[tuple[str, yaml.MappingNode]]:
    for workflow in document.workflows:
        for name, _, job in items(value(workflow, "jobs")):
            if isinstance(job, yaml.MappingNode):
                yield name, job


def steps(job: yaml.Node) -> list[yaml.MappingNode]:
    return [s for s in elements(value(job, "steps")) if isinstance(s, yaml.MappingNode)]


def expressions(text: str) -> list[str]:
    """The bodies of the ``${{ ... }}`` expressions in a scalar."""
    return [m.group(1) for m in EXPRESSION.finditer(text)]


def action(step: yaml.Node) -> Optional[tuple[str, str]]:
    """``uses: owner/name@ref`` as (``owner/name``, ``ref``)."""
    uses = scalar(value(step, "uses"))
    if uses is None or "@" not in uses:
        return None
    name, _, ref = uses.partition("@")
    return name.lower(), ref


def major_version(ref: str) -> Optional[int]:
    """``v4``, ``v4.3.1`` -> 4; a commit sha or a branch -> None."""
    match = re.fullmatch(r"v(\d+)(\.\d+)*", ref)
    return int(match.group(1)) if match else None
