"""MFK604: a backend decorator that ignores or overwrites the step's ``@resources`` values."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.backends import (
    backend_decorators,
    class_attribute,
    decorator_name,
    header_span,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# The fields of Metaflow's @resources (plugins/resources_decorator.py in 2.19.39).
RESOURCE_FIELDS = frozenset({"cpu", "gpu", "disk", "memory", "shared_memory"})


def _is_resources_test(node: ast.AST) -> Optional[str]:
    """The variable a test identifies as the @resources decorator: ``d.name == "resources"``,
    ``d.name in ("resources", ...)``, ``isinstance(d, ResourcesDecorator)``."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = node.left, node.comparators[0]
        if isinstance(right, ast.Attribute):
            left, right = right, left
        if (
            isinstance(left, ast.Attribute)
            and left.attr == "name"
            and isinstance(left.value, ast.Name)
        ):
            if isinstance(node.ops[0], ast.Eq) and _is_text(right, "resources"):
                return left.value.id
            if (
                isinstance(node.ops[0], ast.In)
                and isinstance(right, (ast.Tuple, ast.List, ast.Set))
                and any(_is_text(e, "resources") for e in right.elts)
            ):
                return left.value.id
    if (
        isinstance(node, ast.Call)
        and call_name(node) == "isinstance"
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Name)
        and (dotted_name(node.args[1]) or "").endswith("ResourcesDecorator")
    ):
        return node.args[0].id
    return None


def _is_text(node: ast.AST, text: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == text


def _resources_regions(function: ast.AST) -> Iterator[tuple[str, list[ast.AST]]]:
    """(variable, nodes where it is the @resources decorator): the body of an ``if`` that
    tests it, or the whole function for ``r = next(d for d in decos if d.name == ...)``."""
    for node in ast.walk(function):
        if isinstance(node, ast.If):
            name = next(
                (n for n in map(_is_resources_test, ast.walk(node.test)) if n is not None), None
            )
            if name is not None:
                yield name, node.body
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.comprehension) and any(
                    _is_resources_test(test) is not None for test in sub.ifs
                ):
                    yield node.targets[0].id, [function]


def _picks_resources(module: ModuleModel) -> bool:
    """Something in the module picks the @resources decorator out: a node that is a
    ``_is_resources_test`` (only comparisons and ``isinstance`` calls can be)."""
    tests = [*module.nodes_of(ast.Compare), *module.calls_by_name.get("isinstance", ())]
    return any(_is_resources_test(node) is not None for node in tests)


def _segment(module: ModuleModel, node: ast.AST) -> Optional[str]:
    return ast.get_source_segment(module.source.text, node)


def _field_read(node: ast.AST, name: str) -> Optional[tuple[str, str]]:
    """A read of a @resources field as a Python attribute of the decorator, with the field and
    the ``.attributes`` expression that holds it (fix text)."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
        and node.attr in RESOURCE_FIELDS
    ):
        return node.attr, f'{name}.attributes.get("{node.attr}")'
    if (
        isinstance(node, ast.Call)
        and call_name(node) in ("hasattr", "getattr")
        and isinstance(node.func, ast.Name)
        and len(node.args) >= 2
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == name
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in RESOURCE_FIELDS
        and not node.keywords
    ):
        field = node.args[1].value
        if node.func.id == "hasattr" and len(node.args) == 2:
            return field, f'"{field}" in {name}.attributes'
        if node.func.id == "getattr" and len(node.args) == 3:
            return field, f'{name}.attributes.get("{field}", {ast.unparse(node.args[2])})'
        if node.func.id == "getattr":
            return field, f'{name}.attributes.get("{field}")'
    return None


def _is_self_attributes(node: ast.AST) -> bool:
    return dotted_name(node) == "self.attributes"


def _resources_value(node: ast.AST, name: str) -> bool:
    """``r.attributes[k]`` or ``r.attributes.get(k)``."""
    if isinstance(node, ast.Subscript):
        return dotted_name(node.value) == f"{name}.attributes"
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and dotted_name(node.func.value) == f"{name}.attributes"
    )


class ResourcesMerge(Rule):
    """A backend's step decorator that ignores ``@resources``, reads it wrong, or lets it
    overwrite its own values instead of taking the larger one.

    Users write ``@resources(cpu=8, memory=16000)`` to ask any backend for resources, and
    ``@mybackend(cpu=2)`` for one backend. Metaflow's ``@batch`` and ``@kubernetes`` merge the
    two per field with ``max()`` (``compute_resource_attributes``). The ``@resources``
    decorator keeps its values in ``.attributes``: it has no ``.cpu`` Python attribute, so
    ``hasattr(deco, "cpu")`` is always false and such a merge never happens. A decorator that
    never looks at ``@resources`` runs the step with its own defaults; one that copies the
    ``@resources`` values over its own drops a larger value given to the backend's decorator.
    """

    code = "MFK604"
    name = "resources-merge"
    summary = "backend decorator ignores or overwrites @resources instead of max() per field"
    capability = Cap.RESOURCES
    triggers = (b"StepDecorator",)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Read @resources through .attributes and keep the larger value per field",
        "resources_merge:ReplaceExpressions",
    )

    VALID = (
        Valid("""
        from metaflow.decorators import StepDecorator
        from metaflow.plugins.aws.aws_utils import compute_resource_attributes

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            defaults = {"cpu": None, "memory": None}
            resource_defaults = {"cpu": "1", "memory": "4096"}

            def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                self.attributes.update(
                    compute_resource_attributes(decos, self, self.resource_defaults)
                )

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
        """),
        Valid("""
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            defaults = {"cpu": 1, "memory": 4096}

            def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                res = next((d for d in decos if d.name == "resources"), None)
                if res is not None:
                    for field in ("cpu", "memory"):
                        mine = self.attributes.get(field) or 0
                        theirs = res.attributes.get(field) or 0
                        self.attributes[field] = max(float(mine), float(theirs))

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
        """),
    )
    INVALID = (
        Invalid(
            """
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            defaults = {"cpu": 1, "memory": 4096, "image": None}

            def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                self.cpu = self.attributes["cpu"]

            def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
                cli_args.commands = ["mybackend", "step"]
        """,
            line=4,
            column=1,
        ),
        Invalid(
            """
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            defaults = {"cpu": None}

            def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                for deco in decos:
                    if deco.name == "resources":
                        if hasattr(deco, "cpu") and deco.cpu is not None:
                            self.attributes["cpu"] = max(self.attributes["cpu"] or 0, deco.cpu)
        """,
            line=11,
            column=20,
            fixed="""
            from metaflow.decorators import StepDecorator

            class MyBackendDecorator(StepDecorator):
                name = "mybackend"
                defaults = {"cpu": None}

                def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                    for deco in decos:
                        if deco.name == "resources":
                            if "cpu" in deco.attributes and deco.attributes.get("cpu") is not None:
                                self.attributes["cpu"] = max(self.attributes["cpu"] or 0, deco.attributes.get("cpu"))
            """,  # noqa: E501 - the fixer's output, as it writes it
        ),
        Invalid(
            """
        from metaflow.decorators import StepDecorator

        class MyBackendDecorator(StepDecorator):
            name = "mybackend"
            defaults = {"cpu": "1", "memory": "4096"}

            def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                for deco in decos:
                    if deco.name == "resources":
                        self.attributes["memory"] = deco.attributes["memory"]
                        self.attributes.update(deco.attributes)
        """,
            line=11,
            column=45,
            fixed="""
            from metaflow.decorators import StepDecorator

            class MyBackendDecorator(StepDecorator):
                name = "mybackend"
                defaults = {"cpu": "1", "memory": "4096"}

                def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
                    for deco in decos:
                        if deco.name == "resources":
                            self.attributes["memory"] = max(float(self.attributes["memory"] or 0), float(deco.attributes["memory"] or 0))
                            self.attributes.update({k: max(float(self.attributes.get(k) or 0), float(v or 0)) for k, v in deco.attributes.items() if v is not None})
            """,  # noqa: E501 - the fixer's output, as it writes it
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        picks = _picks_resources(module)
        classes = [
            node
            # A region of the decorator (see _resources_regions) is where a test picks it out.
            for node in (module.nodes_of(ast.ClassDef) if picks else ())
            if any((dotted_name(b) or "").split(".")[-1] == "StepDecorator" for b in node.bases)
            and decorator_name(node) != "resources"
        ]
        for node in classes:
            yield from self._class_findings(module, node)
        if picks or module.calls_by_name.get("compute_resource_attributes"):
            return  # the module picks the @resources decorator out, or calls Metaflow's merge
        for node, group in backend_decorators(module):
            fields = sorted(_default_fields(node) & RESOURCE_FIELDS)
            if fields:
                yield Finding(
                    header_span(module, node),
                    f"this decorator runs steps on '{group}' with its own {', '.join(fields)} "
                    "but never looks at the step's @resources: @resources(cpu=8) is silently "
                    "ignored; merge each field with max() (metaflow's "
                    "compute_resource_attributes)",
                )

    def _class_findings(self, module: ModuleModel, node: ast.ClassDef) -> Iterator[Finding]:
        for name, region in _resources_regions(node):
            reads: dict[str, list[tuple[ast.AST, str]]] = {}
            for top in region:
                for sub in ast.walk(top):
                    read = _field_read(sub, name)
                    if read is not None:
                        reads.setdefault(read[0], []).append((sub, read[1]))
                    else:
                        yield from _overwrite_finding(module, name, sub)
            for field, found in reads.items():
                found.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
                first, text = found[0]
                rewrites = fixes.ExpressionRewrites(
                    tuple((*fixes.node_positions(module, sub), new) for sub, new in found)
                )
                yield Finding(
                    first,
                    f"@resources keeps {field!r} in .attributes, it has no Python attribute "
                    f"{field!r}: this reads nothing and the step's @resources({field}=...) is "
                    f"ignored; read {text}",
                    rewrites.to_data(),
                )


def _rewrite(module: ModuleModel, node: ast.AST, text: str) -> dict:
    return fixes.ExpressionRewrites(((*fixes.node_positions(module, node), text),)).to_data()


def _overwrite_finding(module: ModuleModel, name: str, sub: ast.AST) -> Iterator[Finding]:
    if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
        target = sub.targets[0]
        if (
            isinstance(target, ast.Subscript)
            and _is_self_attributes(target.value)
            and _resources_value(sub.value, name)
        ):
            mine, theirs = _segment(module, target), _segment(module, sub.value)
            if mine is None or theirs is None:
                return
            text = f"max(float({mine} or 0), float({theirs} or 0))"
            yield Finding(
                sub.value,
                "@resources overwrites the decorator's own value: a larger value given to "
                f"the backend's decorator is lost; keep the larger one: {text}",
                _rewrite(module, sub.value, text),
            )
    elif (
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and sub.func.attr == "update"
        and _is_self_attributes(sub.func.value)
        and len(sub.args) == 1
        and dotted_name(sub.args[0]) == f"{name}.attributes"
    ):
        text = (
            "{k: max(float(self.attributes.get(k) or 0), float(v or 0)) "
            f"for k, v in {name}.attributes.items() if v is not None}}"
        )
        yield Finding(
            sub.args[0],
            "every @resources value replaces the decorator's own (the defaults cpu='1', "
            "memory='4096' too): a larger value given to the backend's decorator is lost; "
            "keep the larger value per field",
            _rewrite(module, sub.args[0], text),
        )


def _default_fields(node: ast.ClassDef) -> set[str]:
    value = class_attribute(node, "defaults")
    if not isinstance(value, ast.Dict):
        return set()
    return {k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
