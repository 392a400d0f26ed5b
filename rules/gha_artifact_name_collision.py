"""MFK702 gha-artifact-name-collision."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, SourceKind, Valid
from mfkit_lint.model.workflow import action, expressions, jobs, major_version, steps
from mfkit_lint.model.yaml_document import YamlDocument, elements, items, scalar, value

yaml = LazyModule("yaml")  # (imported when a YAML source is read: engine/lazy.py)

UPLOAD = "actions/upload-artifact"
# Since v4 an artifact name is immutable within a run: a second upload is an HTTP 409.
FIRST_IMMUTABLE = 4
# Expression parts that tell the cells of a matrix apart.
_PER_CELL = ("matrix", "strategy.job-index", "job.")


class GhaArtifactNameCollision(Rule):
    """A matrix job uploads an artifact (``actions/upload-artifact@v4`` or later) under a
    name every cell shares. From v4 on an artifact name exists once per run: the second
    cell's upload fails with ``Conflict: an artifact with this name already exists``
    (HTTP 409)."""

    code = "MFK702"
    name = "gha-artifact-name-collision"
    summary = "matrix job uploads artifacts under the same name from every cell"
    kind = SourceKind.YAML
    triggers = (UPLOAD.encode(),)

    VALID = (
        Valid(
            {
                ".github/workflows/ci.yml": """
                on: push
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    strategy:
                      matrix:
                        python: ["3.10", "3.12"]
                    steps:
                      - run: pytest --cov --cov-report=xml
                      - uses: actions/upload-artifact@v4
                        with:
                          name: coverage-${{ matrix.python }}
                          path: coverage.xml
            """,
            }
        ),
    )
    INVALID = (
        Invalid(
            {
                ".github/workflows/ci.yml": """
                on: push
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    strategy:
                      matrix:
                        python: ["3.10", "3.12"]
                    steps:
                      - run: pytest --cov --cov-report=xml
                      - uses: actions/upload-artifact@v4
                        with:
                          name: coverage
                          path: coverage.xml
            """,
            },
            line=13,
            column=17,
            file=".github/workflows/ci.yml",
        ),
    )

    def check(self, module: YamlDocument) -> Iterator[Finding]:
        for job_name, job in jobs(module):
            cells = _cells(value(value(job, "strategy"), "matrix"))
            if cells is None or cells < 2:
                continue
            for step in steps(job):
                found = action(step)
                if found is None or found[0] != UPLOAD:
                    continue
                version = major_version(found[1])
                if version is None or version < FIRST_IMMUTABLE:
                    continue
                # `if:` is an expression with or without ${{ }}.
                condition = scalar(value(step, "if")) or ""
                if any(p in condition for p in _PER_CELL):
                    continue  # only some cells upload
                name_node = value(value(step, "with"), "name")
                name = scalar(name_node) if name_node is not None else "artifact"
                if name is None or _per_cell(name):
                    continue
                yield Finding(
                    module.span(name_node if name_node is not None else step),
                    f"every one of the {cells} cells of matrix job {job_name!r} uploads the "
                    f"artifact {name!r}: from upload-artifact v4 on the second upload fails "
                    "with HTTP 409 (an artifact with this name already exists); add the "
                    "matrix values to the name, e.g. coverage-${{ matrix.python }}",
                )


def _per_cell(text: str) -> bool:
    return any(any(p in e for p in _PER_CELL) for e in expressions(text))


def _cells(matrix: Optional[yaml.Node]) -> Optional[int]:
    """How many cells the matrix has, when it is written out; None when it is computed."""
    if not isinstance(matrix, yaml.MappingNode):
        return None
    cells = 1
    for key, _, node in items(matrix):
        if key == "exclude":
            return None  # exclusions make counting a guess; a lower bound is not enough
        if key == "include":
            continue
        if not isinstance(node, yaml.SequenceNode):
            return None
        cells *= len(node.value)
    if cells == 1:
        includes = elements(value(matrix, "include"))
        cells = max(cells, len(includes))
    return cells
