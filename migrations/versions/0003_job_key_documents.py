"""job key documents: the components of each job's key, so that any process can explain why a job
ran instead of reusing an earlier one (`build --explain`, `db job --explain`)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column(
                "job_key_document",
                sa.Text(),
                nullable=True,
                comment="The job key's components as JSON: what an explanation compares.",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("job_key_document")
