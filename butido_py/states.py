"""The domain vocabulary of jobs and submits (pure, shared by every layer): states, the kinds stored
next to them, and the allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from butido_py.errors import DatabaseError


class JobState(StrEnum):
    PLANNED = "planned"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEP_FAILED = "dep_failed"
    REUSED = "reused"
    CANCELED = "canceled"
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self not in _UNFINISHED_JOB

    @property
    def ok(self) -> bool | None:
        """True: it produced (or reused) its artifacts; False: it did not; None: not yet known."""
        if self in (JobState.SUCCEEDED, JobState.REUSED):
            return True
        return None if self in _UNFINISHED_JOB else False


class SubmitState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    LOST = "lost"


class SubmitKind(StrEnum):
    BUILD = "build"
    RERUN = "rerun"
    REBUILD = "rebuild"


class FailureKind(StrEnum):
    SCRIPT = "script"
    INFRA = "infra"
    OUTPUTS = "outputs"
    CANCELED = "canceled"
    LOST = "lost"
    TIMEOUT = "timeout"


class DependencyKind(StrEnum):
    BUILD = "build"
    RUNTIME = "runtime"


class RebuildVerdict(StrEnum):
    """An artifact of a submit against its rebuild (`butido rebuild`)."""

    #: Same path, same sha256.
    IDENTICAL = "identical"
    #: Same path, another sha256.
    DIFFERS = "differs"
    #: The original has it, the rebuild did not produce it.
    MISSING = "missing"
    #: The rebuild produced it, the original did not.
    EXTRA = "extra"


_UNFINISHED_JOB = frozenset({JobState.PLANNED, JobState.QUEUED, JobState.RUNNING})

#: state -> the states it may move to (DESIGN.md §4).
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PLANNED: frozenset(
        {JobState.QUEUED, JobState.DEP_FAILED, JobState.REUSED, JobState.CANCELED, JobState.LOST}
    ),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELED, JobState.LOST}),
    # running -> queued: an attempt failed for infrastructure reasons and the job is retried
    # (on another endpoint when there is one; `jobs.attempt` counts, `job_attempts` keeps each).
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED, JobState.LOST, JobState.QUEUED}
    ),
    **{state: frozenset() for state in JobState if state not in _UNFINISHED_JOB},
}

SUBMIT_TRANSITIONS: dict[SubmitState, frozenset[SubmitState]] = {
    SubmitState.RUNNING: frozenset(
        {SubmitState.SUCCEEDED, SubmitState.FAILED, SubmitState.CANCELED, SubmitState.LOST}
    ),
    **{state: frozenset() for state in SubmitState if state is not SubmitState.RUNNING},
}


class TransitionError(DatabaseError):
    """A job or submit was asked to move to a state its current state does not allow."""


def job_predecessors(target: JobState) -> frozenset[JobState]:
    """The states from which a job may move to `target`."""
    return frozenset(s for s, targets in JOB_TRANSITIONS.items() if target in targets)


def check_job_transition(current: JobState, target: JobState, *, job: str = "") -> None:
    if target not in JOB_TRANSITIONS[current]:
        raise TransitionError(
            f"job {job} cannot move from {current} to {target}".replace("  ", " "),
            hint="this is a bug in the caller: see the job states in docs/database.md",
        )


def check_submit_transition(current: SubmitState, target: SubmitState, *, submit: str = "") -> None:
    if target not in SUBMIT_TRANSITIONS[current]:
        raise TransitionError(
            f"submit {submit} cannot move from {current} to {target}".replace("  ", " "),
            hint="this is a bug in the caller: see the submit states in docs/database.md",
        )
