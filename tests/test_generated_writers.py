"""Code generated line by line through a writer object (issue 8, classes 1 and 7).

``cb.emit("...")``, ``out.write("...\\n")`` and ``lines.append("...")`` build the same generated
module: its pitfalls are found on the real line that writes them. Strings handed to such a
writer only as messages, or lines that do not parse as code, are not generated code.
"""

import pytest
from conftest import codes, lint

BODY = [
    "import sys",
    "",
    "def step_cmd(flow_file, step_name, run_id, task_id, input_paths):",
    "    return [sys.executable, flow_file, '--no-pylint', 'step', step_name,",
    "            '--run-id', run_id, '--task-id', task_id, '--input-paths', input_paths,",
    "            '--retry-count', '0', '--max-user-code-retries', '2']",
]


def _writer(call: str, newline: str, indent: str = "    ") -> str:
    return "\n".join(f"{indent}{call}({line + newline!r})" for line in BODY)


SPELLINGS = {
    "code builder emit": "def generate(cb):\n" + _writer("cb.emit", ""),
    "file write with newlines": 'def generate(path):\n    with open(path, "w") as out:\n'
    + _writer("out.write", "\n", "        "),
    "writer held on self": "class Gen:\n    def generate(self):\n"
    + _writer("self.out.write", "\n", "        "),
    # lines collected in a list are generated code when the list is joined into a text
    "list of lines": "def generate(path):\n    lines = []\n"
    + _writer("lines.append", "")
    + "\n    return '\\n'.join(lines)",
}


@pytest.mark.parametrize("code", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_generated_lines_are_linted_where_they_are_written(code):
    (diag,) = lint(code, "MFK101")
    line = next(i for i, text in enumerate(code.splitlines(), 1) if "'--retry-count', '0'" in text)
    assert diag.location.row == line


def test_correct_generated_lines_stay_silent():
    code = SPELLINGS["code builder emit"].replace("'0'", "str(attempt)")
    assert codes(code, "MFK101") == []


def test_lines_collected_but_never_joined_or_written_are_data():
    code = SPELLINGS["list of lines"].replace("return '\\n'.join(lines)", "return lines")
    assert codes(code, "MFK101") == []


def test_log_messages_through_write_are_not_code():
    code = """
        import sys
        def report(step):
            sys.stderr.write("running step --retry-count 0 for %s\\n" % step)
            sys.stderr.write("retry with --retry-count 0\\n")
    """
    assert codes(code) == []
