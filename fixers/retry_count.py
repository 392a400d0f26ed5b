"""MFK101: put the enclosing function's attempt counter where a constant retry count was."""

from __future__ import annotations

import libcst as cst

from mfkit_lint.fixers.base import Codemod, FixNotApplicable, expression_at
from mfkit_lint.fixers.data import AttemptCounterFix, CallArgumentFix


class ThreadAttemptCounter(Codemod):
    """``"0"``/``0``/``str(0)`` -> ``str(attempt)``; in an f-string ``0`` -> ``{attempt}``; or,
    with a scheduler's template counter, ``"0"`` -> ``"{{ taskrun.attemptsCount }}"`` (also
    inside a longer literal or f-string: the reported characters only)."""

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self.fix = AttemptCounterFix.from_data(self.data)

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        if self.fix.attempt is None:
            return updated
        elements = list(updated.elements)
        for i, element in enumerate(original.elements):
            if expression_at(self, element.value):
                counter = cst.parse_expression(f"str({self.fix.attempt})")
                elements[i] = elements[i].with_changes(value=counter)
                self.mark(original)
                return updated.with_changes(elements=elements)
        return updated

    def leave_SimpleString(
        self, original: cst.SimpleString, updated: cst.SimpleString
    ) -> cst.BaseExpression:
        if self.fix.template is None or self.applied:
            return updated
        if not self.covers(original, self.start, self.start):
            return updated
        template = self.fix.template
        if "\\" in template or original.quote in template:
            raise FixNotApplicable  # the expression cannot be spelled in this literal
        value = original.raw_value
        count = value.strip()
        if count.isdigit() or _quoted_count(count):
            # The literal is the count ("0"), or the count as text of generated code ('"0"'):
            # its characters become the expression, its quotes stay.
            new = template if count.isdigit() else count[0] + template + count[-1]
            self.mark(original)
            return updated.with_changes(
                value=original.prefix + original.quote + value.replace(count, new) + original.quote
            )
        # The count is one word of a longer literal (a shell line): only its characters.
        self.mark(original)
        return self.splice(original, [(self.start, self.end, template)])

    def leave_FormattedString(
        self, original: cst.FormattedString, updated: cst.FormattedString
    ) -> cst.BaseExpression:
        if self.applied or not self.covers(original, self.start, self.end):
            return updated
        self.mark(original)
        if self.fix.attempt is not None:
            text = "{%s}" % self.fix.attempt
        else:
            text = self.fix.template.replace("{", "{{").replace("}", "}}")
        return self.splice(original, [(self.start, self.end, text)])


class PassAttemptCounter(Codemod):
    """``_step_cmd(name, run_id)`` -> ``_step_cmd(name, run_id, retry_count=<counter>)`` in each
    call that left the parameter to its default, and ``import <module>`` where needed."""

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self.fix = CallArgumentFix.from_data(self.data)
        self.done: set[tuple[int, int]] = set()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        start = self.range_of(original).start
        if (start.line, start.column) not in self.fix.calls:
            return updated
        if any(a.keyword is not None and a.keyword.value == self.fix.keyword for a in updated.args):
            raise FixNotApplicable  # passed already: the finding is stale
        args = list(updated.args)
        if any(a.star for a in args):
            raise FixNotApplicable  # *args/**kwargs may pass it already
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        new = cst.Arg(
            keyword=cst.Name(self.fix.keyword),
            value=cst.parse_expression(self.fix.value),
            equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            ),
        )
        if positional:
            # Right after the last positional argument, on its line: the keyword takes over
            # that argument's comma (and the line break after it, if any).
            last = positional[-1]
            previous = args[last]
            space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            new = new.with_changes(comma=previous.comma)
            args[last] = previous.with_changes(comma=space)
            args.insert(last + 1, new)
        else:
            if args:
                new = new.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.insert(0, new)
        self.done.add((start.line, start.column))
        self.mark(original)
        return updated.with_changes(args=args)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.done != set(self.fix.calls):
            raise FixNotApplicable  # a call was not found: change nothing
        body = list(updated.body)
        if any(_imports(statement, self.fix.module) for statement in body):
            return updated
        # The module joins the last plain ``import`` statement (``import uuid`` -> ``import
        # uuid, prefect.runtime.task_run``): an edit of one line, which generated code kept
        # as a list of lines can take too, where a new line could not be written.
        plain = [i for i, statement in enumerate(body) if _plain_import(statement)]
        if not plain:
            raise FixNotApplicable  # where the import goes is not clear
        line = body[plain[-1]]
        statement = cst.ensure_type(line.body[0], cst.Import)
        names = list(statement.names)
        names[-1] = names[-1].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        )
        names.append(cst.ImportAlias(name=cst.parse_expression(self.fix.module)))
        body[plain[-1]] = line.with_changes(body=[statement.with_changes(names=names)])
        return updated.with_changes(body=body)


def _plain_import(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Import)
    )


def _imports(statement: cst.CSTNode, module: str) -> bool:
    """``import <module>`` (which also makes the dotted name usable as written)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Import):
            for alias in small.names:
                if alias.asname is None and cst.Module([]).code_for_node(alias.name) == module:
                    return True
    return False


def _quoted_count(text: str) -> bool:
    return len(text) > 2 and text[0] == text[-1] and text[0] in "'\"" and text[1:-1].isdigit()
