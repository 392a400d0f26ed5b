"""Rules on the environment an extension gives its step processes (MFK2xx)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.module import ModuleModel, dotted_name
from mfkit_lint.model.shell import split_commands
from mfkit_lint.model.templates import HOLE, is_stringish, template_of

SYSROOT_LOCAL = "METAFLOW_DATASTORE_SYSROOT_LOCAL"
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


def _key(module: ModuleModel, node: Optional[ast.AST]) -> Optional[bool]:
    """True for the ..._LOCAL key, False for a ..._<TYPE> template key, None otherwise."""
    if node is None or not is_stringish(node):
        return None
    template = template_of(module, node)
    if template is None:
        return None
    if template.text == SYSROOT_LOCAL:
        return True
    if template.text.startswith(SYSROOT_PREFIX) and template.text.endswith(HOLE):
        return False
    return None


def env_assignments(module: ModuleModel) -> Iterator[EnvAssignment]:
    """Every place a sysroot variable is given a value: dicts, subscripts, setdefault, dict(),
    and ``NAME=value`` words in shell templates."""
    for node in module.nodes:
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                local = _key(module, key)
                if local is not None:
                    yield EnvAssignment(local, value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    local = _key(module, _subscript_key(target))
                    if local is not None:
                        yield EnvAssignment(local, node.value)
        elif isinstance(node, ast.Call):
            yield from _call_assignments(module, node)
        elif (
            isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call))
            and is_stringish(node)
            and not is_stringish(module.parent(node))
        ):
            yield from _shell_assignments(module, node)


def _subscript_key(target: ast.Subscript) -> ast.AST:
    key = target.slice
    return key.value if type(key).__name__ == "Index" else key  # Python 3.8 wraps it


def _call_assignments(module: ModuleModel, call: ast.Call) -> Iterator[EnvAssignment]:
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in ("setdefault", "putenv")
        and len(call.args) == 2
    ):
        local = _key(module, call.args[0])
        if local is not None:
            yield EnvAssignment(local, call.args[1])
    for kw in call.keywords:
        if kw.arg == SYSROOT_LOCAL:
            yield EnvAssignment(True, kw.value)


_ASSIGN_WORD = re.compile(re.escape(SYSROOT_LOCAL) + "=")


def _shell_assignments(module: ModuleModel, node: ast.expr) -> Iterator[EnvAssignment]:
    if not any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and SYSROOT_LOCAL in n.value
        for n in ast.walk(node)
    ):
        return
    template = template_of(module, node)
    if template is None or SYSROOT_LOCAL + "=" not in template.text:
        return
    for words in split_commands(template.text):
        for position, word in enumerate(words):
            if not _ASSIGN_WORD.match(word.text):
                continue
            if not all(_is_assignment_prefix(w.text) for w in words[:position]):
                continue  # prose such as help text, not a shell assignment
            value = word.text[len(SYSROOT_LOCAL) + 1 :]
            if value == HOLE:
                index = template.text.find(HOLE, word.start)
                yield EnvAssignment(True, template.hole_expr(index))
            elif HOLE not in value and template.offsets is not None:
                unquoted = template.text[word.start : word.end] == word.text
                start = word.end - len(value) if unquoted else word.start
                span = template.span(module, start, word.end)
                yield EnvAssignment(True, None, value, span, unquoted)


def _is_assignment_prefix(word: str) -> bool:
    """Words that may precede ``NAME=value`` in a shell command: export, env, other NAME=x."""
    return word in ("export", "env", "declare", "-x") or bool(_ENV_WORD.match(word))


_ENV_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _ends_in_datastore_dir(path: str) -> bool:
    return path.rstrip("/").endswith("/" + DATASTORE_DIR) or path.rstrip("/") == DATASTORE_DIR


def _suffix_form(module: ModuleModel, expr: ast.expr) -> Optional[ast.expr]:
    """For ``x + "/.metaflow"``, ``os.path.join(x, ".metaflow")`` or ``f"{x}/.metaflow"``: x."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        tail = module.values.const(expr.right)
        if isinstance(tail, str) and tail.strip("/") == DATASTORE_DIR:
            return expr.left
    if (
        isinstance(expr, ast.Call)
        and dotted_name(expr.func) in ("os.path.join", "path.join")
        and len(expr.args) == 2
        and module.values.const(expr.args[1]) == DATASTORE_DIR
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
        resolved = _follow(module, value)
        if assignment.key_is_local:
            literal = module.values.const(value)
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
            return Finding(value, self._message(detail))
        return None

    @staticmethod
    def _message(detail: str) -> str:
        return (
            f"{SYSROOT_LOCAL} {detail}: Metaflow appends .metaflow to the sysroot, so steps and "
            "the Client look in .metaflow/.metaflow; give it the parent directory"
        )


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


def _follow(module: ModuleModel, expr: ast.expr) -> ast.expr:
    """A name's single assigned expression (one step), else the expression itself."""
    if isinstance(expr, ast.Name):
        _, bindings = module.values.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0][0] == "assign":
            return bindings[0][1]
    return expr


def _same_as_datastore_root_option(module: ModuleModel, value: ast.expr) -> bool:
    """A command of the same function (or, for ``self.x``, of the same class) passes the same
    expression as --datastore-root."""
    function = module.enclosing_function(value)
    wanted = ast.dump(value)
    owner = _class_of(module, function) if _is_self_attribute(value) else None
    for command in module.commands:
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
