"""Event bus tables: outbox, inbox, dead letters.

Revision ID: 0001_events
Revises: 
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0001_events"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID(length=16)
JSON = advanced_alchemy.types.JsonB


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", GUID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("city_id", GUID, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_outbox_event_id")),
    )
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_event_outbox_city_id_id", ["city_id", "id"], unique=False)
        batch_op.create_index("ix_event_outbox_unpublished", ["published_at", "id"], unique=False)

    op.create_table(
        "event_inbox",
        sa.Column("id", GUID, nullable=False),
        sa.Column("event_id", GUID, nullable=False),
        sa.Column("subscriber", sa.String(length=160), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_inbox")),
        sa.UniqueConstraint("event_id", "subscriber", name=op.f("uq_event_inbox_event_id")),
    )

    op.create_table(
        "event_dead_letter",
        sa.Column("id", GUID, nullable=False),
        sa.Column("event_id", GUID, nullable=False),
        sa.Column("event_name", sa.String(length=120), nullable=False),
        sa.Column("subscriber", sa.String(length=160), nullable=False),
        sa.Column("queue", sa.String(length=60), nullable=False),
        sa.Column("message", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_dead_letter")),
        sa.UniqueConstraint("event_id", "subscriber", name=op.f("uq_event_dead_letter_event_id")),
    )
    with op.batch_alter_table("event_dead_letter", schema=None) as batch_op:
        batch_op.create_index("ix_event_dead_letter_status_failed_at", ["status", "failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_dead_letter", schema=None) as batch_op:
        batch_op.drop_index("ix_event_dead_letter_status_failed_at")
    op.drop_table("event_dead_letter")
    op.drop_table("event_inbox")
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_event_outbox_unpublished")
        batch_op.drop_index("ix_event_outbox_city_id_id")
    op.drop_table("event_outbox")
