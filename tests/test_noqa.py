"""``# noqa`` comments: mfkit_lint.engine.noqa, and through the linter."""

from __future__ import annotations

import textwrap

import pytest
from conftest import RETRY_ZERO, TAG_BEFORE_STEP, codes

from mfkit_lint.engine.noqa import noqa_map, suppressed


def nmap(text: str):
    return noqa_map(textwrap.dedent(text))


# -- the map -------------------------------------------------------------------------------------
def test_no_noqa_at_all():
    assert nmap("x = 1\ny = 2  # a comment\n") == {}


@pytest.mark.parametrize("comment", ["# noqa", "#noqa", "#  noqa", "# NOQA", "# NoQa"])
def test_bare_noqa_covers_every_code(comment: str):
    noqa = nmap(f"x = 1\ny = 2  {comment}\nz = 3\n")
    assert noqa == {2: None}
    assert suppressed(noqa, 2, "MFK101")
    assert suppressed(noqa, 2, "MFK001")
    assert not suppressed(noqa, 1, "MFK101")
    assert not suppressed(noqa, 3, "MFK101")


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: MFK101,MFK103",
        "# noqa:MFK101,MFK103",
        "# noqa: MFK101, MFK103",
        "# noqa: MFK101 MFK103",
        "# noqa: mfk101,mfk103",
        "# NOQA: MFK101 , MFK103",
        "# type: ignore  # noqa: MFK101,MFK103",
        "# noqa: MFK101,MFK103 -- moved in the next release",
    ],
)
def test_noqa_with_codes(comment: str):
    noqa = nmap(f"x = 1  {comment}\n")
    assert noqa == {1: frozenset({"MFK101", "MFK103"})}
    assert suppressed(noqa, 1, "MFK101")
    assert suppressed(noqa, 1, "MFK103")
    assert not suppressed(noqa, 1, "MFK102")
    assert not suppressed(noqa, 1, "MFK10")  # codes are whole, not prefixes


def test_a_comment_that_only_mentions_noqa_is_not_one():
    assert nmap("x = 1  # we do not use noqa here\n") == {}


def test_noqa_inside_a_string_is_not_a_comment():
    text = """\
        x = "# noqa"
        y = '# noqa: MFK101'
        z = f"{x} # noqa"
        w = '''
        # noqa
        '''
        """
    assert nmap(text) == {}


def test_string_and_real_comment_on_one_line():
    noqa = nmap('x = "# noqa"  # noqa: MFK103\n')
    assert noqa == {1: frozenset({"MFK103"})}


def test_noqa_on_any_line_of_a_multi_line_list_covers_the_statement():
    text = """\
        before = 1
        cmd = [
            "step",
            "--retry-count",  # noqa: MFK101
            "0",
        ]
        after = 2
        """
    noqa = nmap(text)
    assert noqa == {row: frozenset({"MFK101"}) for row in range(2, 7)}
    assert not suppressed(noqa, 1, "MFK101")
    assert not suppressed(noqa, 7, "MFK101")


def test_noqa_after_the_closing_bracket_covers_the_statement():
    noqa = nmap("cmd = [\n    'a',\n    'b',\n]  # noqa\nx = 1\n")
    assert noqa == {1: None, 2: None, 3: None, 4: None}


def test_several_comments_in_one_statement_merge():
    text = """\
        cmd = [
            "--tag",  # noqa: MFK103
            tag,
            "--retry-count",  # noqa: MFK101
            "0",
        ]
        """
    assert nmap(text) == {row: frozenset({"MFK101", "MFK103"}) for row in range(1, 7)}
    # a bare noqa anywhere makes it all
    text = text.replace("# noqa: MFK101", "# noqa")
    assert nmap(text) == dict.fromkeys(range(1, 7))


def test_multi_line_string_statement():
    text = '''\
        SCRIPT = """
        python flow.py step start \\
            --retry-count 0
        """  # noqa: MFK101
        other = 1
        '''
    noqa = nmap(text)
    assert noqa == {row: frozenset({"MFK101"}) for row in range(1, 5)}
    assert not suppressed(noqa, 5, "MFK101")


def test_backslash_continuation_is_one_statement():
    noqa = nmap("cmd = 'a' + \\\n    'b'  # noqa\n")
    assert noqa == {1: None, 2: None}


def test_noqa_on_a_block_header_covers_only_the_header():
    text = """\
        def run(attempt):  # noqa
            cmd = ["--retry-count", "0"]
            return cmd
        """
    assert nmap(text) == {1: None}


def test_comment_line_covers_only_itself():
    text = """\
        # noqa
        cmd = ["--retry-count", "0"]
        """
    assert nmap(text) == {1: None}


def test_statements_separated_by_semicolons_share_the_line():
    assert nmap("a = 1; b = 2  # noqa: MFK101\n") == {1: frozenset({"MFK101"})}


def test_code_that_does_not_tokenize_falls_back_to_physical_lines():
    text = "x = (\n    1,  # noqa: MFK001\ny = 2  # noqa\n"  # never closed
    noqa = nmap(text)
    assert noqa[2] == frozenset({"MFK001"})
    assert noqa[3] is None
    assert 1 not in noqa


# -- through the linter ----------------------------------------------------------------------------
def test_linter_applies_noqa_on_the_reported_line():
    assert codes(RETRY_ZERO) == ["MFK101"]
    assert codes(RETRY_ZERO.replace('        "0",\n', '        "0",  # noqa\n')) == []
    assert codes(RETRY_ZERO.replace('        "0",\n', '        "0",  # noqa: MFK101\n')) == []
    assert codes(RETRY_ZERO.replace('        "0",\n', '        "0",  # noqa: MFK103\n')) == [
        "MFK101"
    ]


def test_linter_applies_noqa_from_another_line_of_the_statement():
    # MFK101 is reported on the "0" line; the comment sits on the option's line
    text = RETRY_ZERO.replace('        "--retry-count",\n', '        "--retry-count",  # noqa\n')
    assert codes(text) == []
    # but not from the next statement
    text = RETRY_ZERO.replace(
        "    subprocess.run(cmd, check=True)\n", "    subprocess.run(cmd, check=True)  # noqa\n"
    )
    assert codes(text) == ["MFK101"]


def test_linter_noqa_in_a_string_does_not_suppress():
    text = TAG_BEFORE_STEP.replace('        "--tag",\n', '        "--tag",\n        "# noqa",\n')
    assert "MFK103" in codes(text)
