"""The model is layered: no import cycle inside mfkit_lint/model/, counting every import
(module level, inside functions and under TYPE_CHECKING), and rules import no other rule."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path, prefix: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(prefix))
    return found


def test_no_import_cycle_in_the_model():
    package = "mfkit_lint.model"
    graph = {
        f"{package}.{p.stem}": _imports(p, package)
        for p in (ROOT / "mfkit_lint" / "model").glob("*.py")
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for dep in graph.get(name, ()):
            visit(dep, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_the_base_module_model_imports_no_other_part_of_the_model():
    assert _imports(ROOT / "mfkit_lint" / "model" / "module.py", "mfkit_lint.model") == set()


def test_rules_share_judgement_through_the_model_not_through_each_other():
    for path in (ROOT / "rules").glob("*.py"):
        assert _imports(path, "mfkit_lint.rules") == set(), path.name
