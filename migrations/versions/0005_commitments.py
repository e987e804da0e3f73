"""Commitments and their progress updates.

Revision ID: 0005_commitments
Revises: 0004_membership
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0005_commitments"
down_revision: str | None = "0004_membership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audited() -> list[sa.Column[object]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "commitment",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("parent_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("priority", sa.String(length=30), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("indicator", sa.String(length=200), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        *_audited(),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_commitment_city_id_city"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["commitment.id"], name=op.f("fk_commitment_parent_id_commitment"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment")),
    )
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.create_index("ix_commitment_city_id_created_at", ["city_id", "created_at"], unique=False)
        batch_op.create_index("ix_commitment_parent_id", ["parent_id"], unique=False)
        batch_op.create_index("ix_commitment_priority_published_at", ["priority", "published_at"], unique=False)
        batch_op.create_index("ix_commitment_published_at_id", ["published_at", "id"], unique=False)
        batch_op.create_index("ix_commitment_status_published_at", ["status", "published_at"], unique=False)

    op.create_table(
        "commitment_progress_update",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("commitment_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("percentage", sa.Integer(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("evidence_links", sa.JSON(), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        *_audited(),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account_user.id"],
            name=op.f("fk_commitment_progress_update_author_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitment.id"],
            name=op.f("fk_commitment_progress_update_commitment_id_commitment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_progress_update")),
    )
    with op.batch_alter_table("commitment_progress_update", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitment_progress_update_commitment_id_reported_on", ["commitment_id", "reported_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("commitment_progress_update", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_progress_update_commitment_id_reported_on")
    op.drop_table("commitment_progress_update")
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_status_published_at")
        batch_op.drop_index("ix_commitment_published_at_id")
        batch_op.drop_index("ix_commitment_priority_published_at")
        batch_op.drop_index("ix_commitment_parent_id")
        batch_op.drop_index("ix_commitment_city_id_created_at")
    op.drop_table("commitment")
