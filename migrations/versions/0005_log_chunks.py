"""job logs in chunks, byte for byte, per attempt

A running job's output is appended to `log_chunks` as it arrives (one row per flushed chunk), so
any process can follow it and no process rewrites (or holds) a whole log. Logs recorded before
stay in `jobs.log_text`, which the readers fall back to (docs/database.md: "Logs").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


OLD_COMMENT = "The raw log; appended to while the job runs."
NEW_COMMENT = "butido's log column: logs recorded before log_chunks (0005); NULL since."


def upgrade() -> None:
    op.create_table(
        "log_chunks",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column(
            "attempt", sa.Integer(), nullable=False, comment="The job's attempt that printed it."
        ),
        sa.Column("seq", sa.Integer(), nullable=False, comment="0, 1, 2, … within the attempt."),
        sa.Column(
            "bytes", sa.LargeBinary(), nullable=False, comment="The output exactly as printed."
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_log_chunks_job_id_jobs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("job_id", "attempt", "seq", name=op.f("pk_log_chunks")),
        comment="Job logs as they arrive, one row per flushed chunk: any process can follow them.",
    )
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "log_text",
            existing_type=sa.Text(),
            existing_nullable=True,
            comment=NEW_COMMENT,
            existing_comment=OLD_COMMENT,
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "log_text",
            existing_type=sa.Text(),
            existing_nullable=True,
            comment=OLD_COMMENT,
            existing_comment=NEW_COMMENT,
        )
    op.drop_table("log_chunks")
