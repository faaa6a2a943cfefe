"""The data a build passes around: the checked plan, live job events and the final result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from uuid import UUID

from butido_py.config.model import EndpointConfig
from butido_py.package.model import DependencyKind, Package
from butido_py.sources.cache import CachedSource
from butido_py.states import JobState, SubmitKind


@dataclass(frozen=True, slots=True)
class BuildJob:
    """One package of the plan, with everything its container needs except dependency outputs."""

    uuid: UUID
    package: Package
    script: str
    #: The final environment: package `environment`, `-E` over it, git variables,
    #: SOURCE_DATE_EPOCH.
    env: tuple[tuple[str, str], ...]
    #: Direct dependencies (job uuid, kind), build ones first.
    needs: tuple[tuple[UUID, DependencyKind], ...]
    #: Every job this one needs directly or indirectly (their artifacts go to /inputs).
    transitive: tuple[UUID, ...]
    sources: tuple[CachedSource, ...]

    @property
    def label(self) -> str:
        return f"{self.package.name} {self.package.version}"


@dataclass(frozen=True, slots=True)
class BuildSettings:
    reuse: bool = True
    keep_containers: bool = False
    write_log: bool = False
    log_dir: Path | None = None
    build_error_lines: int = 10
    #: Bytes of a job's log stored at most (config key max_log_size); None: no limit.
    max_log_size: int | None = None
    #: Directories whose `<submit uuid>/<path>` may hold reusable artifacts.
    staging_roots: tuple[Path, ...] = ()
    #: Release store directories (`<releases_root>/<store>`).
    release_dirs: tuple[Path, ...] = ()
    #: Failover (`docker.job_attempts`, `docker.quarantine_after`, `docker.quarantine_seconds`).
    job_attempts: int = 3
    quarantine_after: int = 2
    quarantine_seconds: int = 300
    #: A running submit whose heartbeat is older is dead (`heartbeat_timeout`): jobs do not wait
    #: for its jobs (coalescing).
    heartbeat_timeout: int = 600
    #: (package name, version) → seconds its container may run (docs/build.md#timeouts); a
    #: package not in it has no limit.
    job_timeouts: dict[tuple[str, str], float] = field(default_factory=dict)
    #: `build --priority`: higher gets endpoint slots first when they are short.
    priority: int = 0
    #: Bytes one job's outputs may have together (`max_output_size`); None: no limit.
    max_output_size: int | None = None


@dataclass(frozen=True, slots=True)
class PreparedBuild:
    """A checked build: nothing has been written yet."""

    submit_uuid: UUID
    root: Package
    image: str
    #: endpoint name → id of the image there; the first selected endpoint's id is the job key's.
    image_ids: dict[str, str]
    endpoints: tuple[EndpointConfig, ...]
    commit: str
    commit_time: int
    dirty: bool
    cli_env: tuple[tuple[str, str], ...]
    #: Topological order: every job after the jobs it needs.
    jobs: tuple[BuildJob, ...]
    patch_contents: dict[str, bytes]
    staging_dir: Path
    settings: BuildSettings = field(default_factory=BuildSettings)
    #: A rerun or rebuild names the submit it repeats.
    kind: SubmitKind = SubmitKind.BUILD
    parent_submit: UUID | None = None
    #: Jobs of this plan that reuse a given earlier job (a rerun reuses what succeeded), whatever
    #: `settings.reuse` says; they run when that job's artifacts are no longer all on disk.
    reuse_from: dict[UUID, UUID] = field(default_factory=dict)

    @property
    def image_digest(self) -> str:
        return self.image_ids[self.endpoints[0].name]


class JobEventKind(StrEnum):
    REUSED = "reused"
    QUEUED = "queued"
    STARTED = "started"
    PHASE = "phase"
    PROGRESS = "progress"
    #: An endpoint failed the job; it is queued again for another try (`detail` says why).
    RETRY = "retry"
    #: Another running submit has the job's key in flight: the job waits for that job (`detail`
    #: names it) and is reused from it when it succeeds.
    WAITING = "waiting"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class JobEvent:
    kind: JobEventKind
    job: UUID
    package: str
    version: str
    endpoint: str | None = None
    container: str | None = None
    phase: str | None = None
    progress: int | None = None
    #: For FINISHED (and REUSED): the job's final state (succeeded, failed, dep_failed, …).
    state: str | None = None
    #: For RETRY: the next attempt and why the last one failed.
    detail: str | None = None


class BuildListener(Protocol):
    """Hears what happens during a run; called from worker threads (must be thread-safe)."""

    def started(self, prepared: PreparedBuild) -> None: ...

    def event(self, event: JobEvent) -> None: ...

    def finished(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Artifact:
    """An artifact on disk that a job made or reused."""

    #: The database id; None until the row of an artifact made in this run is written.
    id: int | None
    path: str  # relative to its submit's staging directory
    file: Path  # where it is now
    sha256: str
    #: The job of this run that made it (None for reused artifacts).
    made_by: UUID | None = None


@dataclass(frozen=True, slots=True)
class JobSummary:
    uuid: UUID
    package: str
    version: str
    state: str
    endpoint: str | None = None
    container: str | None = None
    exit_code: int | None = None
    phase: str | None = None
    error: str | None = None
    #: The last `build_error_lines` lines of the log (index in the whole log, text).
    last_lines: tuple[tuple[int, str], ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    reused_from: UUID | None = None


@dataclass(frozen=True, slots=True)
class BuildResult:
    submit_uuid: UUID
    state: str  # succeeded, failed, canceled
    staging_dir: Path
    jobs: tuple[JobSummary, ...]
    seconds: float

    @property
    def created(self) -> list[Artifact]:
        return [a for j in self.jobs if j.state == JobState.SUCCEEDED for a in j.artifacts]

    @property
    def reused(self) -> list[Artifact]:
        return [a for j in self.jobs if j.state == JobState.REUSED for a in j.artifacts]

    @property
    def failed(self) -> list[JobSummary]:
        return [j for j in self.jobs if j.state == JobState.FAILED]

    def count(self, state: str) -> int:
        return sum(1 for j in self.jobs if j.state == state)


def needed_artifacts(
    job: BuildJob, artifacts: Mapping[UUID, Sequence[Artifact]]
) -> tuple[Artifact, ...]:
    """The artifacts of every job `job` needs (directly or not): what goes to its /inputs."""
    return tuple(a for need in job.transitive for a in artifacts.get(need, ()))


def artifact_origins(
    job: BuildJob, jobs: Mapping[UUID, BuildJob], artifacts: Mapping[UUID, Sequence[Artifact]]
) -> dict[str, str]:
    """sha256 of each input artifact of `job` → "<package> <version>: <path>" of its job."""
    return {
        artifact.sha256: f"{jobs[need].label}: {artifact.path}"
        for need in job.transitive
        for artifact in artifacts.get(need, ())
    }
