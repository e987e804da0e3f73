"""The yearly monitoring cycle: cycles, per-city sections, delay requests, badges, reports.

Revision ID: 0012_monitoring
Revises: 0011_practices
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_monitoring"
down_revision: str | None = "0011_practices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
