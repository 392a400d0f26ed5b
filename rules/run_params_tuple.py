"""MFK301 run-params-tuple: see docs/pitfalls/run-params-tuple.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.module import ModuleModel, call_name
from mfkit_lint.model.values import Bound, Param, Values, values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

RUN_PARAMS = "run_params"


class RunParamsTuple(Rule):
    """Run parameters are handed on as a tuple where Metaflow expects a list.

    ``DeployedFlow.trigger`` passes ``run_params`` to the extension's ``trigger`` command
    through Metaflow's click API, which checks it against ``List[str]`` or a *one-element*
    ``Tuple[str]``. An empty tuple or one of two or more parameters fails with
    ``TypeError: Invalid type for 'run_params'``; a one-element tuple passes the check and
    then reaches the command as the text ``"('alpha=1',)"``.
    """

    code = "MFK301"
    name = "run-params-tuple"
    summary = "run params kept or passed as a tuple instead of a list"
    capability = Cap.RUN_PARAMS
    triggers = (b"run_params", b"get_lower_level_group")
    fix = FixSpec(Applicability.SAFE, "Pass run params as a list", "run_params:RunParamsAsList")

    VALID = (
        Valid(
            """
            def run(self, **kwargs):
                run_params = [f"{k}={v}" for k, v in kwargs.items()]
                return self.trigger(run_params=run_params)
            """
        ),
        Valid(
            """
            import click
            @click.command()
            @click.option("--run-params", "run_params")
            def trigger(run_params):
                start(run_params=run_params)
            """
        ),
        Valid(
            """
            from metaflow.runner.utils import get_lower_level_group
            def trigger(deployer, path, **kwargs):
                return get_lower_level_group(
                    deployer.api, deployer.top_level_kwargs, deployer.TYPE, {}
                ).trigger(deployer_attribute_file=path, tag=("nightly",),
                          run_param=["%s=%s" % kv for kv in kwargs.items()])
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            class MyDeployedFlow:
                def run(self, **kwargs):
                    run_params = tuple(f"{k}={v}" for k, v in kwargs.items())
                    return self.trigger(run_params=run_params)
            """,
            line=5,
            column=40,
            fixed="""
            class MyDeployedFlow:
                def run(self, **kwargs):
                    run_params = tuple(f"{k}={v}" for k, v in kwargs.items())
                    return self.trigger(run_params=list(run_params))
            """,
        ),
        Invalid(
            """
            def kwargs_for(params):
                return {"run_params": tuple(params), "deployer_attribute_file": "x"}
            """,
            line=3,
            column=27,
            fixed="""
            def kwargs_for(params):
                return {"run_params": list(params), "deployer_attribute_file": "x"}
            """,
        ),
        Invalid(
            """
            from metaflow.runner.utils import get_lower_level_group
            def trigger(deployer, path, **kwargs):
                group = get_lower_level_group(
                    deployer.api, deployer.top_level_kwargs, deployer.TYPE, {}
                )
                pairs = tuple("%s=%s" % kv for kv in kwargs.items())
                return group.trigger(deployer_attribute_file=path, run_param=pairs)
            """,
            line=8,
            column=66,
            fixed="""
            from metaflow.runner.utils import get_lower_level_group
            def trigger(deployer, path, **kwargs):
                group = get_lower_level_group(
                    deployer.api, deployer.top_level_kwargs, deployer.TYPE, {}
                )
                pairs = tuple("%s=%s" % kv for kv in kwargs.items())
                return group.trigger(deployer_attribute_file=path, run_param=list(pairs))
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for value in _run_params_values(module):
            origin = _tuple_origin(module, value)
            if origin is None:
                continue
            yield _finding(module, value, origin, RUN_PARAMS)
        for name, value in _click_api_values(module):
            origin = _tuple_origin(module, value)
            # A one-element tuple passes the click API's check (List[str] or Tuple[str]) of an
            # option that takes several values; any other length fails it.
            if origin is None or _one_element(module, value):
                continue
            yield _finding(module, value, origin, name)


def _finding(module: ModuleModel, value: ast.expr, origin: str, name: str) -> Finding:
    why = (
        "Metaflow's click API rejects it, or turns a one-element tuple into the text \"('k=v',)\""
        if name == RUN_PARAMS
        else "Metaflow's click API takes a list (or a one-element tuple) for an option with "
        "several values and fails with TypeError: Invalid type for any other tuple"
    )
    return Finding(
        value,
        f"{name} is a tuple ({origin}): {why}; pass a list",
        fixes.TupleToList(*fixes.node_positions(module, value)).to_data(),
    )


def _run_params_values(module: ModuleModel) -> Iterator[ast.expr]:
    """Expressions handed on as run params: ``f(run_params=X)``, ``d["run_params"] = X``,
    ``{"run_params": X}``."""
    for node in module.nodes:
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == RUN_PARAMS:
                    yield kw.value
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    key = target.slice
                    if isinstance(key, ast.Constant) and key.value == RUN_PARAMS:
                        yield node.value
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == RUN_PARAMS:
                    yield value


def _click_api_values(module: ModuleModel) -> Iterator[tuple[str, ast.expr]]:
    """Keyword arguments (other than ``run_params``) of calls to Metaflow's click API for the
    extension's commands: ``get_lower_level_group(...).trigger(run_param=X)``, also through a
    variable that holds the group. The API checks each against its option's type, and an
    option that takes several values accepts a list or a one-element tuple only."""
    values = values_of(module)
    for node in module.nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        group = values.single_assignment(node.func.value)
        if not (isinstance(group, ast.Call) and call_name(group) == "get_lower_level_group"):
            continue
        for kw in node.keywords:
            if kw.arg is not None and kw.arg != RUN_PARAMS:
                yield kw.arg, kw.value


def _one_element(module: ModuleModel, value: ast.expr) -> bool:
    """A one-element tuple literal on every path."""
    return all(
        isinstance(v, ast.Tuple) and len(v.elts) == 1 and not isinstance(v.elts[0], ast.Starred)
        for v in values_of(module).alternatives(value)
    )


def _tuple_origin(module: ModuleModel, value: ast.expr) -> Optional[str]:
    """Why ``value`` is a tuple on every path that reaches it (the value model follows
    assignments, conditionals and helpers' returns), or None when it is not (or cannot be
    told)."""
    values = values_of(module)
    origins = [_origin(module, values, alternative) for alternative in values.alternatives(value)]
    return origins[0] if origins and all(origins) else None


def _origin(module: ModuleModel, values: Values, value: ast.expr) -> Optional[str]:
    if isinstance(value, ast.Tuple):
        return "a tuple literal"
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return "built with tuple(...)" if value.func.id == "tuple" else None
    if isinstance(value, ast.Name):
        scope, bindings = values.lookup(value.id, value)
        param = next((b for b in bindings if isinstance(b, Param)), None)
        if any(isinstance(b, Bound) for b in bindings):
            return None  # a loop or ``with`` target: not the parameter's value
        if param is not None and _is_click_multiple(module, scope, param.arg.arg):
            return "click returns multiple=True options as tuples"
    return None


def _is_click_multiple(module: ModuleModel, function: Optional[ast.AST], param: str) -> bool:
    """The parameter is filled by a ``@click.option(..., multiple=True)`` of a click command."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and call_name(decorator) == "option"):
            continue
        multiple = any(
            kw.arg == "multiple" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in decorator.keywords
        )
        if multiple and param in _click_dest(decorator):
            return True
    return False


def _click_dest(option: ast.Call) -> set[str]:
    names = [
        a.value for a in option.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    explicit = [n for n in names if not n.startswith("-")]
    if explicit:
        return {explicit[0]}
    longest = max(names, key=len, default="")
    return {longest.lstrip("-").replace("-", "_")}
