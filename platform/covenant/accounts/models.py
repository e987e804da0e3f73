"""Accounts tables: users, their grants, sign-in sessions, API tokens, password resets, login attempts.

Secrets (session ids, API tokens, reset tokens) are stored as SHA-256 digests: they are high-entropy
random values, so a fast hash is enough and a leaked table cannot be replayed.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from covenant.accounts.identity import Grant
from covenant.db import AuditedBase, Base
from covenant.plugins import CoreRole


class User(AuditedBase):
    __tablename__ = "account_user"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Always stored lower-cased, which makes the unique constraint case-insensitive on every database."""
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    locale: Mapped[str | None] = mapped_column(String(10), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    erased_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """Set when the person's data was erased (GDPR art. 17): the row stays, pseudonymised, so the records
    that name it (authors, reviewers, the audit trail) stay whole."""

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan", order_by="RoleGrant.created_at"
    )


class RoleGrant(AuditedBase):
    """A role held by a user. ``city_id`` points at the cities table once it exists (no foreign key yet)."""

    __tablename__ = "account_grant"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    city_id: Mapped[UUID | None] = mapped_column(default=None, index=True)
    module: Mapped[str | None] = mapped_column(String(40), default=None)
    """For a reviewer: the module they review."""
    modules: Mapped[list[str]] = mapped_column(JsonB, default=list)
    """For a contributor: the modules of the city they may edit (empty: all)."""

    user: Mapped[User] = relationship(back_populates="grants", lazy="raise")

    def as_grant(self) -> Grant:
        role: CoreRole = self.role  # type: ignore[assignment]
        return Grant(role=role, city_id=self.city_id, module=self.module, modules=tuple(self.modules or ()))


class SignInSession(Base):
    """A signed-in browser. Deleting the row signs it out, whatever the cookie says."""

    __tablename__ = "account_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)


class ApiToken(AuditedBase):
    """A personal token for the JSON API, shown once at creation."""

    __tablename__ = "account_api_token"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    """The first characters, so the owner can tell tokens apart without the secret."""
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class PasswordReset(Base):
    __tablename__ = "account_password_reset"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class LoginAttempt(Base):
    """A failed sign-in, kept briefly so every web process sees the same rate limit."""

    __tablename__ = "account_login_attempt"
    __table_args__ = (
        Index("ix_account_login_attempt_email_at", "email", "at"),
        Index("ix_account_login_attempt_ip_at", "ip", "at"),
        Index("ix_account_login_attempt_email_ip_at", "email", "ip", "at"),
    )

    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
