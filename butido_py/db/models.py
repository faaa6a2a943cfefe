"""SQLAlchemy models of the schema (DESIGN.md §4): butido's tables and columns, plus additions.

The baseline migration in migrations/versions creates exactly this; tests/integration/db checks that
models and migrations do not drift. Queries use these tables through SQLAlchemy Core and return
`*Record` dataclasses (db/records.py); no ORM object leaves this package.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from butido_py.states import (
    DependencyKind,
    FailureKind,
    JobState,
    RebuildVerdict,
    SubmitKind,
    SubmitState,
)

# Stable constraint names, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """TIMESTAMPTZ on PostgreSQL; on SQLite (no time zones) the UTC wall time, read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: butido_py stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(kind: type[StrEnum], name: str) -> Enum:
    """A VARCHAR holding the enum's value (not its name), checked by a CHECK constraint."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="RESTRICT")


class EnvVar(Base):
    __tablename__ = "envvars"
    __table_args__ = (
        UniqueConstraint("name", "value"),
        {"comment": "Environment variables (NAME=value pairs), shared by jobs and submits."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(String)


class GitHash(Base):
    __tablename__ = "githashes"
    __table_args__ = (
        {"comment": "Commits of the package repository that submits were built from."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Package(Base):
    __tablename__ = "packages"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        {"comment": "Package (name, version) pairs that were built or requested."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    version: Mapped[str] = mapped_column(String)


class Image(Base):
    __tablename__ = "images"
    __table_args__ = ({"comment": "Container image names as given with -I."},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)


class Endpoint(Base):
    __tablename__ = "endpoints"
    __table_args__ = ({"comment": "Docker endpoints jobs ran on, with their health for failover."},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    quarantined_until: Mapped[datetime | None] = mapped_column(
        UtcDateTime, comment="No jobs are scheduled here before this time (after failures)."
    )
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Submit(Base):
    __tablename__ = "submits"
    __table_args__ = (
        Index("ix_submits_submit_time", "submit_time"),
        Index("ix_submits_requested_package_id", "requested_package_id"),
        Index("ix_submits_requested_image_id", "requested_image_id"),
        Index("ix_submits_repo_hash_id", "repo_hash_id"),
        Index("ix_submits_parent_submit_id", "parent_submit_id"),
        Index("ix_submits_state", "state"),
        {"comment": "One `butido build` (or rerun, rebuild): what was asked for and its outcome."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    submit_time: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_image_id: Mapped[int] = mapped_column(_fk("images.id"))
    requested_package_id: Mapped[int] = mapped_column(_fk("packages.id"))
    repo_hash_id: Mapped[int] = mapped_column(_fk("githashes.id"))
    parent_submit_id: Mapped[int | None] = mapped_column(
        _fk("submits.id"), comment="The submit this one reruns or rebuilds."
    )
    kind: Mapped[SubmitKind] = mapped_column(_enum(SubmitKind, "submit_kind"))
    state: Mapped[SubmitState] = mapped_column(_enum(SubmitState, "submit_state"))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dirty: Mapped[bool] = mapped_column(
        Boolean, comment="Built from a work tree that differed from the commit (--allow-dirty)."
    )
    commit_time: Mapped[datetime | None] = mapped_column(
        UtcDateTime, comment="Commit time of repo_hash; SOURCE_DATE_EPOCH of the jobs."
    )
    triggered_by: Mapped[str | None] = mapped_column(String, comment="user@host or the CI job.")
    orchestrator_host: Mapped[str | None] = mapped_column(String)
    orchestrator_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, comment="Last sign of life of the orchestrator; stale + running = lost."
    )


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_submit_id", "submit_id"),
        Index("ix_jobs_package_id", "package_id"),
        Index("ix_jobs_image_id", "image_id"),
        Index("ix_jobs_endpoint_id", "endpoint_id"),
        Index("ix_jobs_state", "state"),
        Index("ix_jobs_job_key", "job_key"),
        Index("ix_jobs_reused_from_job_id", "reused_from_job_id"),
        {"comment": "One package built (or reused) for a submit, and how that went."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submit_id: Mapped[int] = mapped_column(_fk("submits.id"))
    endpoint_id: Mapped[int | None] = mapped_column(_fk("endpoints.id"))
    package_id: Mapped[int] = mapped_column(_fk("packages.id"))
    image_id: Mapped[int] = mapped_column(_fk("images.id"))
    container_hash: Mapped[str | None] = mapped_column(String)
    script_text: Mapped[str] = mapped_column(Text)
    log_text: Mapped[str | None] = mapped_column(
        Text, comment="The raw log; appended to while the job runs."
    )
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"))
    failure_kind: Mapped[FailureKind | None] = mapped_column(_enum(FailureKind, "failure_kind"))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    image_digest: Mapped[str | None] = mapped_column(String)
    job_key: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 over everything that can change the outputs (reuse by content)."
    )
    reused_from_job_id: Mapped[int | None] = mapped_column(_fk("jobs.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    job_key_document: Mapped[str | None] = mapped_column(
        Text, comment="The job key's components as JSON: what an explanation compares."
    )


class JobDependency(Base):
    __tablename__ = "job_dependencies"
    __table_args__ = (
        Index("ix_job_dependencies_depends_on_job_id", "depends_on_job_id"),
        {"comment": "The build plan as edges: job_id needs depends_on_job_id."},
    )
    job_id: Mapped[int] = mapped_column(_fk("jobs.id"), primary_key=True)
    depends_on_job_id: Mapped[int] = mapped_column(_fk("jobs.id"), primary_key=True)
    kind: Mapped[DependencyKind] = mapped_column(
        _enum(DependencyKind, "dependency_kind"), primary_key=True
    )


class Artifact(Base):
    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("path", "job_id"),
        Index("ix_artifacts_job_id", "job_id"),
        Index("ix_artifacts_sha256", "sha256"),
        {"comment": "Files a job left in /outputs, relative to <staging>/<submit uuid>/."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String)
    job_id: Mapped[int] = mapped_column(_fk("jobs.id"))
    sha256: Mapped[str | None] = mapped_column(String(64), comment="NULL for butido's rows.")
    size: Mapped[int | None] = mapped_column(BigInteger, comment="Bytes; NULL for butido's rows.")


class JobInputArtifact(Base):
    __tablename__ = "job_input_artifacts"
    __table_args__ = (
        Index("ix_job_input_artifacts_artifact_id", "artifact_id"),
        {"comment": "Which exact artifacts were copied into /inputs of each job."},
    )
    job_id: Mapped[int] = mapped_column(_fk("jobs.id"), primary_key=True)
    artifact_id: Mapped[int] = mapped_column(_fk("artifacts.id"), primary_key=True)


class JobEnv(Base):
    __tablename__ = "job_envs"
    __table_args__ = (
        UniqueConstraint("job_id", "env_id"),
        Index("ix_job_envs_env_id", "env_id"),
        {"comment": "The final environment of each job."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(_fk("jobs.id"))
    env_id: Mapped[int] = mapped_column(_fk("envvars.id"))


class SubmitEnv(Base):
    __tablename__ = "submit_envs"
    __table_args__ = (
        UniqueConstraint("submit_id", "env_id"),
        Index("ix_submit_envs_env_id", "env_id"),
        {"comment": "The -E variables of a submit (butido had the table but never wrote it)."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submit_id: Mapped[int] = mapped_column(_fk("submits.id"))
    env_id: Mapped[int] = mapped_column(_fk("envvars.id"))


class ReleaseStore(Base):
    __tablename__ = "release_stores"
    __table_args__ = ({"comment": "Names of release stores (directories under releases_root)."},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_name: Mapped[str] = mapped_column(String(255), unique=True)


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("artifact_id", "release_date"),
        Index("ix_releases_release_store_id", "release_store_id"),
        Index("ix_releases_release_date", "release_date"),
        {"comment": "An artifact copied into a release store, and when."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(_fk("artifacts.id"))
    release_date: Mapped[datetime] = mapped_column(UtcDateTime)
    release_store_id: Mapped[int] = mapped_column(_fk("release_stores.id"))


class RebuildResult(Base):
    __tablename__ = "rebuild_results"
    __table_args__ = (
        Index("ix_rebuild_results_rebuild_submit_id", "rebuild_submit_id"),
        Index("ix_rebuild_results_original_artifact_id", "original_artifact_id"),
        Index("ix_rebuild_results_rebuilt_artifact_id", "rebuilt_artifact_id"),
        {"comment": "Reproducibility verdicts: an original artifact against its rebuild."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rebuild_submit_id: Mapped[int] = mapped_column(_fk("submits.id"))
    original_artifact_id: Mapped[int | None] = mapped_column(
        _fk("artifacts.id"), comment="NULL when only the rebuild produced the file (extra)."
    )
    rebuilt_artifact_id: Mapped[int | None] = mapped_column(
        _fk("artifacts.id"), comment="NULL when the rebuild did not produce the file (missing)."
    )
    package_id: Mapped[int] = mapped_column(
        _fk("packages.id"), comment="The package whose job made the artifact."
    )
    path: Mapped[str] = mapped_column(
        String, comment="The artifact's path, relative to its submit's staging directory."
    )
    verdict: Mapped[RebuildVerdict] = mapped_column(_enum(RebuildVerdict, "rebuild_verdict"))
    diff_summary: Mapped[str | None] = mapped_column(
        Text, comment="diffoscope's text summary of a difference, when diffoscope was installed."
    )


class JobAttempt(Base):
    __tablename__ = "job_attempts"
    __table_args__ = (
        UniqueConstraint("job_id", "attempt"),
        Index("ix_job_attempts_endpoint_id", "endpoint_id"),
        {"comment": "Every try of a job on an endpoint; infrastructure failures are retried."},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(_fk("jobs.id"))
    attempt: Mapped[int] = mapped_column(Integer, comment="1 for the first try.")
    endpoint_id: Mapped[int | None] = mapped_column(_fk("endpoints.id"))
    container_hash: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure_kind: Mapped[FailureKind | None] = mapped_column(
        _enum(FailureKind, "failure_kind"), comment="NULL while running and when it succeeded."
    )
    error: Mapped[str | None] = mapped_column(Text, comment="Why the attempt failed.")


# The tables, for the Core queries of the entity modules.
ENVVARS = Base.metadata.tables["envvars"]
GITHASHES = Base.metadata.tables["githashes"]
PACKAGES = Base.metadata.tables["packages"]
IMAGES = Base.metadata.tables["images"]
ENDPOINTS = Base.metadata.tables["endpoints"]
SUBMITS = Base.metadata.tables["submits"]
JOBS = Base.metadata.tables["jobs"]
JOB_DEPENDENCIES = Base.metadata.tables["job_dependencies"]
ARTIFACTS = Base.metadata.tables["artifacts"]
JOB_INPUT_ARTIFACTS = Base.metadata.tables["job_input_artifacts"]
JOB_ENVS = Base.metadata.tables["job_envs"]
SUBMIT_ENVS = Base.metadata.tables["submit_envs"]
RELEASE_STORES = Base.metadata.tables["release_stores"]
RELEASES = Base.metadata.tables["releases"]
REBUILD_RESULTS = Base.metadata.tables["rebuild_results"]
JOB_ATTEMPTS = Base.metadata.tables["job_attempts"]
