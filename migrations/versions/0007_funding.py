"""Module funding: its tables (prefixed funding_).

Revision ID: 0007_funding
Revises: 0006_calendar
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0007_funding"
down_revision: str | None = "0006_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funding_advocacy_document",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("addressees", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=80), nullable=True),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_advocacy_document")),
    )
    with op.batch_alter_table("funding_advocacy_document", schema=None) as batch_op:
        batch_op.create_index("ix_funding_advocacy_document_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "funding_programme",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("fund", sa.String(length=80), nullable=False),
        sa.Column("management", sa.String(length=10), nullable=False),
        sa.Column("funding_form", sa.String(length=10), nullable=False),
        sa.Column("managing_body", sa.String(length=200), nullable=False),
        sa.Column("cofinancing_rate", sa.Integer(), nullable=True),
        sa.Column("applicant_types", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_funding_programme_code")),
    )
    op.create_table(
        "funding_call",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=120), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("programme_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opening_date", sa.Date(), nullable=False),
        sa.Column("deadline_model", sa.String(length=20), nullable=False),
        sa.Column("deadlines", sa.JSON(), nullable=False),
        sa.Column("final_deadline", sa.Date(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("expected_grants", sa.Integer(), nullable=True),
        sa.Column("action_type", sa.String(length=80), nullable=False),
        sa.Column("eligible_countries", sa.JSON(), nullable=False),
        sa.Column("applicant_types", sa.JSON(), nullable=False),
        sa.Column("min_population", sa.Integer(), nullable=True),
        sa.Column("max_population", sa.Integer(), nullable=True),
        sa.Column("partnership_required", sa.Boolean(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("opened_announced", sa.Boolean(), nullable=False),
        sa.Column("closing_announced_for", sa.Date(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["funding_programme.id"],
            name=op.f("fk_funding_call_programme_id_funding_programme"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_call")),
        sa.UniqueConstraint("identifier", name=op.f("uq_funding_call_identifier")),
    )
    with op.batch_alter_table("funding_call", schema=None) as batch_op:
        batch_op.create_index(
            "ix_funding_call_final_deadline_opening_date", ["final_deadline", "opening_date"], unique=False
        )
        batch_op.create_index(
            "ix_funding_call_programme_id_final_deadline", ["programme_id", "final_deadline"], unique=False
        )

    op.create_table(
        "funding_city_needs",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("weak_dimensions", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_funding_city_needs_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_city_needs")),
        sa.UniqueConstraint("city_id", name=op.f("uq_funding_city_needs_city_id")),
    )
    op.create_table(
        "funding_cosignature",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("document_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("signed_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("signed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_funding_cosignature_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["funding_advocacy_document.id"],
            name=op.f("fk_funding_cosignature_document_id_funding_advocacy_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["account_user.id"],
            name=op.f("fk_funding_cosignature_signed_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_cosignature")),
        sa.UniqueConstraint("document_id", "city_id", name="uq_funding_cosignature_document_id_city_id"),
    )
    op.create_table(
        "funding_application",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("programme_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("call_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_cents", sa.BigInteger(), nullable=True),
        sa.Column("awarded_cents", sa.BigInteger(), nullable=True),
        sa.Column("eu_share_cents", sa.BigInteger(), nullable=True),
        sa.Column("commitment_ids", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["funding_call.id"],
            name=op.f("fk_funding_application_call_id_funding_call"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_funding_application_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["funding_programme.id"],
            name=op.f("fk_funding_application_programme_id_funding_programme"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_application")),
    )
    with op.batch_alter_table("funding_application", schema=None) as batch_op:
        batch_op.create_index("ix_funding_application_city_id_created_at", ["city_id", "created_at"], unique=False)
        batch_op.create_index("ix_funding_application_status_programme_id", ["status", "programme_id"], unique=False)

    op.create_table(
        "funding_call_match",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("call_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("commitment_ids", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["funding_call.id"],
            name=op.f("fk_funding_call_match_call_id_funding_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_funding_call_match_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_call_match")),
        sa.UniqueConstraint("city_id", "call_id", name="uq_funding_call_match_city_id_call_id"),
    )
    with op.batch_alter_table("funding_call_match", schema=None) as batch_op:
        batch_op.create_index("ix_funding_call_match_call_id", ["call_id"], unique=False)
        batch_op.create_index("ix_funding_call_match_city_id_score", ["city_id", "score"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("funding_call_match", schema=None) as batch_op:
        batch_op.drop_index("ix_funding_call_match_city_id_score")
        batch_op.drop_index("ix_funding_call_match_call_id")

    op.drop_table("funding_call_match")
    with op.batch_alter_table("funding_application", schema=None) as batch_op:
        batch_op.drop_index("ix_funding_application_status_programme_id")
        batch_op.drop_index("ix_funding_application_city_id_created_at")

    op.drop_table("funding_application")
    op.drop_table("funding_cosignature")
    op.drop_table("funding_city_needs")
    with op.batch_alter_table("funding_call", schema=None) as batch_op:
        batch_op.drop_index("ix_funding_call_programme_id_final_deadline")
        batch_op.drop_index("ix_funding_call_final_deadline_opening_date")

    op.drop_table("funding_call")
    op.drop_table("funding_programme")
    with op.batch_alter_table("funding_advocacy_document", schema=None) as batch_op:
        batch_op.drop_index("ix_funding_advocacy_document_status_created_at")

    op.drop_table("funding_advocacy_document")
