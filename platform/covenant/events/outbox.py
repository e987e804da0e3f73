"""Recording events: the transactional outbox.

A service that changes state calls :func:`record` with the session of its transaction. The event is
written with the state change or not at all; after the commit the relays of this process are nudged so the
event leaves within milliseconds instead of at the next poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from covenant.events.base import DomainEvent
from covenant.events.models import OutboxRecord

_PENDING = "covenant.outbox_pending"
_nudgers: list[Callable[[], None]] = []
_lock = threading.Lock()


def record(session: AsyncSession | Session, event: DomainEvent) -> OutboxRecord:
    """Add ``event`` to the outbox in the caller's transaction. Does not flush or commit."""
    row = OutboxRecord(
        event_id=event.event_id,
        name=event.event_name(),
        version=event.version,
        payload=event.payload(),
        city_id=event.city_id,
        occurred_at=event.occurred_at,
    )
    session.add(row)
    session.info[_PENDING] = True
    return row


def add_nudger(nudge: Callable[[], None]) -> None:
    """Call ``nudge`` (thread-safe, non-blocking) after every commit that recorded events."""
    with _lock:
        _nudgers.append(nudge)


def remove_nudger(nudge: Callable[[], None]) -> None:
    with _lock:
        if nudge in _nudgers:
            _nudgers.remove(nudge)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    with _lock:
        nudgers = list(_nudgers)
    for nudge in nudgers:
        nudge()


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def pending(session: AsyncSession | Session) -> bool:
    """True when the session recorded events not yet committed (for tests and diagnostics)."""
    info: dict[str, Any] = session.info
    return bool(info.get(_PENDING))
