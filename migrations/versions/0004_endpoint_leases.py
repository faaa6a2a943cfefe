"""endpoint slots as leases in the database, the fair queue of waiting jobs, submit priority

Every butido process sharing the database takes a lease in `endpoint_leases` before it starts a
container, so live leases never exceed an endpoint's `maxjobs` (DESIGN.md §8). Jobs waiting for
a slot wait in `slot_requests`, the queue the next free slot is granted from (priority first,
then round-robin between submits). `submits.priority` records `build --priority`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

HEARTBEAT = "Refreshed with the submit's heartbeat; stale = the holder is gone."


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def _holder(table: str) -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("submit_id", sa.Integer(), nullable=False),
        sa.Column("holder_host", sa.String(), nullable=False),
        sa.Column("holder_pid", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False, comment=HEARTBEAT),
        _fk(table, "endpoint_id", "endpoints"),
        _fk(table, "job_id", "jobs"),
        _fk(table, "submit_id", "submits"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("job_id", name=op.f(f"uq_{table}_job_id")),
    ]


def _indexes(table: str) -> None:
    for column in ("endpoint_id", "submit_id"):
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("submits") as batch:
        batch.add_column(
            sa.Column(
                "priority",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="build --priority: higher gets endpoint slots first when they are short.",
            )
        )
    op.create_table(
        "endpoint_leases",
        *_holder("endpoint_leases"),
        sa.Column(
            "maxjobs",
            sa.Integer(),
            nullable=False,
            comment="The holder's configured maxjobs; the smallest live one holds.",
        ),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        comment="Endpoint slots held by the running containers of every butido process.",
    )
    _indexes("endpoint_leases")
    op.create_table(
        "slot_requests",
        *_holder("slot_requests"),
        sa.Column("priority", sa.Integer(), nullable=False, comment="The submit's priority."),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        comment="Jobs waiting for an endpoint slot: the fair queue of the leases.",
    )
    _indexes("slot_requests")


def downgrade() -> None:
    for table in ("slot_requests", "endpoint_leases"):
        for column in ("submit_id", "endpoint_id"):
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("submits") as batch:
        batch.drop_column("priority")
