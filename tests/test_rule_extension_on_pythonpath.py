"""MFK204 extension-on-pythonpath."""

import textwrap

import pytest
from conftest import codes, lint

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.linter import Linter
from mfkit_lint.engine.registry import Selection
from mfkit_lint.engine.source import Source

EXTENSION_MODULE = "site/metaflow_extensions/acme/plugins/acme/acme_compiler.py"


def codes_at(code: str, filename: str) -> list[str]:
    """Codes for a snippet linted as if it were the file ``filename``."""
    text = textwrap.dedent(code)
    linter = Linter(Settings(), Selection(("MFK204",)))
    return [d.code for d in linter.lint_source(Source(text, "utf-8", text.encode()), filename)]


POSITIVE = {
    "the directory that holds the metaflow_extensions package": """
        import os
        import metaflow_extensions
        def step_env():
            return {"PYTHONPATH": os.path.dirname(metaflow_extensions.__path__[0])}
    """,
    "an extension checkout exported in a bash template": '''
        SCRIPT = """#!/bin/bash
        export PYTHONPATH=/home/dev/src/metaflow-acme:$PYTHONPATH
        python flow.py step start --run-id "$RUN_ID" --task-id 1 --input-paths "$IN"
        """
    ''',
    "pathlib parent of the package path, in a Kubernetes env list": """
        from pathlib import Path
        import metaflow_extensions
        ROOT = Path(metaflow_extensions.__path__[0]).parent
        def container_env():
            return [{"name": "PYTHONPATH", "value": str(ROOT)}]
    """,
}

NEGATIVE = {
    "the Metaflow source tree, which the kit recommends": '''
        SCRIPT = """
        export PYTHONPATH=/opt/metaflow-src:/opt/metaflow
        python flow.py step start --run-id 1 --task-id 2 --input-paths x
        """
    ''',
    "forwarding the caller's PYTHONPATH": """
        import os
        def env_for():
            return {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    """,
    "reading PYTHONPATH, not setting it": """
        import os
        paths = os.environ["PYTHONPATH"].split(os.pathsep)
    """,
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK204") == ["MFK204"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK204") == []


CLIMB = """
    import os
    HERE = os.path.dirname(os.path.abspath(__file__))
    INSTALL_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
    def step_env():
        env = os.environ.copy()
        env["PYTHONPATH"] = INSTALL_DIR
        return env
"""


def test_climbing_from_file_to_the_install_directory():
    # acme_compiler.py sits five directories below the directory holding metaflow_extensions
    assert codes_at(CLIMB, EXTENSION_MODULE) == ["MFK204"]


def test_pathlib_parents_count_as_well():
    code = """
        from pathlib import Path
        ROOT = Path(__file__).resolve().parents[1].parent.parent.parent
        def container_env():
            return [{"name": "PYTHONPATH", "value": str(ROOT)}]
    """
    assert codes_at(code, EXTENSION_MODULE) == ["MFK204"]
    assert codes_at(code.replace("parents[1]", "parents[0]"), EXTENSION_MODULE) == []


def test_climbing_that_stops_inside_the_package_is_fine():
    shallower = CLIMB.replace("os.path.dirname(os.path.dirname(HERE))))", "HERE))")
    assert codes_at(shallower, EXTENSION_MODULE) == []


def test_climbing_outside_an_extension_tree_cannot_be_decided():
    assert codes_at(CLIMB, "tools/scheduler/compiler.py") == []


def test_message_names_the_failure():
    (diag,) = lint(POSITIVE["an extension checkout exported in a bash template"], "MFK204")
    assert "'/home/dev/src/metaflow-acme'" in diag.message
    assert "Cannot locate" in diag.message
