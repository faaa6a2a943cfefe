"""baseline: butido's tables plus states, edges, digests

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "quarantined_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="No jobs are scheduled here before this time (after failures).",
        ),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoints_name")),
        comment="Docker endpoints jobs ran on, with their health for failover.",
    )
    op.create_table(
        "envvars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_envvars")),
        sa.UniqueConstraint("name", "value", name=op.f("uq_envvars_name_value")),
        comment="Environment variables (NAME=value pairs), shared by jobs and submits.",
    )
    op.create_table(
        "githashes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_githashes")),
        sa.UniqueConstraint("hash", name=op.f("uq_githashes_hash")),
        comment="Commits of the package repository that submits were built from.",
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("name", name=op.f("uq_images_name")),
        comment="Container image names as given with -I.",
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_packages_name_version")),
        comment="Package (name, version) pairs that were built or requested.",
    )
    op.create_table(
        "release_stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_stores")),
        sa.UniqueConstraint("store_name", name=op.f("uq_release_stores_store_name")),
        comment="Names of release stores (directories under releases_root).",
    )
    op.create_table(
        "submits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("submit_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_image_id", sa.Integer(), nullable=False),
        sa.Column("requested_package_id", sa.Integer(), nullable=False),
        sa.Column("repo_hash_id", sa.Integer(), nullable=False),
        sa.Column(
            "parent_submit_id",
            sa.Integer(),
            nullable=True,
            comment="The submit this one reruns or rebuilds.",
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "build",
                "rerun",
                "rebuild",
                name="submit_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                "canceled",
                "lost",
                name="submit_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "dirty",
            sa.Boolean(),
            nullable=False,
            comment="Built from a work tree that differed from the commit (--allow-dirty).",
        ),
        sa.Column(
            "commit_time",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Commit time of repo_hash; SOURCE_DATE_EPOCH of the jobs.",
        ),
        sa.Column("triggered_by", sa.String(), nullable=True, comment="user@host or the CI job."),
        sa.Column("orchestrator_host", sa.String(), nullable=True),
        sa.Column("orchestrator_pid", sa.Integer(), nullable=True),
        sa.Column(
            "heartbeat_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Last sign of life of the orchestrator; stale + running = lost.",
        ),
        sa.ForeignKeyConstraint(
            ["parent_submit_id"],
            ["submits.id"],
            name=op.f("fk_submits_parent_submit_id_submits"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["repo_hash_id"],
            ["githashes.id"],
            name=op.f("fk_submits_repo_hash_id_githashes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_image_id"],
            ["images.id"],
            name=op.f("fk_submits_requested_image_id_images"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_package_id"],
            ["packages.id"],
            name=op.f("fk_submits_requested_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submits")),
        sa.UniqueConstraint("uuid", name=op.f("uq_submits_uuid")),
        comment="One `butido build` (or rerun, rebuild): what was asked for and its outcome.",
    )
    op.create_index("ix_submits_parent_submit_id", "submits", ["parent_submit_id"], unique=False)
    op.create_index("ix_submits_repo_hash_id", "submits", ["repo_hash_id"], unique=False)
    op.create_index(
        "ix_submits_requested_image_id", "submits", ["requested_image_id"], unique=False
    )
    op.create_index(
        "ix_submits_requested_package_id", "submits", ["requested_package_id"], unique=False
    )
    op.create_index("ix_submits_state", "submits", ["state"], unique=False)
    op.create_index("ix_submits_submit_time", "submits", ["submit_time"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submit_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("container_hash", sa.String(), nullable=True),
        sa.Column("script_text", sa.Text(), nullable=False),
        sa.Column(
            "log_text",
            sa.Text(),
            nullable=True,
            comment="The raw log; appended to while the job runs.",
        ),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "planned",
                "queued",
                "running",
                "succeeded",
                "failed",
                "dep_failed",
                "reused",
                "canceled",
                "lost",
                name="job_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "failure_kind",
            sa.Enum(
                "script",
                "infra",
                "outputs",
                "canceled",
                "lost",
                "timeout",
                name="failure_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("image_digest", sa.String(), nullable=True),
        sa.Column(
            "job_key",
            sa.String(length=64),
            nullable=True,
            comment="sha256 over everything that can change the outputs (reuse by content).",
        ),
        sa.Column("reused_from_job_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_jobs_endpoint_id_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_jobs_image_id_images"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_jobs_package_id_packages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reused_from_job_id"],
            ["jobs.id"],
            name=op.f("fk_jobs_reused_from_job_id_jobs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submit_id"],
            ["submits.id"],
            name=op.f("fk_jobs_submit_id_submits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("uuid", name=op.f("uq_jobs_uuid")),
        comment="One package built (or reused) for a submit, and how that went.",
    )
    op.create_index("ix_jobs_endpoint_id", "jobs", ["endpoint_id"], unique=False)
    op.create_index("ix_jobs_image_id", "jobs", ["image_id"], unique=False)
    op.create_index("ix_jobs_job_key", "jobs", ["job_key"], unique=False)
    op.create_index("ix_jobs_package_id", "jobs", ["package_id"], unique=False)
    op.create_index("ix_jobs_reused_from_job_id", "jobs", ["reused_from_job_id"], unique=False)
    op.create_index("ix_jobs_state", "jobs", ["state"], unique=False)
    op.create_index("ix_jobs_submit_id", "jobs", ["submit_id"], unique=False)
    op.create_table(
        "submit_envs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submit_id", sa.Integer(), nullable=False),
        sa.Column("env_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["env_id"],
            ["envvars.id"],
            name=op.f("fk_submit_envs_env_id_envvars"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submit_id"],
            ["submits.id"],
            name=op.f("fk_submit_envs_submit_id_submits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submit_envs")),
        sa.UniqueConstraint("submit_id", "env_id", name=op.f("uq_submit_envs_submit_id_env_id")),
        comment="The -E variables of a submit (butido had the table but never wrote it).",
    )
    op.create_index("ix_submit_envs_env_id", "submit_envs", ["env_id"], unique=False)
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True, comment="NULL for butido's rows."),
        sa.Column("size", sa.BigInteger(), nullable=True, comment="Bytes; NULL for butido's rows."),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_artifacts_job_id_jobs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint("path", "job_id", name=op.f("uq_artifacts_path_job_id")),
        comment="Files a job left in /outputs, relative to <staging>/<submit uuid>/.",
    )
    op.create_index("ix_artifacts_job_id", "artifacts", ["job_id"], unique=False)
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"], unique=False)
    op.create_table(
        "job_dependencies",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("depends_on_job_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "build",
                "runtime",
                name="dependency_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["depends_on_job_id"],
            ["jobs.id"],
            name=op.f("fk_job_dependencies_depends_on_job_id_jobs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_job_dependencies_job_id_jobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "job_id", "depends_on_job_id", "kind", name=op.f("pk_job_dependencies")
        ),
        comment="The build plan as edges: job_id needs depends_on_job_id.",
    )
    op.create_index(
        "ix_job_dependencies_depends_on_job_id",
        "job_dependencies",
        ["depends_on_job_id"],
        unique=False,
    )
    op.create_table(
        "job_envs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("env_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["env_id"], ["envvars.id"], name=op.f("fk_job_envs_env_id_envvars"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_envs_job_id_jobs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_envs")),
        sa.UniqueConstraint("job_id", "env_id", name=op.f("uq_job_envs_job_id_env_id")),
        comment="The final environment of each job.",
    )
    op.create_index("ix_job_envs_env_id", "job_envs", ["env_id"], unique=False)
    op.create_table(
        "job_input_artifacts",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_job_input_artifacts_artifact_id_artifacts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_job_input_artifacts_job_id_jobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("job_id", "artifact_id", name=op.f("pk_job_input_artifacts")),
        comment="Which exact artifacts were copied into /inputs of each job.",
    )
    op.create_index(
        "ix_job_input_artifacts_artifact_id", "job_input_artifacts", ["artifact_id"], unique=False
    )
    op.create_table(
        "rebuild_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rebuild_submit_id", sa.Integer(), nullable=False),
        sa.Column("original_artifact_id", sa.Integer(), nullable=False),
        sa.Column(
            "rebuilt_artifact_id",
            sa.Integer(),
            nullable=True,
            comment="NULL when the rebuild did not produce the file.",
        ),
        sa.Column(
            "verdict",
            sa.Enum(
                "reproducible",
                "differs",
                "missing",
                name="rebuild_verdict",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["original_artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_rebuild_results_original_artifact_id_artifacts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rebuild_submit_id"],
            ["submits.id"],
            name=op.f("fk_rebuild_results_rebuild_submit_id_submits"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rebuilt_artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_rebuild_results_rebuilt_artifact_id_artifacts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebuild_results")),
        comment="Reproducibility verdicts: an original artifact against its rebuild.",
    )
    op.create_index(
        "ix_rebuild_results_original_artifact_id",
        "rebuild_results",
        ["original_artifact_id"],
        unique=False,
    )
    op.create_index(
        "ix_rebuild_results_rebuild_submit_id",
        "rebuild_results",
        ["rebuild_submit_id"],
        unique=False,
    )
    op.create_index(
        "ix_rebuild_results_rebuilt_artifact_id",
        "rebuild_results",
        ["rebuilt_artifact_id"],
        unique=False,
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("release_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release_store_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_releases_artifact_id_artifacts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["release_store_id"],
            ["release_stores.id"],
            name=op.f("fk_releases_release_store_id_release_stores"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint(
            "artifact_id", "release_date", name=op.f("uq_releases_artifact_id_release_date")
        ),
        comment="An artifact copied into a release store, and when.",
    )
    op.create_index("ix_releases_release_date", "releases", ["release_date"], unique=False)
    op.create_index("ix_releases_release_store_id", "releases", ["release_store_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_releases_release_store_id", table_name="releases")
    op.drop_index("ix_releases_release_date", table_name="releases")
    op.drop_table("releases")
    op.drop_index("ix_rebuild_results_rebuilt_artifact_id", table_name="rebuild_results")
    op.drop_index("ix_rebuild_results_rebuild_submit_id", table_name="rebuild_results")
    op.drop_index("ix_rebuild_results_original_artifact_id", table_name="rebuild_results")
    op.drop_table("rebuild_results")
    op.drop_index("ix_job_input_artifacts_artifact_id", table_name="job_input_artifacts")
    op.drop_table("job_input_artifacts")
    op.drop_index("ix_job_envs_env_id", table_name="job_envs")
    op.drop_table("job_envs")
    op.drop_index("ix_job_dependencies_depends_on_job_id", table_name="job_dependencies")
    op.drop_table("job_dependencies")
    op.drop_index("ix_artifacts_sha256", table_name="artifacts")
    op.drop_index("ix_artifacts_job_id", table_name="artifacts")
    op.drop_table("artifacts")
    op.drop_index("ix_submit_envs_env_id", table_name="submit_envs")
    op.drop_table("submit_envs")
    op.drop_index("ix_jobs_submit_id", table_name="jobs")
    op.drop_index("ix_jobs_state", table_name="jobs")
    op.drop_index("ix_jobs_reused_from_job_id", table_name="jobs")
    op.drop_index("ix_jobs_package_id", table_name="jobs")
    op.drop_index("ix_jobs_job_key", table_name="jobs")
    op.drop_index("ix_jobs_image_id", table_name="jobs")
    op.drop_index("ix_jobs_endpoint_id", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_submits_submit_time", table_name="submits")
    op.drop_index("ix_submits_state", table_name="submits")
    op.drop_index("ix_submits_requested_package_id", table_name="submits")
    op.drop_index("ix_submits_requested_image_id", table_name="submits")
    op.drop_index("ix_submits_repo_hash_id", table_name="submits")
    op.drop_index("ix_submits_parent_submit_id", table_name="submits")
    op.drop_table("submits")
    op.drop_table("release_stores")
    op.drop_table("packages")
    op.drop_table("images")
    op.drop_table("githashes")
    op.drop_table("envvars")
    op.drop_table("endpoints")
