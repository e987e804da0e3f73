"""Event bus tables: outbox, inbox, dead letters.

Revision ID: 0001_events
Revises: 
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0001_events"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
