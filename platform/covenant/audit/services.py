"""Writing and reading the audit log."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.identity import Identity
from covenant.audit.models import AuditEntry

client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("covenant_client_ip", default=None)
"""Set by the accounts middleware for each request, so services need not pass the request around."""


def record(
    session: AsyncSession,
    *,
    actor: Identity | UUID | None,
    action: str,
    entity_type: str,
    entity_id: UUID | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row to ``session``: it commits or rolls back with the change it describes.

    ``actor`` is the identity acting (None for the system: CLI, workers, demo loader). ``before`` and
    ``after`` hold the changed fields only, as JSON-ready values.
    """
    actor_id = actor.user_id if isinstance(actor, Identity) else actor
    actor_email = actor.email if isinstance(actor, Identity) and actor.email else None
    entry = AuditEntry(
        actor_id=actor_id,
        actor_email=actor_email,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        at=datetime.now(UTC),
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        ip=client_ip.get(),
    )
    session.add(entry)
    return entry


async def search(
    session: AsyncSession,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: UUID | None = None,
    actor_email: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[AuditEntry], int]:
    """The newest entries first, filtered by entity and/or actor."""
    query = select(AuditEntry)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if actor_email:
        query = query.where(AuditEntry.actor_email == actor_email.strip().lower())
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, UUID | datetime):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
