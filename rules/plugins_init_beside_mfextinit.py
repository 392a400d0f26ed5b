"""MFK506 plugins-init-beside-mfextinit."""

from __future__ import annotations

from collections.abc import Iterator

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Location, Span
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Scope, Valid
from mfkit_lint.model.extension import EXT_PKG, ExtensionFile, config_files
from mfkit_lint.model.module import ModuleModel


class PluginsInitBesideMfextinit(Rule):
    """Two configuration files for one extension point: an ``__init__.py`` beside an
    ``mfextinit_*.py`` in ``plugins/`` (Metaflow takes both as configuration), or two
    ``mfextinit_*.py`` there. Every import of metaflow fails: ``RuntimeError: Package '...'
    defines more than one configuration file for 'plugins'``."""

    code = "MFK506"
    name = "plugins-init-beside-mfextinit"
    summary = "__init__.py (or a second mfextinit) beside mfextinit_*.py in an extension point"
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
                "metaflow_extensions/acme/plugins/acme/__init__.py": "",
            }
        ),
        Valid({"metaflow_extensions/acme/plugins/__init__.py": "CLIS_DESC = []\n"}),
    )
    INVALID = (
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
                "metaflow_extensions/acme/plugins/__init__.py": "",
            },
            line=1,
            column=1,
            file="metaflow_extensions/acme/plugins/__init__.py",
        ),
        Invalid(
            {
                "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
                "metaflow_extensions/acme/plugins/mfextinit_acme_extra.py": "CLIS_DESC = []\n",
            },
            line=1,
            column=1,
            file="metaflow_extensions/acme/plugins/mfextinit_acme.py",
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if module.path is None:
            return
        where = ExtensionFile.of(module.path)
        if where is None or not where.is_config():
            return
        configs = config_files(where.directory)
        if len(configs) < 2 or configs[0].name != module.path.name:
            return  # reported once, on the first of them
        others = ", ".join(p.name for p in configs[1:])
        start = Location(1, 1)
        yield Finding(
            Span(start, start),
            f"{where.directory.name}/ holds more than one configuration file ({configs[0].name}, "
            f'{others}): every import of metaflow fails with "defines more than one '
            'configuration file"; keep the mfextinit_<name>.py and delete the others',
        )
