"""The pitfall page of a rule, shipped with the package (docs/pitfalls/<name>.md)."""

from __future__ import annotations

from importlib import resources

from mfkit_lint.engine.rule import Rule


def pitfall_page(rule: type[Rule]) -> str:
    """The page's Markdown; rules from other packages without a page get their docstring."""
    try:
        page = resources.files("mfkit_lint.docs") / "pitfalls" / f"{rule.name}.md"
        return page.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        doc = (rule.__doc__ or rule.summary).strip()
        return f"# {rule.name} ({rule.code})\n\n{doc}\n"
