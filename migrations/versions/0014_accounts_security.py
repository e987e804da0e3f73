"""Accounts hardening: sign-in lockout, erasure of personal data.

The lockout counts failed sign-ins per account *and* address (an index for that query); an erased account
keeps its row, pseudonymised, with the moment of erasure.

Revision ID: 0014_accounts_security
Revises: 0013_assessment
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0014_accounts_security"
down_revision: str | None = "0013_assessment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True))
    with op.batch_alter_table("account_login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_account_login_attempt_email_ip_at", ["email", "ip", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_account_login_attempt_email_ip_at")
    with op.batch_alter_table("account_user", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
