"""MFK202 sysroot-vs-datastore-root: see docs/pitfalls/sysroot-vs-datastore-root.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import commands_of
from mfkit_lint.model.environment import (
    SYSROOT_LOCAL,
    env_writes,
)
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import values_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

SYSROOT_PREFIX = "METAFLOW_DATASTORE_SYSROOT_"
DATASTORE_DIR = ".metaflow"


@dataclass
class EnvAssignment:
    """``NAME = value`` in a step environment: where the value is and how it is written."""

    key_is_local: bool  # the key is exactly ..._LOCAL (else ..._<TYPE> formatted at run time)
    value: Optional[ast.expr]  # the Python expression, when there is one
    literal: Optional[str] = None  # the value's text, when it sits in a shell template
    span: Optional[Span] = None  # where that text is
    exact: bool = False  # the span covers exactly the value's characters (no shell quoting)


def _sysroot_key(name: str) -> bool:
    """The exact ..._LOCAL key, or a ..._<TYPE> key formatted at run time."""
    return name == SYSROOT_LOCAL or (name.startswith(SYSROOT_PREFIX) and name.endswith(HOLE))


def env_assignments(module: ModuleModel) -> Iterator[EnvAssignment]:
    """Every place a sysroot variable is given a value: dicts, subscripts, setdefault, dict(),
    and ``NAME=value`` words in shell templates."""
    for write in env_writes(module, _sysroot_key, SYSROOT_LOCAL):
        if write.shell and (
            write.name != SYSROOT_LOCAL or isinstance(write.template.node, ast.Call)
        ):
            continue  # shell text: only the literal ..._LOCAL name, in literals and % / f-strings
        yield EnvAssignment(
            write.name == SYSROOT_LOCAL, write.value, write.literal, write.value_span, write.exact
        )


def _ends_in_datastore_dir(path: str) -> bool:
    return path.rstrip("/").endswith("/" + DATASTORE_DIR) or path.rstrip("/") == DATASTORE_DIR


def _suffix_form(module: ModuleModel, expr: ast.expr) -> Optional[ast.expr]:
    """For ``x + "/.metaflow"``, ``os.path.join(x, ".metaflow")`` or ``f"{x}/.metaflow"``: x."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        tail = values_of(module).const(expr.right)
        if isinstance(tail, str) and tail.strip("/") == DATASTORE_DIR:
            return expr.left
    if (
        isinstance(expr, ast.Call)
        and dotted_name(expr.func) in ("os.path.join", "path.join")
        and len(expr.args) == 2
        and values_of(module).const(expr.args[1]) == DATASTORE_DIR
    ):
        return expr.args[0]
    if isinstance(expr, ast.JoinedStr) and len(expr.values) == 2:
        head, tail = expr.values
        if (
            isinstance(head, ast.FormattedValue)
            and isinstance(tail, ast.Constant)
            and str(tail.value).strip("/") == DATASTORE_DIR
            and head.format_spec is None
        ):
            return head.value
    return None


def _is_flow_datastore_root(expr: ast.expr) -> bool:
    """``flow_datastore.datastore_root`` (or a getattr of it): Metaflow's full root."""
    if isinstance(expr, ast.Attribute) and expr.attr == "datastore_root":
        owner = dotted_name(expr.value) or ""
        return "datastore" in owner.rsplit(".", 1)[-1]
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "getattr"
        and len(expr.args) >= 2
        and isinstance(expr.args[1], ast.Constant)
        and expr.args[1].value == "datastore_root"
    ):
        owner = dotted_name(expr.args[0]) or ""
        return "datastore" in owner.rsplit(".", 1)[-1]
    return False


class SysrootVsDatastoreRoot(Rule):
    """``METAFLOW_DATASTORE_SYSROOT_LOCAL`` is given the datastore root instead of its parent.

    For the local datastore Metaflow computes the root as ``<sysroot>/.metaflow``, while
    ``--datastore-root`` (and ``flow_datastore.datastore_root``) is that full root. Giving the
    sysroot a value ending in ``.metaflow``, or the same value as ``--datastore-root``, makes
    readers look in ``.../.metaflow/.metaflow``: the Client reports
    ``Flow('MyFlow') does not exist`` and the deployer waits forever for a run it cannot see.
    """

    code = "MFK202"
    name = "sysroot-vs-datastore-root"
    summary = "METAFLOW_DATASTORE_SYSROOT_LOCAL set to the datastore root (ends in .metaflow)"
    capability = Cap.DATASTORE
    triggers = (SYSROOT_PREFIX.encode(),)
    fix = FixSpec(
        Applicability.SAFE,
        "Drop the trailing /.metaflow: the sysroot is the directory that holds .metaflow",
        "sysroot:StripDatastoreDir",
    )

    VALID = (
        Valid(
            """
            import os
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": os.path.expanduser("~")}
            """
        ),
        Valid(
            """
            import click
            @click.option(
                "--container-sysroot",
                help="sets METAFLOW_DATASTORE_SYSROOT_LOCAL=<path>/.metaflow inside pods",
            )
            def trigger(container_sysroot):
                pass
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data/mf/.metaflow", "PATH": "/usr/bin"}
            """,
            line=2,
            column=44,
            fixed="""
            env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data/mf", "PATH": "/usr/bin"}
            """,
        ),
        Invalid(
            """
            def env_for(root):
                return dict(METAFLOW_DATASTORE_SYSROOT_LOCAL=root + "/.metaflow")
            """,
            line=3,
            column=50,
            fixed="""
            def env_for(root):
                return dict(METAFLOW_DATASTORE_SYSROOT_LOCAL=root)
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for assignment in env_assignments(module):
            if assignment.value is None:
                literal = assignment.literal or ""
                if assignment.span is not None and _ends_in_datastore_dir(literal):
                    yield Finding(
                        assignment.span,
                        self._message(f"is {literal!r}, which ends in {DATASTORE_DIR}"),
                        {"shell": True} if assignment.exact else None,
                    )
                continue
            finding = self._check_value(module, assignment)
            if finding is not None:
                yield finding

    def _check_value(self, module: ModuleModel, assignment: EnvAssignment) -> Optional[Finding]:
        value = assignment.value
        resolved = values_of(module).single_assignment(value)
        if assignment.key_is_local:
            literal = values_of(module).const(value)
            if isinstance(literal, str) and _ends_in_datastore_dir(literal):
                fixable = isinstance(value, ast.Constant) or _suffix_form(module, value) is not None
                return Finding(
                    value,
                    self._message(f"is {literal!r}, which ends in {DATASTORE_DIR}"),
                    {} if fixable else None,
                )
            if _suffix_form(module, resolved) is not None:
                return Finding(
                    value,
                    self._message(f"has {DATASTORE_DIR} appended"),
                    {} if _suffix_form(module, value) is not None else None,
                )
            if _same_as_datastore_root_option(module, value):
                return Finding(
                    value,
                    f"{SYSROOT_LOCAL} is the same value as --datastore-root: the option is the "
                    "full root (<sysroot>/.metaflow), so steps write to X/<Flow> while the Client "
                    "reads X/.metaflow/<Flow>; give the sysroot the parent directory",
                )
        if _is_flow_datastore_root(resolved) and not _only_for_remote_datastores(module, value):
            detail = "is flow_datastore.datastore_root, which already ends in .metaflow"
            if not assignment.key_is_local:
                detail += " (for the local datastore)"
            wrapping = _parent_of_root(module, resolved, assignment.key_is_local)
            return Finding(
                value,
                self._message(detail),
                wrapping.to_data() if wrapping else None,
                no_fix_reason=None if wrapping else _NO_PARENT_FIX,
                codemod=fixes.Wrapping.CODEMOD if wrapping else None,
                unsafe=not assignment.key_is_local,
            )
        return None

    @staticmethod
    def _message(detail: str) -> str:
        return (
            f"{SYSROOT_LOCAL} {detail}: Metaflow appends .metaflow to the sysroot, so steps and "
            "the Client look in .metaflow/.metaflow; give it the parent directory"
        )


_NO_PARENT_FIX = (
    "the module has no top-level 'import os', or the datastore object is not a name or self "
    "attribute: give the sysroot os.path.dirname() of the root (for the local datastore)"
)


def _parent_of_root(
    module: ModuleModel, root: ast.expr, key_is_local: bool
) -> Optional[fixes.Wrapping]:
    """``os.path.dirname(<root>)``: the local datastore's root is always ``<sysroot>/<local
    dir>`` (``LocalStorage.get_datastore_root_from_config``), so its parent is the sysroot. For
    a key formatted with the datastore's TYPE, only when that TYPE is "local" (the sysroot of
    S3/GS/Azure is the root itself)."""
    if not any(
        isinstance(stmt, ast.Import)
        and any(a.name == "os" and a.asname is None for a in stmt.names)
        for stmt in module.tree.body
    ):
        return None
    if key_is_local:
        return fixes.Wrapping("os.path.dirname({expr})")
    owner = root.value if isinstance(root, ast.Attribute) else root.args[0]
    if not (isinstance(owner, ast.Name) or _is_self_attribute(owner)):
        return None
    datastore_type = f"{ast.unparse(owner)}.TYPE"
    return fixes.Wrapping(f'os.path.dirname({{expr}}) if {datastore_type} == "local" else {{expr}}')


def _only_for_remote_datastores(module: ModuleModel, node: ast.AST) -> bool:
    """The assignment sits under an ``if`` that tells the local datastore apart (its test
    mentions "local"): there the sysroot of S3/GS/Azure really is the root."""
    for anc in module.ancestors(node):
        if isinstance(anc, (ast.If, ast.IfExp)) and any(
            isinstance(n, ast.Constant) and n.value == "local" for n in ast.walk(anc.test)
        ):
            return True
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
    return False


def _same_as_datastore_root_option(module: ModuleModel, value: ast.expr) -> bool:
    """A command of the same function (or, for ``self.x``, of the same class) passes the same
    expression as --datastore-root."""
    function = module.enclosing_function(value)
    wanted = ast.dump(value)
    owner = _class_of(module, function) if _is_self_attribute(value) else None
    for command in commands_of(module):
        same_scope = command.function is function or (
            owner is not None and _class_of(module, command.function) is owner
        )
        if not same_scope:
            continue
        option = command.option("--datastore-root")
        if option is None or option.value is None or option.value.expr is None:
            continue
        if ast.dump(option.value.expr) == wanted:
            return True
    return False


def _is_self_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _class_of(module: ModuleModel, function: Optional[ast.AST]) -> Optional[ast.ClassDef]:
    if function is None:
        return None
    parent = module.parent(function)
    return parent if isinstance(parent, ast.ClassDef) else None
