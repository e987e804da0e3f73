"""Module assessment: its tables (prefixed assessment_).

Revision ID: 0013_assessment
Revises: 0012_monitoring
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_assessment"
down_revision: str | None = "0012_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
