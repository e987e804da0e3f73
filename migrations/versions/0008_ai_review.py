"""Module ai_review: its tables (prefixed ai_review_).

Revision ID: 0008_ai_review
Revises: 0007_funding
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0008_ai_review"
down_revision: str | None = "0007_funding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_review_technology",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_description", sa.String(length=150), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decommission_reason", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("revision_date", sa.Date(), nullable=True),
        sa.Column("spaces", sa.Text(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("biometric_data", sa.Boolean(), nullable=False),
        sa.Column("special_categories", sa.Boolean(), nullable=False),
        sa.Column("data_subjects", sa.Text(), nullable=False),
        sa.Column("retention", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("human_oversight", sa.Text(), nullable=False),
        sa.Column("dpia_done", sa.Boolean(), nullable=False),
        sa.Column("dpia_date", sa.Date(), nullable=True),
        sa.Column("alternatives", sa.Text(), nullable=False),
        sa.Column("complaint_channel", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("review_answers", sa.JSON(), nullable=False),
        sa.Column("fria", sa.JSON(), nullable=False),
        sa.Column("risk_class", sa.String(length=12), nullable=True),
        sa.Column("review_status", sa.String(length=12), nullable=False),
        sa.Column("reviewer_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("reviewer_note", sa.Text(), nullable=False),
        sa.Column("signed_off_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("public_override_reason", sa.Text(), nullable=False),
        sa.Column("public_override_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("public_override_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_ai_review_technology_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["account_user.id"],
            name=op.f("fk_ai_review_technology_reviewer_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["public_override_by"],
            ["account_user.id"],
            name=op.f("fk_ai_review_technology_public_override_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_review_technology")),
    )
    with op.batch_alter_table("ai_review_technology", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_review_technology_category_published_at", ["category", "published_at"], unique=False
        )
        batch_op.create_index("ix_ai_review_technology_city_id_created_at", ["city_id", "created_at"], unique=False)
        batch_op.create_index("ix_ai_review_technology_published_at_id", ["published_at", "id"], unique=False)
        batch_op.create_index(
            "ix_ai_review_technology_review_status_updated_at", ["review_status", "updated_at"], unique=False
        )

    op.create_table(
        "ai_review_survey_response",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("experiments", sa.Integer(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("quote_public", sa.Boolean(), nullable=False),
        sa.Column("name_public", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_ai_review_survey_response_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_review_survey_response")),
        sa.UniqueConstraint("city_id", "year", name="uq_ai_review_survey_response_city_year"),
    )
    with op.batch_alter_table("ai_review_survey_response", schema=None) as batch_op:
        batch_op.create_index("ix_ai_review_survey_response_year_city_id", ["year", "city_id"], unique=False)

    op.create_table(
        "ai_review_legal_development",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("stance", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_review_legal_development")),
    )
    with op.batch_alter_table("ai_review_legal_development", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_review_legal_development_country_code_decided_on", ["country_code", "decided_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ai_review_legal_development", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_review_legal_development_country_code_decided_on")
    op.drop_table("ai_review_legal_development")
    with op.batch_alter_table("ai_review_survey_response", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_review_survey_response_year_city_id")
    op.drop_table("ai_review_survey_response")
    with op.batch_alter_table("ai_review_technology", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_review_technology_review_status_updated_at")
        batch_op.drop_index("ix_ai_review_technology_published_at_id")
        batch_op.drop_index("ix_ai_review_technology_city_id_created_at")
        batch_op.drop_index("ix_ai_review_technology_category_published_at")
    op.drop_table("ai_review_technology")
