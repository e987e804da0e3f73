"""Accounts, sessions, API tokens, grants, audit log, mail outbox.

Revision ID: 0002_accounts
Revises: 0001_events
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0002_accounts"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
