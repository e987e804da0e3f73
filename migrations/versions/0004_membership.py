"""Membership lifecycle, city groups and team invitations.

Revision ID: 0004_membership
Revises: 0003_cities
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0004_membership"
down_revision: str | None = "0003_cities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
