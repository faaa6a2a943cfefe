"""What the database layer hands out (`*Record`, frozen) and takes in (plain input dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from butido_py.states import (
    DependencyKind,
    FailureKind,
    JobState,
    RebuildVerdict,
    SubmitKind,
    SubmitState,
)

EnvPairs = tuple[tuple[str, str], ...]


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobEdge:
    """The job this edge starts from needs the job `depends_on` (a uuid within the same plan)."""

    depends_on: UUID
    kind: DependencyKind = DependencyKind.BUILD


@dataclass(frozen=True, slots=True)
class PlannedJob:
    uuid: UUID
    package_name: str
    package_version: str
    image: str
    script_text: str
    env: EnvPairs = ()
    depends_on: tuple[JobEdge, ...] = ()
    job_key: str | None = None
    image_digest: str | None = None
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class PlannedSubmit:
    uuid: UUID
    submit_time: datetime
    image: str
    package_name: str
    package_version: str
    commit_hash: str
    env: EnvPairs = ()
    kind: SubmitKind = SubmitKind.BUILD
    parent_submit_uuid: UUID | None = None
    dirty: bool = False
    commit_time: datetime | None = None
    triggered_by: str | None = None
    orchestrator_host: str | None = None
    orchestrator_pid: int | None = None


@dataclass(frozen=True, slots=True)
class ArtifactInput:
    path: str
    sha256: str
    size: int


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvVarRecord:
    id: int
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class GitHashRecord:
    id: int
    hash: str


@dataclass(frozen=True, slots=True)
class PackageRecord:
    id: int
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    id: int
    name: str
    disabled: bool
    quarantined_until: datetime | None
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class ReleaseStoreRecord:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    id: int
    uuid: UUID
    submit_time: datetime
    image: str
    package_name: str
    package_version: str
    commit_hash: str
    kind: SubmitKind
    state: SubmitState
    finished_at: datetime | None
    dirty: bool
    commit_time: datetime | None
    triggered_by: str | None
    parent_uuid: UUID | None
    orchestrator_host: str | None
    orchestrator_pid: int | None
    heartbeat_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    uuid: UUID
    submit_uuid: UUID
    submit_time: datetime
    package_name: str
    package_version: str
    image: str
    endpoint: str | None
    container_hash: str | None
    state: JobState
    failure_kind: FailureKind | None
    exit_code: int | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    image_digest: str | None
    job_key: str | None
    reused_from_uuid: UUID | None
    attempt: int
    #: The package the submit was for (butido #427): the root of this job's tree.
    root_package_name: str
    root_package_version: str


@dataclass(frozen=True, slots=True)
class JobDetailRecord:
    job: JobRecord
    script_text: str
    env: EnvPairs


@dataclass(frozen=True, slots=True)
class JobDependencyRecord:
    job_uuid: UUID
    depends_on_uuid: UUID
    kind: DependencyKind


@dataclass(frozen=True, slots=True)
class SubmitDetailRecord:
    submit: SubmitRecord
    env: EnvPairs
    jobs: tuple[JobRecord, ...]
    dependencies: tuple[JobDependencyRecord, ...]


@dataclass(frozen=True, slots=True)
class PlanRecord:
    submit: SubmitRecord
    #: job uuid -> job id, for every job of the plan.
    job_ids: dict[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    id: int
    path: str
    job_uuid: UUID
    submit_uuid: UUID
    sha256: str | None
    size: int | None
    #: The newest release of this artifact, if any (filled by listings).
    released_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    id: int
    artifact_id: int
    artifact_path: str
    store: str
    release_date: datetime
    package_name: str
    package_version: str
    #: What the released file came from: its submit, its job and its recorded sha256.
    submit_uuid: UUID
    job_uuid: UUID
    sha256: str | None


@dataclass(frozen=True, slots=True)
class RebuildResultRecord:
    id: int
    rebuild_submit_uuid: UUID
    package_name: str
    package_version: str
    path: str
    original_artifact_id: int | None
    rebuilt_artifact_id: int | None
    verdict: RebuildVerdict
    diff_summary: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseCandidateRecord:
    """An artifact of a submit that `release new` may copy, with its newest release into the store
    being released to (None: never released there)."""

    artifact_id: int
    path: str
    sha256: str | None
    size: int | None
    job_uuid: UUID
    package_name: str
    package_version: str
    released_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobOutputRecord:
    """What one job of a submit stands for: its own artifacts, or, for a reused job, those of
    the job it reused (for rebuild verdicts)."""

    job_uuid: UUID
    package_name: str
    package_version: str
    state: JobState
    artifacts: tuple[ArtifactRecord, ...]
