"""MFK103: move ``--tag VALUE`` from before the subcommand to right after it."""

from __future__ import annotations

from mfkit_lint.fixers.move import MoveWords


class MoveTagAfterSubcommand(MoveWords):
    """List commands move the two elements; string commands move the text inside the literal
    (the shared machinery is in ``fixers/move.py``)."""
