"""Account rules: users and grants, sign-in and its rate limit, sessions, API tokens, password resets.

Every state change writes its audit row in the caller's transaction (:func:`covenant.audit.record`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import passwords
from covenant.accounts.identity import Identity
from covenant.accounts.models import ApiToken, LoginAttempt, PasswordReset, RoleGrant, SignInSession, User
from covenant.audit import record
from covenant.db import transaction
from covenant.i18n import gettext as _
from covenant.notifications import queue_mail
from covenant.plugins import CoreRole

SESSION_COOKIE = "covenant_session"
SESSION_IDLE_TIMEOUT = timedelta(hours=8)
SESSION_LIFETIME = timedelta(days=7)
LAST_SEEN_PRECISION = timedelta(minutes=1)
"""Sessions and tokens record activity at most once a minute, not one write per request."""
RESET_TOKEN_LIFETIME = timedelta(hours=1)
LOGIN_WINDOW = timedelta(minutes=1)
LOCKOUT_BASE = timedelta(seconds=60)
LOCKOUT_CAP = timedelta(minutes=15)
"""The longest a browser ever waits for one account, however many failures it piles up."""
LOCKOUT_MEMORY = timedelta(hours=1)
"""Failures older than this no longer count."""
ATTEMPT_RETENTION = timedelta(days=1)
IP_LIMIT_FACTOR = 5
"""An office behind one address holds several people: the per-IP limit is this many times the per-e-mail one."""
API_TOKEN_PREFIX = "cov_"  # noqa: S105 - marks our tokens (for secret scanners), not a secret
DEMO_ADMIN_EMAIL = "admin@covenant.localhost"

Actor = Identity | UUID | None


def now() -> datetime:
    return datetime.now(UTC)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


# -- cookie signing ---------------------------------------------------------------------------------


def sign(value: str, key: str) -> str:
    mac = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(signed: str, key: str) -> str | None:
    """The value when the signature is ours, else None (a forged cookie never reaches the database)."""
    value, _sep, mac = signed.rpartition(".")
    if not value:
        return None
    expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


# -- identity ---------------------------------------------------------------------------------------


def identity_for(user: User, permissions_by_role: Mapping[str, frozenset[str]]) -> Identity:
    return Identity(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        grants=tuple(g.as_grant() for g in user.grants),
        permissions_by_role=dict(permissions_by_role),
    )


# -- users and grants -------------------------------------------------------------------------------


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    user: User | None = await session.scalar(select(User).where(User.email == normalize_email(email)))
    return user


class EmailTaken(ValueError):
    pass


async def create_user(
    session: AsyncSession, *, email: str, display_name: str, password: str | None = None, actor: Actor
) -> User:
    email = normalize_email(email)
    if await user_by_email(session, email) is not None:
        raise EmailTaken(_("An account with this e-mail address already exists."))
    user = User(email=email, display_name=display_name.strip() or email.split("@")[0], grants=[])
    if password is not None:
        user.password_hash = await passwords.hash_password(password)
    session.add(user)
    await session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        after={"email": user.email, "display_name": user.display_name},
    )
    return user


async def update_profile(
    session: AsyncSession, user: User, *, display_name: str, locale: str | None, actor: Actor
) -> None:
    before = {"display_name": user.display_name, "locale": user.locale}
    after = {"display_name": display_name, "locale": locale}
    if before == after:
        return
    user.display_name, user.locale = display_name, locale
    changed = [k for k in after if before[k] != after[k]]
    record(
        session,
        actor=actor,
        action="user.profile_changed",
        entity_type="user",
        entity_id=user.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )


async def set_password(
    session: AsyncSession, user: User, password: str, *, actor: Actor, keep_session: str | None = None
) -> None:
    """Change the password and sign out every other browser (a stolen session dies with the old password)."""
    user.password_hash = await passwords.hash_password(password)
    await end_all_sessions(session, user.id, keep_token_hash=keep_session)
    # Never the hash itself in the log: only that it changed.
    record(session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id)


async def grant_role(
    session: AsyncSession,
    user: User,
    *,
    role: CoreRole,
    city_id: UUID | None = None,
    module: str | None = None,
    modules: Sequence[str] = (),
    actor: Actor,
) -> RoleGrant:
    """Give ``user`` a role; granting one they already hold returns the existing grant unchanged."""
    for grant in user.grants:
        if (grant.role, grant.city_id, grant.module, sorted(grant.modules or [])) == (
            role,
            city_id,
            module,
            sorted(modules),
        ):
            return grant
    grant = RoleGrant(user_id=user.id, role=role, city_id=city_id, module=module, modules=list(modules))
    user.grants.append(grant)
    await session.flush()
    record(
        session, actor=actor, action="grant.added", entity_type="user", entity_id=user.id, after=describe_grant(grant)
    )
    return grant


async def revoke_grant(session: AsyncSession, user: User, grant_id: UUID, *, actor: Actor) -> bool:
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        return False
    user.grants.remove(grant)
    await session.flush()
    record(
        session,
        actor=actor,
        action="grant.revoked",
        entity_type="user",
        entity_id=user.id,
        before=describe_grant(grant),
    )
    return True


def describe_grant(grant: RoleGrant) -> dict[str, Any]:
    return {
        "grant_id": grant.id,
        "role": grant.role,
        "city_id": grant.city_id,
        "module": grant.module,
        "modules": list(grant.modules or []),
    }


async def search_users(
    session: AsyncSession, *, query: str = "", offset: int = 0, limit: int = 25
) -> tuple[list[User], int]:
    statement = select(User)
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(or_(User.email.like(pattern), func.lower(User.display_name).like(pattern)))
    total = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    users = await session.scalars(statement.order_by(User.email).offset(offset).limit(limit))
    return list(users), total


# -- signing in -------------------------------------------------------------------------------------


async def sign_in_wait(session: AsyncSession, *, email: str, ip: str, per_minute: int) -> int:
    """Seconds this browser must wait before trying to sign in to ``email`` again (0: it may try now).

    Two limits, neither of which lets a stranger lock the owner out for long:

    - per account *and* address: after ``per_minute`` failures from one address for one account, that pair
      waits 60 s, then twice as long after each further failure, at most :data:`LOCKOUT_CAP`; failures are
      forgotten after :data:`LOCKOUT_MEMORY`. The owner signing in from another address is not slowed at all,
      and even from the attacker's own address the wait ends by itself.
    - per address: ``per_minute`` times :data:`IP_LIMIT_FACTOR` failures in a minute, whatever the accounts
      (password spraying), make that address wait a minute.
    """
    moment = now()
    by_ip = (
        await session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.ip == ip, LoginAttempt.at >= moment - LOGIN_WINDOW)
        )
        or 0
    )
    wait = 0.0
    if by_ip >= per_minute * IP_LIMIT_FACTOR:
        wait = LOGIN_WINDOW.total_seconds()
    failures, last = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.email == normalize_email(email),
                LoginAttempt.ip == ip,
                LoginAttempt.at >= moment - LOCKOUT_MEMORY,
            )
        )
    ).one()
    if failures >= per_minute and last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        backoff = min(LOCKOUT_BASE * 2 ** (failures - per_minute), LOCKOUT_CAP)
        wait = max(wait, (last + backoff - moment).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


async def record_failed_attempt(sessions: async_sessionmaker[AsyncSession], *, email: str, ip: str) -> None:
    """In its own transaction: the request's own one is rolled back with the error response."""
    async with transaction(sessions) as session:
        session.add(LoginAttempt(email=normalize_email(email)[:254], ip=ip[:45], at=now()))
        # Opportunistic clean-up besides the retention job: the table never holds more than a day.
        await session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - ATTEMPT_RETENTION))


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None — the same answer whatever was wrong."""
    user = await user_by_email(session, email)
    valid = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        return None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
    await session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    return user


# -- sessions ---------------------------------------------------------------------------------------


async def start_session(
    session: AsyncSession, user: User, *, ip: str | None, user_agent: str | None, replacing: str | None = None
) -> str:
    """A new session for ``user``; returns its secret id for the cookie. The session the browser had
    before (``replacing``, a token hash) is deleted, so an id planted before sign-in is worthless."""
    if replacing:
        await session.execute(delete(SignInSession).where(SignInSession.token_hash == replacing))
    token = secrets.token_urlsafe(32)
    moment = now()
    session.add(
        SignInSession(
            token_hash=digest(token),
            user_id=user.id,
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + SESSION_LIFETIME,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    user.last_login_at = moment
    return token


async def end_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(SignInSession).where(SignInSession.token_hash == token_hash))


async def end_all_sessions(session: AsyncSession, user_id: UUID, *, keep_token_hash: str | None = None) -> None:
    statement = delete(SignInSession).where(SignInSession.user_id == user_id)
    if keep_token_hash:
        statement = statement.where(SignInSession.token_hash != keep_token_hash)
    await session.execute(statement)


async def user_for_session(session: AsyncSession, token_hash: str) -> User | None:
    """The signed-in user, or None when the session is unknown, expired (idle or absolute) or the account
    disabled. Expired rows are deleted on sight."""
    row = await session.scalar(select(SignInSession).where(SignInSession.token_hash == token_hash))
    if row is None:
        return None
    moment = now()
    if row.expires_at <= moment or row.last_seen_at + SESSION_IDLE_TIMEOUT <= moment:
        await session.delete(row)
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if moment - row.last_seen_at >= LAST_SEEN_PRECISION:
        row.last_seen_at = moment
    return user


async def sessions_of(session: AsyncSession, user_id: UUID) -> list[SignInSession]:
    rows = await session.scalars(
        select(SignInSession).where(SignInSession.user_id == user_id).order_by(SignInSession.last_seen_at.desc())
    )
    return list(rows)


# -- API tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str
    """Shown to the owner once; only its digest is stored."""


async def create_api_token(
    session: AsyncSession, user: User, *, name: str, expires_at: datetime | None, actor: Actor
) -> NewApiToken:
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:12], expires_at=expires_at)
    session.add(token)
    await session.flush()
    record(
        session,
        actor=actor,
        action="api_token.created",
        entity_type="api_token",
        entity_id=token.id,
        after={"name": name, "user_id": user.id, "expires_at": expires_at},
    )
    return NewApiToken(token, secret)


async def api_tokens_of(session: AsyncSession, user_id: UUID) -> list[ApiToken]:
    rows = await session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
    return list(rows)


async def revoke_api_token(session: AsyncSession, user_id: UUID, token_id: UUID, *, actor: Actor) -> bool:
    token = await session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = now()
    record(
        session,
        actor=actor,
        action="api_token.revoked",
        entity_type="api_token",
        entity_id=token.id,
        before={"name": token.name},
    )
    return True


async def user_for_api_token(session: AsyncSession, secret: str) -> User | None:
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    moment = now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= moment):
        return None
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or moment - token.last_used_at >= LAST_SEEN_PRECISION:
        token.last_used_at = moment
    return user


# -- password reset ---------------------------------------------------------------------------------


async def request_password_reset(session: AsyncSession, *, email: str, base_url: str) -> None:
    """Mail a reset link when the account exists; says nothing either way (no account enumeration)."""
    user = await user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    moment = now()
    session.add(
        PasswordReset(
            user_id=user.id, token_hash=digest(token), created_at=moment, expires_at=moment + RESET_TOKEN_LIFETIME
        )
    )
    link = f"{base_url.rstrip('/')}/password/reset/{token}"
    queue_mail(
        session,
        to=user.email,
        subject=_("Reset your Covenant password"),
        body_text=_(
            "Hello {name},\n\nSomeone (hopefully you) asked to reset the password of your Covenant account.\n"
            "Choose a new password here within the next hour:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        ).format(name=user.display_name, link=link),
    )


async def valid_reset(session: AsyncSession, token: str) -> PasswordReset | None:
    reset = await session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now():
        return None
    return reset


async def complete_password_reset(session: AsyncSession, reset: PasswordReset, password: str) -> User | None:
    user = await session.get(User, reset.user_id)
    if user is None:
        return None
    reset.used_at = now()
    # Any other link still in the mailbox dies with this one.
    await session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.id != reset.id))
    await set_password(session, user, password, actor=user.id)
    return user


# -- admins -----------------------------------------------------------------------------------------


async def ensure_admin(
    session: AsyncSession, *, email: str, password: str | None, display_name: str = ""
) -> tuple[User, bool]:
    """The user with ``email``, created if needed, holding the admin role; ``password`` (when given)
    becomes theirs. Returns the user and whether it was created."""
    user = await user_by_email(session, email)
    created = user is None
    if user is None:
        user = await create_user(
            session, email=email, display_name=display_name or _("Administrator"), password=password, actor=None
        )
    elif password is not None:
        await set_password(session, user, password, actor=None)
    if not user.is_active:
        user.is_active = True
        record(session, actor=None, action="user.activated", entity_type="user", entity_id=user.id)
    await grant_role(session, user, role="admin", actor=None)
    return user, created


async def ensure_demo_admin(session: AsyncSession) -> tuple[str, str]:
    """The demo's admin (created, or its password reset); returns the e-mail and a fresh password."""
    password = generate_password()
    await ensure_admin(session, email=DEMO_ADMIN_EMAIL, password=password, display_name="Covenant Secretariat")
    return DEMO_ADMIN_EMAIL, password


async def save_locale_preference(sessions: async_sessionmaker[AsyncSession], user_id: UUID, locale: str) -> None:
    """A signed-in user who switches language keeps it on every device (their saved preference)."""
    async with transaction(sessions) as session:
        await session.execute(update(User).where(User.id == user_id).values(locale=locale))
