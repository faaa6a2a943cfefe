"""rebuild verdicts with paths and diff summaries, job attempts

`rebuild_results` is recreated: no earlier butido_py wrote it, and its verdicts change
(`identical`, `differs`, `missing`, `extra`), its original artifact becomes optional (an `extra`
file has none) and it gains the package, the path and diffoscope's summary. `job_attempts` records
every try of a job (infrastructure failures are retried on another endpoint).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _verdict(*values: str) -> sa.Enum:
    return sa.Enum(
        *values, name="rebuild_verdict", native_enum=False, create_constraint=True, length=16
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def _rebuild_indexes() -> None:
    for column in ("original_artifact_id", "rebuild_submit_id", "rebuilt_artifact_id"):
        op.create_index(f"ix_rebuild_results_{column}", "rebuild_results", [column], unique=False)


def _drop_rebuild_results() -> None:
    for column in ("rebuilt_artifact_id", "rebuild_submit_id", "original_artifact_id"):
        op.drop_index(f"ix_rebuild_results_{column}", table_name="rebuild_results")
    op.drop_table("rebuild_results")


def upgrade() -> None:
    _drop_rebuild_results()
    op.create_table(
        "rebuild_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rebuild_submit_id", sa.Integer(), nullable=False),
        sa.Column(
            "original_artifact_id",
            sa.Integer(),
            nullable=True,
            comment="NULL when only the rebuild produced the file (extra).",
        ),
        sa.Column(
            "rebuilt_artifact_id",
            sa.Integer(),
            nullable=True,
            comment="NULL when the rebuild did not produce the file (missing).",
        ),
        sa.Column(
            "package_id",
            sa.Integer(),
            nullable=False,
            comment="The package whose job made the artifact.",
        ),
        sa.Column(
            "path",
            sa.String(),
            nullable=False,
            comment="The artifact's path, relative to its submit's staging directory.",
        ),
        sa.Column("verdict", _verdict("identical", "differs", "missing", "extra"), nullable=False),
        sa.Column(
            "diff_summary",
            sa.Text(),
            nullable=True,
            comment="diffoscope's text summary of a difference, when diffoscope was installed.",
        ),
        _fk("rebuild_results", "original_artifact_id", "artifacts"),
        _fk("rebuild_results", "package_id", "packages"),
        _fk("rebuild_results", "rebuild_submit_id", "submits"),
        _fk("rebuild_results", "rebuilt_artifact_id", "artifacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebuild_results")),
        comment="Reproducibility verdicts: an original artifact against its rebuild.",
    )
    _rebuild_indexes()
    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False, comment="1 for the first try."),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("container_hash", sa.String(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
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
            comment="NULL while running and when it succeeded.",
        ),
        sa.Column("error", sa.Text(), nullable=True, comment="Why the attempt failed."),
        _fk("job_attempts", "endpoint_id", "endpoints"),
        _fk("job_attempts", "job_id", "jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_attempts")),
        sa.UniqueConstraint("job_id", "attempt", name=op.f("uq_job_attempts_job_id_attempt")),
        comment="Every try of a job on an endpoint; infrastructure failures are retried.",
    )
    op.create_index("ix_job_attempts_endpoint_id", "job_attempts", ["endpoint_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_attempts_endpoint_id", table_name="job_attempts")
    op.drop_table("job_attempts")
    _drop_rebuild_results()
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
        sa.Column("verdict", _verdict("reproducible", "differs", "missing"), nullable=False),
        _fk("rebuild_results", "original_artifact_id", "artifacts"),
        _fk("rebuild_results", "rebuild_submit_id", "submits"),
        _fk("rebuild_results", "rebuilt_artifact_id", "artifacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebuild_results")),
        comment="Reproducibility verdicts: an original artifact against its rebuild.",
    )
    _rebuild_indexes()
