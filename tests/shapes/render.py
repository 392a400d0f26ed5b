"""Render a seed in one spelling: the files of a small extension, and where the finding must be."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional, Union

from spelling import (
    Code,
    Env,
    Expr,
    Key,
    Lit,
    Piece,
    Placement,
    Seed,
    StringStyle,
    Word,
    _q,
    _split_top,
    bash_script,
    command_string,
    concat,
    iter_words,
    joined,
    list_literal,
    piecewise,
    py_word,
    resolve,
    uses,
    with_plugin,
)

LIST_BUILDS = ("list", "append", "extend", "iadd", "concat", "helper", "join", "shlex")
STRING_BUILDS = ("fstring", "percent", "format", "template")
BUILDS = LIST_BUILDS + STRING_BUILDS + ("bash", "join-bash")
GENERATORS = ("gen-template", "gen-emit", "gen-lines", "gen-write", "gen-fragments")
ENV_STYLES = ("item", "literal", "update", "helper")
PACKAGE = "myscheduler_ext"


@dataclass(frozen=True)
class Spelling:
    """One way of writing a seed. Its name lists what differs from the seed's own spelling."""

    build: str = "list"
    placement: str = "inline"
    conditional: bool = False
    generated: Optional[str] = None
    split: bool = False  # constants and helpers in a second module of a small package
    plugin: bool = False
    env_style: str = "item"
    override: bool = False  # the caller overrides the parameter default: correct code

    @property
    def name(self) -> str:
        parts = [self.build]
        if self.placement != "inline":
            parts.append(self.placement)
        if self.override:
            parts.append("overridden")
        if self.conditional:
            parts.append("cond")
        if self.env_style != "item":
            parts.append("env-" + self.env_style)
        if self.split:
            parts.append("split")
        if self.generated:
            parts.append(self.generated)
        if self.plugin:
            parts.append("plugin")
        return "-".join(parts)


@dataclass
class Rendered:
    files: dict[str, str]
    anchors: dict[str, list[int]]  # file -> lines where the finding may be reported


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_BUILTINS = {"sys", "self", "str", "repr", "os", "OPTIONS", "int", "len"}


def _free_names(exprs: list[str], known: set[str]) -> list[str]:
    """Names the expressions read that the builder knows (its parameters and locals)."""
    names: list[str] = []
    for expr in exprs:
        for match in _NAME.finditer(re.sub(r"'[^']*'|\"[^\"]*\"", "", expr)):
            start = match.start()
            if start and expr[start - 1] == ".":
                continue
            name = match.group()
            if name in known and name not in names:
                names.append(name)
    return names


def _exprs(words: list[Union[Lit, Expr]]) -> list[str]:
    return [w.expr for w in words if isinstance(w, Expr)]


class Renderer:
    def __init__(self, seed: Seed, spelling: Spelling) -> None:
        self.seed = seed
        self.sp = spelling
        self.placement = Placement(spelling.placement)
        pieces = seed.pieces
        if spelling.plugin:
            pieces = with_plugin(pieces)
        if spelling.conditional:
            pieces = tuple(replace(p, conditional=bool(p.guard)) for p in pieces)
        self.pieces: list[Piece] = list(pieces)
        self.words = [[resolve(w, self.placement) for w in p.words] for p in self.pieces]
        self.keys: list[Key] = [w for w in iter_words(self.pieces) if isinstance(w, Key)]
        if seed.env:
            self.keys += [e.value for e in seed.env.entries if isinstance(e.value, Key)]
        self.is_string = spelling.build in (*STRING_BUILDS, "join", "shlex", "join-bash")
        self.params = list(seed.params)
        if spelling.placement == "default":
            self.params += ["%s=%s" % (k.name, _q(k.text)) for k in self.keys]
        self.locals = {p.split("=")[0] for p in self.params}
        for line in seed.prelude:
            m = re.match(r"\s*(\w+)\s*=", line)
            if m:
                self.locals.add(m.group(1))
        self.helper_module: list[Code] = []  # helpers (the second module when split)
        self.module_consts: list[str] = []

    # -- pieces of the builder -----------------------------------------------------------

    def command(self) -> Code:
        """The statements that leave the command in ``cmd``."""
        build = self.sp.build
        if build == "list":
            return list_literal("cmd", self.words, self.pieces)
        if build in ("append", "extend", "iadd"):
            return piecewise("cmd", self.words, self.pieces, build)
        if build == "concat":
            return concat("cmd", self.words, self.pieces)
        if build == "helper":
            return self._helper()
        if build in ("join", "shlex"):
            return joined("cmd", self.words, self.pieces, build)
        if build in STRING_BUILDS:
            return command_string("cmd", self.words, self.pieces, StringStyle(build))
        if build == "bash":
            return self._bash()
        if build == "join-bash":
            code = list_literal("words", self.words, self.pieces)
            code.add('cmd = ["bash", "-c", STEP_SCRIPT.format(command=" ".join(words))]')
            self.module_consts.append(
                'STEP_SCRIPT = """#!/bin/bash\nset -euo pipefail\n{command}\n"""'
            )
            return code
        raise ValueError(build)

    def _helper(self) -> Code:
        top, sub = _split_top(self.pieces)
        top_words = self.words[: len(top)]
        sub_words = self.words[len(top) :]
        exprs = [e for ws in top_words for e in _exprs(ws)] + [
            p.guard for p in top if p.conditional
        ]
        args = _free_names(exprs, self.locals)
        helper = Code()
        helper.add("def _top_args(%s):" % ", ".join(args))
        helper.extend(list_literal("args", top_words, top), "    ")
        helper.add("    return args")
        self.helper_module.append(helper)
        code = Code()
        code.add("cmd = _top_args(%s)" % ", ".join(args))
        rest = list_literal("cmd", sub_words, sub)
        rest.lines[0] = ("cmd += [", False)
        code.extend(rest)
        return code

    def _bash(self) -> Code:
        script = bash_script(self.words, self.pieces)
        const = Code()
        const.add('STEP_SCRIPT = """\\')
        const.extend(script)
        const.add('"""')
        self.module_consts_code = const
        code = Code()
        code.add('with open(script_path, "w") as f:')
        code.add("    f.write(STEP_SCRIPT)")
        code.add('cmd = ["bash", script_path]')
        return code

    def env(self, env: Env) -> Code:
        style = self.sp.env_style
        if style == "helper":
            body = self._env_body(env, "item")
            values = [py_word(resolve(e.value, self.placement)) for e in env.entries]
            keys = [e.key for e in env.entries if not e.loop]
            loops = [e.loop or "" for e in env.entries]
            args = _free_names(values + keys + loops, self.locals)
            loop_vars = set()
            for entry in env.entries:
                if entry.loop:
                    loop_vars |= set(_NAME.findall(entry.loop.split(" in ")[0]))
            args = [a for a in args if a not in loop_vars]
            helper = Code()
            helper.add("def _step_env(%s):" % ", ".join(args))
            helper.extend(body, "    ")
            helper.add("    return env")
            self.helper_module.append(helper)
            code = Code()
            code.add("env = _step_env(%s)" % ", ".join(args), env.anchor)
            return code
        return self._env_body(env, style)

    def _env_body(self, env: Env, style: str) -> Code:
        code = Code()
        base = "dict(os.environ)" if env.inherit else "{}"
        if style == "literal":
            code.add("env = {", env.anchor)
            if env.inherit:
                code.add("    **os.environ,")
            for e in env.entries:
                value = py_word(resolve(e.value, self.placement))
                if e.loop:
                    code.add("    **{%s: %s %s}," % (e.key, value, e.loop.rstrip(":")), e.anchor)
                else:
                    code.add("    %s: %s," % (e.key, value), e.anchor)
            code.add("}")
            return code
        if style == "update":
            code.add("env = %s" % ("os.environ.copy()" if env.inherit else "{}"), env.anchor)
            code.add("env.update(")
            code.add("    {")
            for e in env.entries:
                value = py_word(resolve(e.value, self.placement))
                if e.loop:
                    code.add(
                        "        **{%s: %s %s}," % (e.key, value, e.loop.rstrip(":")), e.anchor
                    )
                else:
                    code.add("        %s: %s," % (e.key, value), e.anchor)
            code.add("    }")
            code.add(")")
            return code
        code.add("env = %s" % base, env.anchor)
        for e in env.entries:
            value = py_word(resolve(e.value, self.placement))
            if e.loop:
                code.add(e.loop)
                code.add("    env[%s] = %s" % (e.key, value), e.anchor)
            else:
                code.add("env[%s] = %s" % (e.key, value), e.anchor)
        return code

    def builder(self) -> Code:
        seed = self.seed
        params = list(self.params)
        if self.sp.build == "bash":
            params.append("script_path")
        if self.sp.placement == "attr":
            params.insert(0, "self")
        code = Code()
        code.add("def %s(%s):" % (seed.func, ", ".join(params)))
        for line in seed.prelude:
            code.add("    " + line)
        if seed.env:
            code.extend(self.env(seed.env), "    ")
        if self.pieces:
            code.extend(self.command(), "    ")
            if seed.run or seed.env:
                extra = ", shell=True" if self.is_string else ""
                extra += ", env=env" if seed.env else ""
                code.add(
                    "    subprocess.run(cmd%s, check=True)" % extra,
                    seed.env is not None and seed.env.anchor,
                )
            else:
                code.add("    return cmd")
        else:
            code.add("    return env")
        if self.sp.placement == "attr":
            cls = Code()
            cls.add("class StepCommands:")
            cls.add("    def __init__(self):")
            for key in self.keys:
                cls.add("        self.%s = %s" % (key.name, _q(key.text)))
            cls.add("")
            cls.extend(code, "    ")
            return cls
        if self.sp.placement == "default":
            # a caller that leaves the default alone: with no caller at all the value of a
            # parameter cannot be told, whatever its default
            plain = [p for p in self.params if "=" not in p]
            if self.sp.build == "bash":
                plain.append("script_path")
            passed = list(plain)
            if self.sp.override:  # every caller passes a run-time value instead
                plain += [k.name for k in self.keys]
                passed += ["%s=%s" % (k.name, k.name) for k in self.keys]
            code.add("")
            code.add("")
            code.add("def run_%s(%s):" % (seed.func, ", ".join(plain)))
            code.add("    return %s(%s)" % (seed.func, ", ".join(passed)))
        return code

    # -- modules -------------------------------------------------------------------------

    def constants(self) -> list[str]:
        if self.sp.placement == "const":
            return ["%s = %s" % (k.name.upper(), _q(k.text)) for k in self.keys]
        if self.sp.placement == "dict":
            entries = ", ".join("%s: %s" % (_q(k.name), _q(k.text)) for k in self.keys)
            return ["OPTIONS = {%s}" % entries]
        return []

    def render(self) -> Rendered:
        builder = self.builder()
        helpers = self.helper_module
        consts = self.constants()
        script: Optional[Code] = getattr(self, "module_consts_code", None)
        if self.sp.generated == "gen-fragments":
            return self._fragments()
        main = Code()
        body = Code()
        if not self.sp.split:
            for const in consts + self.module_consts:
                for line in const.split("\n"):
                    body.add(line)
            if consts or self.module_consts:
                body.add("")
            if script:
                body.extend(script)
                body.add("")
            for helper in helpers:
                body.add("")
                body.extend(helper)
                body.add("")
        body.add("")
        body.extend(builder)
        header, tail = _module_parts(self.seed.module)
        if tail:
            body.add("")
            body.add("")
            for line in tail.split("\n"):
                body.add(line)
        imports = uses(body.text() + header)
        if self.sp.split:
            names = (
                [c.split(" =")[0] for c in consts]
                + ["_top_args"] * any(h.lines[0][0].startswith("def _top_args") for h in helpers)
                + ["_step_env"] * any(h.lines[0][0].startswith("def _step_env") for h in helpers)
            )
        for module in imports:
            main.add("import %s" % module)
        if self.sp.split and names:
            main.add("")
            main.add("from %s.common import %s" % (PACKAGE, ", ".join(names)))
        if header:
            main.add("")
            for line in header.split("\n"):
                main.add(line)
        main.add("")
        main.extend(body)
        if self.sp.generated:
            main = self._generated(main)
        files = {}
        if self.sp.split:
            common = Code()
            common_body = Code()
            for const in consts + self.module_consts:
                common_body.add(const)
            for helper in helpers:
                common_body.add("")
                common_body.add("")
                common_body.extend(helper)
            for module in uses(common_body.text()):
                common.add("import %s" % module)
            common.add("")
            common.extend(common_body)
            files["pyproject.toml"] = _code(
                '[project]\nname = "myscheduler-ext"\nversion = "0.1.0"'
            )
            files["%s/__init__.py" % PACKAGE] = Code()
            files["%s/common.py" % PACKAGE] = common
            files["%s/scheduler.py" % PACKAGE] = main
        else:
            files["scheduler.py"] = main
        files = {name: tidy(code) for name, code in files.items()}
        return Rendered(
            {name: code.text() for name, code in files.items()},
            {name: code.anchors() for name, code in files.items() if code.anchors()},
        )

    def _generated(self, module: Code) -> Code:
        """The module, produced by a generator instead of written by hand."""
        kind = self.sp.generated
        out = Code()
        lines = module.lines
        while lines and not lines[-1][0]:
            lines = lines[:-1]
        if kind == "gen-template":
            out.add('STEP_MODULE = """\\')
            out.lines.extend(lines)
            out.add('"""')
            out.add("")
            out.add("")
            out.add("def write_step_module(path):")
            out.add('    with open(path, "w") as f:')
            out.add("        f.write(STEP_MODULE)")
            return out
        if kind == "gen-emit":
            out.add("def generate(cb):")
            for text, anchor in lines:
                out.add("    cb.emit(%r)" % text, anchor)
            return out
        if kind == "gen-lines":
            out.add("def generate(path):")
            out.add("    lines = []")
            for text, anchor in lines:
                out.add("    lines.append(%r)" % text, anchor)
            out.add('    with open(path, "w") as f:')
            out.add('        f.write("\\n".join(lines) + "\\n")')
            return out
        if kind == "gen-write":
            out.add("def generate(path):")
            out.add('    with open(path, "w") as out:')
            for text, anchor in lines:
                out.add("        out.write(%r)" % (text + "\n"), anchor)
            return out
        raise ValueError(kind)

    def _fragments(self) -> Rendered:
        """The command list of the generated module is assembled from source fragments at
        generation time (``'"--tag"'``, ``repr(tag)``), then written out."""
        seed = self.seed
        code = Code()
        code.add("def write_step_script(out, %s):" % ", ".join(self.params))
        for line in seed.prelude:
            code.add("    " + line)
        code.add("    args = []")
        for piece, words in zip(self.pieces, self.words):
            indent = "    "
            if piece.conditional:
                code.add("    if %s:" % piece.guard)
                indent = "        "
            for word in words:
                if isinstance(word, Lit):
                    frag = "'%s'" % _q(word.text)
                elif word.expr.startswith("sys."):
                    frag = "'%s'" % word.expr
                elif word.wrap:
                    frag = "repr(%s(%s))" % (word.wrap, word.expr)
                else:
                    frag = "repr(%s)" % word.expr
                code.add("%sargs.append(%s)" % (indent, frag), word.anchor)
        code.add('    out.write("import subprocess\\n")')
        code.add('    out.write("import sys\\n")')
        code.add('    out.write("cmd = [%s]\\n" % ", ".join(args))')
        code.add('    out.write("subprocess.run(cmd, check=True)\\n")')
        module = Code()
        consts = self.constants()
        for const in consts:
            module.add(const)
        if self.sp.placement == "attr":
            raise ValueError("fragments take values inline")
        module.add("")
        module.add("")
        module.extend(code)
        module = tidy(module)
        return Rendered({"scheduler.py": module.text()}, {"scheduler.py": module.anchors()})


def _module_parts(text: str) -> tuple[str, str]:
    """A seed's module code: what goes at the top (imports, constants), and the functions."""
    text = text.strip("\n")
    if not text:
        return "", ""
    if text.startswith("def "):
        return "", text
    head, sep, tail = text.partition("\ndef ")
    return head.strip("\n"), (("def " + tail) if sep else "").strip("\n")


def _code(text: str) -> Code:
    code = Code()
    for line in text.split("\n"):
        code.add(line)
    return code


def tidy(code: Code) -> Code:
    """At most two blank lines in a row, none at the start or the end."""
    out = Code()
    blank = 0
    for text, anchor in code.lines:
        blank = blank + 1 if not text else 0
        if (not text and (blank > 2 or not out.lines)) and not anchor:
            continue
        out.add(text, anchor)
    while out.lines and not out.lines[-1][0]:
        out.lines.pop()
    return out


def render(seed: Seed, spelling: Spelling) -> Rendered:
    return Renderer(seed, spelling).render()


def has_keys(seed: Seed) -> bool:
    words: list[Word] = list(iter_words(seed.pieces))
    if seed.env:
        words += [e.value for e in seed.env.entries]
    return any(isinstance(w, Key) for w in words)


def anchored_key(seed: Seed) -> bool:
    """The bug is a constant (a Key is the anchor word): a caller passing a run-time value
    instead of the default makes the code correct."""
    words: list[Word] = list(iter_words(seed.pieces))
    if seed.env:
        words += [e.value for e in seed.env.entries if e.anchor]
    return any(isinstance(w, Key) and (w.anchor or seed.env is not None) for w in words)
