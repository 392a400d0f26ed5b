"""Fix data as types: each dataclass survives the trip through the diagnostic's plain data
(what JSON, the cache and the LSP carry), and refuses data of another shape."""

from __future__ import annotations

import pytest

from mfkit_lint.fixers.data import (
    AttemptCounterFix,
    ElementRef,
    ExpressionRewrites,
    InsertedElements,
    RemovedStatements,
    TupleToList,
    WordsMove,
)

EXAMPLES = [
    WordsMove(
        "after",
        elements=(ElementRef((3, 4), 5), ElementRef((3, 4), 6)),
        anchor_element=ElementRef((2, 10), 1),
    ),
    WordsMove(
        "before", string=(4, 11), words=(((4, 20), (4, 25)),), anchor_word=((4, 12), (4, 16))
    ),
    InsertedElements((7, 8), 2, '"--environment", env.TYPE'),
    ExpressionRewrites((((5, 4), (5, 21), "max(a, b)"), ((9, 0), (9, 3), "x"))),
    TupleToList((12, 18), (12, 30)),
    AttemptCounterFix(attempt="attempt"),
    AttemptCounterFix(template="{{ taskrun.attemptsCount }}"),
    RemovedStatements(((6, 0), (7, 0))),
]


@pytest.mark.parametrize("fix", EXAMPLES, ids=lambda f: type(f).__name__)
def test_fix_data_round_trips(fix):
    import json

    assert type(fix).from_data(json.loads(json.dumps(fix.to_data()))) == fix


@pytest.mark.parametrize(
    "cls, data",
    [
        (WordsMove, {"side": "up", "elements": [], "anchor_element": {"list": [1, 0], "index": 0}}),
        (AttemptCounterFix, {"attempt": None, "template": None}),
        (AttemptCounterFix, {"attempt": "a", "template": "{{ x }}"}),
    ],
)
def test_fix_data_of_another_shape_is_refused(cls, data):
    with pytest.raises(ValueError):
        cls.from_data(data)
