"""The built-in rules, one class per rule.

They are registered like any third-party rule: this package is named in the
``mfkit_lint.rules`` entry point group in pyproject.toml and every module in it is loaded,
so the engine never names them.
"""
