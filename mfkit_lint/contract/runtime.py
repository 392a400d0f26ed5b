"""What Metaflow's runtime puts on the step commands it starts (``runtime.CLIArgs``).

A compute backend's decorator turns the runtime's ``python flow.py step NAME ...`` into
``python flow.py <name> step NAME ...``; the options stay, so the backend's own ``step``
command must declare them. Measured on metaflow 2.19.39 (``tests/test_backend_facts.py``
fails when the installed metaflow passes others).
"""

from __future__ import annotations

# CLIArgs.default_args' command_options. Options whose value is None or False are left off the
# command line, so --split-index comes only with foreach tasks, --tag only with tagged runs,
# and --ubf-context only with @parallel.
RUNTIME_STEP_OPTIONS: tuple[str, ...] = (
    "--run-id",
    "--task-id",
    "--input-paths",
    "--split-index",
    "--retry-count",
    "--max-user-code-retries",
    "--tag",
    "--namespace",
    "--ubf-context",
)
# Passed only for @parallel steps, which a backend may not support: not required of it.
PARALLEL_ONLY: frozenset[str] = frozenset({"--ubf-context"})
