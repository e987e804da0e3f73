"""Accounts, sessions, API tokens, grants, audit log, mail outbox.

Revision ID: 0002_accounts
Revises: 0001_events
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_accounts"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    # advanced-alchemy's JsonB: JSONB on PostgreSQL, JSON elsewhere.
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False)


def _sentinel() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True)


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
    ]


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["account_user.id"], name=op.f(f"fk_{table}_user_id_account_user"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "account_user",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        _sentinel(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_user")),
        sa.UniqueConstraint("email", name=op.f("uq_account_user_email")),
    )
    # city_id references the cities table once it exists; until then it is an indexed UUID without FK.
    op.create_table(
        "account_grant",
        _id(),
        sa.Column("user_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("module", sa.String(length=40), nullable=True),
        sa.Column("modules", _json(), nullable=False),
        _sentinel(),
        *_timestamps(),
        _user_fk("account_grant"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_grant")),
    )
    with op.batch_alter_table("account_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_grant_city_id"), ["city_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_grant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_session",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        _sentinel(),
        _user_fk("account_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_session_token_hash")),
    )
    with op.batch_alter_table("account_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_api_token",
        _id(),
        sa.Column("user_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("last_used_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("expires_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("revoked_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        _sentinel(),
        *_timestamps(),
        _user_fk("account_api_token"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_api_token_token_hash")),
    )
    with op.batch_alter_table("account_api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_password_reset",
        _id(),
        sa.Column("user_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        _sentinel(),
        _user_fk("account_password_reset"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_password_reset")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_password_reset_token_hash")),
    )
    with op.batch_alter_table("account_password_reset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_password_reset_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_login_attempt",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_login_attempt")),
    )
    with op.batch_alter_table("account_login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_account_login_attempt_email_at", ["email", "at"], unique=False)
        batch_op.create_index("ix_account_login_attempt_ip_at", ["ip", "at"], unique=False)

    op.create_table(
        "audit_entry",
        _id(),
        sa.Column("actor_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_actor", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_audit_entry_entity", ["entity_type", "entity_id", "id"], unique=False)

    op.create_table(
        "mail_message",
        _id(),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        _sentinel(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index("ix_mail_message_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    for table in (
        "mail_message", "audit_entry", "account_login_attempt", "account_password_reset",
        "account_api_token", "account_session", "account_grant", "account_user",
    ):
        op.drop_table(table)
