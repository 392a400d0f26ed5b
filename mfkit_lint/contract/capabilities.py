"""The capabilities an orchestrator or compute backend promises, as the kits name them."""

from __future__ import annotations

import enum


class Cap(str, enum.Enum):
    LINEAR_DAG = "LINEAR_DAG"
    BRANCHING = "BRANCHING"
    FOREACH = "FOREACH"
    NESTED_FOREACH = "NESTED_FOREACH"
    RETRY = "RETRY"
    CATCH = "CATCH"
    TIMEOUT = "TIMEOUT"
    RESOURCES = "RESOURCES"
    PROJECT_BRANCH = "PROJECT_BRANCH"
    CONFIG_EXPR = "CONFIG_EXPR"
    RUN_PARAMS = "RUN_PARAMS"
    FROM_DEPLOYMENT = "FROM_DEPLOYMENT"
    DATASTORE = "DATASTORE"
    TRIGGER = "TRIGGER"
    CONDA = "CONDA"
    RESUME = "RESUME"
    SCHEDULE = "SCHEDULE"


REQUIRED = frozenset(
    {
        Cap.LINEAR_DAG,
        Cap.BRANCHING,
        Cap.FOREACH,
        Cap.RETRY,
        Cap.CATCH,
        Cap.TIMEOUT,
        Cap.RESOURCES,
        Cap.PROJECT_BRANCH,
        Cap.CONFIG_EXPR,
        Cap.RUN_PARAMS,
        Cap.FROM_DEPLOYMENT,
    }
)
