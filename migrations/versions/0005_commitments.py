"""Commitments and their progress updates.

Revision ID: 0005_commitments
Revises: 0004_membership
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0005_commitments"
down_revision: str | None = "0004_membership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
