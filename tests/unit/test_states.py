"""The job and submit state machines of DESIGN.md §4."""

from __future__ import annotations

import pytest

from butido_py.states import (
    JOB_TRANSITIONS,
    JobState,
    SubmitState,
    TransitionError,
    check_job_transition,
    check_submit_transition,
    job_predecessors,
)

J = JobState
ALLOWED = {
    (J.PLANNED, J.QUEUED), (J.QUEUED, J.RUNNING), (J.RUNNING, J.SUCCEEDED), (J.RUNNING, J.FAILED),
    (J.PLANNED, J.DEP_FAILED), (J.PLANNED, J.REUSED),
    (J.PLANNED, J.CANCELED), (J.QUEUED, J.CANCELED), (J.RUNNING, J.CANCELED),
    (J.PLANNED, J.LOST), (J.QUEUED, J.LOST), (J.RUNNING, J.LOST),
    (J.RUNNING, J.QUEUED),  # an infrastructure failure: the job is retried
}  # fmt: skip


@pytest.mark.parametrize("current", list(JobState))
@pytest.mark.parametrize("target", list(JobState))
def test_exactly_the_designed_job_transitions_are_allowed(current: J, target: J) -> None:
    if (current, target) in ALLOWED:
        check_job_transition(current, target)
    else:
        with pytest.raises(TransitionError, match=f"from {current} to {target}"):
            check_job_transition(current, target, job="j-1")


def test_finished_states_are_final_and_ok_says_whether_artifacts_exist() -> None:
    finished = {s for s in JobState if s.finished}
    assert finished == {J.SUCCEEDED, J.FAILED, J.DEP_FAILED, J.REUSED, J.CANCELED, J.LOST}
    assert all(JOB_TRANSITIONS[s] == frozenset() for s in finished)
    assert {s: s.ok for s in JobState} == {
        J.PLANNED: None, J.QUEUED: None, J.RUNNING: None, J.SUCCEEDED: True, J.REUSED: True,
        J.FAILED: False, J.DEP_FAILED: False, J.CANCELED: False, J.LOST: False,
    }  # fmt: skip


def test_predecessors_are_the_inverse_of_the_transitions() -> None:
    assert job_predecessors(J.RUNNING) == {J.QUEUED}
    assert job_predecessors(J.QUEUED) == {J.PLANNED, J.RUNNING}
    assert job_predecessors(J.CANCELED) == {J.PLANNED, J.QUEUED, J.RUNNING}
    assert job_predecessors(J.PLANNED) == frozenset()


def test_submits_finish_once() -> None:
    for final in (SubmitState.SUCCEEDED, SubmitState.FAILED, SubmitState.CANCELED):
        check_submit_transition(SubmitState.RUNNING, final)
        with pytest.raises(TransitionError, match=f"submit s cannot move from {final}"):
            check_submit_transition(final, SubmitState.RUNNING, submit="s")
    check_submit_transition(SubmitState.RUNNING, SubmitState.LOST)


def test_states_are_stored_by_value() -> None:
    assert [s.value for s in JobState] == [
        "planned", "queued", "running", "succeeded", "failed", "dep_failed", "reused",
        "canceled", "lost",
    ]  # fmt: skip
