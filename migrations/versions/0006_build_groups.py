"""build groups: one request over several images, a submit per image

`groups` records the request (package, version, images, env, commit, who); `submits.group_id`
links each image's submit to it (NULL for submits recorded before this revision). A group's
state is derived from its submits' states, not stored (docs/database.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _kind() -> sa.Enum:
    return sa.Enum(
        "build",
        "rerun",
        "rebuild",
        name="group_kind",
        native_enum=False,
        create_constraint=True,
        length=16,
    )


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("package_name", sa.String(), nullable=False),
        sa.Column("package_version", sa.String(), nullable=False),
        sa.Column(
            "images",
            sa.Text(),
            nullable=False,
            comment="JSON list of the requested images (full names), in the order asked.",
        ),
        sa.Column(
            "env", sa.Text(), nullable=False, comment="JSON list of the -E [name, value] pairs."
        ),
        sa.Column("commit_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column(
            "parent_group_id",
            sa.Integer(),
            nullable=True,
            comment="The group this one reruns or rebuilds.",
        ),
        sa.Column("triggered_by", sa.String(), nullable=True, comment="user@host or the CI job."),
        sa.ForeignKeyConstraint(
            ["parent_group_id"],
            ["groups.id"],
            name=op.f("fk_groups_parent_group_id_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("uuid", name=op.f("uq_groups_uuid")),
        comment="One request over several images: a submit per image; its state is derived from "
        "theirs (docs/database.md).",
    )
    op.create_index("ix_groups_created_at", "groups", ["created_at"], unique=False)
    with op.batch_alter_table("submits") as batch:
        batch.add_column(
            sa.Column(
                "group_id",
                sa.Integer(),
                nullable=True,
                comment="The group (one request over several images); NULL for submits before "
                "0006.",
            )
        )
        batch.create_foreign_key(
            op.f("fk_submits_group_id_groups"),
            "groups",
            ["group_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_index("ix_submits_group_id", ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submits") as batch:
        batch.drop_index("ix_submits_group_id")
        batch.drop_constraint(op.f("fk_submits_group_id_groups"), type_="foreignkey")
        batch.drop_column("group_id")
    op.drop_index("ix_groups_created_at", table_name="groups")
    op.drop_table("groups")
