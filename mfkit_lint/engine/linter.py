"""Running the selected rules over sources and files. Knows no rule by name."""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from mfkit_lint.engine.config import Settings
from mfkit_lint.engine.diagnostic import Applicability, Diagnostic, Fix, Location, Span
from mfkit_lint.engine.discovery import (
    ProjectListing,
    package_root,
    project_listing,
    project_root,
)
from mfkit_lint.engine.noqa import NoqaMap, noqa_map, noqa_map_by_line, suppressed
from mfkit_lint.engine.registry import (
    ENGINE_RULES,
    RuleInfo,
    Selection,
    SyntaxErrorRule,
    UndecodableFileRule,
    all_rules,
    rule_infos,
)
from mfkit_lint.engine.rule import Finding, Rule, Scope, SourceKind
from mfkit_lint.engine.source import DecodeError, Source, is_yaml_file

if TYPE_CHECKING:
    # Imported when a file is really linted: a run answered by the cache loads no model.
    from mfkit_lint.model.module import ModuleModel
    from mfkit_lint.model.project import ProjectIndex
    from mfkit_lint.model.yaml_document import YamlDocument


# Project indexes (parsed modules, file contents) by project root and file selection, with
# the listing each was built from. A new listing of the same files reuses the index while no
# file changed on disk (a language server lints file after file of one project).
_INDEXES: dict[tuple, tuple[ProjectListing, ProjectIndex]] = {}


@dataclass
class FileResult:
    filename: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: Optional[Source] = None
    errors: list[str] = field(default_factory=list)  # I/O problems and rule crashes
    cached: bool = False  # diagnostics from the cache: no fix data (see engine/cache.py)


def read_source_bytes(path: Path) -> tuple[bytes, Optional[str]]:
    """A file's bytes, or ``b""`` and the error message to report."""
    try:
        with open(path, "rb") as fh:  # (cheaper than Path.read_bytes, for every file of a run)
            return fh.read(), None
    except OSError as exc:
        return b"", f"cannot read {path}: {_reason(exc)}"


class Linter:
    def __init__(
        self,
        settings: Settings,
        selection: Optional[Selection] = None,
        index: Optional[Sequence[RuleInfo]] = None,
    ) -> None:
        """``index`` (the rules' codes, e.g. from the cache) lets the linter answer which codes
        it checks without importing a rule; the rules are loaded when a file is linted."""
        self.settings = settings
        # The other files a rule may ask about. None: each file's own project (its nearest
        # pyproject.toml/setup.py/setup.cfg/.git root, see ``project_for``); set it to fix one.
        self.project: Optional[ProjectIndex] = None
        self.selection = selection or Selection(
            settings.select, settings.ignore, settings.extend_select
        )
        self._index: tuple[RuleInfo, ...] = tuple(index) if index is not None else ()
        self._rules: Optional[list[type[Rule]]] = None
        # The rules each directory's files get, for one list of rules (see ``_rules_for``).
        self._by_directory: tuple[Optional[list], dict[tuple[str, SourceKind], list]] = (None, {})
        self._per_file = []
        if settings.per_file_ignores:
            import pathspec

            self._per_file = [
                (pathspec.GitIgnoreSpec.from_lines([pattern]), Selection(codes, ()))
                for pattern, codes in settings.per_file_ignores
            ]
        self._codes: Optional[list[str]] = None
        self._all_checked: Optional[tuple[str, ...]] = None
        # Where project listings are kept between runs (the cache directory; None: nowhere).
        self.listing_store: Optional[Path] = None

    @property
    def rules(self) -> list[type[Rule]]:
        """The rules that look at a parsed source (the engine reports MFK001/MFK002 itself).
        PROJECT rules are among them; they run only where a project index exists."""
        if self._rules is None:
            self._rules = [
                r for r in all_rules() if self.selection.enabled(r.code) and r not in ENGINE_RULES
            ]
        return self._rules

    def _infos(self) -> tuple[RuleInfo, ...]:
        if not self._index:
            self._index = rule_infos()
        return self._index

    def _rule_codes(self) -> list[str]:
        """The codes of ``rules``, from the index when there is one."""
        if self._codes is None:
            if self._rules is not None:
                self._codes = [r.code for r in self._rules]
            else:
                engine = {r.code for r in ENGINE_RULES}
                self._codes = [
                    i.code
                    for i in self._infos()
                    if self.selection.enabled(i.code) and i.code not in engine
                ]
        return self._codes

    # -- entry points --------------------------------------------------------------------------
    def lint_path(self, path: Path) -> FileResult:
        raw, error = read_source_bytes(path)
        if error is not None:
            return FileResult(str(path), errors=[error])
        return self.lint_bytes(raw, str(path))

    def lint_bytes(self, raw: bytes, filename: str) -> FileResult:
        try:
            source = Source.from_bytes(raw)
        except DecodeError as exc:
            diag = self._engine_diagnostic(
                UndecodableFileRule, f"cannot decode file: {exc}", filename, None
            )
            return FileResult(filename, [d for d in (diag,) if d])
        result = FileResult(filename, source=source)
        result.diagnostics = self.lint_source(source, filename, result.errors)
        return result

    def lint_source(
        self,
        source: Source,
        filename: str,
        errors: Optional[list[str]] = None,
        tree: Optional[ast.Module] = None,
        apply_noqa: bool = True,
    ) -> list[Diagnostic]:
        """Diagnostics for one decoded module. Front ends that parsed already (flake8) pass
        their ``tree``; those that apply noqa themselves pass ``apply_noqa=False``."""
        if is_yaml_file(filename):
            return self._lint_yaml(source, filename, errors, apply_noqa)
        rules = self._rules_for(filename, SourceKind.PYTHON)
        project = self.project_for(filename)
        # The project index may have parsed this file already (another file asked about it).
        known = (
            project.parsed(Path(filename), source.raw)
            if tree is None and project is not None and source.raw
            else None
        )
        if known is not None:
            tree = known.tree
        # A file this linter parses itself is lent to the project index, which may be asked
        # about it while it is linted or soon after (see ``ProjectIndex.lend``).
        lend_to = project if tree is None and project is not None and source.raw else None
        try:
            if tree is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # e.g. invalid escape sequences in user code
                    tree = ast.parse(source.text, filename=filename)
        except SyntaxError as exc:
            return self._syntax_error(exc, source, filename)
        except (RecursionError, MemoryError, ValueError) as exc:
            message = (
                "too deeply nested to parse"
                if isinstance(exc, (RecursionError, MemoryError))
                else str(exc)
            )
            diag = self._engine_diagnostic(
                SyntaxErrorRule, f"SyntaxError: {message}", filename, None
            )
            return [d for d in (diag,) if d]
        raw = source.raw or source.text.encode("utf-8", "replace")
        searched: dict[bytes, bool] = {}
        active = [r for r in rules if r.might_apply(raw, searched)]
        if not active:
            if lend_to is not None:
                lend_to.lend(Path(filename), source, tree, None)
            return []
        from mfkit_lint.model.module import ModuleModel

        module = ModuleModel(source, tree, project=project, path=Path(filename))
        if known is not None:
            module.take_tree_facts(known)
        if lend_to is not None:
            lend_to.lend(module.path, source, tree, module)
        models = [module]
        try:
            return self._lint_module(module, active, source, filename, errors, apply_noqa, models)
        finally:
            # The memoised analyses point back at their module (a cycle per model): dropping
            # them lets reference counting free the file's models and tree at once, instead of
            # leaving them to the cycle collector (see engine/collector.py).
            for model in models:
                model.analyses.clear()

    def _lint_module(
        self,
        module: ModuleModel,
        active: list[type[Rule]],
        source: Source,
        filename: str,
        errors: Optional[list[str]],
        apply_noqa: bool,
        models: list[ModuleModel],
    ) -> list[Diagnostic]:
        """The diagnostics of the rules ``active`` on a module and on the code it generates;
        the models made on the way are added to ``models``."""
        from mfkit_lint.model.embedded import embedded_of
        from mfkit_lint.model.module import ModuleModel

        diagnostics = self._run_rules(active, module, filename, errors)
        # Code the extension generates (scheduler files from templates) is linted as well,
        # with its findings placed on the real lines of the template, by the rules that can
        # report there (extracting it is a walk over every string of the module).
        generated_rules = [r for r in active if r.reads_generated]
        generated_fixes = []
        for index, embedded in enumerate(embedded_of(module) if generated_rules else ()):
            # The generated code belongs to the same project (project rules read it too); it
            # has no path of its own, so questions about "the other modules" include its
            # generator.
            virtual = ModuleModel(
                embedded.source,
                embedded.tree,
                generated=True,
                project=module.project,
                generator=module,
            )
            models.append(virtual)
            for diag in self._run_rules(generated_rules, virtual, filename, errors):
                if diag.fix is not None:
                    # The codemod runs on the generated code; fixers/embedded.py writes its
                    # edits back into the template string (or withdraws the fix).
                    diag.fix_data = {
                        **diag.fix_data,
                        EMBEDDED_KEY: {"index": index, "span": _span_list(diag.span)},
                    }
                    generated_fixes.append(diag)
                diag.span = embedded.real_span(source, diag.span)
                diagnostics.append(diag)
        if generated_fixes:
            # Whether a fix in generated code can be written back into the template is known
            # only once its edits are computed: decide it now, so that what the report
            # promises ([*], the fixable count) is what --fix does.
            from mfkit_lint.fixers.apply import compute_edits

            compute_edits(source, generated_fixes)
        return self._finish(diagnostics, source.text if apply_noqa else "")

    def _lint_yaml(
        self, source: Source, filename: str, errors: Optional[list[str]], apply_noqa: bool
    ) -> list[Diagnostic]:
        """A YAML source (a CI workflow): parsed with PyYAML's safe loader, checked by the
        YAML rules; a parse error is MFK001 like a Python syntax error."""
        # PyYAML is imported only when a YAML file is linted.
        from mfkit_lint.model.yaml_document import YamlDocument, YamlSyntaxError

        rules = self._rules_for(filename, SourceKind.YAML)
        raw = source.raw or source.text.encode("utf-8", "replace")
        searched: dict[bytes, bool] = {}
        active = [r for r in rules if r.might_apply(raw, searched)]
        try:
            document = YamlDocument.parse(source, Path(filename), self.project_for(filename))
        except YamlSyntaxError as exc:
            loc = exc.location or Location(1, 1)
            diag = self._engine_diagnostic(
                SyntaxErrorRule, f"YAML syntax error: {exc}", filename, Span(loc, loc)
            )
            return [d for d in (diag,) if d]
        except RecursionError:
            diag = self._engine_diagnostic(
                SyntaxErrorRule, "YAML syntax error: too deeply nested to parse", filename, None
            )
            return [d for d in (diag,) if d]
        diagnostics = self._run_rules(active, document, filename, errors)
        # YAML comments start with "#" too: a noqa comment on the reported line suppresses.
        return self._finish(diagnostics, source.text if apply_noqa else "", noqa_map_by_line)

    def project_files(self, filename: str) -> Optional[tuple[Path, ...]]:
        """The files of the project ``filename`` belongs to (None: no project)."""
        if self.project is not None:
            return tuple(self.project.files)
        listing = self.project_listing(filename)
        return listing.files if listing is not None else None

    def project_listing(self, filename: str) -> Optional[ProjectListing]:
        """The listing of the project ``filename`` belongs to (None: no project, or the
        project is the one set on this linter)."""
        if self.project is not None:
            return None
        if not filename or filename == "-" or not os.path.exists(filename):
            return None  # a source that is no file (a snippet, an unsaved buffer) stands alone
        root = project_root(Path(filename), self.settings.root)
        listing = project_listing(self.settings, root, self.listing_store)
        if listing.covers(filename):
            return listing
        # The project's own walk skips the file's directory (gitignored or excluded: a
        # vendored copy, a build tree, copies of a package side by side): the files beside it
        # that it imports are not in that listing, and questions about "the project" would be
        # answered without them. Its project is its package tree, listed as a named directory.
        tree = package_root(Path(filename), root)
        if tree == root:
            return listing
        return project_listing(self.settings, tree, self.listing_store, named=True)

    def project_for(self, filename: str) -> Optional[ProjectIndex]:
        """The project of the file, for questions that span modules: the same for every front
        end, and two projects linted in one run never see each other's files."""
        if self.project is not None:
            return self.project
        listing = self.project_listing(filename)
        if listing is None:
            return None
        settings = self.settings
        key = (listing.root, settings.root, settings.exclude, settings.extend_exclude)
        known = _INDEXES.get(key)
        if known is not None and known[0] is listing:
            return known[1]
        if (
            known is not None
            and known[0].files == listing.files
            and known[0].stamp() == listing.stamp()
        ):
            index = known[1]
        else:
            from mfkit_lint.model.project import ProjectIndex

            index = ProjectIndex(listing.files)
        _INDEXES[key] = (listing, index)
        return index

    def _run_rules(
        self,
        rules: list[type[Rule]],
        module: ModuleModel | YamlDocument,
        filename: str,
        errors: Optional[list[str]],
    ) -> list[Diagnostic]:
        diagnostics: list[Diagnostic] = []
        for rule in rules:
            if rule.scope == Scope.PROJECT and getattr(module, "project", None) is None:
                continue  # needs the other files of the tree, which this run does not have
            try:
                findings = list(rule().check(module))
            except RecursionError:
                findings = []
                if errors is not None:
                    errors.append(f"{filename}: {rule.code} skipped: code too deeply nested")
            except Exception as exc:  # a broken rule must not take the whole run down
                findings = []
                if errors is not None:
                    errors.append(
                        f"{filename}: internal error in rule {rule.code}: "
                        f"{type(exc).__name__}: {exc}"
                    )
            diagnostics.extend(
                self._diagnostic(rule, f, module, filename)
                for f in findings
                if _lies_in(f, module, filename)
            )
        return diagnostics

    def checked_codes(self, filename: str) -> tuple[str, ...]:
        """Every code that can be reported for ``filename``: the rules run on it and the engine
        codes not ignored for it. Two files with the same bytes and the same checked codes get
        the same diagnostics (the cache relies on it)."""
        ignored = self._ignored_codes(filename)
        if not ignored and self._all_checked is not None:
            return self._all_checked  # the same for every file without per-file ignores
        engine = [
            r.code
            for r in ENGINE_RULES
            if not self.selection.ignores(r.code) and r.code not in ignored
        ]
        codes = (*engine, *(c for c in self._rule_codes() if c not in ignored))
        if not ignored:
            self._all_checked = codes
        return codes

    # -- helpers -------------------------------------------------------------------------------
    def _rules_for(self, filename: str, kind: SourceKind) -> list[type[Rule]]:
        """The rules of ``kind`` that may report on ``filename``: not ignored for it, and
        declaring no directory its path lacks (a file no rule applies to is parsed, and nothing
        more). Without per-file ignores, that depends on the file's directory alone: the
        answer is kept for the next files of the directory."""
        if self._per_file:
            return self._applicable(filename, kind, self._ignored_codes(filename))
        rules = self.rules
        if self._by_directory[0] is not rules:
            self._by_directory = (rules, {})
        known = self._by_directory[1]
        key = (os.path.dirname(filename), kind)
        found = known.get(key)
        if found is None:
            found = known[key] = self._applicable(filename, kind, set())
        return found

    def _applicable(self, filename: str, kind: SourceKind, ignored: set[str]) -> list[type[Rule]]:
        rules = [r for r in self.rules if r.kind == kind and r.code not in ignored]
        if any(r.directories for r in rules):
            directories = frozenset(Path(filename).parts[:-1])
            rules = [r for r in rules if r.might_apply_in(directories)]
        return rules

    def _ignored_codes(self, filename: str) -> set[str]:
        if not self._per_file:
            return set()
        path = Path(filename)
        try:
            rel = Path(os.path.realpath(path)).relative_to(self.settings.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        codes = set()
        for spec, selection in self._per_file:
            if spec.match_file(rel) or spec.match_file(path.name):
                codes |= {i.code for i in self._infos() if selection.enabled(i.code)}
        return codes

    def _diagnostic(
        self,
        rule: type[Rule],
        finding: Finding,
        module: ModuleModel | YamlDocument,
        filename: str,
    ) -> Diagnostic:
        span = finding.where if isinstance(finding.where, Span) else module.span(finding.where)
        if span.file is not None:
            span = Span(span.start, span.end)  # in this file (see ``_lies_in``)
        if finding.fix_data is not None and span in _crossing_spans(module):
            finding.fix_data = None
            finding.no_fix_reason = (
                "the command is completed by a helper of another module: a fix computed "
                "for this file alone could misplace the words"
            )
        diag = Diagnostic(rule.code, rule.name, finding.message, filename, span)
        if rule.fix is not None and finding.fix_data is not None:
            applicability = Applicability.UNSAFE if finding.unsafe else rule.fix.applicability
            diag.fix = Fix(applicability, rule.fix.message)
            diag.codemod = finding.codemod or rule.fix.codemod
            diag.fix_data = finding.fix_data
        elif rule.fix is None:
            diag.no_fix_reason = rule.no_fix or (
                f"{rule.code} has no automatic fix: the change depends on how the extension "
                f"is built (`mfkit rule {rule.code}` shows what to write instead)"
            )
        else:
            diag.no_fix_reason = finding.no_fix_reason or (
                "the fix cannot be decided from the code here (the message says what to change)"
            )
        return diag

    def _engine_diagnostic(
        self, rule: type[Rule], message: str, filename: str, span: Optional[Span]
    ) -> Optional[Diagnostic]:
        # Like ruff: a file that cannot be checked is reported even when --select leaves these
        # codes out; only an explicit ignore (or per-file ignore) silences it.
        if self.selection.ignores(rule.code) or rule.code in self._ignored_codes(filename):
            return None
        span = span or Span(Location(1, 1), Location(1, 1))
        return Diagnostic(rule.code, rule.name, message, filename, span)

    def _syntax_error(self, exc: SyntaxError, source: Source, filename: str) -> list[Diagnostic]:
        row = max(exc.lineno or 1, 1)
        column = max(exc.offset or 1, 1)
        loc = Location(row, column)
        diag = self._engine_diagnostic(
            SyntaxErrorRule, f"SyntaxError: {exc.msg}", filename, Span(loc, loc)
        )
        return [d for d in (diag,) if d]

    @staticmethod
    def _finish(
        diagnostics: list[Diagnostic], text: str, comments: Callable[[str], NoqaMap] = noqa_map
    ) -> list[Diagnostic]:
        if not diagnostics:
            return diagnostics
        noqa = comments(text)
        seen = set()
        out = []
        for diag in sorted(diagnostics, key=Diagnostic.sort_key):
            key = (diag.code, diag.span, diag.message)
            if key in seen or suppressed(noqa, diag.location.row, diag.code):
                continue
            seen.add(key)
            out.append(diag)
        return out


def _lies_in(finding: Finding, module: ModuleModel | YamlDocument, filename: str) -> bool:
    """The finding is about this file: a word that a helper of another module contributes to
    a command is reported in that module's file, when it is linted (every front end then
    gives the same findings for the same file)."""
    where = finding.where
    if isinstance(where, Span):
        return where.file is None or os.path.realpath(where.file) == os.path.realpath(filename)
    owns = getattr(module, "owns", None)
    return owns is None or owns(where)


def _crossing_spans(module: ModuleModel | YamlDocument) -> frozenset:
    if getattr(module, "generated", True):
        return frozenset()  # YAML documents, generated code: no command crosses modules
    from mfkit_lint.model.commands import crossing_spans

    try:
        return crossing_spans(module) or frozenset()
    except RecursionError:
        return frozenset()  # code too deeply nested: the rules skipped it too


# fix data key of a finding in generated code: which virtual module, and the finding's span in it
EMBEDDED_KEY = "_embedded"


def _span_list(span: Span) -> list[int]:
    return [span.start.row, span.start.column, span.end.row, span.end.column]


def _reason(exc: OSError) -> str:
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror or str(exc) or type(exc).__name__
