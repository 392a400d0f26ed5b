"""MFK504 init-in-metaflow-extensions."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Location, Span
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.extension import EXT_PKG, INIT, ExtensionFile
from mfkit_lint.model.module import ModuleModel


class InitInMetaflowExtensions(Rule):
    """An ``__init__.py`` directly in ``metaflow_extensions/``. Metaflow requires that
    directory to be an implicit namespace package (every extension installs into it), and
    stops every import: ``RuntimeError: Package '...' providing 'metaflow_extensions' is not
    an implicit namespace package as required``."""

    code = "MFK504"
    name = "init-in-metaflow-extensions"
    summary = "__init__.py in the metaflow_extensions/ namespace directory"
    capability = Cap.LINEAR_DAG
    scope = Scope.PROJECT
    # Only files under metaflow_extensions/ are judged (ExtensionFile.of is None elsewhere,
    # and for generated code, which has no path).
    directories = (EXT_PKG,)
    reads_generated = False

    VALID = (
        Valid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
                "metaflow_extensions/acme/__init__.py": "",
            }
        ),
    )
    INVALID = (
        Invalid(
            {
                "metaflow_extensions/__init__.py": "",
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
            },
            line=1,
            column=1,
            file="metaflow_extensions/__init__.py",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None:
            return
        where = ExtensionFile.of(module.path)
        if where is not None and where.parts == (INIT,):
            start = Location(1, 1)
            yield Finding(
                Span(start, start),
                f"{EXT_PKG}/ must stay an implicit namespace package: with this __init__.py "
                'every import of metaflow fails ("is not an implicit namespace package as '
                'required"); delete the file',
            )
