"""Accounts hardening: sign-in lockout, erasure of personal data.

Revision ID: 0014_accounts_security
Revises: 0013_assessment
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0014_accounts_security"
down_revision: str | None = "0013_assessment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
