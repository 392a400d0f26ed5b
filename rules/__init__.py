"""The built-in rules, one module per family, one class per rule.

They are registered like any third-party rule: through the ``mfkit_lint.rules`` entry point
group in pyproject.toml, so the engine never names them.
"""
