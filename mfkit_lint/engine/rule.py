"""The contract between the engine and a rule. Rules know nothing about files or output."""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

from mfkit_lint.engine.diagnostic import FixSpec, Span

if TYPE_CHECKING:
    from mfkit_lint.contract.capabilities import Cap
    from mfkit_lint.model.module import ModuleModel
    from mfkit_lint.model.yaml_document import YamlDocument


class Scope(str, enum.Enum):
    """FILE rules judge a file alone; PROJECT rules also need the other files of the tree
    (the project index) and stay silent when there is none (a single file, stdin, flake8)."""

    FILE = "file"
    PROJECT = "project"


class SourceKind(str, enum.Enum):
    """What kind of source a rule reads: Python modules, or YAML documents (CI workflows)."""

    PYTHON = "python"
    YAML = "yaml"


@dataclass
class Finding:
    """What a rule reports: where, what is wrong, and (optionally) what its codemod needs.

    ``where`` is an ``ast`` node or a Span. A finding offers a fix only when the rule declares
    a FixSpec *and* passes ``fix_data`` (a rule withholds it when its codemod cannot decide).
    """

    where: Union[ast.AST, Span]
    message: str
    fix_data: Optional[dict[str, Any]] = field(default=None)
    # When a rule that has a fix withholds it here: why (e.g. what to restructure instead).
    no_fix_reason: Optional[str] = None
    # A finding whose fix needs another codemod than the rule's usual one (a "module:Class"
    # reference, as in FixSpec), and whether that fix is unsafe although the rule's is safe.
    codemod: Optional[str] = None
    unsafe: bool = False


# A case is one module's code, or a small project: file path -> code (linted as a directory).
CaseCode = Union[str, Mapping[str, str]]


@dataclass(frozen=True)
class Valid:
    """An example the rule must not report (fixit's way: rules carry their own cases)."""

    code: CaseCode


@dataclass(frozen=True)
class Invalid:
    """An example the rule reports: first finding at ``line``/``column`` (1-based, as the CLI
    prints them; in ``file`` for a project case), and, for a rule with a fix, the code after
    ``--fix`` (``--unsafe-fixes`` too when the fix is unsafe). ``fixed=None`` means the finding
    offers no fix here."""

    code: CaseCode
    line: int
    column: int
    fixed: Optional[str] = None
    file: Optional[str] = None


class Rule:
    """Base class of every rule; subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    capability: ClassVar[Optional[Cap]] = None
    scope: ClassVar[Scope] = Scope.FILE
    # PYTHON rules get a ModuleModel, YAML rules a YamlDocument (mfkit_lint/model/yaml_document).
    kind: ClassVar[SourceKind] = SourceKind.PYTHON
    # Byte strings of which at least one must occur in a file for the rule to run at all.
    # Empty means "always run". This is the cheap prefilter that keeps big trees fast.
    triggers: ClassVar[tuple[bytes, ...]] = ()
    # Directory names of which at least one must be among the directories of the file's path
    # for the rule to run at all (a rule about a package layout finds nothing elsewhere).
    # Empty means "any path". Like ``triggers``, only a necessary condition: the rule decides.
    directories: ClassVar[tuple[str, ...]] = ()
    # Whether the rule can report in code the extension generates (the virtual modules of
    # model/embedded.py, which have no path). When no rule run on a file can, the engine does
    # not extract that code.
    reads_generated: ClassVar[bool] = True
    fix: ClassVar[Optional[FixSpec]] = None
    # Why the rule offers no fix at all (rules without a FixSpec); a generic reason otherwise.
    no_fix: ClassVar[Optional[str]] = None
    # Examples checked by tests/test_rule_examples.py for every rule (dedented before use).
    VALID: ClassVar[tuple[Valid, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()

    def check(self, module: Union[ModuleModel, YamlDocument]) -> Iterable[Finding]:
        raise NotImplementedError

    @classmethod
    def might_apply(cls, raw: bytes, searched: Optional[dict[bytes, bool]] = None) -> bool:
        """Whether one of the rule's triggers occurs in ``raw``. Rules share triggers, and a
        trigger a file lacks costs a search of the whole file: the callers that ask for every
        rule of one file pass one ``searched`` memo, so that each trigger is searched once."""
        if not cls.triggers:
            return True
        if searched is None:
            return any(t in raw for t in cls.triggers)
        for trigger in cls.triggers:
            found = searched.get(trigger)
            if found is None:
                found = searched[trigger] = trigger in raw
            if found:
                return True
        return False

    @classmethod
    def might_apply_in(cls, directories: frozenset[str]) -> bool:
        """Whether the rule may report on a file in these directories (the names of its
        path's parents)."""
        return not cls.directories or not directories.isdisjoint(cls.directories)
