"""The schema (DESIGN.md §4) as SQLAlchemy Core tables: butido's tables and columns, plus additions.

The baseline migration in migrations/versions creates exactly this; tests/integration/db checks that
`METADATA` and the migrations do not drift. Queries use these tables through SQLAlchemy Core and
return `*Record` dataclasses (db/records.py). Core tables, not declarative ORM classes: nothing
maps rows to objects, and SQLAlchemy's ORM costs a `butido db …` process about 0.2 s to import
(issue 23: start-up time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
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

#: Every table of the schema (Alembic's target_metadata).
METADATA = MetaData(naming_convention=NAMING_CONVENTION)


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


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


# Every column states `nullable`: Core's default (NULL allowed) is not what the schema wants.

ENVVARS = Table(
    "envvars",
    METADATA,
    _id(),
    Column("name", String, nullable=False),
    Column("value", String, nullable=False),
    UniqueConstraint("name", "value"),
    comment="Environment variables (NAME=value pairs), shared by jobs and submits.",
)

GITHASHES = Table(
    "githashes",
    METADATA,
    _id(),
    Column("hash", String(64), nullable=False, unique=True),
    comment="Commits of the package repository that submits were built from.",
)

PACKAGES = Table(
    "packages",
    METADATA,
    _id(),
    Column("name", String, nullable=False),
    Column("version", String, nullable=False),
    UniqueConstraint("name", "version"),
    comment="Package (name, version) pairs that were built or requested.",
)

IMAGES = Table(
    "images",
    METADATA,
    _id(),
    Column("name", String, nullable=False, unique=True),
    comment="Container image names as given with -I.",
)

ENDPOINTS = Table(
    "endpoints",
    METADATA,
    _id(),
    Column("name", String, nullable=False, unique=True),
    Column("disabled", Boolean, nullable=False, default=False, server_default=false()),
    Column(
        "quarantined_until",
        UtcDateTime,
        nullable=True,
        comment="No jobs are scheduled here before this time (after failures).",
    ),
    Column("consecutive_failures", Integer, nullable=False, default=0, server_default="0"),
    comment="Docker endpoints jobs ran on, with their health for failover.",
)

GROUPS = Table(
    "groups",
    METADATA,
    _id(),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("package_name", String, nullable=False),
    Column("package_version", String, nullable=False),
    Column(
        "images",
        Text,
        nullable=False,
        comment="JSON list of the requested images (full names), in the order asked.",
    ),
    Column("env", Text, nullable=False, comment="JSON list of the -E [name, value] pairs."),
    Column("commit_hash", String(64), nullable=False),
    Column("kind", _enum(SubmitKind, "group_kind"), nullable=False),
    Column(
        "parent_group_id",
        Integer,
        _fk("groups.id"),
        nullable=True,
        comment="The group this one reruns or rebuilds.",
    ),
    Column("triggered_by", String, nullable=True, comment="user@host or the CI job."),
    Index("ix_groups_created_at", "created_at"),
    comment="One request over several images: a submit per image; its state is derived from "
    "theirs (docs/database.md).",
)

SUBMITS = Table(
    "submits",
    METADATA,
    _id(),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("submit_time", UtcDateTime, nullable=False),
    Column("requested_image_id", Integer, _fk("images.id"), nullable=False),
    Column("requested_package_id", Integer, _fk("packages.id"), nullable=False),
    Column("repo_hash_id", Integer, _fk("githashes.id"), nullable=False),
    Column(
        "parent_submit_id",
        Integer,
        _fk("submits.id"),
        nullable=True,
        comment="The submit this one reruns or rebuilds.",
    ),
    Column("kind", _enum(SubmitKind, "submit_kind"), nullable=False),
    Column("state", _enum(SubmitState, "submit_state"), nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column(
        "dirty",
        Boolean,
        nullable=False,
        comment="Built from a work tree that differed from the commit (--allow-dirty).",
    ),
    Column(
        "commit_time",
        UtcDateTime,
        nullable=True,
        comment="Commit time of repo_hash; SOURCE_DATE_EPOCH of the jobs.",
    ),
    Column("triggered_by", String, nullable=True, comment="user@host or the CI job."),
    Column("orchestrator_host", String, nullable=True),
    Column("orchestrator_pid", Integer, nullable=True),
    Column(
        "heartbeat_at",
        UtcDateTime,
        nullable=True,
        comment="Last sign of life of the orchestrator; stale + running = lost.",
    ),
    Column(
        "priority",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        comment="build --priority: higher gets endpoint slots first when they are short.",
    ),
    Column(
        "group_id",
        Integer,
        _fk("groups.id"),
        nullable=True,
        comment="The group (one request over several images); NULL for submits before 0006.",
    ),
    Index("ix_submits_submit_time", "submit_time"),
    Index("ix_submits_requested_package_id", "requested_package_id"),
    Index("ix_submits_requested_image_id", "requested_image_id"),
    Index("ix_submits_repo_hash_id", "repo_hash_id"),
    Index("ix_submits_parent_submit_id", "parent_submit_id"),
    Index("ix_submits_state", "state"),
    Index("ix_submits_group_id", "group_id"),
    comment="One `butido build` (or rerun, rebuild): what was asked for and its outcome.",
)

JOBS = Table(
    "jobs",
    METADATA,
    _id(),
    Column("submit_id", Integer, _fk("submits.id"), nullable=False),
    Column("endpoint_id", Integer, _fk("endpoints.id"), nullable=True),
    Column("package_id", Integer, _fk("packages.id"), nullable=False),
    Column("image_id", Integer, _fk("images.id"), nullable=False),
    Column("container_hash", String, nullable=True),
    Column("script_text", Text, nullable=False),
    Column(
        "log_text",
        Text,
        nullable=True,
        comment="butido's log column: logs recorded before log_chunks (0005); NULL since.",
    ),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("state", _enum(JobState, "job_state"), nullable=False),
    Column("failure_kind", _enum(FailureKind, "failure_kind"), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("queued_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("image_digest", String, nullable=True),
    Column(
        "job_key",
        String(64),
        nullable=True,
        comment="sha256 over everything that can change the outputs (reuse by content).",
    ),
    Column("reused_from_job_id", Integer, _fk("jobs.id"), nullable=True),
    Column("attempt", Integer, nullable=False, default=1, server_default="1"),
    Column(
        "job_key_document",
        Text,
        nullable=True,
        comment="The job key's components as JSON: what an explanation compares.",
    ),
    Index("ix_jobs_submit_id", "submit_id"),
    Index("ix_jobs_package_id", "package_id"),
    Index("ix_jobs_image_id", "image_id"),
    Index("ix_jobs_endpoint_id", "endpoint_id"),
    Index("ix_jobs_state", "state"),
    Index("ix_jobs_job_key", "job_key"),
    Index("ix_jobs_reused_from_job_id", "reused_from_job_id"),
    comment="One package built (or reused) for a submit, and how that went.",
)

JOB_DEPENDENCIES = Table(
    "job_dependencies",
    METADATA,
    Column("job_id", Integer, _fk("jobs.id"), primary_key=True),
    Column("depends_on_job_id", Integer, _fk("jobs.id"), primary_key=True),
    Column("kind", _enum(DependencyKind, "dependency_kind"), primary_key=True),
    Index("ix_job_dependencies_depends_on_job_id", "depends_on_job_id"),
    comment="The build plan as edges: job_id needs depends_on_job_id.",
)

ARTIFACTS = Table(
    "artifacts",
    METADATA,
    _id(),
    Column("path", String, nullable=False),
    Column("job_id", Integer, _fk("jobs.id"), nullable=False),
    Column("sha256", String(64), nullable=True, comment="NULL for butido's rows."),
    Column("size", BigInteger, nullable=True, comment="Bytes; NULL for butido's rows."),
    UniqueConstraint("path", "job_id"),
    Index("ix_artifacts_job_id", "job_id"),
    Index("ix_artifacts_sha256", "sha256"),
    comment="Files a job left in /outputs, relative to <staging>/<submit uuid>/.",
)

JOB_INPUT_ARTIFACTS = Table(
    "job_input_artifacts",
    METADATA,
    Column("job_id", Integer, _fk("jobs.id"), primary_key=True),
    Column("artifact_id", Integer, _fk("artifacts.id"), primary_key=True),
    Index("ix_job_input_artifacts_artifact_id", "artifact_id"),
    comment="Which exact artifacts were copied into /inputs of each job.",
)

JOB_ENVS = Table(
    "job_envs",
    METADATA,
    _id(),
    Column("job_id", Integer, _fk("jobs.id"), nullable=False),
    Column("env_id", Integer, _fk("envvars.id"), nullable=False),
    UniqueConstraint("job_id", "env_id"),
    Index("ix_job_envs_env_id", "env_id"),
    comment="The final environment of each job.",
)

SUBMIT_ENVS = Table(
    "submit_envs",
    METADATA,
    _id(),
    Column("submit_id", Integer, _fk("submits.id"), nullable=False),
    Column("env_id", Integer, _fk("envvars.id"), nullable=False),
    UniqueConstraint("submit_id", "env_id"),
    Index("ix_submit_envs_env_id", "env_id"),
    comment="The -E variables of a submit (butido had the table but never wrote it).",
)

RELEASE_STORES = Table(
    "release_stores",
    METADATA,
    _id(),
    Column("store_name", String(255), nullable=False, unique=True),
    comment="Names of release stores (directories under releases_root).",
)

RELEASES = Table(
    "releases",
    METADATA,
    _id(),
    Column("artifact_id", Integer, _fk("artifacts.id"), nullable=False),
    Column("release_date", UtcDateTime, nullable=False),
    Column("release_store_id", Integer, _fk("release_stores.id"), nullable=False),
    UniqueConstraint("artifact_id", "release_date"),
    Index("ix_releases_release_store_id", "release_store_id"),
    Index("ix_releases_release_date", "release_date"),
    comment="An artifact copied into a release store, and when.",
)

REBUILD_RESULTS = Table(
    "rebuild_results",
    METADATA,
    _id(),
    Column("rebuild_submit_id", Integer, _fk("submits.id"), nullable=False),
    Column(
        "original_artifact_id",
        Integer,
        _fk("artifacts.id"),
        nullable=True,
        comment="NULL when only the rebuild produced the file (extra).",
    ),
    Column(
        "rebuilt_artifact_id",
        Integer,
        _fk("artifacts.id"),
        nullable=True,
        comment="NULL when the rebuild did not produce the file (missing).",
    ),
    Column(
        "package_id",
        Integer,
        _fk("packages.id"),
        nullable=False,
        comment="The package whose job made the artifact.",
    ),
    Column(
        "path",
        String,
        nullable=False,
        comment="The artifact's path, relative to its submit's staging directory.",
    ),
    Column("verdict", _enum(RebuildVerdict, "rebuild_verdict"), nullable=False),
    Column(
        "diff_summary",
        Text,
        nullable=True,
        comment="diffoscope's text summary of a difference, when diffoscope was installed.",
    ),
    Index("ix_rebuild_results_rebuild_submit_id", "rebuild_submit_id"),
    Index("ix_rebuild_results_original_artifact_id", "original_artifact_id"),
    Index("ix_rebuild_results_rebuilt_artifact_id", "rebuilt_artifact_id"),
    comment="Reproducibility verdicts: an original artifact against its rebuild.",
)

JOB_ATTEMPTS = Table(
    "job_attempts",
    METADATA,
    _id(),
    Column("job_id", Integer, _fk("jobs.id"), nullable=False),
    Column("attempt", Integer, nullable=False, comment="1 for the first try."),
    Column("endpoint_id", Integer, _fk("endpoints.id"), nullable=True),
    Column("container_hash", String, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column(
        "failure_kind",
        _enum(FailureKind, "failure_kind"),
        nullable=True,
        comment="NULL while running and when it succeeded.",
    ),
    Column("error", Text, nullable=True, comment="Why the attempt failed."),
    UniqueConstraint("job_id", "attempt"),
    Index("ix_job_attempts_endpoint_id", "endpoint_id"),
    comment="Every try of a job on an endpoint; infrastructure failures are retried.",
)

LOG_CHUNKS = Table(
    "log_chunks",
    METADATA,
    Column("job_id", Integer, _fk("jobs.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True, comment="The job's attempt that printed it."),
    Column("seq", Integer, primary_key=True, comment="0, 1, 2, … within the attempt."),
    Column("bytes", LargeBinary, nullable=False, comment="The output exactly as printed."),
    comment="Job logs as they arrive, one row per flushed chunk: any process can follow them.",
)


def _holder_columns() -> list[Column[object]]:
    """Who holds (or waits for) a slot: the submit, its job and the orchestrator process."""
    return [
        Column("endpoint_id", Integer, _fk("endpoints.id"), nullable=False),
        Column("job_id", Integer, _fk("jobs.id"), nullable=False, unique=True),
        Column("submit_id", Integer, _fk("submits.id"), nullable=False),
        Column("holder_host", String, nullable=False),
        Column("holder_pid", Integer, nullable=False),
        Column(
            "heartbeat_at",
            UtcDateTime,
            nullable=False,
            comment="Refreshed with the submit's heartbeat; stale = the holder is gone.",
        ),
    ]


ENDPOINT_LEASES = Table(
    "endpoint_leases",
    METADATA,
    _id(),
    *_holder_columns(),
    Column(
        "maxjobs",
        Integer,
        nullable=False,
        comment="The holder's configured maxjobs; the smallest live one holds.",
    ),
    Column("acquired_at", UtcDateTime, nullable=False),
    Index("ix_endpoint_leases_endpoint_id", "endpoint_id"),
    Index("ix_endpoint_leases_submit_id", "submit_id"),
    comment="Endpoint slots held by the running containers of every butido process.",
)

SLOT_REQUESTS = Table(
    "slot_requests",
    METADATA,
    _id(),
    *_holder_columns(),
    Column("priority", Integer, nullable=False, comment="The submit's priority."),
    Column("requested_at", UtcDateTime, nullable=False),
    Index("ix_slot_requests_endpoint_id", "endpoint_id"),
    Index("ix_slot_requests_submit_id", "submit_id"),
    comment="Jobs waiting for an endpoint slot: the fair queue of the leases.",
)
