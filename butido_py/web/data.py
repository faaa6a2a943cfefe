"""What each page shows, read from the database: one function per page, returning plain dataclasses.

Only the query functions of db/ are used (the web view writes nothing). The log is read through
`job_log` alone, which reads the stored chunks through `db/logs.py` like every other reader.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from butido_py.db import browse
from butido_py.db.artifacts import artifacts_of_jobs, input_artifacts, rebuild_results
from butido_py.db.attempts import JobAttemptRecord, attempts_of_job
from butido_py.db.database import Database
from butido_py.db.groups import (
    GroupFilter,
    GroupMatrix,
    GroupRecord,
    find_group,
    group_matrix,
    group_of_submit,
    jobs_of_group,
    list_groups,
)
from butido_py.db.jobs import JobFilter, find_job_detail, jobs_of_submit, list_jobs
from butido_py.db.logs import log_head, read_log
from butido_py.db.records import (
    ArtifactRecord,
    JobDependencyRecord,
    JobDetailRecord,
    JobRecord,
    RebuildResultRecord,
    ReleaseRecord,
    SubmitRecord,
)
from butido_py.db.releases import ReleaseFilter, list_releases
from butido_py.db.submits import SubmitFilter, child_submits, find_submit, list_submits, submit_env
from butido_py.states import JobState, SubmitKind, SubmitState

#: A UUID prefix in a URL: hex digits (dashes allowed where a UUID has them), at least 4.
_PREFIX = re.compile(r"^[0-9a-fA-F-]{4,36}$")
#: States a "failed only" listing shows.
FAILED_STATES = (SubmitState.FAILED, SubmitState.LOST, SubmitState.CANCELED)


class NotFoundError(LookupError):
    """Nothing answers to what a URL names: a 404 page, with this text."""


class AmbiguousError(NotFoundError):
    """A UUID prefix that matches several submits or jobs."""

    def __init__(self, kind: str, prefix: str, matches: tuple[uuid.UUID, ...]) -> None:
        super().__init__(f"several {kind}s start with {prefix}")
        self.kind = kind
        self.matches = matches


def resolve(db: Database, kind: browse.UuidKind, text: str) -> uuid.UUID:
    """The one submit or job UUID that `text` (a whole UUID or a prefix of it) names."""
    digits = text.replace("-", "").lower()
    if not _PREFIX.match(text) or len(digits) > 32:
        raise NotFoundError(f"{text!r} is no {kind} UUID (nor a prefix of 4 digits or more)")
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    found = browse.uuids_with_prefix(db, kind, low, high, limit=10)
    if not found:
        raise NotFoundError(f"no {kind} {text} in the database")
    if len(found) > 1:
        raise AmbiguousError(kind, text, tuple(found))
    return found[0]


@dataclass(frozen=True, slots=True)
class JobLog:
    """A job's state and its current attempt's log as stored so far, byte for byte."""

    state: JobState
    data: bytes

    @property
    def text(self) -> str:
        """For display: bytes that are not UTF-8 become replacement characters."""
        return self.data.decode("utf-8", errors="replace")


def job_log(db: Database, job_uuid: uuid.UUID) -> JobLog | None:
    """The job's log as stored so far (the one read of logs in the web view)."""
    head = log_head(db, job_uuid)
    if head is None:
        return None
    return JobLog(head.state, b"".join(read_log(db, head)))


# --- the submits listing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitQuery:
    state: SubmitState | None = None
    failed_only: bool = False
    package: str | None = None
    image: str | None = None
    commit: str | None = None
    #: Paging: only submits before this submit time (the last one of the previous page).
    before: datetime | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SubmitRow:
    submit: SubmitRecord
    jobs: dict[JobState, int]


@dataclass(frozen=True, slots=True)
class SubmitPage:
    rows: tuple[SubmitRow, ...]
    #: Where the next page starts (None: this is the last one).
    next_before: datetime | None


def submits_page(db: Database, query: SubmitQuery) -> SubmitPage:
    """The newest `limit` submits that match, newest first, with their jobs counted by state."""
    states: Sequence[SubmitState] = (
        FAILED_STATES if query.failed_only else (query.state,) if query.state else ()
    )
    found = list_submits(
        db,
        SubmitFilter(
            for_package=query.package or None,
            image=query.image or None,
            commit=query.commit or None,
            states=states,
            older_than=query.before,
            limit=query.limit + 1,
        ),
    )
    found.reverse()
    more = len(found) > query.limit
    shown = found[: query.limit]
    counts = browse.job_states_of_submits(db, [s.id for s in shown])
    rows = tuple(SubmitRow(s, counts[s.id]) for s in shown)
    return SubmitPage(rows, shown[-1].submit_time if more and shown else None)


# --- one submit ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitView:
    submit: SubmitRecord
    env: tuple[tuple[str, str], ...]
    jobs: tuple[JobRecord, ...]
    edges: tuple[JobDependencyRecord, ...]
    children: tuple[SubmitRecord, ...]
    #: The reproducibility verdicts, when the submit is a rebuild.
    verdicts: tuple[RebuildResultRecord, ...]
    #: The group it is one image of (None: recorded without one, before schema 0006).
    group: GroupRecord | None = None

    @property
    def siblings(self) -> tuple[SubmitRecord, ...]:
        """The other images' submits of its group."""
        if self.group is None:
            return ()
        return tuple(s for s in self.group.submits if s.uuid != self.submit.uuid)


def submit_view(db: Database, submit_uuid: uuid.UUID) -> SubmitView:
    submit = find_submit(db, submit_uuid)
    if submit is None:
        raise NotFoundError(f"no submit {submit_uuid} in the database")
    jobs, edges = jobs_of_submit(db, submit.id)
    verdicts = rebuild_results(db, submit.uuid) if submit.kind is SubmitKind.REBUILD else []
    return SubmitView(
        submit,
        submit_env(db, submit.id),
        tuple(jobs),
        tuple(edges),
        tuple(child_submits(db, submit.id)),
        tuple(verdicts),
        group_of_submit(db, submit.uuid),
    )


# --- groups -------------------------------------------------------------------------------------

#: How many of the newest groups the listing shows.
GROUP_LISTING = 100


@dataclass(frozen=True, slots=True)
class GroupView:
    group: GroupRecord
    #: submit UUID -> its jobs.
    jobs: dict[uuid.UUID, list[JobRecord]]
    matrix: GroupMatrix


def group_view(db: Database, group_uuid: uuid.UUID) -> GroupView:
    group = find_group(db, group_uuid)
    if group is None:
        raise NotFoundError(f"no group {group_uuid} in the database")
    jobs = jobs_of_group(db, group)
    return GroupView(group, jobs, group_matrix(group, jobs))


def groups(db: Database, *, package: str | None, state: SubmitState | None) -> list[GroupRecord]:
    """The newest groups that match, newest first."""
    query = GroupFilter(package=package, states=(state,) if state else (), limit=GROUP_LISTING)
    return list(reversed(list_groups(db, query)))


# --- one job ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobView:
    detail: JobDetailRecord
    attempts: tuple[JobAttemptRecord, ...]
    inputs: tuple[ArtifactRecord, ...]
    outputs: tuple[ArtifactRecord, ...]
    log: JobLog | None


def job_view(db: Database, job_uuid: uuid.UUID) -> JobView:
    detail = find_job_detail(db, job_uuid)
    if detail is None:
        raise NotFoundError(f"no job {job_uuid} in the database")
    outputs = artifacts_of_jobs(db, [detail.job.id])[detail.job.id]
    return JobView(
        detail,
        tuple(attempts_of_job(db, job_uuid)),
        tuple(input_artifacts(db, job_uuid)),
        tuple(outputs),
        job_log(db, job_uuid),
    )


# --- a package ----------------------------------------------------------------------------------

#: How many of a package's newest jobs its page shows and counts.
PACKAGE_HISTORY = 200


@dataclass(frozen=True, slots=True)
class PackageView:
    name: str
    #: Newest first.
    jobs: tuple[JobRecord, ...]

    @property
    def finished(self) -> tuple[JobRecord, ...]:
        return tuple(j for j in self.jobs if j.state in (JobState.SUCCEEDED, JobState.FAILED))

    @property
    def success_rate(self) -> float | None:
        """Succeeded among the jobs that ran to an end (reused and canceled ones do not count)."""
        ran = self.finished
        if not ran:
            return None
        return sum(j.state is JobState.SUCCEEDED for j in ran) / len(ran)

    @property
    def reuse_rate(self) -> float | None:
        if not self.jobs:
            return None
        return sum(j.state is JobState.REUSED for j in self.jobs) / len(self.jobs)


def package_view(db: Database, name: str) -> PackageView:
    found = list_jobs(db, JobFilter(package=name, limit=PACKAGE_HISTORY))
    if not found:
        raise NotFoundError(f"no job of package {name} in the database")
    found.reverse()
    return PackageView(name, tuple(found))


def releases(db: Database, *, limit: int = 200) -> list[ReleaseRecord]:
    return list_releases(db, ReleaseFilter(limit=limit))
