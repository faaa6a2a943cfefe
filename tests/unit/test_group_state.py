"""The state of a group, derived from its submits' states (db/groups.py, docs/database.md)."""

from __future__ import annotations

import pytest

from butido_py.db.groups import group_state
from butido_py.states import SubmitState

R, S, F, C, L = (
    SubmitState.RUNNING,
    SubmitState.SUCCEEDED,
    SubmitState.FAILED,
    SubmitState.CANCELED,
    SubmitState.LOST,
)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([S, S], S),
        ([S, F], F),
        ([R, F], R),
        ([S, L], L),
        ([F, L, C], F),
        ([S, C], C),
        ([L, C], L),
        ([S], S),
        ([], L),
    ],
)
def test_group_state(states: list[SubmitState], expected: SubmitState) -> None:
    assert group_state(states) is expected
