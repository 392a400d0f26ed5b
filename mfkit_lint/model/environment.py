"""What an extension puts into the environment of the processes it starts, and reads back.

An environment write is ``NAME = value`` however it is spelled: a dict entry, ``env[NAME] = v``,
``setdefault``/``putenv``, a ``NAME=v`` keyword, a Kubernetes-style ``{"name": N, "value": V}``
entry, or ``[export] NAME=v`` in a shell template. Rules on the step environment (MFK2xx) and
on how parameters travel (MFK11x) ask this model instead of reading text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Optional, Union

from mfkit_lint.engine.diagnostic import Span
from mfkit_lint.engine.source import Source
from mfkit_lint.model.embedded import embedded_of
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name, per_module
from mfkit_lint.model.shell import split_commands
from mfkit_lint.model.templates import HOLE, Template, is_stringish, literal_parts, template_of
from mfkit_lint.model.usage import prose_nodes
from mfkit_lint.model.values import Assigned, values_of

# Where the local datastore lives: the directory that holds ``.metaflow``.
SYSROOT_LOCAL = "METAFLOW_DATASTORE_SYSROOT_LOCAL"
# Metaflow's own helpers that read METAFLOW_PARAMETERS in the container and export
# METAFLOW_INIT_<NAME> for init (Airflow and Step Functions run them before ``init``).
METAFLOW_PARAMETERS_READERS = (
    "plumbing.set_parameters",
    "step_functions.set_batch_environment",
)
# Calls that start a process (subprocess's and asyncio's).
SUBPROCESS_CALLS = frozenset(
    {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}
)


@dataclass
class EnvWrite:
    """``NAME = value`` given to a process environment: a dict entry, ``env[NAME] = v``,
    ``setdefault``/``putenv``, a ``NAME=v`` keyword, or a ``NAME=v`` word in a shell template.

    ``name`` is the key's text with HOLE for parts computed at run time.
    """

    name: str
    where: Union[ast.AST, Span]  # the key (or keyword, or shell word) to report
    value: Optional[ast.expr] = None  # the Python expression of the value, when there is one
    key: Optional[ast.expr] = None  # the key expression (Python forms)
    shell: bool = False
    literal: Optional[str] = None  # shell: the value's text when it is not one hole
    value_span: Optional[Span] = None  # shell: where that text is
    exact: bool = False  # shell: the span covers exactly the value's characters
    name_span: Optional[Span] = None  # where the name's characters are, when known
    template: Optional[Template] = None  # the string the key or word belongs to
    name_start: int = 0  # index of the name's first character in ``template.text``


# The classes of the nodes ``is_stringish`` accepts, and the methods of the calls it accepts.
_STRINGS = frozenset({ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call})
_STRING_METHODS = ("format", "substitute", "safe_substitute")
# Calls that build one entry of a container's env list from ``name=`` and ``value=``.
_ENV_ENTRY_CALLS = ("V1EnvVar", "EnvVar", "KeyValuePair")


def env_writes(
    module: ModuleModel,
    wanted: Callable[[str], bool],
    needle: str,
    extended: bool = False,
) -> Iterator[EnvWrite]:
    """Writes of environment variables whose name ``wanted`` accepts. ``needle`` is a text
    every such name contains (a cheap filter for shell templates). ``extended`` adds the forms
    the newer rules read: dict comprehension keys, Kubernetes-style ``{"name": N, "value": V}``
    entries and ``V1EnvVar(name=N, value=V)``, and skips prose (docstrings, help texts,
    messages) when reading shell words."""
    for site in _write_sites(module, extended):
        if site.__class__ is _KeySite:
            write = _python_write(module, site.key, site.value, wanted)
            if write is not None:
                yield write
        elif site.__class__ is ast.keyword:
            if wanted(site.arg):
                yield EnvWrite(site.arg, site, site.value)
        elif any(needle in text for text in site.texts):
            yield from _shell_writes(module, site.node, wanted, needle)


@dataclass
class _KeySite:
    """A string key that names a variable when ``wanted`` accepts its text, and its value."""

    key: ast.expr
    value: ast.expr


@dataclass
class _StringSite:
    """An outermost string expression that may hold ``NAME=value`` shell words, with the
    texts of its literals (a write's name is in one of them)."""

    node: ast.expr
    texts: list[str]


@per_module
def _write_sites(
    module: ModuleModel, extended: bool
) -> list[Union[_KeySite, ast.keyword, _StringSite]]:
    """Where the module may write environment variables, whatever their names, in the order
    ``env_writes`` reports them: computed once per module for every question about names.
    The sites are collected one node class at a time (most nodes of a class are no site) and
    put in the order of the node list at the end, each node's sites in the order it has them."""
    by_node: dict[ast.AST, list[Union[_KeySite, ast.keyword, _StringSite]]] = {}

    def key(node: ast.AST, key: Optional[ast.AST], value: ast.expr) -> None:
        if key is not None and is_stringish(key):
            by_node.setdefault(node, []).append(_KeySite(key, value))

    for node in module.nodes_of(ast.Dict):
        for k, v in zip(node.keys, node.values):
            key(node, k, v)
        if extended:
            entry = _name_value_entry(node)
            if entry is not None:
                key(node, *entry)
    if extended:
        for node in module.nodes_of(ast.DictComp):
            key(node, node.key, node.value)
    for node in module.nodes_of(ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                key(node, subscript_key(target), node.value)
    # The calls by name (a call's key comes before its keywords, as ``env_writes`` reads it).
    calls = module.calls_by_name
    for name in ("setdefault", "putenv"):
        for node in calls.get(name, ()):
            if isinstance(node.func, ast.Attribute) and len(node.args) == 2:
                key(node, node.args[0], node.args[1])
    entries: set[int] = set()  # an entry's keywords are its name and value, no variables
    if extended:
        for name in _ENV_ENTRY_CALLS:
            for node in calls.get(name, ()):
                entries.add(id(node))
                names = {k.arg: k.value for k in node.keywords}
                if "name" in names and "value" in names:
                    key(node, names["name"], names["value"])
    for node in module.nodes_of(ast.Call):
        if node.keywords and id(node) not in entries:
            named = [kw for kw in node.keywords if kw.arg is not None]
            if named:
                by_node.setdefault(node, []).extend(named)
    for node in code_strings(module) if extended else outermost_strings(module):
        # (an outermost literal is a str: its one text without a call)
        texts = [node.value] if node.__class__ is ast.Constant else literal_parts(node)
        by_node.setdefault(node, []).append(_StringSite(node, texts))
    return [site for node in module.ordered(by_node) for site in by_node[node]]


@per_module
def code_strings(module: ModuleModel) -> list[ast.expr]:
    """The outermost string expressions of the module (no bigger string expression holds
    them) that are not prose (docstrings, help texts, messages), in the order of the node
    list: the strings scripts, templates and generated code are written in."""
    prose = prose_nodes(module)
    return [node for node in outermost_strings(module) if id(node) not in prose]


@per_module
def outermost_strings(module: ModuleModel) -> list[ast.expr]:
    """The string expressions (``is_stringish``) no bigger string expression holds, in the
    order of the node list. Only the node classes ``is_stringish`` can accept are asked, and
    of the calls only ``.format``/``.substitute``/``.safe_substitute`` ones (the calls it
    accepts)."""
    parent_of = module.parent
    found: list[ast.expr] = []
    for node in module.nodes_of(ast.Constant):
        if isinstance(node.value, str):
            parent = parent_of(node)
            if parent.__class__ not in _STRINGS or not is_stringish(parent):
                found.append(node)
    candidates = [*module.nodes_of(ast.JoinedStr), *module.nodes_of(ast.BinOp)]
    for name in _STRING_METHODS:
        candidates += module.calls_by_name.get(name, ())
    for node in candidates:
        if is_stringish(node):
            parent = parent_of(node)
            if parent.__class__ not in _STRINGS or not is_stringish(parent):
                found.append(node)
    return module.ordered(found)


def _python_write(
    module: ModuleModel, key: Optional[ast.AST], value: ast.expr, wanted: Callable[[str], bool]
) -> Optional[EnvWrite]:
    if key is None or not is_stringish(key):
        return None
    if isinstance(key, ast.Constant) and not wanted(key.value):
        return None  # a literal key is its own text: no template needed to tell
    template = template_of(module, key)
    if template is None or not wanted(template.text):
        return None
    return EnvWrite(
        template.text,
        key,
        value,
        key,
        name_span=template.span(module, 0, len(template.text)),
        template=template,
    )


def subscript_key(target: ast.Subscript) -> ast.AST:
    key = target.slice
    return key.value if type(key).__name__ == "Index" else key  # Python 3.8 wraps it


def _name_value_entry(node: ast.Dict) -> Optional[tuple[ast.expr, ast.expr]]:
    """``{"name": "X", "value": v}``: an entry of a container's ``env`` list (its name and
    value expressions)."""
    entries = {
        k.value: v
        for k, v in zip(node.keys, node.values)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }
    if set(entries) != {"name", "value"}:
        return None
    return entries["name"], entries["value"]


_NAME_WORD = re.compile("([A-Za-z_" + HOLE + "][A-Za-z0-9_" + HOLE + "]*)=")


def _shell_writes(
    module: ModuleModel, node: ast.expr, wanted: Callable[[str], bool], needle: str
) -> Iterator[EnvWrite]:
    """``NAME=value`` words of a shell template (``needle``: see ``env_writes``)."""
    template = template_of(module, node)
    if template is None or needle not in template.text or "=" not in template.text:
        return
    for words in split_commands(template.text):
        for position, word in enumerate(words):
            match = _NAME_WORD.match(word.text)
            if match is None or not wanted(match.group(1)):
                continue
            if not all(_is_assignment_prefix(w.text) for w in words[:position]):
                continue  # prose such as help text, not a shell assignment
            name = match.group(1)
            unquoted = template.text[word.start : word.end] == word.text
            raw_name = template.text[word.start : word.start + len(name)] == name
            name_span = template.span(module, word.start, word.start + len(name))
            write = EnvWrite(
                name,
                name_span or module.span(node),
                shell=True,
                name_span=name_span if raw_name else None,
                template=template,
                name_start=word.start,
            )
            value = word.text[len(name) + 1 :]
            if value == HOLE:
                write.value = template.hole_expr(template.text.find(HOLE, word.start + len(name)))
            else:
                write.literal = value
                if HOLE not in value and template.offsets is not None:
                    start = word.end - len(value) if unquoted else word.start
                    write.value_span = template.span(module, start, word.end)
                    write.exact = unquoted
            yield write


def _is_assignment_prefix(word: str) -> bool:
    """Words that may precede ``NAME=value`` in a shell command: export, env, other NAME=x."""
    return word in ("export", "env", "declare", "-x") or bool(_ENV_WORD.match(word))


_ENV_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


_READ_CALLS = frozenset({"get", "getenv", "pop", "startswith"})


def reads_env(module: ModuleModel, prefixes: tuple[str, ...]) -> bool:
    """Code of this module (or, in project mode, of another one) reads an environment
    variable whose name starts with one of ``prefixes``: ``os.environ[...]``, ``.get``,
    ``getenv``, ``in os.environ``, a ``startswith`` test, or ``$NAME`` in a script."""
    if _reads_env_names(module, prefixes):
        return True
    project = module.project
    if project is None:
        return False
    path = module.path
    return any(
        _reads_env_names(other, prefixes)
        for prefix in prefixes
        for other in project.mentioning(prefix, besides=path)
    )


def _reads_env_names(module: ModuleModel, prefixes: tuple[str, ...]) -> bool:
    def named(node: Optional[ast.AST]) -> bool:
        if node is None or not is_stringish(node):
            return False
        template = template_of(module, node)
        return template is not None and template.text.startswith(prefixes)

    in_text = re.compile(
        r"(?:environ\s*(?:\[|\.get\(|\.pop\()|getenv\()\s*[\"']?(?:{0})|\$\{{?(?:{0})".format(
            "|".join(re.escape(p) for p in prefixes)
        )
    )
    for node in module.nodes:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if named(subscript_key(node)):
                return True
        elif isinstance(node, ast.Call) and call_name(node) in _READ_CALLS and node.args:
            if named(node.args[0]):
                return True
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.In, ast.NotIn)) for op in node.ops
        ):
            if named(node.left):
                return True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(p in node.value for p in prefixes)
            and in_text.search(node.value)
        ):
            return True
    return False


def code_string_writes(
    module: ModuleModel, wanted: Callable[[str], bool], needle: str
) -> list[EnvWrite]:
    """Writes inside one-line strings of generated Python (``'env["X"] = v'``) that the
    embedded-code model does not cover (yet): each such string is parsed on its own."""
    if module.generated:
        return []
    covered: Optional[set[int]] = None
    out = []
    for site in _write_sites(module, True):
        # The outermost string expressions that are not prose, a literal of which has needle.
        if site.__class__ is not _StringSite or not any(needle in t for t in site.texts):
            continue
        template = template_of(module, site.node)
        if template is None or "\n" in template.text or template.offsets is None:
            continue
        if covered is None:
            covered = {o for e in embedded_of(module) for o in e.offsets if o is not None}
        if template.offsets[0][0] in covered:
            continue  # linted as part of the generated module already
        out.extend(_writes_in_line(module, template, wanted, needle))
    return out


def _writes_in_line(
    module: ModuleModel, template: Template, wanted: Callable[[str], bool], needle: str
) -> Iterator[EnvWrite]:
    text = template.text.replace(HOLE, "_")
    start = len(text) - len(text.lstrip())
    code = text.strip()
    if "=" not in code and "(" not in code:
        return
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    if not tree.body or all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in tree.body
    ):
        return
    line = ModuleModel(Source(code), tree)
    for write in env_writes(line, wanted, needle, True):
        if write.shell or write.name_span is None:
            continue
        begin = start + write.name_span.start.column - 1
        # The name's characters in the real template: the key literal starts one quote earlier.
        index = template.text.find(write.name.replace(HOLE, ""), begin - 1)
        if index < 0 or HOLE in write.name:
            index = begin
        span = template.span(module, index, index + len(write.name))
        if span is None:
            continue
        yield EnvWrite(
            write.name,
            span,
            None,
            name_span=span,
            template=template,
            name_start=index,
        )


INIT_ENV_PREFIX = "METAFLOW_INIT_"


@per_module
def forwards_init_env(module: ModuleModel) -> bool:
    """The module hands flow parameters to ``init`` as ``METAFLOW_INIT_<NAME>`` (click's
    variables for init's options): it writes such a variable, or calls Metaflow's helpers that
    export them from ``METAFLOW_PARAMETERS``. Decided from what the code does: a comment or a
    message that names the variable does not count."""
    if any(call_name(node) in _READER_CALLS and _calls_reader(node) for node in _calls(module)):
        return True
    prose = prose_nodes(module)
    if any(
        isinstance(node.value, str) and id(node) not in prose and _RUNS_READER.search(node.value)
        for node in module.nodes_of(ast.Constant)
    ):
        return True  # "python -m metaflow.plugins.airflow.plumbing.set_parameters ..." in a script
    return next(env_writes(module, _is_init_env, INIT_ENV_PREFIX, True), None) is not None


def _is_init_env(name: str) -> bool:
    return name.startswith(INIT_ENV_PREFIX) and len(name) > len(INIT_ENV_PREFIX)


# A script that runs one of the helpers as a module.
_RUNS_READER = re.compile(
    r"-m\s+[\w.]*(?:" + "|".join(re.escape(r) for r in METAFLOW_PARAMETERS_READERS) + r")\b"
)
_READER_CALLS = frozenset(r.rsplit(".", 1)[1] for r in METAFLOW_PARAMETERS_READERS)


def _calls(module: ModuleModel) -> Iterator[ast.Call]:
    return iter(module.nodes_of(ast.Call))


def _calls_reader(call: ast.Call) -> bool:
    name = dotted_name(call.func) or ""
    return any(
        name == r or name.endswith("." + r) or name == r.rsplit(".", 1)[1]
        for r in METAFLOW_PARAMETERS_READERS
    )


_DYNAMIC_METAFLOW_NAME = re.compile("METAFLOW_" + HOLE + "?")


def sets_env_var(module: ModuleModel, names: tuple[str, ...]) -> bool:
    """The code gives a process one of the environment variables ``names`` (any spelling of an
    environment write), or writes ``METAFLOW_<computed>`` names that may be any of them. In
    project mode another module of the project may do it for the steps. A string that merely
    mentions the name (help text, a message, a comment) does not count."""
    if _writes_env(module, names):
        return True
    project = module.project
    if project is None:
        return False
    return any(
        _writes_env(other, names)
        for name in names
        for other in project.mentioning(name, besides=module.path)
    )


@per_module
def _writes_env(module: ModuleModel, names: tuple[str, ...]) -> bool:
    def wanted(name: str) -> bool:
        return name in names or bool(_DYNAMIC_METAFLOW_NAME.fullmatch(name))

    return next(env_writes(module, wanted, "METAFLOW_", True), None) is not None


# -- environments built from scratch ----------------------------------------------------------

# Names of variables whose forwarding shows the env was chosen with credentials in mind.
_CREDENTIAL_PREFIXES = (
    "AWS_",
    "GOOGLE_",
    "GCP_",
    "GCLOUD",
    "CLOUDSDK_",
    "AZURE_",
    "ARM_",
    "KUBECONFIG",
    "METAFLOW_SERVICE",
)
_MAX_ENV_DEPTH = 4


@per_module
def fresh_environment(module: ModuleModel, env: ast.expr) -> Optional[str]:
    """A description of the environment ``env`` when, on every path, it is built without the
    parent's (``{}`` filled entry by entry or with ``update({...})``, a dict literal, a helper
    of this or another project module returning one), else None: inherited, credentials
    chosen by name, or cannot tell."""
    return _fresh(module, env, 0)


def _fresh(module: ModuleModel, env: ast.expr, depth: int) -> Optional[str]:
    if depth > _MAX_ENV_DEPTH:
        return None
    owner = _owner(module, env)
    if owner is None:
        return None
    if isinstance(env, ast.Dict):
        if any(k is None for k in env.keys) or _names_credentials(owner, env):
            return None  # ``**spread`` of something, or credentials chosen explicitly
        return "a dict literal"
    if isinstance(env, ast.Call) and isinstance(env.func, ast.Name) and env.func.id == "dict":
        if env.args or any(k.arg is None for k in env.keywords):
            return None
        if any(_credential_name(k.arg) for k in env.keywords):
            return None
        return "dict(...)"
    values = values_of(owner)
    if isinstance(env, ast.Call):
        returned = values.alternatives(env)
        if returned == (env,):
            return None  # not a helper whose returns can be read
        if all(_fresh(owner, value, depth + 1) for value in returned):
            return f"the dict {call_name(env)}() returns, built from scratch"
        return None
    if isinstance(env, ast.Name):
        scope, bindings = values.lookup(env.id, env)
        if not bindings or scope is None or any(not isinstance(b, Assigned) for b in bindings):
            return None
        if not all(_fresh(owner, b.value, depth + 1) for b in bindings):
            return None
        if _fills_from_environ(owner, scope, env.id, depth):
            return None
        return f"{env.id!r}, a dict built from scratch"
    return None


def _owner(module: ModuleModel, node: ast.AST) -> Optional[ModuleModel]:
    """The module whose tree holds ``node`` (a helper's return may be in another one)."""
    if module.owns(node):
        return module
    return module.project.owner(node) if module.project is not None else None


def _credential_name(name: Optional[str]) -> bool:
    return bool(name) and name.upper().startswith(_CREDENTIAL_PREFIXES)


def _names_credentials(module: ModuleModel, node: ast.Dict) -> bool:
    for key in node.keys:
        if key is not None and is_stringish(key):
            template = template_of(module, key)
            if template is not None and _credential_name(template.text):
                return True
    return False


def _fills_from_environ(module: ModuleModel, scope: ast.AST, name: str, depth: int) -> bool:
    """In ``scope`` the dict gets the parent environment or may get it: ``update`` with
    anything but entries built from scratch, a loop over ``os.environ`` copying entries, a
    computed key, or credentials set by name."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if (
                isinstance(target, ast.Name)
                and target.id == name
                and node.func.attr == "update"
                and not _fresh_entries(module, node, depth)
            ):
                return True  # update(os.environ), update(other): cannot tell what it brings
        if isinstance(node, (ast.For, ast.comprehension)) and "environ" in ast.dump(node.iter):
            return True
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    key = subscript_key(target)
                    template = template_of(module, key) if is_stringish(key) else None
                    if template is None or HOLE in template.text:
                        return True  # a computed key: cannot tell what it forwards
                    if _credential_name(template.text):
                        return True
    return False


def _fresh_entries(module: ModuleModel, update: ast.Call, depth: int) -> bool:
    """``env.update({...})`` or ``env.update(K=v)`` adds only entries named in the code, none
    of them credentials."""
    keywords = update.keywords
    if len(update.args) > 1 or any(k.arg is None or _credential_name(k.arg) for k in keywords):
        return False
    return not update.args or _fresh(module, update.args[0], depth + 1) is not None
