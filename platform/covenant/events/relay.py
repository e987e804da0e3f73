"""The relay: moves recorded events from the outbox to the broker, one message per subscriber.

It reads unpublished rows in id order, sends their messages in one batch, then marks the rows published,
all in one transaction. On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` so several relays
share the work; on SQLite exactly one relay runs, in-process, and takes the write lock up front.

A relay that dies after sending and before its commit leaves the rows unpublished: the next pass sends
them again and the subscribers' inbox absorbs the duplicates (at least once, applied exactly once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dramatiq import Broker, Message
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.events.base import utcnow
from covenant.events.broker import enqueue_many
from covenant.events.catalogue import Catalogue
from covenant.events.consumer import message_body
from covenant.events.models import DeadLetter, InboxRecord, OutboxRecord
from covenant.events.sqlite import begin_write

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
BUSY_SECONDS = 0.05
"""The pause after a pass that sent events (see :meth:`Relay.run`)."""


class Relay:
    """One relay loop. :meth:`nudge` may be called from any thread (e.g. after a commit)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        catalogue: Catalogue,
        *,
        poll_seconds: float = 2.0,
        batch_size: int = BATCH_SIZE,
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.catalogue = catalogue
        self.poll_seconds = poll_seconds
        self.busy_seconds = min(busy_seconds, poll_seconds)
        self.pause = poll_seconds
        """The current wait between passes (see :meth:`run`)."""
        self.batch_size = batch_size
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._lock = threading.Lock()

    async def publish_pending(self) -> int:
        """Send one batch of unpublished rows and mark them published. Returns how many rows."""
        async with self.sessions() as session, session.begin():
            await begin_write(session)
            query = (
                select(
                    OutboxRecord.id,
                    OutboxRecord.event_id,
                    OutboxRecord.name,
                    OutboxRecord.version,
                    OutboxRecord.payload,
                    OutboxRecord.city_id,
                )
                .where(OutboxRecord.published_at.is_(None))
                .order_by(OutboxRecord.id)
                .limit(self.batch_size)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            messages = self._messages(rows)
            await asyncio.to_thread(enqueue_many, self.broker, messages)
            await self._mark_published(session, [row.id for row in rows])
        return len(rows)

    def _messages(self, rows: Sequence[Any]) -> list[Message[Any]]:
        messages: list[Message[Any]] = []
        for row in rows:
            for subscriber in self.catalogue.subscribers_of(row.name):
                messages.append(
                    Message(
                        queue_name=subscriber.queue,
                        actor_name=subscriber.name,
                        args=(message_body(row, subscriber.name),),
                        kwargs={},
                        options={},
                    )
                )
        return messages

    async def _mark_published(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.id.in_(ids))
            .values(published_at=utcnow(), attempts=OutboxRecord.attempts + 1)
        )

    async def drain(self) -> int:
        """Publish until the outbox is empty (or another relay holds the rest). Returns rows sent."""
        total = 0
        while True:
            sent = await self.publish_pending()
            total += sent
            if sent < self.batch_size:
                return total

    async def resend_unapplied(
        self, older_than: timedelta = timedelta(minutes=10), horizon: timedelta = timedelta(days=2)
    ) -> int:
        """Send again the published events a subscriber has neither applied nor dead-lettered.

        The broker is at-least-once only while it keeps its messages: an in-process broker loses them on
        restart, a Redis without AOF on a crash. The scheduler calls this periodically as a safety net;
        the inbox makes a needless resend harmless. Returns the number of messages sent.
        """
        now = utcnow()
        messages: list[Message[Any]] = []
        async with self.sessions() as session:
            for subscriber in self.catalogue.subscribers.values():
                rows = (
                    await session.execute(
                        select(
                            OutboxRecord.id,
                            OutboxRecord.event_id,
                            OutboxRecord.name,
                            OutboxRecord.version,
                            OutboxRecord.payload,
                            OutboxRecord.city_id,
                        )
                        .where(
                            OutboxRecord.name.in_(subscriber.events),
                            OutboxRecord.published_at.is_not(None),
                            OutboxRecord.published_at < now - older_than,
                            OutboxRecord.published_at > now - horizon,
                            ~exists().where(
                                and_(
                                    InboxRecord.event_id == OutboxRecord.event_id,
                                    InboxRecord.subscriber == subscriber.name,
                                )
                            ),
                            ~exists().where(
                                and_(
                                    DeadLetter.event_id == OutboxRecord.event_id,
                                    DeadLetter.subscriber == subscriber.name,
                                )
                            ),
                        )
                        .order_by(OutboxRecord.id)
                        .limit(self.batch_size)
                    )
                ).all()
                messages += [
                    Message(
                        queue_name=subscriber.queue,
                        actor_name=subscriber.name,
                        args=(message_body(row, subscriber.name),),
                        kwargs={},
                        options={},
                    )
                    for row in rows
                ]
        await asyncio.to_thread(enqueue_many, self.broker, messages)
        if messages:
            logger.warning("relay: re-sent %d messages never applied by their subscribers", len(messages))
        return len(messages)

    # -- the loop ----------------------------------------------------------------------------------
    def nudge(self) -> None:
        """Wake the loop now (thread-safe; a no-op when it is not running)."""
        with self._lock:
            loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closing between the check and the call
            loop.call_soon_threadsafe(wake.set)

    async def run(self) -> None:
        """Publish, then sleep until nudged or the next poll; until :meth:`stop`.

        Events recorded by another process (a web process, when the relay runs on its own) cannot nudge it,
        so the pause adapts: right after a pass that sent something the relay looks again after
        ``busy_seconds``, and each empty pass doubles the pause up to ``poll_seconds``. Under a steady
        stream of events the lag stays near ``busy_seconds``; an idle outbox costs one query per
        ``poll_seconds``."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
        wake = self._wake
        self._stopping = False
        self.pause = self.poll_seconds
        while not self._stopping:
            wake.clear()
            try:
                sent = await self.drain()
                self.pause = self.busy_seconds if sent else min(self.poll_seconds, self.pause * 2)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database or broker is away: keep polling, the rows stay in the outbox meanwhile.
                logger.exception("relay pass failed; retrying in %.1fs", self.poll_seconds)
                self.pause = self.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.pause)
        with self._lock:
            self._loop = self._wake = None

    def stop(self) -> None:
        self._stopping = True
        self.nudge()


async def outbox_lag_seconds(session: AsyncSession) -> float:
    """Age in seconds of the oldest unpublished outbox row; 0 when everything is published."""
    oldest = await session.scalar(select(func.min(OutboxRecord.recorded_at)).where(OutboxRecord.published_at.is_(None)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite returns naive datetimes
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - oldest).total_seconds())
