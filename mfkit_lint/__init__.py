"""mfkit-lint: find, explain and fix the pitfalls of Metaflow extensions."""

__version__ = "0.1.0"
