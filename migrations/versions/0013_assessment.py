"""Module assessment: its tables (prefixed assessment_).

Framework versions (as YAML), a city's yearly response and its answers, scores computed over the year's
cohort, the opt-in to share individual scores, and pilot feedback on the framework.

Revision ID: 0013_assessment
Revises: 0012_monitoring
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0013_assessment"
down_revision: str | None = "0012_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_framework_version",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("indicator_count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account_user.id"],
            name=op.f("fk_assessment_framework_version_created_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_framework_version")),
        sa.UniqueConstraint("code", "version", name="uq_assessment_framework_version_code_version"),
    )
    with op.batch_alter_table("assessment_framework_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_framework_version_status_published_at", ["status", "published_at"], unique=False
        )
    op.create_table(
        "assessment_sharing",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("decided_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_assessment_sharing_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["account_user.id"],
            name=op.f("fk_assessment_sharing_decided_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_sharing")),
        sa.UniqueConstraint("city_id", name=op.f("uq_assessment_sharing_city_id")),
    )
    op.create_table(
        "assessment_feedback",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("framework_version_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("indicator_code", sa.String(length=60), nullable=False),
        sa.Column("usability", sa.Integer(), nullable=True),
        sa.Column("relevance", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account_user.id"],
            name=op.f("fk_assessment_feedback_author_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_assessment_feedback_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["framework_version_id"],
            ["assessment_framework_version.id"],
            name=op.f("fk_assessment_feedback_framework_version_id_assessment_framework_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_feedback")),
        sa.UniqueConstraint(
            "city_id", "framework_version_id", "indicator_code", name="uq_assessment_feedback_city_version_indicator"
        ),
    )
    with op.batch_alter_table("assessment_feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_feedback_framework_version_id_indicator_code",
            ["framework_version_id", "indicator_code"],
            unique=False,
        )
    op.create_table(
        "assessment_response",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("framework_version_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_by", sa.String(length=40), nullable=False),
        sa.Column("submitted_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("submitted_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_assessment_response_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["framework_version_id"],
            ["assessment_framework_version.id"],
            name=op.f("fk_assessment_response_framework_version_id_assessment_framework_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["account_user.id"],
            name=op.f("fk_assessment_response_submitted_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_response")),
        sa.UniqueConstraint("city_id", "year", name="uq_assessment_response_city_id_year"),
    )
    with op.batch_alter_table("assessment_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_response_framework_version_id"), ["framework_version_id"], unique=False
        )
        batch_op.create_index("ix_assessment_response_year_status", ["year", "status"], unique=False)
    op.create_table(
        "assessment_answer",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("response_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("indicator_code", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("raw", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_detail", sa.String(length=400), nullable=False),
        sa.Column("source_event_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["assessment_response.id"],
            name=op.f("fk_assessment_answer_response_id_assessment_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_answer")),
        sa.UniqueConstraint("response_id", "indicator_code", name="uq_assessment_answer_response_id_indicator_code"),
    )
    with op.batch_alter_table("assessment_answer", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_answer_indicator_code", ["indicator_code"], unique=False)
    op.create_table(
        "assessment_score",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("response_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("framework_version_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("size_class", sa.String(length=12), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("index", sa.Float(), nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("normalised", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("cohort_size", sa.Integer(), nullable=False),
        sa.Column("computed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_assessment_score_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["framework_version_id"],
            ["assessment_framework_version.id"],
            name=op.f("fk_assessment_score_framework_version_id_assessment_framework_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["assessment_response.id"],
            name=op.f("fk_assessment_score_response_id_assessment_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_score")),
        sa.UniqueConstraint("response_id", name=op.f("uq_assessment_score_response_id")),
    )
    with op.batch_alter_table("assessment_score", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_score_city_id_year", ["city_id", "year"], unique=False)
        batch_op.create_index("ix_assessment_score_year_size_class", ["year", "size_class"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessment_score", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_score_year_size_class")
        batch_op.drop_index("ix_assessment_score_city_id_year")
    op.drop_table("assessment_score")
    with op.batch_alter_table("assessment_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_answer_indicator_code")
    op.drop_table("assessment_answer")
    with op.batch_alter_table("assessment_response", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_response_year_status")
        batch_op.drop_index(batch_op.f("ix_assessment_response_framework_version_id"))
    op.drop_table("assessment_response")
    with op.batch_alter_table("assessment_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_feedback_framework_version_id_indicator_code")
    op.drop_table("assessment_feedback")
    op.drop_table("assessment_sharing")
    with op.batch_alter_table("assessment_framework_version", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_framework_version_status_published_at")
    op.drop_table("assessment_framework_version")
