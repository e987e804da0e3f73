"""Membership lifecycle, city groups and team invitations.

Revision ID: 0004_membership
Revises: 0003_cities
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0004_membership"
down_revision: str | None = "0003_cities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.add_column(sa.Column("geonames_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_city_geonames_id"), ["geonames_id"])

    op.create_table(
        "city_membership",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("applicant_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("adhesion_date", sa.Date(), nullable=False),
        sa.Column("mayor", sa.String(length=160), nullable=False),
        sa.Column("mandate_end", sa.Date(), nullable=True),
        sa.Column("contact_name", sa.String(length=160), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("letter_file", sa.String(length=80), nullable=True),
        sa.Column("applied_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("decided_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["account_user.id"],
            name=op.f("fk_city_membership_applicant_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_city_membership_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_membership")),
        sa.UniqueConstraint("city_id", name=op.f("uq_city_membership_city_id")),
    )
    with op.batch_alter_table("city_membership", schema=None) as batch_op:
        batch_op.create_index("ix_city_membership_status_adhesion", ["status", "adhesion_date"], unique=False)

    op.create_table(
        "city_group_municipality",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("group_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["city.id"], name=op.f("fk_city_group_municipality_group_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_group_municipality")),
    )
    with op.batch_alter_table("city_group_municipality", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_city_group_municipality_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("city_group_municipality", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_city_group_municipality_group_id"))
    op.drop_table("city_group_municipality")
    with op.batch_alter_table("city_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_city_membership_status_adhesion")
    op.drop_table("city_membership")
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_city_geonames_id"), type_="unique")
        batch_op.drop_column("geonames_id")
