"""The shape of Metaflow's flow command line (``python flow.py [TOP OPTIONS] SUBCOMMAND ...``).

Checked against the installed metaflow's click objects by ``tests/test_contract.py``.
"""

from __future__ import annotations

# Subcommands that run or register Metaflow work and so take the options the rules check.
SUBCOMMANDS = frozenset({"step", "init", "run", "resume"})

# Subcommands whose first argument is a name (``step NAME``, ``resume [STEP]``).
SUBCOMMANDS_WITH_ARGUMENT = frozenset({"step"})

# Top-level options (before the subcommand). ``--branch``/``--production`` exist only when the
# flow has @project; ``--config``/``--config-value`` only when it has configs.
TOP_LEVEL_OPTIONS = frozenset(
    {
        "--quiet",
        "--not-quiet",
        "--metadata",
        "--environment",
        "--force-rebuild-environments",
        "--no-force-rebuild-environments",
        "--datastore",
        "--datastore-root",
        "--package-suffixes",
        "--with",
        "--pylint",
        "--no-pylint",
        "--event-logger",
        "--monitor",
        "--local-config-file",
        "--mode",
        "--branch",
        "--production",
        "--config",
        "--config-value",
    }
)

# Options that take no value, wherever they appear.
FLAGS = frozenset(
    {
        "--quiet",
        "--not-quiet",
        "--force-rebuild-environments",
        "--no-force-rebuild-environments",
        "--pylint",
        "--no-pylint",
        "--production",
        "--reentrant",
    }
)

SUBCOMMAND_OPTIONS: dict[str, frozenset[str]] = {
    "step": frozenset(
        {
            "--run-id",
            "--task-id",
            "--input-paths",
            "--input-paths-filename",
            "--split-index",
            "--tag",
            "--namespace",
            "--retry-count",
            "--max-user-code-retries",
            "--clone-only",
            "--clone-run-id",
            "--ubf-context",
            "--num-parallel",
        }
    ),
    "init": frozenset({"--run-id", "--task-id", "--tag"}),
}

# Options that a ``step``/``init`` command line needs to be recognised as one: a command that
# names the subcommand and at least one of these is a Metaflow task invocation.
TASK_OPTIONS = frozenset({"--run-id", "--task-id", "--input-paths", "--retry-count"})
