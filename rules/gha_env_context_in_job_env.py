"""MFK701 gha-env-context-in-job-env."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mfkit_lint.engine.rule import Finding, Invalid, Rule, SourceKind, Valid
from mfkit_lint.model.workflow import expressions, jobs
from mfkit_lint.model.yaml_document import YamlDocument, items, scalar, value

# `env.X` as a context access, not `github.env` or `steps.x.outputs.env`.
_ENV_CONTEXT = re.compile(r"(?<![\w.\-])env\.")


class GhaEnvContextInJobEnv(Rule):
    """``${{ env.X }}`` in a workflow-level or job-level ``env:`` block. GitHub does not offer
    the ``env`` context there (only in steps), so the workflow is rejected before any job
    runs: ``Unrecognized named-value: 'env'``."""

    code = "MFK701"
    name = "gha-env-context-in-job-env"
    summary = "${{ env.X }} in a workflow- or job-level env: block, where GitHub rejects it"
    kind = SourceKind.YAML
    triggers = (b"env.",)

    VALID = (
        Valid(
            {
                ".github/workflows/ci.yml": """
                on: push
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    env:
                      SYSROOT: ${{ github.workspace }}/sysroot
                    steps:
                      - run: echo "METAFLOW_DATASTORE_SYSROOT_LOCAL=$HOME" >> "$GITHUB_ENV"
                      - run: pytest
                        env:
                          ROOT: ${{ env.SYSROOT }}
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
                    env:
                      METAFLOW_DATASTORE_SYSROOT_LOCAL: ${{ env.HOME }}
                    steps:
                      - run: pytest
            """,
            },
            line=7,
            column=41,
            file=".github/workflows/ci.yml",
        ),
    )

    def check(self, module: YamlDocument) -> Iterator[Finding]:
        blocks = [("workflow", value(w, "env")) for w in module.workflows]
        blocks += [(f"job {name!r}", value(job, "env")) for name, job in jobs(module)]
        for where, block in blocks:
            for key, _, node in items(block):
                text = scalar(node)
                if text is None:
                    continue
                if any(_ENV_CONTEXT.search(e) for e in expressions(text)):
                    yield Finding(
                        module.span(node),
                        f"{key} in the {where} env: block reads the env context, which GitHub "
                        'offers only inside steps: the workflow is rejected ("Unrecognized '
                        "named-value: 'env'\"); set it in a step with "
                        'echo "NAME=value" >> "$GITHUB_ENV", or use step-level env:',
                    )
