"""MFK112 params-not-forwarded-to-init: see docs/pitfalls/params-not-forwarded-to-init.md."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Optional, Union

from mfkit_lint.contract import cli as contract
from mfkit_lint.contract.capabilities import Cap
from mfkit_lint.engine.diagnostic import Applicability, FixSpec, Span
from mfkit_lint.engine.lazy import LazyModule
from mfkit_lint.engine.rule import Finding, Invalid, Rule, Valid
from mfkit_lint.model.commands import Command, commands_of
from mfkit_lint.model.environment import (
    EnvWrite,
    env_writes,
    forwards_init_env,
    reads_env,
)
from mfkit_lint.model.module import ModuleModel, call_name
from mfkit_lint.model.shell import split_commands
from mfkit_lint.model.templates import HOLE, is_stringish, template_of

# Fix data is built only for a reported finding: its module is imported then.
fixes = LazyModule("mfkit_lint.fixers.data")

# Names under which extensions hand trigger-time parameters on, none of which Metaflow reads.
_CARRIER = re.compile(r"(?:METAFLOW|MF)_PARAM(?:ETER)?S?(?:_[A-Za-z0-9_" + HOLE + r"]+)?")
_CARRIER_PREFIXES = ("METAFLOW_PARAM", "MF_PARAM")
INIT_ENV_PREFIX = "METAFLOW_INIT_"


def _is_carrier(name: str) -> bool:
    return bool(_CARRIER.fullmatch(name))


class ParamsNotForwardedToInit(Rule):
    """Flow parameters collected at trigger time never reach ``init``.

    ``init`` stores the run's parameters; it takes each one as ``--<name> value`` or as
    ``METAFLOW_INIT_<NAME>``. A module that puts the values in variables Metaflow never reads
    (``MF_PARAM_<P>`` shell variables, ``METAFLOW_PARAMETERS``, ``METAFLOW_PARAMETER_<P>``)
    and builds an ``init`` command without parameter options runs every triggered run with
    the defaults, silently.
    """

    code = "MFK112"
    name = "params-not-forwarded-to-init"
    summary = "trigger-time parameters kept in variables Metaflow never reads; init gets none"
    capability = Cap.RUN_PARAMS
    triggers = (b"_PARAM",)
    fix = FixSpec(
        Applicability.UNSAFE,
        "Also export each parameter as METAFLOW_INIT_<NAME>, where the ignored variable is set",
        "init_env:InsertStatement",
    )

    VALID = (
        Valid(
            """
            import os, subprocess, sys
            def run_init(flow_file, run_id, params):
                env = dict(os.environ)
                for k, v in params.items():
                    env["MF_PARAM_" + k] = v
                    env["METAFLOW_INIT_%s" % k.upper()] = str(v)
                subprocess.run([sys.executable, flow_file, "init", "--run-id", run_id,
                                "--task-id", "p"], env=env)
            """
        ),
        Valid(
            """
            import os, subprocess, sys
            def run_init(flow_file, run_id, alpha):
                env = dict(os.environ, MF_PARAMS="{}")
                subprocess.run([sys.executable, flow_file, "init", "--run-id", run_id,
                                "--task-id", "p", "--alpha", alpha], env=env)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            class Compiler:
                def _base_cmd_parts(self):
                    return ["python3", self.flow_file, "--no-pylint", "--quiet"]

                def _build_init_module(self, params):
                    param_collection = "\\n".join(
                        'MF_PARAM_%s="$%s"'
                        % (
                            pname.upper(),
                            pname,
                        )
                        for pname in params
                    )
                    init_parts = self._base_cmd_parts() + [
                        "init", "--run-id", "$RUN_ID", "--task-id", "windmill-params",
                    ]
                    for tag in self.tags:
                        init_parts += ["--tag", tag]
                    base_init_cmd = " ".join(init_parts)
                    script = '''\\
            #!/bin/bash
            set -e
            {param_collection}
            if [ -n "$ORIGIN_RUN_ID" ]; then
              {init_cmd} --clone-run-id "$ORIGIN_RUN_ID"
            else
              {init_cmd}
            fi
            '''.format(param_collection=param_collection, init_cmd=base_init_cmd)
                    return script
            """,
            line=16,
            column=13,
            fixed="""
            class Compiler:
                def _base_cmd_parts(self):
                    return ["python3", self.flow_file, "--no-pylint", "--quiet"]

                def _build_init_module(self, params):
                    param_collection = "\\n".join(
                        'MF_PARAM_%s="$%s"; [ -z "$%s" ] || export METAFLOW_INIT_%s="$%s"'
                        % (
                            pname.upper(),
                            pname, pname, pname.upper().replace("-", "_"), pname,
                        )
                        for pname in params
                    )
                    init_parts = self._base_cmd_parts() + [
                        "init", "--run-id", "$RUN_ID", "--task-id", "windmill-params",
                    ]
                    for tag in self.tags:
                        init_parts += ["--tag", tag]
                    base_init_cmd = " ".join(init_parts)
                    script = '''\\
            #!/bin/bash
            set -e
            {param_collection}
            if [ -n "$ORIGIN_RUN_ID" ]; then
              {init_cmd} --clone-run-id "$ORIGIN_RUN_ID"
            else
              {init_cmd}
            fi
            '''.format(param_collection=param_collection, init_cmd=base_init_cmd)
                    return script
            """,
        ),
        Invalid(
            """
            import json
            def script(params):
                return \"\"\"#!/bin/bash
            export MF_PARAMS='%s'
            python flow.py --quiet init --run-id "$RUN_ID" --task-id params
            \"\"\" % json.dumps(params)
            """,
            line=6,
            column=24,
        ),
        Invalid(
            """
            import json, os, subprocess, sys
            def run_init(flow_file, run_id, params):
                env = os.environ.copy()
                env["METAFLOW_PARAMS"] = json.dumps(params)
                cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
                subprocess.run(cmd, env=env, check=True)
            """,
            line=6,
            column=39,
            fixed="""
            import json, os, subprocess, sys
            def run_init(flow_file, run_id, params):
                env = os.environ.copy()
                env["METAFLOW_PARAMS"] = json.dumps(params)
                env.update(
                    {
                        "METAFLOW_INIT_" + name.upper().replace("-", "_"): (
                            value if isinstance(value, str) else json.dumps(value)
                        )
                        for name, value in params.items()
                        if value is not None
                    }
                )
                cmd = [sys.executable, flow_file, "init", "--run-id", run_id, "--task-id", "p"]
                subprocess.run(cmd, env=env, check=True)
            """,
        ),
    )

    def check(self, module: ModuleModel) -> Iterator[Finding]:
        if forwards_init_env(module):
            return  # parameters travel as METAFLOW_INIT_<NAME> somewhere in this module
        # Metaflow's own namespace in any form; the extension's own names (MF_PARAM_...) only as
        # shell variables of a script: an exported env var may be read by its entry point.
        # (Asked before the commands: without a carrier the commands do not matter.)
        carriers = [
            w
            for w in env_writes(module, _is_carrier, "_PARAM", True)
            if w.shell or w.name.startswith("METAFLOW_")
        ]
        if not carriers:
            return
        inits = [c for c in commands_of(module) if c.name == "init"]
        if not inits or reads_env(module, _CARRIER_PREFIXES):
            return
        carrier = carriers[0]
        fix = _fix(module, carriers)
        for command in inits:
            if not _gets_no_parameters(module, command):
                continue
            message = (
                f"init gets no flow parameters: they are kept in {_describe(carrier)} "
                f"({_where(module, carrier)}), which Metaflow never reads, and this init "
                f"passes no --<name> options; pass each parameter to init as --<name> value, or "
                f"export it as {INIT_ENV_PREFIX}<NAME>"
            )
            if isinstance(fix, str):
                yield Finding(command.subcommand.span, message, no_fix_reason=fix)
            else:
                yield Finding(command.subcommand.span, message, fix.to_data(), codemod=fix.CODEMOD)


def _fix(module: ModuleModel, carriers: list[EnvWrite]) -> Union[fixes.InitEnvFix, str]:
    """One place sets the ignored variables: also export them there as init reads them."""
    places = {
        (w.name, w.where if isinstance(w.where, Span) else module.span(w.where)) for w in carriers
    }
    if len(places) != 1:
        return (
            "the parameters are kept in several places; export each as "
            f"{INIT_ENV_PREFIX}<NAME> where init's environment is made"
        )
    return fixes.init_env_fix(module, carriers[0])


def _describe(write: EnvWrite) -> str:
    return write.name.replace(HOLE, "<P>")


def _where(module: ModuleModel, write: EnvWrite) -> str:
    if module.generated:
        return "in the same generated code"  # its own line numbers are not the file's
    where = write.where
    row = where.start.row if isinstance(where, Span) else module.span(where).start.row
    return f"line {row}"


def _gets_no_parameters(module: ModuleModel, command: Command) -> bool:
    """Every word after ``init`` is visible and none can be a parameter option, also where
    the command is completed later in a shell template."""
    if not _no_parameter_words([t.text for t in command.arguments]):
        return False
    name = _assigned_name(module, command)
    if name is None:
        return True  # used where it is written: nothing is added later
    if command.kind == "list" and _extended_elsewhere(module, command, name):
        return False
    return all(_no_parameter_words(w) for w in _later_words(module, command, name))


def _extended_elsewhere(module: ModuleModel, command: Command, name: str) -> bool:
    """The list is concatenated or unpacked into a longer argv (``cmd + param_args``,
    ``[*cmd, *extra]``) somewhere in its function: words may be added there."""
    scope = command.function or module.tree
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            parent = module.parent(node)
            if isinstance(parent, ast.Starred) or (
                isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add)
            ):
                return True
    return False


def _no_parameter_words(texts: list[Optional[str]]) -> bool:
    """None of the words can carry a flow parameter: no spread, no option unknown to
    Metaflow's CLI (or computed), and no computed word that is not a known option's value."""
    expect_values = 0
    for text in texts:
        if text is None:
            return False  # a spread: parameters may be in it
        if text.startswith("--"):
            option = text.split("=", 1)[0]
            if HOLE in option or not _known_option(option):
                return False
            expect_values = (
                0 if "=" in text or option in contract.FLAGS else contract.NARGS.get(option, 1)
            )
            continue
        if expect_values:
            expect_values -= 1
            continue
        if HOLE in text:
            return False
    return True


def _known_option(name: str) -> bool:
    return name in contract.TOP_LEVEL_OPTIONS or any(
        name in options for options in contract.SUBCOMMAND_OPTIONS.values()
    )


def _assigned_name(module: ModuleModel, command: Command) -> Optional[str]:
    """The variable the command (its list, or its string) is assigned to."""
    parent = module.parent(command.anchor)
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id
    return None


def _later_words(module: ModuleModel, command: Command, name: str) -> Iterator[list]:
    """Words that follow the command in the shell templates it is pasted into: the template
    holes filled with the list (or ``" ".join`` of it, also through a variable), and templates
    in which the value model pasted the command's text itself."""
    carriers = {name}
    for node in module.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and _joins(node.value, carriers):
                carriers.add(target.id)
    texts = [t.text for t in command.tokens]
    for node in module.nodes:
        if not is_stringish(node) or is_stringish(module.parent(node)):
            continue
        if isinstance(node, ast.Constant) or node is command.anchor:
            continue
        template = template_of(module, node)
        if template is None:
            continue
        for words in split_commands(template.text):
            line = [w.text for w in words]
            for position, word in enumerate(words):
                if line[position : position + len(texts)] == texts:
                    yield line[position + len(texts) :]
                if HOLE not in word.text:
                    continue
                expr = template.hole_expr(template.text.find(HOLE, word.start))
                if expr is not None and _joins(expr, carriers):
                    yield line[position + 1 :]


def _joins(node: ast.AST, names: set[str]) -> bool:
    """``name``, ``" ".join(name)`` or ``shlex.join(name)`` for one of ``names``."""
    if isinstance(node, ast.Name):
        return node.id in names
    if (
        isinstance(node, ast.Call)
        and call_name(node) == "join"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
    ):
        return node.args[0].id in names
    return False
