"""Convention editions, sessions, registrations and deadlines.

Revision ID: 0006_calendar
Revises: 0005_commitments
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0006_calendar"
down_revision: str | None = "0005_commitments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
