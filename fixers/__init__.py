"""libcst codemods, one per fixable rule, and the applier that runs them.

Imported only when a fix is computed, so plain linting never pays for libcst.
"""
