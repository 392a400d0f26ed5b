"""Rules on the step and init command lines an orchestrator builds (MFK1xx)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any, Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec
from mfkit_lint.engine.rule import Finding, Rule
from mfkit_lint.model.commands import Command, Option, Token
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import UNKNOWN

COMMAND_TRIGGERS = (b"--run-id", b"--task-id", b"--retry-count", b"--input-paths")

# Names under which extensions keep the scheduler's 0-based attempt counter.
# ("retries" is left out: extensions use it for the maximum number of retries as often.)
ATTEMPT_NAMES = ("retry_count", "attempt", "attempt_number", "retry_number")
# Names under which extensions keep the raw, user-given @project branch.
BRANCH_NAMES = ("branch", "_branch", "project_branch", "_project_branch", "PROJECT_BRANCH")


def task_commands(module: ModuleModel, *names: str) -> Iterator[Command]:
    for command in module.commands:
        if command.name in names:
            yield command


def option_constant(module: ModuleModel, option: Option) -> Any:
    """The constant an option's value always has, or UNKNOWN."""
    if option.inline_value is not None:
        text = option.inline_value
        if HOLE not in text:
            return text
        if text == HOLE and option.flag.expr is not None:
            return module.values.const(option.flag.expr)
        return UNKNOWN
    token = option.value
    if token is None:
        return UNKNOWN
    if token.known:
        return token.text
    if token.text == HOLE and token.expr is not None:
        return module.values.const(token.expr)
    return UNKNOWN


def _as_count(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class HardcodedRetryCount(Rule):
    """``--retry-count`` is given a constant instead of the scheduler's attempt counter.

    The ``step`` command runs one attempt; retrying is the scheduler's job, and Metaflow learns
    which attempt it is running only from ``--retry-count``. A constant (``0``, ``"0"``,
    ``str(0)``, a parameter default no caller overrides) makes every retry attempt 0 again:
    ``current.retry_count`` never moves, each attempt overwrites attempt 0's data, and
    ``@catch`` never fires when ``--max-user-code-retries`` is passed.
    """

    code = "MFK101"
    name = "hardcoded-retry-count"
    summary = "--retry-count is a constant instead of the scheduler's attempt counter"
    capability = Cap.RETRY
    triggers = (b"--retry-count",)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Pass the enclosing function's attempt counter as --retry-count",
        "retry_count:ThreadAttemptCounter",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            option = command.option("--retry-count")
            if option is None:
                continue
            count = _as_count(option_constant(module, option))
            if count is None:
                continue
            max_retries = command.option("--max-user-code-retries")
            if max_retries is not None and _as_count(option_constant(module, max_retries)) == 0:
                continue  # no retries configured for this step: attempt 0 is right
            where = option.value or option.flag
            yield Finding(
                where.span,
                f"--retry-count is always {count}: pass the scheduler's 0-based attempt counter "
                "so @retry and @catch see each retry",
                self._fix_data(module, where),
            )

    @staticmethod
    def _fix_data(module: ModuleModel, token: Token) -> Optional[dict]:
        """Offer a fix only when the value is a literal and an attempt counter is in scope."""
        if token.container is not None:
            if not _is_count_literal(token.expr):
                return None
        elif not (isinstance(token.node, ast.JoinedStr) and token.known):
            return None  # only an f-string can take the counter in place of the literal
        function = module.enclosing_function(token.node)
        if function is None:
            return None
        bindings = module.values.bindings(function)
        attempt = next((n for n in ATTEMPT_NAMES if n in bindings), None)
        if attempt is None or module.values.value_in(function, attempt) is not UNKNOWN:
            return None
        return {"attempt": attempt}


def _is_count_literal(node: Optional[ast.AST]) -> bool:
    if isinstance(node, ast.Constant):
        return _as_count(node.value) is not None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return len(node.args) == 1 and _is_count_literal(node.args[0])
    return False


class TagBeforeSubcommand(Rule):
    """``--tag`` is placed before the ``step``/``init``/``run`` subcommand.

    ``--tag`` is an option of the subcommand, not of the flow's top-level command group, so
    click rejects it there: ``Error: no such option: --tag`` (exit code 2), before any user
    code runs.
    """

    code = "MFK103"
    name = "tag-before-subcommand"
    summary = "--tag placed before the subcommand, where Metaflow does not accept it"
    triggers = (b"--tag",)
    fix = FixSpec(
        Applicability.SAFE,
        "Move --tag and its value after the subcommand",
        "tag_position:MoveTagAfterSubcommand",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in module.commands:
            for option in command.options:
                if option.name != "--tag" or not option.top_level:
                    continue
                yield Finding(
                    option.flag.span,
                    f"--tag must come after the {command.name!r} subcommand: Metaflow rejects "
                    "it as a top-level option (no such option: --tag)",
                    _move_fix_data(module, command, option),
                )


def _move_fix_data(module: ModuleModel, command: Command, option: Option) -> Optional[dict]:
    """Where to move the pair: both words and the insertion point must be list elements
    (list commands) or sit in one string literal with known positions (string commands)."""
    after = command.subcommand
    if command.name in ("step",) and command.sub_index + 1 < len(command.tokens):
        after = command.tokens[command.sub_index + 1]
    pair = [option.flag] + ([option.value] if option.value is not None else [])
    if command.kind == "list":
        if any(t.container is None or t.conditional for t in (*pair, after)):
            return None
        return {
            "kind": "list",
            "pair": [_element_ref(module, t) for t in pair],
            "after": _element_ref(module, after),
        }
    template = command.template
    if template is None or template.offsets is None or option.inline_value is not None:
        return None
    return {
        "kind": "string",
        "string": module.position(template.node),
        "pair": [_span_tuple(t) for t in pair],
        "after": _span_tuple(after),
    }


def _element_ref(module: ModuleModel, token: Token) -> dict:
    return {"list": module.position(token.container), "index": token.index}


def _span_tuple(token: Token) -> tuple[int, int, int, int]:
    s = token.span
    return (s.start.row, s.start.column, s.end.row, s.end.column)


class MissingBranch(Rule):
    """A ``step`` or ``init`` command is built without ``--branch`` although a branch is known.

    ``@project`` takes the branch from the top-level ``--branch`` option of every process.
    A step started without it runs on the default ``user.<name>`` branch: ``current.branch_name``
    and the ``project_branch:`` tag are wrong, and an ``init`` without it registers the whole run
    under ``user.<name>``, so branch-filtered lookups miss it.
    """

    code = "MFK102"
    name = "missing-branch"
    summary = "step/init command built without --branch while a @project branch is available"
    capability = Cap.PROJECT_BRANCH
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.UNSAFE,
        "Insert --branch before the subcommand, only when a branch is set",
        "branch:InsertBranch",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        commands = list(task_commands(module, "step", "init"))
        known = _branch_values(module, commands)
        via_env: Optional[bool] = None
        for command in commands:
            if command.has_option("--branch") or command.has_option("--production"):
                continue
            if not command.top_level_complete:
                continue  # unseen words before the subcommand may carry --branch
            branch = _branch_in_scope(module, command, known)
            if branch is None:
                continue
            if via_env is None:
                via_env = _sets_branch_env(module)
            if via_env:
                return  # the branch travels through the environment (click's envvar)
            yield Finding(
                command.subcommand.span,
                f"{command.name!r} command without --branch although the branch is available "
                f"as {branch!r}: @project runs it on the user.<name> branch instead",
                _branch_fix_data(module, command, branch),
            )


BRANCH_ENV_VARS = ("METAFLOW_FLOW_BRANCH", "METAFLOW_BRANCH")


def _sets_branch_env(module: ModuleModel) -> bool:
    """The code (not a comment) names click's environment variable for --branch."""
    for node in module.nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(v in node.value for v in BRANCH_ENV_VARS):
                return True
        elif isinstance(node, ast.keyword) and node.arg in BRANCH_ENV_VARS:
            return True
    return False


def _branch_values(module: ModuleModel, commands: list[Command]) -> list[ast.expr]:
    """Expressions other commands of this module already pass as --branch."""
    out = []
    for command in commands:
        option = command.option("--branch")
        if option is not None and option.value is not None and option.value.expr is not None:
            out.append(option.value.expr)
    return out


def _branch_in_scope(module: ModuleModel, command: Command, known: list[ast.expr]) -> Optional[str]:
    function = command.function
    local = module.values.bindings(function) if function is not None else {}
    for expr in known:
        if isinstance(expr, ast.Name) and (expr.id in local or _is_global(module, expr)):
            return expr.id
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "self"
            and "self" in local
        ):
            return f"self.{expr.attr}"
    for name in BRANCH_NAMES:
        if name in local:
            return name
    if "self" in local:
        for name in BRANCH_NAMES:
            if name in module.self_assignments:
                return f"self.{name}"
    return None


def _is_global(module: ModuleModel, name: ast.Name) -> bool:
    """The name is a module global where it is used (bound at module level, or free in its
    function, as in generated code whose globals are defined in another template)."""
    scope, _ = module.values.lookup(name.id, name)
    return scope is None or scope is module.tree


def _branch_fix_data(module: ModuleModel, command: Command, branch: str) -> Optional[dict]:
    sub = command.subcommand
    if command.kind != "list" or sub.container is None:
        return None
    return {"list": module.position(sub.container), "index": sub.index, "branch": branch}


# -- what MFK104-MFK113 share: is the whole command visible? -----------------------------------

# Metaflow's own builders of command lines: an option they emit (--environment, --input-paths,
# the @project --branch, ...) is present although no literal in the module shows it.
METAFLOW_BUILDERS = frozenset(
    {"CLIArgs", "runtime_step_cli", "get_top_level_options", "dict_to_cli_options"}
)
_PROGRAM_WORD = re.compile(r"(?:^|/)(?:python[\d.]*|pypy3?)(?:\.exe)?$|\.py$")
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_INTERPRETER_FLAGS = re.compile(r"-[uBOEsIS]+")  # ``python -u flow.py ...``
_REDIRECTION = re.compile(r"\d*(?:>>?|<)&?")
_DYNAMIC_ENV_NAME = re.compile(r"METAFLOW_(?:%s|\{[^}]*\})?")
# A word filled in later: a template field left in a string (``{top_args}``, ``%(x)s``) or a
# shell expansion (``$EXTRA``, ``${ARGS}``).
_FIELD = re.compile(r"\{[^{}]*\}|%\(\w+\)[sdr]|%[sdr]|\$")
_FIELD_NAME = re.compile(r"^[\"']?(?:\$\{?|\{|%\()|(?:\}|\)[sdr])[\"']?$|[\"']")
# Names of variables that hold a file, a path or the interpreter: words that are no option.
_NOT_OPTION_NAMES = ("file", "path", "script", "python", "executable", "exe", "interpreter", "flow")
# Calls that read or run an argv list without adding to it.
_CONSUMERS = frozenset(
    {
        "run",
        "Popen",
        "call",
        "check_call",
        "check_output",
        "execv",
        "execvp",
        "execvpe",
        "join",
        "list",
        "tuple",
        "len",
        "print",
        "repr",
        "str",
        "dumps",
        "quote",
        "debug",
        "info",
        "warning",
        "error",
        "exception",
        "echo",
        "format",
        "CalledProcessError",
        "append",
        "extend",
        "insert",
        "put",
        "TimeoutExpired",
    }
)


def _option_env_vars(subcommand: Optional[str], *options: str) -> tuple[str, ...]:
    """click's environment variables for options (from the contract snapshot)."""
    table = contract.TOP_LEVEL if subcommand is None else contract.SUBCOMMAND_OPTIONS[subcommand]
    return tuple(table[o].envvar for o in options if o in table and table[o].envvar)


def _names_env_var(module: ModuleModel, names: tuple[str, ...]) -> bool:
    """The code (a string or a keyword argument, not a comment) names one of ``names``, or
    builds ``METAFLOW_<anything>`` names at run time: the option may travel in the
    environment, where click reads it."""
    cache = module.__dict__.setdefault("_env_vars_named", {})
    if names not in cache:
        cache[names] = any(_node_names_env_var(node, names) for node in module.nodes)
        project = getattr(module, "project", None)
        if not cache[names] and project is not None:
            # Another module of the extension may set it for the steps (project mode).
            cache[names] = any(project.any_file_contains(n.encode()) for n in names)
    return cache[names]


def _node_names_env_var(node: ast.AST, names: tuple[str, ...]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(n in node.value for n in names) or bool(_DYNAMIC_ENV_NAME.fullmatch(node.value))
    return isinstance(node, ast.keyword) and node.arg in names


def _value_ids(command: Command) -> set[int]:
    return {id(v) for o in command.options for v in o.values}


def _is_invocation(command: Command) -> bool:
    """Every word has a role (program, flow file, option, option value, step name). Help text
    and messages that merely mention a command have stray words; a string with nothing
    computed in it (no field, no ``$``) is an example, not a command the extension runs."""
    values = _value_ids(command)
    tokens = command.tokens
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        position = i - 1
        if (
            position == command.sub_index
            or tok.spread
            or tok.is_option()
            or id(tok) in values
            or HOLE in tok.text
            or _FIELD.match(tok.text)
            or (command.name == "step" and position == command.sub_index + 1)
        ):
            continue
        text = tok.text
        if position < command.sub_index and (
            _PROGRAM_WORD.search(text)
            or "/" in text
            or text.startswith("$")
            or _ENV_ASSIGNMENT.match(text)
            or text in ("env", "exec")
            or _INTERPRETER_FLAGS.fullmatch(text)
        ):
            continue
        if command.kind == "string" and _REDIRECTION.match(text):
            if _REDIRECTION.fullmatch(text):
                i += 1  # the redirection's target is the next word
            continue
        return False
    if command.kind == "string":
        return any(
            t.text is not None and any(c in t.text for c in (HOLE, "$", "{", "%")) for t in tokens
        )
    return True


def _unknown_word(text: str) -> bool:
    return text.startswith(HOLE) or bool(_FIELD.match(text))


def _may_be_options(tok: Token) -> bool:
    """An option whose name is computed (``"--%s" % key``) could be any option."""
    return tok.is_option() and HOLE in (tok.option_name or "")


def _top_level_visible(module: ModuleModel, command: Command) -> bool:
    """No word before the subcommand can hide an option: no spread, no computed option
    name, no unknown word after the program and the flow file."""
    if not command.top_level_complete:
        return False
    values = _value_ids(command)
    for tok in command.top_level:
        if _may_be_options(tok):
            return False
        if tok.is_option() or id(tok) in values or not _unknown_word(tok.text):
            continue
        if HOLE in tok.text:
            if not _names_no_option(module, tok.expr):
                return False
        elif not _names_file(_FIELD_NAME.sub("", tok.text)):
            return False  # ``{top_args}``, ``$EXTRA``: could hold any option
    return True


def _names_no_option(module: ModuleModel, expr: Optional[ast.expr]) -> bool:
    if expr is None:
        return False
    value = module.values.const(expr)
    if isinstance(value, str):
        return not value.startswith("-")
    if isinstance(expr, ast.Call) and expr.args:
        return _names_no_option(module, expr.args[0])
    return _names_file(dotted_name(expr) or "")


def _names_file(name: str) -> bool:
    """A variable name for the interpreter, a file or a path (``sys.executable``,
    ``self.flow_file``, ``{python}``), i.e. a word that is no option."""
    last = name.rsplit(".", 1)[-1].lower()
    return bool(last) and any(part in last for part in _NOT_OPTION_NAMES)


def _arguments_visible(command: Command) -> bool:
    """No word after the subcommand can hide an option."""
    values = _value_ids(command)
    for position, tok in enumerate(command.arguments):
        if tok.spread or _may_be_options(tok):
            return False
        if command.name == "step" and position == 0:
            continue  # the step name
        if tok.is_option() or id(tok) in values:
            continue
        if _unknown_word(tok.text):
            return False
    return True


def _is_fragment(module: ModuleModel, command: Command) -> bool:
    """Only part of a command: the subcommand part built on its own (code-fragment lists such
    as ``['"step"', repr(name), ...]`` whose remaining words are added where they are
    pasted), or a list that another command of the module carries on from (a longer list
    holds it, or a caller extends a helper's result)."""
    first = command.tokens[0]
    if command.sub_index == 1 and first.spread and first.node is command.subcommand.node:
        return True
    return any(
        other is not command
        and other.subcommand.node is command.subcommand.node
        and len(other.tokens) > len(command.tokens)
        and _is_invocation(other)  # not ``["conda", "run", ...] + cmd``
        for other in module.commands
    )


def _list_name(module: ModuleModel, command: Command) -> Optional[str]:
    if command.kind != "list":
        return None
    parent = module.parent(command.anchor)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
    elif isinstance(parent, ast.AnnAssign):
        target = parent.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def _escapes(module: ModuleModel, command: Command) -> bool:
    """The list variable is handed to code that may add words the model cannot see:
    ``add_inputs(cmd, p)``, ``cmd = with_env(cmd)``, ``cmd[2:2] = extra``."""
    name = _list_name(module, command)
    if name is None:
        return False
    for node in _scope_walk(command.function or module.tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and _is_name(node.value, name)
        ):
            return True
        if not isinstance(node, ast.Call):
            continue
        passed = [*node.args, *(k.value for k in node.keywords)]
        if not any(_is_name(a.value if isinstance(a, ast.Starred) else a, name) for a in passed):
            continue
        if _assigns(module.parent(node), name) or not _only_reads(module, node, name):
            return True
    return False


def _only_reads(module: ModuleModel, call: ast.Call, name: str) -> bool:
    """The call runs, prints or joins the list (a well-known consumer, or a function of this
    module that never changes the parameter it receives the list in)."""
    called = call_name(call)
    if called in _CONSUMERS:
        if called != "join" or not isinstance(call.func, ast.Attribute):
            return True
        separator = module.values.const(call.func.value)
        return isinstance(separator, str) and "," not in separator  # ", ".join: code pieces
    defs = module.functions.get(called or "", [])
    if len(defs) != 1 or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    function = defs[0]
    params = [*getattr(function.args, "posonlyargs", []), *function.args.args]
    if params and params[0].arg in ("self", "cls") and isinstance(call.func, ast.Attribute):
        params = params[1:]
    received = [p.arg for p, a in zip(params, call.args) if _is_name(a, name)]
    received += [k.arg for k in call.keywords if k.arg and _is_name(k.value, name)]
    return bool(received) and not any(_mutates(function, p) for p in received)


def _mutates(function: ast.AST, name: str) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.AugAssign) and _is_name(node.target, name):
            return True
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and _is_name(node.value, name)
        ):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _is_name(node.func.value, name)
            and node.func.attr in ("append", "extend", "insert", "__iadd__")
        ):
            return True
    return False


def _scope_walk(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (nested ones included), or of the module's own statements."""
    if not isinstance(scope, ast.Module):
        yield from ast.walk(scope)
        return
    todo = list(scope.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _assigns(statement: Optional[ast.AST], name: str) -> bool:
    return isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in statement.targets
    )


def _uses_metaflow_builders(module: ModuleModel, command: Command) -> bool:
    """The function building the command also calls Metaflow's own builders."""
    scope = command.function or module.tree
    cache = module.__dict__.setdefault("_uses_builders", {})
    if scope not in cache:
        cache[scope] = any(
            (isinstance(n, ast.Name) and n.id in METAFLOW_BUILDERS)
            or (isinstance(n, ast.Attribute) and n.attr in METAFLOW_BUILDERS)
            for n in ast.walk(scope)
        )
    return cache[scope]


def _whole_command(module: ModuleModel, command: Command) -> bool:
    """A real Metaflow invocation that no other code completes."""
    return (
        _is_invocation(command)
        and _is_metaflow(module, command)
        and not _is_fragment(module, command)
        and not _escapes(module, command)
    )


# Options only Metaflow's flow command line has: one of them marks a command as Metaflow's.
_METAFLOW_ONLY_OPTIONS = frozenset(
    {
        "--no-pylint",
        "--datastore",
        "--datastore-root",
        "--environment",
        "--event-logger",
        "--monitor",
        "--package-suffixes",
        "--input-paths",
        "--input-paths-filename",
        "--retry-count",
        "--max-user-code-retries",
        "--split-index",
        "--ubf-context",
        "--clone-run-id",
        "--clone-only",
    }
)
_KNOWN_OPTIONS = frozenset(
    contract.TOP_LEVEL_OPTIONS
    | {name for table in contract.SUBCOMMAND_OPTIONS.values() for name in table}
)


def _is_metaflow(module: ModuleModel, command: Command) -> bool:
    """The command is Metaflow's, not another tool's ``init --run-id``/``step --run-id``: no
    top-level option Metaflow does not know, and a Metaflow-only option on it, or a module that
    mentions Metaflow or builds other commands with such options."""
    if any(
        o.top_level and o.name not in _KNOWN_OPTIONS and HOLE not in o.name for o in command.options
    ):
        return False
    if any(o.name in _METAFLOW_ONLY_OPTIONS for o in command.options):
        return True
    cache = module.__dict__
    if "_mentions_metaflow" not in cache:
        cache["_mentions_metaflow"] = "metaflow" in module.source.text.lower() or any(
            o.name in _METAFLOW_ONLY_OPTIONS for c in module.commands for o in c.options
        )
    return cache["_mentions_metaflow"]


# -- MFK104 --------------------------------------------------------------------------------


INPUT_PATHS_OPTIONS = ("--input-paths", "--input-paths-filename")
INPUT_PATHS_ENV_VARS = _option_env_vars("step", *INPUT_PATHS_OPTIONS)


class MissingInputPaths(Rule):
    """A ``step`` command is built without ``--input-paths`` (or ``--input-paths-filename``).

    Every task, ``start`` included, learns where its inputs are only from this option
    (``<run>/_parameters/<task>`` for ``start``, the parent tasks' pathspecs otherwise).
    Without it Metaflow crashes inside the task with ``UnboundLocalError: cannot access local
    variable 'inputs'``.
    """

    code = "MFK104"
    name = "missing-input-paths"
    summary = "step command built without --input-paths"
    capability = Cap.LINEAR_DAG
    triggers = COMMAND_TRIGGERS

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            if any(command.has_option(o) for o in (*INPUT_PATHS_OPTIONS, "--clone-only")):
                continue
            if not _arguments_visible(command) or not _whole_command(module, command):
                continue
            if _uses_metaflow_builders(module, command):
                continue
            if _names_env_var(module, INPUT_PATHS_ENV_VARS):
                return
            yield Finding(
                command.subcommand.span,
                "'step' command without --input-paths: the task cannot find its inputs and "
                "fails (UnboundLocalError: ... 'inputs'); pass <run>/_parameters/<task> for "
                "start and the parent tasks' pathspecs for the other steps",
            )


# -- MFK105 --------------------------------------------------------------------------------

# Names under which builders keep the index of a foreach child.
SPLIT_NAMES = (
    "split_index",
    "_split_index",
    "split_idx",
    "foreach_index",
    "foreach_idx",
    "foreach_split_index",
)
SPLIT_INDEX_ENV_VARS = _option_env_vars("step", "--split-index")


class MissingSplitIndex(Rule):
    """A ``step`` command for a foreach child is built without ``--split-index``.

    The builder has the child's index (a ``split_index`` parameter, loop variable or local)
    but never passes it. Metaflow needs it to pick the child's item (``self.input``,
    ``self.index``) and refuses to run without it: ``Step body follows a split step but no
    split_index is specified.``
    """

    code = "MFK105"
    name = "missing-split-index"
    summary = "step command of a foreach child built without --split-index"
    capability = Cap.FOREACH
    triggers = COMMAND_TRIGGERS

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step"):
            if command.has_option("--split-index"):
                continue
            if not _arguments_visible(command) or not _whole_command(module, command):
                continue
            if _uses_metaflow_builders(module, command):
                continue
            index = _split_index_in_scope(module, command)
            if index is None:
                continue
            if _names_env_var(module, SPLIT_INDEX_ENV_VARS):
                return
            yield Finding(
                command.subcommand.span,
                f"'step' command without --split-index although the builder has {index!r}: a "
                "foreach child then fails ('... follows a split step but no split_index is "
                f"specified'); pass --split-index {index}",
            )


def _split_index_in_scope(module: ModuleModel, command: Command) -> Optional[str]:
    """A split index the builder has and does nothing with that could reach the command: a
    name (or ``x.split_index``) whose every use only feeds other words (``f"t-{split_index}"``)
    or is inside the command itself. None when another command of the same builder passes
    --split-index (this one is then the non-foreach case)."""
    scope = command.function or module.tree
    if any(
        other.function is command.function and other.has_option("--split-index")
        for other in module.commands
    ):
        return None
    roots = {id(r): r for r in (command.anchor, *(t.container or t.node for t in command.tokens))}
    inside = {id(n) for root in roots.values() for n in ast.walk(root)}
    bindings = module.values.bindings(scope)
    reads: dict[str, list[ast.AST]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id in SPLIT_NAMES and node.id in bindings:
            if isinstance(node.ctx, ast.Load):
                reads.setdefault(node.id, []).append(node)
            else:
                reads.setdefault(node.id, [])
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in SPLIT_NAMES
            and isinstance(node.ctx, ast.Load)
            and dotted_name(node) is not None
        ):
            reads.setdefault(dotted_name(node), []).append(node)
    for name in bindings:
        if name in SPLIT_NAMES:
            reads.setdefault(name, [])
    for name, uses in reads.items():
        if "." not in name and module.values.value_in(scope, name) is not UNKNOWN:
            continue  # always the same constant (None when no caller passes one)
        if "." in name and not uses:
            continue
        if all(id(u) in inside or _only_feeds_words(module, u) for u in uses):
            return name
    return None


_FEEDS_WORDS = (ast.FormattedValue, ast.JoinedStr, ast.BinOp, ast.Tuple, ast.UnaryOp, ast.keyword)


def _only_feeds_words(module: ModuleModel, node: ast.AST) -> bool:
    """The use computes a string or number that is assigned to a plain name (a task id, a
    log line); it cannot add an option to a command."""
    for anc in module.ancestors(node):
        if isinstance(anc, ast.stmt):
            targets = anc.targets if isinstance(anc, ast.Assign) else [getattr(anc, "target", None)]
            return isinstance(anc, (ast.Assign, ast.AnnAssign)) and all(
                isinstance(t, ast.Name) for t in targets
            )
        if isinstance(anc, _FEEDS_WORDS):
            continue
        if isinstance(anc, ast.Call) and (
            call_name(anc) in ("str", "int", "repr", "format")
            and (isinstance(anc.func, ast.Name) or call_name(anc) == "format")
        ):
            continue
        return False
    return False


# -- MFK106 --------------------------------------------------------------------------------

INIT_TASK_ID_ENV_VARS = _option_env_vars("init", "--task-id")
_PARAMETERS_TASK = re.compile(r"_parameters/([A-Za-z0-9][A-Za-z0-9_.-]*)")


class InitWithoutTaskId(Rule):
    """An ``init`` command is built without ``--task-id``.

    ``init`` creates the run's ``_parameters`` task, and click requires both ``--run-id`` and
    ``--task-id``: without the task id it stops before doing anything,
    ``Error: Missing option '--task-id'.`` (exit code 2), and every step after it fails.
    """

    code = "MFK106"
    name = "init-without-task-id"
    summary = "init command built without --task-id"
    capability = Cap.LINEAR_DAG
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.SAFE,
        "Add --task-id for the _parameters task right after init's --run-id",
        "init_without_task_id:AddInitTaskId",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "init"):
            if command.has_option("--task-id"):
                continue
            if not _arguments_visible(command) or not _whole_command(module, command):
                continue
            if _names_env_var(module, INIT_TASK_ID_ENV_VARS):
                return
            task_id = _parameters_task_id(module)
            yield Finding(
                command.subcommand.span,
                "'init' command without --task-id: Metaflow stops with \"Missing option "
                f"'--task-id'\"; pass the _parameters task id (--task-id {task_id}) the "
                "steps' --input-paths point at",
                _task_id_fix_data(module, command, task_id),
            )


def _parameters_task_id(module: ModuleModel) -> str:
    """The _parameters task id the module's input paths already use (``<run>/_parameters/X``)
    when they all agree on one literal, else "1"."""
    found = set()
    for node in module.nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_PARAMETERS_TASK.findall(node.value))
    return found.pop() if len(found) == 1 else "1"


def _task_id_fix_data(module: ModuleModel, command: Command, task_id: str) -> Optional[dict]:
    """Two list elements after the ``--run-id`` pair (or after "init") in the list literal
    holding the subcommand; in a string, the text right after the "init" word."""
    sub = command.subcommand
    if command.kind == "list":
        if sub.container is None:
            return None
        index = sub.index + 1
        run_id = command.option("--run-id")
        if (
            run_id is not None
            and run_id.value is not None
            and not run_id.top_level
            and run_id.flag.container is sub.container
            and run_id.value.container is sub.container
            and run_id.value.index == run_id.flag.index + 1
        ):
            index = run_id.value.index + 1
        quote = "'" if module.source.text[module.source.offset(sub.span.start)] == "'" else '"'
        return {
            "kind": "list",
            "list": module.position(sub.container),
            "index": index,
            "elements": f"{quote}--task-id{quote}, {quote}{task_id}{quote}",
        }
    template = command.template
    if template is None or template.offsets is None or sub.text != "init":
        return None
    end = sub.span.end
    return {
        "kind": "string",
        "string": module.position(template.node),
        "at": (end.row, end.column - 1),
        "text": f" --task-id {task_id}",
    }


# -- MFK108 --------------------------------------------------------------------------------

# click's variable for --environment, and the configuration value that is its default.
ENVIRONMENT_ENV_VARS = (
    *_option_env_vars(None, "--environment"),
    "METAFLOW_DEFAULT_ENVIRONMENT",
)
# Names under which extensions keep the environment type ("conda", "pypi", "local").
ENVIRONMENT_TYPE_NAMES = (
    "environment_type",
    "_environment_type",
    "env_type",
    "ENVIRONMENT_TYPE",
    "ENVIRONMENT",
    "environment",
)
# Names under which they keep Metaflow's environment object (its type is ``.TYPE``).
ENVIRONMENT_OBJECT_NAMES = ("environment", "_environment", "flow_environment")


class MissingEnvironment(Rule):
    """A ``step`` command is built without the top-level ``--environment`` option.

    The step then runs with the default environment ``local``. A flow with ``@conda`` or
    ``@pypi`` needs the environment it was deployed with: Metaflow refuses the step with
    ``Incompatible environment: @pypi decorator requires --environment=conda or
    --environment=pypi or --environment=fast-bakery``.
    """

    code = "MFK108"
    name = "missing-environment"
    summary = "step command built without --environment (breaks @conda/@pypi)"
    capability = Cap.CONDA
    triggers = COMMAND_TRIGGERS
    fix = FixSpec(
        Applicability.UNSAFE,
        "Insert --environment before the subcommand, with the environment value in scope",
        "missing_environment:InsertEnvironment",
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        commands = list(task_commands(module, "step", "init"))
        known = [e for e in (_environment_value(c) for c in commands) if e is not None]
        for command in commands:
            if command.name != "step" or command.has_option("--environment"):
                continue
            if not _top_level_visible(module, command) or not _whole_command(module, command):
                continue
            if _uses_metaflow_builders(module, command):
                continue
            if _names_env_var(module, ENVIRONMENT_ENV_VARS):
                return
            value = _environment_in_scope(module, command, known)
            hint = f" ({value[0]} is at hand)" if value is not None else ""
            yield Finding(
                command.subcommand.span,
                "'step' command without --environment: the task runs in the local environment "
                "and @conda/@pypi steps fail ('Incompatible environment'); pass the deployed "
                f"environment type before the subcommand{hint}",
                _environment_fix_data(module, command, value),
            )


def _environment_value(command: Command) -> Optional[ast.expr]:
    """The expression another command passes as --environment (``--environment X`` or
    ``f"--environment={X}"``)."""
    option = command.option("--environment")
    if option is None or not option.top_level:
        return None
    if option.value is not None:
        return option.value.expr
    flag = option.flag.node
    if option.inline_value == HOLE and isinstance(flag, ast.JoinedStr):
        fields = [v for v in flag.values if isinstance(v, ast.FormattedValue)]
        if len(fields) == 1 and fields[0].format_spec is None and fields[0].conversion == -1:
            return fields[0].value
    return None


def _environment_in_scope(
    module: ModuleModel, command: Command, known: list[ast.expr]
) -> Optional[tuple[str, bool]]:
    """Source text of an environment type value visible where the command is built, and
    whether it needs a guard (a name may be None; ``X.TYPE`` and literals cannot)."""
    function = command.function
    local = module.values.bindings(function) if function is not None else {}
    for expr in known:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return repr(expr.value), False
        if isinstance(expr, ast.Name) and (expr.id in local or _is_global(module, expr)):
            return expr.id, True
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id == "self" and "self" in local:
            text = ast.unparse(expr)
            return text, not text.endswith(".TYPE")
    for name in ENVIRONMENT_TYPE_NAMES:
        if name in local or (name.isupper() and name in module.values.bindings(module.tree)):
            if name in ENVIRONMENT_OBJECT_NAMES and _reads_type_of(module, name):
                return f"{name}.TYPE", False
            return name, True
    if "self" in local:
        for name in ENVIRONMENT_OBJECT_NAMES:
            if name in module.self_assignments and _reads_type_of(module, f"self.{name}"):
                return f"self.{name}.TYPE", False
        for name in ("environment_type", "_environment_type", "env_type"):
            if name in module.self_assignments:
                return f"self.{name}", True
    return None


def _reads_type_of(module: ModuleModel, owner: str) -> bool:
    """The module reads ``<owner>.TYPE`` somewhere: ``owner`` is an environment object."""
    return any(
        isinstance(n, ast.Attribute) and n.attr == "TYPE" and dotted_name(n.value) == owner
        for n in module.nodes
    )


def _environment_fix_data(
    module: ModuleModel, command: Command, value: Optional[tuple[str, bool]]
) -> Optional[dict]:
    sub = command.subcommand
    if value is None or command.kind != "list" or sub.container is None:
        return None
    text, guarded = value
    if guarded:
        elements = f'*(["--environment", {text}] if {text} else [])'
    else:
        elements = f'"--environment", {text}'
    return {"list": module.position(sub.container), "index": sub.index, "elements": elements}


# -- MFK113 --------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(r"\s*[-+]?\d+\s*|\$\(\([^()]*\)\)")
_INTEGER_SPEC = re.compile(r"0?\d*d")
# Calls that always return an int.
_INT_CALLS = frozenset(
    {
        "int",
        "len",
        "round",
        "floor",
        "ceil",
        "time_ns",
        "monotonic_ns",
        "perf_counter_ns",
        "getpid",
        "randint",
        "randrange",
        "getrandbits",
    }
)
_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)
_MAX_ID_DEPTH = 8


class IntegerIdsLocalMetadata(Rule):
    """Run or task ids that the extension mints as plain integers.

    The local metadata provider mints integer ids itself, so its ``register_run_id`` and
    ``register_task_id`` skip any id that parses as an integer, assuming it is already
    registered. Runs and tasks started with such ids write their data but are never
    registered: the Client cannot see them (``MetaflowNotFound: Run('Flow/1234') does not
    exist``, or a run without its steps). Argo mints ``argo-<name>`` run ids and ``t-<hex>``
    task ids for this reason.
    """

    code = "MFK113"
    name = "integer-ids-local-metadata"
    summary = "run or task id minted as a plain integer (invisible with local metadata)"
    capability = Cap.LINEAR_DAG
    triggers = (b"--run-id", b"--task-id")

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        for command in task_commands(module, "step", "init"):
            if command.kind == "string" and not _is_invocation(command):
                continue
            if not _is_metaflow(module, command):
                continue
            names = ("--run-id", "--task-id") if command.name == "step" else ("--run-id",)
            for option in command.options:
                if option.name not in names or option.top_level:
                    continue
                where = _integer_id(module, option)
                if where is None:
                    continue
                kind = "run" if option.name == "--run-id" else "task"
                origin = ""
                if where.expr is not None and module.values.parameter(where.expr) is not None:
                    origin = f" (every caller passes an integer as {where.expr.id!r})"
                yield Finding(
                    where.span,
                    f"{option.name} is a plain integer{origin}: with local metadata Metaflow never "
                    f"registers integer {kind} ids, so the Client cannot see the {kind}; mint "
                    f"ids that are not numbers (e.g. '{kind[0]}-<n>')",
                )


def _integer_id(module: ModuleModel, option: Option) -> Optional[Token]:
    """The token to report when the option's value is certainly an integer."""
    if option.inline_value is not None:
        text = option.inline_value
        if HOLE not in text:
            return option.flag if _INTEGER_TEXT.fullmatch(text) else None
        flag = option.flag
        if text == HOLE and flag.container is not None:
            element = flag.container.elts[flag.index]
            if _integer_after(module, element, option.name + "="):
                return flag
        return None
    token = option.value
    if token is None or token.spread:
        return None
    if token.known:
        return token if _INTEGER_TEXT.fullmatch(token.text) else None
    if token.text == HOLE and token.expr is not None:
        return token if _integer_string(module, token.expr, 0) else None
    return None


def _integer_after(module: ModuleModel, expr: ast.expr, prefix: str) -> bool:
    """``expr`` is ``prefix`` followed by an integer: ``f"--task-id={i}"``,
    ``"--task-id=%d" % i``, ``"--task-id={}".format(i)``."""
    if isinstance(expr, ast.JoinedStr):
        head, rest = expr.values[0], expr.values[1:]
        return (
            isinstance(head, ast.Constant)
            and head.value == prefix
            and bool(rest)
            and _integer_string(module, ast.JoinedStr(values=rest), 0)
        )
    pattern = None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        pattern = module.values.const(expr.left)
    elif isinstance(expr, ast.Call) and call_name(expr) == "format":
        pattern = module.values.const(getattr(expr.func, "value", None))
    if not (isinstance(pattern, str) and pattern.startswith(prefix)):
        return False
    return _integer_format(module, pattern[len(prefix) :], expr, 0)


def _integer_format(module: ModuleModel, pattern: str, expr: ast.expr, depth: int) -> bool:
    """``pattern % args`` or ``pattern.format(arg)`` with one field is always an integer."""
    if isinstance(expr, ast.BinOp):
        if pattern in ("%d", "%i"):
            return True
        arg = expr.right
        if isinstance(arg, ast.Tuple) and len(arg.elts) == 1:
            arg = arg.elts[0]
        return pattern == "%s" and _is_integer(module, arg, depth + 1)
    return (
        pattern == "{}"
        and isinstance(expr, ast.Call)
        and len(expr.args) == 1
        and not expr.keywords
        and _is_integer(module, expr.args[0], depth + 1)
    )


def _integer_string(module: ModuleModel, expr: ast.expr, depth: int) -> bool:
    """``expr`` is a string (or number) whose text always parses as an integer."""
    if depth > _MAX_ID_DEPTH or module.is_placeholder(expr):
        return False
    if isinstance(expr, ast.Constant):
        value = expr.value
        if isinstance(value, str):
            return bool(_INTEGER_TEXT.fullmatch(value)) and "$" not in value
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(expr, ast.JoinedStr):
        return bool(expr.values) and all(
            _formats_integer(module, part, depth)
            if isinstance(part, ast.FormattedValue)
            else isinstance(part, ast.Constant) and str(part.value).isdigit()
            for part in expr.values
        )
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in ("str", "repr")
        and len(expr.args) == 1
        and not expr.keywords
    ):
        return _is_integer(module, expr.args[0], depth + 1)
    if isinstance(expr, ast.Call) and call_name(expr) == "format":
        pattern = module.values.const(getattr(expr.func, "value", None))
        return isinstance(pattern, str) and _integer_format(module, pattern, expr, depth)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        pattern = module.values.const(expr.left)
        return isinstance(pattern, str) and _integer_format(module, pattern, expr, depth)
    if isinstance(expr, ast.Name):
        value = module.values.const(expr)  # a parameter every caller passes the same value
        if isinstance(value, str) and value:
            return bool(_INTEGER_TEXT.fullmatch(value)) and "$" not in value
        return _name_is(module, expr, depth, _integer_string)
    return _is_integer(module, expr, depth + 1)


def _formats_integer(module: ModuleModel, part: ast.FormattedValue, depth: int) -> bool:
    spec = part.format_spec
    if spec is not None:
        text = module.values.const(spec)
        if not (isinstance(text, str) and _INTEGER_SPEC.fullmatch(text)):
            return False
    return part.conversion in (-1, ord("s"), ord("r")) and _is_integer(
        module, part.value, depth + 1
    )


def _is_integer(module: ModuleModel, expr: ast.expr, depth: int) -> bool:
    """``expr`` always evaluates to an int."""
    if depth > _MAX_ID_DEPTH or module.is_placeholder(expr):
        return False
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, int) and not isinstance(expr.value, bool)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, _INT_OPS):
        return _is_integer(module, expr.left, depth + 1) and _is_integer(
            module, expr.right, depth + 1
        )
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return _is_integer(module, expr.operand, depth + 1)
    if isinstance(expr, ast.IfExp):
        return _is_integer(module, expr.body, depth + 1) and _is_integer(
            module, expr.orelse, depth + 1
        )
    if isinstance(expr, ast.Call):
        name = call_name(expr)
        if name == "round" and len(expr.args) != 1:
            return False
        if name in _INT_CALLS:
            return True
        if name == "next" and len(expr.args) == 1 and isinstance(expr.args[0], ast.Name):
            return _is_counter(module, expr.args[0])
        return False
    if isinstance(expr, ast.Attribute) and expr.attr == "int":
        return isinstance(expr.value, ast.Call) and (call_name(expr.value) or "").startswith("uuid")
    if isinstance(expr, ast.Name):
        return _name_is(module, expr, depth, _is_integer)
    return False


def _is_counter(module: ModuleModel, name: ast.Name) -> bool:
    """``name`` is an ``itertools.count()``."""
    _, bindings = module.values.lookup(name.id, name)
    return bool(bindings) and all(
        b[0] == "assign" and isinstance(b[1], ast.Call) and call_name(b[1]) == "count"
        for b in bindings
    )


def _name_is(module: ModuleModel, name: ast.Name, depth: int, test) -> bool:
    """Every binding of the name gives a value that passes ``test``: assignments, loop
    variables over ``range``/``enumerate``/``itertools.count``, ``+=`` of integers."""
    _, bindings = module.values.lookup(name.id, name)
    if not bindings:
        return False
    for binding in bindings:
        if binding[0] == "assign":
            if not test(module, binding[1], depth + 1):
                return False
        elif binding[0] == "other" and isinstance(binding[1], ast.Name):
            if not _integer_binding(module, binding[1], depth):
                return False
        else:
            return False  # a parameter, an import, ...: could be anything
    return True


def _integer_binding(module: ModuleModel, target: ast.Name, depth: int) -> bool:
    """A loop variable or augmented assignment that always holds an int."""
    parent = module.parent(target)
    if isinstance(parent, ast.AugAssign):
        return isinstance(parent.op, _INT_OPS) and _is_integer(module, parent.value, depth + 1)
    element = None
    if isinstance(parent, ast.Tuple):
        element = parent.elts.index(target)
        parent = module.parent(parent)
    if not isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
        return False
    if parent.target is not target and element is None:
        return False
    source = parent.iter
    name = call_name(source) if isinstance(source, ast.Call) else None
    if element is None:
        return name in ("range", "count")
    return name == "enumerate" and element == 0
