"""Retention: what expires is deleted by a daily job (and ``covenant users purge``).

Sessions past their idle or absolute limit, password-reset links past their hour (or used), failed sign-ins
older than a day, API tokens revoked or expired for 90 days. Modules purge their own expiring secrets with
their own scheduled jobs (e.g. the training module's questionnaire links).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts import services
from covenant.accounts.models import ApiToken, LoginAttempt, PasswordReset, SignInSession
from covenant.plugins import ScheduledJob

DEAD_TOKEN_RETENTION = timedelta(days=90)
"""Revoked or expired API tokens stay listed on their owner's page this long, then go."""
PURGE_EVERY = timedelta(hours=24)


async def purge_expired(session: AsyncSession) -> dict[str, int]:
    """Delete what has expired; returns how many rows of each kind went. Idempotent."""
    moment = services.now()
    counts: dict[str, int] = {}
    statements = {
        "sessions": delete(SignInSession).where(
            or_(
                SignInSession.expires_at <= moment,
                SignInSession.last_seen_at <= moment - services.SESSION_IDLE_TIMEOUT,
            )
        ),
        "password_resets": delete(PasswordReset).where(
            or_(PasswordReset.expires_at <= moment, PasswordReset.used_at.is_not(None))
        ),
        "login_attempts": delete(LoginAttempt).where(LoginAttempt.at < moment - services.ATTEMPT_RETENTION),
        "api_tokens": delete(ApiToken).where(
            or_(
                ApiToken.revoked_at <= moment - DEAD_TOKEN_RETENTION,
                ApiToken.expires_at <= moment - DEAD_TOKEN_RETENTION,
            )
        ),
    }
    for kind, statement in statements.items():
        result = await session.execute(statement)
        counts[kind] = int(getattr(result, "rowcount", 0) or 0)
    return counts


async def _run(session: AsyncSession) -> None:
    await purge_expired(session)


RETENTION_JOB = ScheduledJob("accounts.purge_expired", PURGE_EVERY, _run)
"""The core's retention job, for the deployment's scheduler (``Scheduler.for_deployment``)."""
