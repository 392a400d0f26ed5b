"""pytest plugin loaded into the compliance run's pytest process: settings, the per-test
workspace and its process check, capability skips, the progress line and the results file."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from mfkit_lint.compliance.caps import is_required
from mfkit_lint.compliance.settings import Settings
from mfkit_lint.compliance.ux import cap_of
from mfkit_lint.compliance.workspace import Workspace

_PROPERTY = "mfkit_compliance"
_results: dict[str, dict[str, Any]] = {}  # the tests that ran (or were skipped), in order
_settings: Optional[Settings] = None
_total = 0
NOT_DECLARED = "optional, not declared in SUPPORTED_CAPABILITIES"


def pytest_configure(config: pytest.Config) -> None:
    global _settings
    config.addinivalue_line("markers", "cap(name): the capability a compliance test proves")
    config.addinivalue_line("markers", "rules(*codes): static rules that catch this failure")
    config.addinivalue_line("markers", "kind(name): orchestrator or backend")
    _settings = Settings.from_environment()


@pytest.fixture(scope="session")
def settings() -> Settings:
    assert _settings is not None
    return _settings


@pytest.fixture
def ws(settings: Settings, tmp_path: Path) -> Any:
    workspace = Workspace(settings, tmp_path)
    yield workspace
    workspace.close()
    left = workspace.reap()
    if left:
        pytest.fail(
            "left %d process(es) behind (killed by PID): %s"
            % (len(left), "; ".join("%d %s" % item for item in left)),
            pytrace=False,
        )


def _marker_args(item: pytest.Item, name: str) -> tuple:
    marker = item.get_closest_marker(name)
    return tuple(marker.args) if marker else ()


def _rules(item: pytest.Item) -> Optional[list[str]]:
    """The test's static rules; None when it names none (the capability's rules then apply),
    an empty list when it says no rule can catch its failure."""
    marker = item.get_closest_marker("rules")
    return None if marker is None else list(marker.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    assert _settings is not None
    keep = []
    for item in items:
        kind = _marker_args(item, "kind")
        if kind and kind[0] != _settings.kind:
            continue
        keep.append(item)
        cap = (_marker_args(item, "cap") or ("",))[0]
        if _settings.kind == "ux":
            cap = cap_of(item.name)
        kind = "orchestrator" if _settings.kind == "ux" else _settings.kind
        if cap and not is_required(kind, cap) and cap not in _settings.declared:
            item.add_marker(pytest.mark.skip(reason=NOT_DECLARED))
        info = {"test": item.name, "cap": cap, "rules": _rules(item)}
        # Reports carry user_properties to the controlling process under pytest-xdist, which
        # never sees the items themselves.
        item.user_properties.append((_PROPERTY, json.dumps(info)))
    items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    global _total
    _total = len(session.items)  # after -k deselection


def _message(report: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).replace("Skipped: ", "")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        # The first line is the test's own message; what follows is pytest's rewrite detail,
        # except after a "...:" line (Metaflow's "Error executing: <command>:" then stderr),
        # where the last line says what went wrong.
        text = re.sub(
            r"^(?:\w+\.)+(?=\w+: )", "", crash.message.strip()
        )  # pkg.mod.Error: -> Error:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].endswith(":"):
            return "%s ... %s" % (lines[0], lines[-1])
        return lines[0] if lines else ""
    return str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A test file that does not even import is a failure of the run, not silence."""
    if report.failed:
        message = _message(report)
        _results[report.nodeid] = {
            "test": "collecting %s" % report.nodeid,
            "cap": "",
            "rules": [],
            "outcome": "failed",
            "message": message,
            "seconds": 0.0,
        }
        sys.__stdout__.write("ERROR collecting %s: %s\n" % (report.nodeid, message[:300]))
        sys.__stdout__.flush()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    info = dict(report.user_properties).get(_PROPERTY)
    if info is None:
        return
    entry = _results.setdefault(
        report.nodeid, {**json.loads(info), "outcome": "passed", "message": "", "seconds": 0.0}
    )
    entry["seconds"] += report.duration
    if report.failed and entry["outcome"] != "failed":
        entry["outcome"] = "failed"
        entry["message"] = _message(report)
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"
        entry["message"] = _message(report)
    if report.when == "teardown":
        done = sum(1 for r in _results.values() if r.get("reported"))
        entry["reported"] = True
        line = "[%d/%s] %-7s %-16s %s (%.1f s)" % (
            done + 1,
            _total or "?",
            entry["outcome"].upper(),
            entry["cap"],
            entry["test"],
            entry["seconds"],
        )
        if entry["outcome"] != "passed":
            line += ": " + entry["message"][:300]
        sys.__stdout__.write(line + "\n")
        sys.__stdout__.flush()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _settings is None or not _settings.results_file:
        return
    with open(_settings.results_file, "w", encoding="utf-8") as handle:
        json.dump({"finished": time.time(), "tests": list(_results.values())}, handle)
