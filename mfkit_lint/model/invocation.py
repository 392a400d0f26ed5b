"""Whose command is it: a whole Metaflow command, a fragment, or not a command at all.

The command model (``model/commands.py``) finds every word sequence that reads like
``[python] FLOW [top-level options] step|init|run|resume ...``. Rules then need one answer to
the questions this module settles: is that sequence really an invocation of a Metaflow flow
(not prose that mentions one, not another tool's ``init --run-id``), is all of it visible
here (no fragment completed elsewhere, no list handed to code that adds words), and can an
unseen word still hide an option. Also which options the environment can carry instead
(click's ``auto_envvar_prefix``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from typing import Any, Optional

from mfkit_lint.contract import cli as contract
from mfkit_lint.model.backends import plugin_name
from mfkit_lint.model.commands import (
    Command,
    Option,
    Token,
    commands_of,
    own_commands,
    whole_fragment_lists,
)
from mfkit_lint.model.environment import sets_env_var
from mfkit_lint.model.module import ModuleModel, call_name, dotted_name, per_module
from mfkit_lint.model.templates import HOLE
from mfkit_lint.model.values import UNKNOWN, values_of

# Words that only a step or init command of a Metaflow flow holds: a file without them holds
# no such command (the rules' byte prefilter).
COMMAND_TRIGGERS = (b"--run-id", b"--task-id", b"--retry-count", b"--input-paths")
# Subcommands that take one ``--<name>`` option per flow Parameter.
PARAMETER_SUBCOMMANDS = ("init", "run")


def task_commands(module: ModuleModel, *names: str) -> Iterator[Command]:
    for command in commands_of(module):
        if command.name in names:
            yield command


def option_constant(module: ModuleModel, option: Option) -> Any:
    """The constant an option's value always has, or UNKNOWN."""
    if option.inline_value is not None:
        text = option.inline_value
        if HOLE not in text:
            return text
        if text == HOLE and option.flag.expr is not None:
            return values_of(module).const(option.flag.expr)
        return UNKNOWN
    token = option.value
    if token is None:
        return UNKNOWN
    if token.known:
        return token.text
    if token.text == HOLE and token.expr is not None:
        return values_of(module).const(token.expr)
    return UNKNOWN


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


def option_env_vars(subcommand: Optional[str], *options: str) -> tuple[str, ...]:
    """click's environment variables for options (from the contract snapshot)."""
    table = contract.TOP_LEVEL if subcommand is None else contract.SUBCOMMAND_OPTIONS[subcommand]
    return tuple(table[o].envvar for o in options if o in table and table[o].envvar)


def names_env_var(module: ModuleModel, names: tuple[str, ...]) -> bool:
    """The option may travel in the environment, where click reads it: the code (of this
    module or, in project mode, another one) sets one of its variables ``names``."""
    return sets_env_var(module, names)


def value_ids(command: Command) -> set[int]:
    return {id(v) for o in command.options for v in o.values}


def is_invocation(command: Command) -> bool:
    """Every word has a role (program, flow file, option, option value, step name). Help text
    and messages that merely mention a command have stray words; a string with nothing
    computed in it (no field, no ``$``) is an example, not a command the extension runs."""
    values = value_ids(command)
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


def top_level_visible(module: ModuleModel, command: Command) -> bool:
    """No word before the subcommand can hide an option: no spread, no computed option
    name, no unknown word after the program and the flow file."""
    if not command.top_level_complete:
        return False
    values = value_ids(command)
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
    value = values_of(module).const(expr)
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


def arguments_visible(command: Command) -> bool:
    """No word after the subcommand can hide an option."""
    values = value_ids(command)
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


def is_fragment(module: ModuleModel, command: Command) -> bool:
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
        and is_invocation(other)  # not ``["conda", "run", ...] + cmd``
        for other in commands_of(module)
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


def escapes(module: ModuleModel, command: Command) -> bool:
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
        separator = values_of(module).const(call.func.value)
        if isinstance(separator, str) and "," in separator:
            # ", ".join: code pieces, read as they are only when pasted as a whole list
            scope = module.enclosing_function(call)
            return name in whole_fragment_lists(module).get(scope, set())
        return isinstance(separator, str)
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


def uses_metaflow_builders(module: ModuleModel, command: Command) -> bool:
    """The function building the command also calls Metaflow's own builders."""
    return _calls_metaflow_builders(module, command.function or module.tree)


@per_module
def _calls_metaflow_builders(module: ModuleModel, scope: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in METAFLOW_BUILDERS)
        or (isinstance(n, ast.Attribute) and n.attr in METAFLOW_BUILDERS)
        for n in ast.walk(scope)
    )


def whole_command(module: ModuleModel, command: Command) -> bool:
    """A real invocation of Metaflow's core subcommand that no other code completes (a
    plugin's ``<name> step`` is the plugin's command, with options of its own)."""
    return (
        plugin_name(command) is None
        and is_invocation(command)
        and is_metaflow(module, command)
        and not is_fragment(module, command)
        and not escapes(module, command)
    )


# Options only Metaflow's flow command line has: one of them marks a command as Metaflow's.
METAFLOW_ONLY_OPTIONS = frozenset(
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
KNOWN_OPTIONS = frozenset(
    contract.TOP_LEVEL_OPTIONS
    | {name for table in contract.SUBCOMMAND_OPTIONS.values() for name in table}
)


def is_metaflow(module: ModuleModel, command: Command) -> bool:
    """The command is Metaflow's, not another tool's ``init --run-id``/``step --run-id``: no
    top-level option Metaflow does not know, and a Metaflow-only option on it, or a module that
    imports Metaflow or builds other commands with such options (decided from the code: the
    word "metaflow" in a comment or a message does not count)."""
    if any(
        o.top_level and o.name not in KNOWN_OPTIONS and HOLE not in o.name for o in command.options
    ):
        return False
    if any(o.name in METAFLOW_ONLY_OPTIONS for o in command.options):
        return True
    return _uses_metaflow(module)


@per_module
def _uses_metaflow(module: ModuleModel) -> bool:
    """The module imports Metaflow (or a Metaflow extension package), or builds other
    commands with Metaflow-only options."""
    for node in module.nodes_of(ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(n.split(".", 1)[0] in ("metaflow", "metaflow_extensions") for n in names):
            return True
    return any(o.name in METAFLOW_ONLY_OPTIONS for c in own_commands(module) for o in c.options)


# -- commands whose every word parses (the option rules judge only these) -----------------

_REDIRECT = re.compile(r"^[0-9]*[<>]")


def checked_commands(module: ModuleModel) -> Iterator[Command]:
    """Commands whose words parse cleanly as ``[wrapper] FLOW [options] SUB [args/options]``.

    Prose that merely mentions ``step ... --input-paths`` (an error message, help text) and
    wrapper commands the model took for top-level options (``docker run --rm ...``) leave
    words that are neither options, option values nor arguments: such a line is not judged.
    """
    for command in commands_of(module):
        if _flow_start(command) is not None:
            yield command


def flow_options(command: Command) -> list[Option]:
    """The command's options, without those of a wrapper in front of the flow file."""
    start = _flow_start(command) or 0
    wrapper = {id(t) for t in command.top_level[:start]}
    return [o for o in command.options if id(o.flag) not in wrapper]


def _flow_start(command: Command) -> Optional[int]:
    """Index of the first word after the flow file, when the command parses cleanly."""
    values = {id(v) for o in command.options for v in o.values}
    top = command.top_level
    flow_files = [i for i, t in enumerate(top) if t.known and t.text.endswith(".py")]
    if flow_files:
        start = flow_files[-1] + 1
    else:
        start = next((i for i, t in enumerate(top) if t.is_option()), len(top))
        if not any(t.spread or _runtime_word(t.text) for t in top[:start]):
            return None  # no flow file before the options
    if _stray_words(top[start:], values, 0) is None:
        return None
    allowed = len(contract.SUBCOMMAND_ARGUMENTS.get(command.name, ()))
    if _stray_words(command.arguments, values, allowed) is None:
        return None
    return start


def _stray_words(tokens: list[Token], values: set[int], allowed: int) -> Optional[int]:
    """Positional words left over (None when more than ``allowed``)."""
    count = 0
    for tok in tokens:
        if tok.spread or tok.is_option() or id(tok) in values or _runtime_word(tok.text):
            continue
        if _REDIRECT.match(tok.text):
            break  # ``> log 2>&1``: the rest is the shell's
        count += 1
        if count > allowed:
            return None
    return count


def _runtime_word(text: str) -> bool:
    """A word known only at run time: a template hole or a shell expansion (``"$@"``)."""
    return HOLE in text or "$" in text or "`" in text


def runs_task_command(
    module: ModuleModel,
    argument: ast.expr,
    subcommands: Collection[str] = ("step", "init"),
) -> bool:
    """The argv handed to a process call is a command of one of ``subcommands`` that the
    command model recognises, or comes from a builder named like a step/init builder
    (``compiler.step_command(...)``). The argv is followed through what makes its text:
    variables, list elements, joins, ``.format``/``%``/f-string pieces of a template (``["bash",
    "-c", SCRIPT.format(command=" ".join(words))]``), and a script file the same function
    writes before running it (``open(path, "w").write(SCRIPT)``, then ``["bash", path]``)."""
    inside = argv_parts(module, argument)
    if any(c.name in subcommands and id(c.anchor) in inside for c in commands_of(module)):
        return True
    return any(
        isinstance(n, ast.Call) and _names_task_builder(call_name(n) or "") for n in inside.values()
    )


_TEXT_CALLS = frozenset({"join", "format", "substitute", "safe_substitute", "quote", "str"})
_MAX_ARGV_DEPTH = 6


@per_module
def argv_parts(module: ModuleModel, argument: ast.expr) -> dict[int, ast.AST]:
    """Every expression whose text goes into ``argument`` (by id), the argument included."""
    values = values_of(module)
    found: dict[int, ast.AST] = {}
    todo: list[tuple[ast.AST, int]] = [(argument, 0)]
    while todo:
        node, depth = todo.pop()
        if id(node) in found or depth > _MAX_ARGV_DEPTH:
            continue
        found[id(node)] = node
        if isinstance(node, ast.Call) and call_name(node) not in _TEXT_CALLS:
            # Another call's output is not the words (``yaml.dump(spec)``); the call itself
            # counts, as a builder (``step_command(...)``) or a helper returning the command.
            found.update((id(n), n) for n in ast.walk(node))
            continue
        for child in _text_pieces(node):
            todo.append((child, depth + 1))
        if isinstance(node, ast.Name):
            for value in values.assigned_values(node):
                todo.append((value, depth + 1))
            for content in _written_to(module, node):
                todo.append((content, depth + 1))
    return found


def _text_pieces(node: ast.AST) -> Iterator[ast.AST]:
    """The sub-expressions whose text makes up ``node``'s."""
    if isinstance(node, ast.Starred):
        yield node.value
    elif isinstance(node, (ast.List, ast.Tuple)):
        yield from node.elts
    elif isinstance(node, ast.Dict):
        yield from node.values
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        yield node.left
        yield node.right
    elif isinstance(node, ast.JoinedStr):
        yield from (v.value for v in node.values if isinstance(v, ast.FormattedValue))
    elif isinstance(node, ast.IfExp):
        yield node.body
        yield node.orelse
    elif isinstance(node, ast.Call):  # a text-making call: join, format, quote, ...
        if isinstance(node.func, ast.Attribute):
            yield node.func.value
        yield from node.args
        yield from (k.value for k in node.keywords)


def _written_to(module: ModuleModel, path: ast.Name) -> Iterator[ast.expr]:
    """What the function using ``path`` writes into the file of that name: the
    ``write``/``write_text`` argument of ``open(path, "w")`` or ``Path(path)``."""
    scope = module.enclosing_function(path)
    if scope is None:
        return
    handles: set[str] = set()
    for node in ast.walk(scope):
        if (
            isinstance(node, ast.withitem)
            and isinstance(node.optional_vars, ast.Name)
            and _opens_for_writing(node.context_expr, path.id)
        ):
            handles.add(node.optional_vars.id)
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("write", "write_text") or len(node.args) != 1:
            continue
        target = node.func.value
        if (isinstance(target, ast.Name) and target.id in handles) or _opens_for_writing(
            target, path.id
        ):
            yield node.args[0]


def _opens_for_writing(expr: ast.AST, name: str) -> bool:
    """``open(name, "w")`` or ``Path(name)`` (whose ``write_text`` writes it)."""
    if not isinstance(expr, ast.Call) or not expr.args:
        return False
    first = expr.args[0]
    if not (isinstance(first, ast.Name) and first.id == name):
        return False
    called = call_name(expr)
    if called == "Path":
        return True
    if called != "open":
        return False
    mode = expr.args[1] if len(expr.args) > 1 else None
    mode = mode or next((k.value for k in expr.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value


# Calls that start a process and return at once (its end is awaited with wait/communicate).
_PROCESS_STARTS = frozenset(
    {"subprocess.Popen", "Popen", "asyncio.create_subprocess_exec", "create_subprocess_exec"}
)


def starts_command_process(
    module: ModuleModel, expr: ast.expr, subcommands: Collection[str] = ("step", "init")
) -> bool:
    """``expr`` starts a process on a command of one of ``subcommands`` and returns at once:
    ``subprocess.Popen(argv)`` or asyncio's ``create_subprocess_exec(*argv)`` (awaited or
    not), also when ``expr`` comes from a helper of another project module."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if not isinstance(expr, ast.Call) or not expr.args:
        return False
    if dotted_name(expr.func) not in _PROCESS_STARTS:
        return False
    owner = module if module.owns(expr) else None
    if owner is None and module.project is not None:
        owner = module.project.owner(expr)
    return owner is not None and runs_task_command(owner, expr.args[0], subcommands)


def _names_task_builder(name: str) -> bool:
    words = set(name.lower().strip("_").split("_"))
    return bool(words & {"step", "init"}) and bool(words & {"cmd", "command", "args", "argv"})
