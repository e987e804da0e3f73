"""Module practices: its tables (prefixed practices_).

Revision ID: 0011_practices
Revises: 0010_cohesion
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0011_practices"
down_revision: str | None = "0010_cohesion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practices_campaign",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("invite_new_signatories", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_campaign")),
    )
    op.create_table(
        "practices_campaign_invitation",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("campaign_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("answered_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["practices_campaign.id"],
            name=op.f("fk_practices_campaign_invitation_campaign_id_practices_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_practices_campaign_invitation_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_campaign_invitation")),
        sa.UniqueConstraint("campaign_id", "city_id", name=op.f("uq_practices_campaign_invitation_campaign_id")),
    )
    op.create_table(
        "practices_fiche",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("place_kind", sa.String(length=30), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("partnership", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("cost_range", sa.String(length=20), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("difficulties", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reviewed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reviewer_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_practices_fiche_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["account_user.id"],
            name=op.f("fk_practices_fiche_reviewer_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_fiche")),
    )
    with op.batch_alter_table("practices_fiche", schema=None) as batch_op:
        batch_op.create_index("ix_practices_fiche_city_id_updated_at", ["city_id", "updated_at"], unique=False)
        batch_op.create_index("ix_practices_fiche_status_published_at", ["status", "published_at"], unique=False)

    op.create_table(
        "practices_image",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("stage", sa.String(length=6), nullable=False),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("thumbnail_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_image_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_image")),
    )
    with op.batch_alter_table("practices_image", schema=None) as batch_op:
        batch_op.create_index("ix_practices_image_fiche_id_stage", ["fiche_id", "stage"], unique=False)

    op.create_table(
        "practices_indicator",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=False),
        sa.Column("baseline_date", sa.Date(), nullable=False),
        sa.Column("after_value", sa.Float(), nullable=False),
        sa.Column("after_date", sa.Date(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_indicator_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_indicator")),
    )
    with op.batch_alter_table("practices_indicator", schema=None) as batch_op:
        batch_op.create_index("ix_practices_indicator_fiche_id", ["fiche_id"], unique=False)

    op.create_table(
        "practices_review_comment",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("author_name", sa.String(length=160), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account_user.id"],
            name=op.f("fk_practices_review_comment_author_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_review_comment_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_review_comment")),
    )
    with op.batch_alter_table("practices_review_comment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practices_review_comment_fiche_id_created_at", ["fiche_id", "created_at"], unique=False
        )
    op.create_table(
        "practices_recommendation",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("dimension", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_practices_recommendation_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_recommendation_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_recommendation")),
        sa.UniqueConstraint("city_id", "fiche_id", name=op.f("uq_practices_recommendation_city_id")),
    )
    with op.batch_alter_table("practices_recommendation", schema=None) as batch_op:
        batch_op.create_index("ix_practices_recommendation_city_id_created_at", ["city_id", "created_at"], unique=False)
    op.create_table(
        "practices_commitment_link",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("commitment_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_practices_commitment_link_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitment.id"],
            name=op.f("fk_practices_commitment_link_commitment_id_commitment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_commitment_link_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_commitment_link")),
        sa.UniqueConstraint("commitment_id", "fiche_id", name=op.f("uq_practices_commitment_link_commitment_id")),
    )
    with op.batch_alter_table("practices_commitment_link", schema=None) as batch_op:
        batch_op.create_index("ix_practices_commitment_link_fiche_id_score", ["fiche_id", "score"], unique=False)
    op.create_table(
        "practices_document",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("fiche_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiche_id"],
            ["practices_fiche.id"],
            name=op.f("fk_practices_document_fiche_id_practices_fiche"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices_document")),
    )
    with op.batch_alter_table("practices_document", schema=None) as batch_op:
        batch_op.create_index("ix_practices_document_fiche_id_created_at", ["fiche_id", "created_at"], unique=False)
    # Full-text search of published fiches: an FTS5 index on SQLite, a GIN expression index on PostgreSQL
    # (both read by modules.practices.search, one interface for the two databases).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE practices_fiche_fts USING fts5("
            "fiche_id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE INDEX ix_practices_fiche_search ON practices_fiche USING gin (to_tsvector('simple', search_text))"
        )


def downgrade() -> None:
    with op.batch_alter_table("practices_document", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_document_fiche_id_created_at")
    op.drop_table("practices_document")
    with op.batch_alter_table("practices_commitment_link", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_commitment_link_fiche_id_score")
    op.drop_table("practices_commitment_link")
    with op.batch_alter_table("practices_recommendation", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_recommendation_city_id_created_at")
    op.drop_table("practices_recommendation")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS practices_fiche_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_practices_fiche_search")
    with op.batch_alter_table("practices_review_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_review_comment_fiche_id_created_at")

    op.drop_table("practices_review_comment")
    with op.batch_alter_table("practices_indicator", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_indicator_fiche_id")

    op.drop_table("practices_indicator")
    with op.batch_alter_table("practices_image", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_image_fiche_id_stage")

    op.drop_table("practices_image")
    with op.batch_alter_table("practices_fiche", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_fiche_status_published_at")
        batch_op.drop_index("ix_practices_fiche_city_id_updated_at")

    op.drop_table("practices_fiche")
    op.drop_table("practices_campaign_invitation")
    op.drop_table("practices_campaign")
