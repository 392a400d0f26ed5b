"""MFK208 template-braces-in-env: see docs/pitfalls/template-braces-in-env.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.environment import (
    code_strings,
    subscript_key,
)
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.templates import HOLE, is_stringish, template_of
from mfkit_lint.model.values import values_of

_MARKER = re.compile(r"\{\{[^\n]*?\}\}|\{%[^\n]*?%\}")
_JSON_MODULES = ("json", "simplejson", "ujson")


class TemplateBracesInEnv(Rule):
    """JSON (``json.dumps(...)``, the flow's config value) is pasted raw into a template whose
    braces are interpreted later.

    Pasted into a string that ``str.format`` formats afterwards, every ``{`` of the JSON opens
    a format field: ``KeyError: '"cfg"'``. Pasted into a template a scheduler's template engine
    renders (``{{ ... }}`` markers of Jinja, Pebble in Kestra, Airflow, Argo), any ``{{``,
    ``{%`` or ``{#`` inside a value is evaluated: the value changes silently or the render
    fails with a template syntax error.
    """

    code = "MFK208"
    name = "template-braces-in-env"
    summary = "JSON pasted raw into a template whose braces are interpreted (str.format, Jinja...)"
    capability = Cap.CONFIG_EXPR
    triggers = (b"dumps", b"config_value", b"CONFIG_VALUE")

    VALID = (
        Valid(
            """
            import json
            def script(cfg, step):
                return "export CFG='{cfg}'\\npython flow.py step {step}".format(
                    cfg=json.dumps(cfg), step=step
                )
            """
        ),
        Valid(
            """
            PREAMBLE = "METAFLOW_STEP_ENV = {step_env!r}\\n"
            def render(step_env):
                return PREAMBLE.format(step_env=step_env)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import json
            def script(configs, step):
                text = "export METAFLOW_FLOW_CONFIG_VALUE='%s'\\npython flow.py step {step}" % (
                    json.dumps(configs)
                )
                return text.format(step=step)
            """,
            line=5,
            column=9,
        ),
        Invalid(
            """
            import json
            def bash(cfg):
                return "export CFG='{cfg}'; echo {{{{ ti.try_number }}}}".format(
                    cfg=json.dumps(cfg)
                )
            """,
            line=5,
            column=13,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        raw = module.source.raw or module.source.text.encode("utf-8", "replace")
        if not any(marker in raw for marker in (b".format", b"{{", b"{%")):
            return  # neither str.format nor a template engine's markers: nothing to interpret
        reported: set[int] = set()
        for name in ("format", "format_map"):
            for call in module.calls_by_name.get(name, []):
                if not isinstance(call.func, ast.Attribute):
                    continue
                found = _json_inserted(module, call.func.value, 0)
                if found is None or id(found[0]) in reported:
                    continue
                reported.add(id(found[0]))
                yield Finding(
                    found[0],
                    f"{found[1]} is pasted into a string that str.format formats afterwards "
                    f"(line {call.lineno}): its braces become format fields (KeyError); pass "
                    "the JSON as a format argument, or double its braces",
                )
        for node in code_strings(module):
            if isinstance(node, ast.Constant):
                continue  # no holes
            template = template_of(module, node)
            if template is None or HOLE not in template.text:
                continue
            marker = _MARKER.search(template.text)
            if marker is None:
                continue
            for expr in template.exprs:
                described = _json_source(module, expr, 0) if expr is not None else None
                if described is None or id(expr) in reported:
                    continue
                reported.add(id(expr))
                yield Finding(
                    expr,
                    f"{described} is pasted raw into a template with "
                    f"{marker.group(0)[:2]} ... markers, which the scheduler's template engine "
                    "renders: a value containing {{, {% or {# is evaluated (changed silently, "
                    "or the render fails); pass it base64-encoded or as a scheduler variable",
                )


def _json_inserted(module: ModuleModel, receiver: ast.expr, depth: int) -> Optional[tuple]:
    """(the JSON expression, its description) when ``receiver`` (the string ``.format`` is
    called on) has JSON pasted into it."""
    if depth > 3:
        return None
    described = _json_source(module, receiver, depth)
    if described is not None:
        return receiver, described
    if is_stringish(receiver):
        template = template_of(module, receiver)
        if template is not None:
            for expr in template.exprs:
                described = _json_source(module, expr, 0) if expr is not None else None
                if described is not None:
                    return expr, described
        return None
    if isinstance(receiver, ast.Call) and call_name(receiver) == "replace":
        if len(receiver.args) == 2:
            described = _json_source(module, receiver.args[1], 0)
            if described is not None:
                return receiver.args[1], described
        if isinstance(receiver.func, ast.Attribute):
            return _json_inserted(module, receiver.func.value, depth + 1)
    if isinstance(receiver, ast.Name):
        values = values_of(module).assigned_values(receiver)
        if len(values) == 1:
            return _json_inserted(module, values[0], depth + 1)
    return None


def _json_source(module: ModuleModel, expr: ast.expr, depth: int) -> Optional[str]:
    """A description of ``expr`` when it holds JSON text with braces: ``json.dumps(...)``,
    the flow config value, or a name or attribute assigned one of these."""
    if depth > 3:
        return None
    if isinstance(expr, ast.Call):
        name = call_name(expr)
        owner = dotted_name(expr.func.value) if isinstance(expr.func, ast.Attribute) else None
        if name == "dumps" and owner is not None and owner.lstrip("_").endswith(_JSON_MODULES):
            return f"{owner}.dumps(...)"
        if name in ("str", "repr") and len(expr.args) == 1:
            return _json_source(module, expr.args[0], depth + 1)
        if name == "get" and expr.args and _names_config_env(expr.args[0]):
            return "METAFLOW_FLOW_CONFIG_VALUE"
        helper = module.local_function(expr)
        if helper is not None and _returns_json(module, helper, depth):
            return f"{name}() (it returns json.dumps(...))"
        return None
    if isinstance(expr, ast.Subscript) and _names_config_env(subscript_key(expr)):
        return "METAFLOW_FLOW_CONFIG_VALUE"
    if isinstance(expr, ast.Name):
        if "config_value" in expr.id.lower():
            return f"the flow config value {expr.id!r}"
        values = values_of(module).assigned_values(expr)
        if len(values) == 1:
            return _json_source(module, values[0], depth + 1)
        return None
    if isinstance(expr, ast.Attribute):
        if "config_value" in expr.attr.lower():
            return f"the flow config value {expr.attr!r}"
        if isinstance(expr.value, ast.Name) and expr.value.id == "self":
            values = module.self_assignments.get(expr.attr, [])
            if len(values) == 1:
                return _json_source(module, values[0], depth + 1)
    return None


def _names_config_env(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "METAFLOW_FLOW_CONFIG_VALUE"


def _returns_json(module: ModuleModel, function: ast.AST, depth: int) -> bool:
    """Every return of the function is JSON text or None, and at least one is JSON."""
    returns = [
        n.value
        for n in ast.walk(function)
        if isinstance(n, ast.Return) and module.enclosing_function(n) is function
    ]
    json_returns = [r for r in returns if r is not None and _json_source(module, r, depth + 1)]
    others = [
        r
        for r in returns
        if r is not None
        and r not in json_returns
        and not (isinstance(r, ast.Constant) and r.value is None)
    ]
    return bool(json_returns) and not others
