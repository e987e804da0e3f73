"""The yearly monitoring cycle: cycles, per-city sections, delay requests, notices, reminders, badges,
reports, and each module's record of its year (tables prefixed monitoring_).

Revision ID: 0012_monitoring
Revises: 0011_practices
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0012_monitoring"
down_revision: str | None = "0011_practices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_cycle",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("submission_deadline", sa.Date(), nullable=False),
        sa.Column("validation_deadline", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.JSON(), nullable=False),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("closed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_cycle")),
        sa.UniqueConstraint("year", name=op.f("uq_monitoring_cycle_year")),
    )
    op.create_table(
        "monitoring_module_year",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("module", sa.String(length=30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opened_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sections", sa.Integer(), nullable=False),
        sa.Column("prepared", sa.Integer(), nullable=False),
        sa.Column("closed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_module_year")),
        sa.UniqueConstraint("module", "year", name="uq_monitoring_module_year_module_year"),
    )
    op.create_table(
        "monitoring_badge",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=40), nullable=False),
        sa.Column("awarded_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_monitoring_badge_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_badge")),
        sa.UniqueConstraint("city_id", "year", "badge", name="uq_monitoring_badge_city_year_badge"),
    )
    with op.batch_alter_table("monitoring_badge", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_badge_year_badge", ["year", "badge"], unique=False)

    op.create_table(
        "monitoring_delay_request",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("requested_until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("decided_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("decided_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_monitoring_delay_request_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_delay_request_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["account_user.id"],
            name=op.f("fk_monitoring_delay_request_decided_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["account_user.id"],
            name=op.f("fk_monitoring_delay_request_requested_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_delay_request")),
    )
    with op.batch_alter_table("monitoring_delay_request", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_delay_request_cycle_id_city_id", ["cycle_id", "city_id"], unique=False)
        batch_op.create_index("ix_monitoring_delay_request_cycle_id_status", ["cycle_id", "status"], unique=False)

    op.create_table(
        "monitoring_notice",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("grace_until", sa.Date(), nullable=False),
        sa.Column("suspended_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("confirmed_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_monitoring_notice_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"],
            ["account_user.id"],
            name=op.f("fk_monitoring_notice_confirmed_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_notice_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_notice")),
        sa.UniqueConstraint("cycle_id", "city_id", name="uq_monitoring_notice_cycle_city"),
    )
    op.create_table(
        "monitoring_reminder",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=True),
        sa.Column("sent_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("cities", sa.Integer(), nullable=False),
        sa.Column("mails", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_reminder_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_reminder")),
        sa.UniqueConstraint("cycle_id", "days_before", name="uq_monitoring_reminder_cycle_days"),
    )
    op.create_table(
        "monitoring_report",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("compiled_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("published_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_report_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["account_user.id"],
            name=op.f("fk_monitoring_report_published_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_report")),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_monitoring_report_cycle_id")),
        sa.UniqueConstraint("year", name=op.f("uq_monitoring_report_year")),
    )
    op.create_table(
        "monitoring_section",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("module", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("completeness", sa.Integer(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=True),
        sa.Column("checked_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("submitted_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decided_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decided_by", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_monitoring_section_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_section_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["account_user.id"],
            name=op.f("fk_monitoring_section_decided_by_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_section")),
        sa.UniqueConstraint("cycle_id", "city_id", "module", name="uq_monitoring_section_cycle_city_module"),
    )
    with op.batch_alter_table("monitoring_section", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_section_cycle_id_module_status", ["cycle_id", "module", "status"], unique=False
        )
        batch_op.create_index("ix_monitoring_section_cycle_id_status", ["cycle_id", "status"], unique=False)
    op.create_table(
        "monitoring_participant",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("cycle_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("size_class", sa.String(length=12), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_monitoring_participant_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["monitoring_cycle.id"],
            name=op.f("fk_monitoring_participant_cycle_id_monitoring_cycle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_participant")),
        sa.UniqueConstraint("cycle_id", "city_id", name="uq_monitoring_participant_cycle_city"),
    )
    with op.batch_alter_table("monitoring_participant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_participant_cycle_id_country_code_name", ["cycle_id", "country_code", "name"], unique=False
        )
        batch_op.create_index("ix_monitoring_participant_cycle_id_name", ["cycle_id", "name"], unique=False)
        batch_op.create_index(
            "ix_monitoring_participant_cycle_id_size_class_name", ["cycle_id", "size_class", "name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("monitoring_participant", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_participant_cycle_id_size_class_name")
        batch_op.drop_index("ix_monitoring_participant_cycle_id_name")
        batch_op.drop_index("ix_monitoring_participant_cycle_id_country_code_name")

    op.drop_table("monitoring_participant")
    with op.batch_alter_table("monitoring_section", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_section_cycle_id_status")
        batch_op.drop_index("ix_monitoring_section_cycle_id_module_status")

    op.drop_table("monitoring_section")
    op.drop_table("monitoring_report")
    op.drop_table("monitoring_reminder")
    op.drop_table("monitoring_notice")
    with op.batch_alter_table("monitoring_delay_request", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_delay_request_cycle_id_status")
        batch_op.drop_index("ix_monitoring_delay_request_cycle_id_city_id")

    op.drop_table("monitoring_delay_request")
    with op.batch_alter_table("monitoring_badge", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_badge_year_badge")

    op.drop_table("monitoring_badge")
    op.drop_table("monitoring_module_year")
    op.drop_table("monitoring_cycle")
