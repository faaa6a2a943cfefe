"""Why each job ran (`build --explain`, `db job --explain`): a job's recorded key document compared
with those of earlier successful jobs of the same package version (plan/key_explain.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from butido_py.db import jobs as db_jobs
from butido_py.db.database import Database
from butido_py.errors import UsageError
from butido_py.plan.key_explain import Change, Component, KeyDocument, describe, explain
from butido_py.states import JobState

#: Earlier jobs an explanation compares with (the newest of the package version).
COMPARED = 20
OLDER_JOBS = (
    "the earlier jobs of this package version were recorded before key documents existed "
    "(butido_py before schema 0003): nothing to compare with"
)


@dataclass(frozen=True, slots=True)
class JobExplanation:
    job: uuid.UUID
    package: str
    version: str
    state: JobState
    #: The job it reused (state `reused`), or the earlier job its key was compared with.
    other: uuid.UUID | None = None
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"{self.package} {self.version}"

    def reason(self) -> str:
        """One line: reused from which job, or why it ran."""
        if self.state is JobState.REUSED:
            return f"reused job {self.other} (same key)"
        if not self.changes:
            return f"{self.state}: it never ran, so its key was never computed"
        return f"ran: {describe(self.other, self.changes)}"

    def as_json(self) -> dict[str, object]:
        return {
            "job": str(self.job),
            "package": self.package,
            "version": self.version,
            "state": str(self.state),
            "compared_with": str(self.other) if self.other else None,
            "reused_from": str(self.other) if self.state is JobState.REUSED else None,
            "changes": [change.as_json() for change in self.changes],
        }


def explain_job(database: Database, job_uuid: uuid.UUID) -> JobExplanation:
    """Why this recorded job ran (or which job it reused)."""
    record = db_jobs.find_job(database, job_uuid)
    if record is None:
        raise UsageError(f"no job {job_uuid}", hint="`butido db jobs` lists the recorded jobs")
    base = JobExplanation(record.uuid, record.package_name, record.package_version, record.state)
    if record.state is JobState.REUSED:
        return _with(base, other=record.reused_from_uuid)
    text = db_jobs.find_key_document(database, job_uuid)
    document = KeyDocument.from_json(text) if text else None
    if document is None:
        return base
    earlier = earlier_documents(database, record.package_name, record.package_version, job_uuid)
    other, changes = explain(document, [(str(j), d) for j, d in earlier], base.label)
    if other is None and db_jobs.count_earlier_without_document(
        database, record.package_name, record.package_version, job_uuid
    ):
        changes = [Change(Component.NEW, OLDER_JOBS)]
    return _with(base, other=uuid.UUID(other) if other else None, changes=tuple(changes))


def explain_jobs(database: Database, jobs: Iterable[uuid.UUID]) -> list[JobExplanation]:
    return [explain_job(database, job) for job in jobs]


def earlier_documents(
    database: Database, name: str, version: str, before: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, KeyDocument]]:
    """Key documents of the newest earlier successful jobs of the package version."""
    found = db_jobs.find_earlier_key_documents(
        database, name, version, before=before, limit=COMPARED
    )
    documents = [(job, KeyDocument.from_json(text)) for job, text in found]
    return [(job, document) for job, document in documents if document is not None]


def _with(
    base: JobExplanation, *, other: uuid.UUID | None, changes: tuple[Change, ...] = ()
) -> JobExplanation:
    return JobExplanation(base.job, base.package, base.version, base.state, other, changes)
