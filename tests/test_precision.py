"""Precision on real code: Metaflow's own orchestrators (runtime, Argo, Airflow, Step Functions,
Kubernetes, Batch) build step and init commands correctly, so no rule may fire on them."""

from pathlib import Path

import pytest

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.session import RunOptions, Session

metaflow = pytest.importorskip("metaflow")


def test_no_findings_and_no_errors_on_metaflow_itself():
    package = Path(metaflow.__file__).parent
    outcome = Session(Linter(Settings(root=package)), RunOptions()).run([str(package)])
    assert outcome.files > 400
    assert outcome.errors == []
    assert [(d.filename, d.location.row, d.code) for d in outcome.diagnostics] == []
