"""A YAML source (a CI workflow) as rules query it: PyYAML's node graph with positions.

The document is composed with PyYAML's safe loader, never constructed into Python objects:
scalars stay the text the author wrote (``on:`` stays ``"on"`` instead of YAML 1.1's ``True``)
and every node keeps its start and end position, so findings point at the real line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from mfkit_lint.engine.diagnostic import Location, Span
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.source import Source

if TYPE_CHECKING:
    from mfkit_lint.model.project import ProjectIndex

# PyYAML is imported when a YAML source is first read (engine/lazy.py).
yaml = LazyModule("yaml")


class YamlSyntaxError(Exception):
    """The text is not YAML; ``location`` is where the parser gave up (when it says)."""

    def __init__(self, message: str, location: Optional[Location]) -> None:
        super().__init__(message)
        self.location = location


@dataclass
class YamlDocument:
    source: Source
    roots: list[yaml.Node]
    path: Optional[Path] = None
    project: Optional[ProjectIndex] = None  # project mode: the other files of the tree

    @classmethod
    def parse(
        cls, source: Source, path: Optional[Path] = None, project: Optional[ProjectIndex] = None
    ) -> YamlDocument:
        try:
            roots = list(yaml.compose_all(source.text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            location = Location(mark.line + 1, mark.column + 1) if mark else None
            problem = " ".join(p for p in (exc.context, exc.problem) if p)
            raise YamlSyntaxError(problem or str(exc), location) from exc
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(str(exc), None) from exc
        return cls(source, [r for r in roots if r is not None], path, project)

    # -- positions -----------------------------------------------------------------------------
    @staticmethod
    def span(node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return Span(
            Location(start.line + 1, start.column + 1), Location(end.line + 1, end.column + 1)
        )

    # -- queries -------------------------------------------------------------------------------
    @property
    def workflows(self) -> Iterator[yaml.MappingNode]:
        """Documents that are GitHub Actions workflows: a mapping with a ``jobs`` mapping."""
        for root in self.roots:
            if isinstance(root, yaml.MappingNode) and isinstance(
                value(root, "jobs"), yaml.MappingNode
            ):
                yield root


def items(node: Optional[yaml.Node]) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
    """(key text, key node, value node) of a mapping; nothing for any other node."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key, val in node.value:
        if isinstance(key, yaml.ScalarNode):
            yield key.value, key, val


def value(node: Optional[yaml.Node], key: str) -> Optional[yaml.Node]:
    """The value of ``key`` in a mapping (the last one, as YAML loaders keep), or None."""
    found = None
    for text, _, val in items(node):
        if text == key:
            found = val
    return found


def elements(node: Optional[yaml.Node]) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def scalar(node: Optional[yaml.Node]) -> Optional[str]:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def scalars(node: Optional[yaml.Node]) -> Iterator[yaml.ScalarNode]:
    """Every scalar below ``node`` (keys excluded), depth first."""
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from scalars(child)
    elif isinstance(node, yaml.MappingNode):
        for _, child in node.value:
            yield from scalars(child)
