"""Indexes for the signatory list's sorts (name, population, adhesion date).

Without them every page of the public list joined and sorted every public city; with them a page is an
ordered index read that stops at the page size.

Revision ID: 0015_list_indexes
Revises: 0014_accounts_security
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_list_indexes"
down_revision: str | None = "0014_accounts_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_city_name_id", "city", ["name", "id"], unique=False)
    op.create_index("ix_city_population", "city", ["population"], unique=False)
    op.create_index("ix_city_membership_adhesion_date", "city_membership", ["adhesion_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_city_membership_adhesion_date", table_name="city_membership")
    op.drop_index("ix_city_population", table_name="city")
    op.drop_index("ix_city_name_id", table_name="city")
