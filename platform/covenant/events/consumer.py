"""Subscribers as Dramatiq actors: apply each event exactly once, per city in order.

Every subscriber of the catalogue becomes one async actor ``<module>.<handler>`` on its module's queue.
For one message the actor opens ONE transaction that

1. checks that no earlier event of the same city for this subscriber is still unapplied (Dramatiq runs
   several messages at once and retries reorder them; an out-of-order message is sent again with a short
   delay instead of being applied — see :data:`MAX_DEFERRALS`);
2. inserts ``(event_id, subscriber)`` into ``event_inbox`` — when the row exists the message is a
   duplicate delivery and is skipped;
3. runs the handler with that session, so events it records go to the outbox in the same transaction;
4. resolves a dead letter of the same event and subscriber, if this was a replay.

The database engine is created lazily on the worker's event loop (the AsyncIO middleware's thread), not
at import: an async engine is bound to the loop it first connects on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import dramatiq
from dramatiq import Broker
from dramatiq.asyncio import get_event_loop_thread
from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import create_engine, session_factory
from covenant.events.base import new_event_id, utcnow
from covenant.events.broker import FailedMessage, dead_letters_middleware
from covenant.events.catalogue import Catalogue, Subscriber
from covenant.events.models import DeadLetter, DeadLetterStatus, InboxRecord, OutboxRecord
from covenant.events.sqlite import begin_write

logger = logging.getLogger(__name__)

MAX_DEFERRALS = 200
"""After this many deferrals (minutes) an event is applied even though an earlier one of its city is
still missing: better late and out of order than blocked forever by a message lost with a crashed
in-process broker."""
MAX_DEFERRAL_DELAY_MS = 1000
ORDER_PATIENCE_SECONDS = 0.05
"""How long a message waits in place for its predecessor before it is sent again with a delay."""


class OutOfOrder(Exception):
    """An earlier event of the same city has not been applied by this subscriber yet."""


def message_body(row: OutboxRecord | Any, subscriber: str) -> dict[str, Any]:
    """The JSON body the relay sends to one subscriber for one outbox row."""
    return {
        "event_id": str(row.event_id),
        "name": row.name,
        "version": row.version,
        "outbox_id": row.id,
        "city_id": str(row.city_id) if row.city_id else None,
        "subscriber": subscriber,
        "event": row.payload,
    }


class Consumers:
    """The subscription actors of one catalogue on one broker, and the sessions they use."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        broker: Broker,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.broker = broker
        self._sessions = sessions
        self._engine: AsyncEngine | None = None
        self.actors: dict[str, dramatiq.Actor[Any, Any]] = {}

    def declare(self) -> dict[str, dramatiq.Actor[Any, Any]]:
        """Declare one actor per subscriber on the broker and hook up the dead-letter store."""
        for queue in self.catalogue.queues:
            self.broker.declare_queue(queue)
        for subscriber in self.catalogue.subscribers.values():
            self.actors[subscriber.name] = dramatiq.actor(
                actor_name=subscriber.name,
                queue_name=subscriber.queue,
                broker=self.broker,
                max_retries=self.settings.dramatiq_max_retries,
                time_limit=self.settings.dramatiq_time_limit_ms,
            )(self._actor_fn(subscriber))
        middleware = dead_letters_middleware(self.broker)
        middleware.sink = self.store_dead_letter_blocking
        middleware.shutdown_hooks.append(self._dispose_on_worker_loop)
        return self.actors

    def _actor_fn(self, subscriber: Subscriber) -> Any:
        async def consume(body: dict[str, Any]) -> None:
            await self.consume(subscriber, body)

        consume.__name__ = subscriber.name.replace(".", "__")
        consume.__qualname__ = consume.__name__
        consume.__module__ = getattr(subscriber.handler, "__module__", __name__)
        return consume

    # -- sessions on the worker's loop -------------------------------------------------------------
    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session on this consumer's engine (created on first use, on the running loop)."""
        if self._sessions is None:
            self._engine = create_engine(self.settings)
            self._sessions = session_factory(self._engine)
        async with self._sessions() as session:
            yield session

    async def dispose(self) -> None:
        if self._engine is not None:
            engine, self._engine, self._sessions = self._engine, None, None
            await engine.dispose()

    def _dispose_on_worker_loop(self) -> None:
        thread = get_event_loop_thread()
        if thread is not None and self._engine is not None:
            thread.run_coroutine(self.dispose())

    # -- applying one message ----------------------------------------------------------------------
    async def consume(self, subscriber: Subscriber, body: dict[str, Any]) -> None:
        """The actor body: apply, or defer when an earlier event of the city is still missing."""
        deferrals = int(body.get("deferrals", 0))
        try:
            await self.apply(subscriber, body, check_order=deferrals < MAX_DEFERRALS)
        except OutOfOrder:
            # Sent again rather than waited for: a worker thread must not sit on a message for long.
            again = {**body, "deferrals": deferrals + 1}
            actor = self.actors[subscriber.name]
            delay = min(MAX_DEFERRAL_DELAY_MS, 10 * max(1, deferrals - 10))
            await asyncio.to_thread(actor.send_with_options, args=(again,), delay=delay)

    async def apply(self, subscriber: Subscriber, body: dict[str, Any], *, check_order: bool = True) -> bool:
        """Apply one message in one transaction. False when it was a duplicate delivery.

        Raises :class:`OutOfOrder` when ``check_order`` and an earlier event of the same city is unapplied.
        """
        event_type = self.catalogue.event_type(body["name"])
        if event_type is None:
            raise LookupError(f"no enabled part publishes {body['name']!r}; cannot decode it")
        event = event_type.model_validate(body["event"])
        ordered = check_order and event.city_id is not None and body.get("outbox_id") is not None
        if ordered:
            assert event.city_id is not None
            await self._wait_for_turn(subscriber, event.city_id, int(body["outbox_id"]))
        async with self.session() as session, session.begin():
            await begin_write(session)
            if ordered:
                assert event.city_id is not None
                await self._check_order(session, subscriber, event.city_id, int(body["outbox_id"]))
            if not await self._claim(session, subscriber.name, event.event_id):
                logger.info("%s: %s %s already applied, skipped", subscriber.name, event.name, event.event_id)
                return False
            await subscriber.handler(event, session)
            await session.execute(
                update(DeadLetter)
                .where(
                    DeadLetter.event_id == event.event_id,
                    DeadLetter.subscriber == subscriber.name,
                    DeadLetter.status != DeadLetterStatus.RESOLVED,
                )
                .values(status=DeadLetterStatus.RESOLVED)
            )
        return True

    async def _wait_for_turn(self, subscriber: Subscriber, city_id: UUID, outbox_id: int) -> None:
        """Wait a little, without holding a transaction, for the earlier events of the city to be
        applied: usually another thread is applying the previous one right now."""
        deadline = asyncio.get_running_loop().time() + ORDER_PATIENCE_SECONDS
        pause = 0.002
        while True:
            try:
                async with self.session() as session:
                    await self._check_order(session, subscriber, city_id, outbox_id)
                return
            except OutOfOrder:
                if asyncio.get_running_loop().time() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def _check_order(self, session: AsyncSession, subscriber: Subscriber, city_id: UUID, outbox_id: int) -> None:
        earlier = OutboxRecord.__table__.alias("earlier")
        unapplied = (
            select(earlier.c.id)
            .where(
                earlier.c.city_id == city_id,
                earlier.c.id < outbox_id,
                earlier.c.name.in_(subscriber.events),
                ~exists().where(
                    and_(InboxRecord.event_id == earlier.c.event_id, InboxRecord.subscriber == subscriber.name)
                ),
                # A dead-lettered predecessor no longer holds the city back; its replay comes late.
                ~exists().where(
                    and_(DeadLetter.event_id == earlier.c.event_id, DeadLetter.subscriber == subscriber.name)
                ),
            )
            .limit(1)
        )
        if (await session.execute(unapplied)).first() is not None:
            raise OutOfOrder(f"{subscriber.name}: an event of city {city_id} before #{outbox_id} is pending")

    async def _claim(self, session: AsyncSession, subscriber: str, event_id: UUID) -> bool:
        values = {"id": new_event_id(), "event_id": event_id, "subscriber": subscriber, "processed_at": utcnow()}
        dialect = session.bind.dialect.name if session.bind is not None else ""
        stmt: Any
        if dialect == "postgresql":
            stmt = postgresql.insert(InboxRecord).values(values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite.insert(InboxRecord).values(values).on_conflict_do_nothing()
        else:  # pragma: no cover - only the two supported databases
            stmt = insert(InboxRecord).values(values)
        result = await session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    # -- dead letters ------------------------------------------------------------------------------
    def store_dead_letter_blocking(self, failed: FailedMessage) -> None:
        """Called by the DeadLetters middleware on a worker thread: store on the worker's loop."""
        thread = get_event_loop_thread()
        if thread is None:
            asyncio.run(self.store_dead_letter(failed))
        else:
            thread.run_coroutine(self.store_dead_letter(failed))

    async def store_dead_letter(self, failed: FailedMessage) -> None:
        body = failed.body
        event_id = UUID(str(body.get("event_id")))
        async with self.session() as session, session.begin():
            await begin_write(session)
            existing = await session.scalar(
                select(DeadLetter).where(DeadLetter.event_id == event_id, DeadLetter.subscriber == failed.actor_name)
            )
            if existing is None:
                session.add(
                    DeadLetter(
                        event_id=event_id,
                        event_name=str(body.get("name", "")),
                        subscriber=failed.actor_name,
                        queue=failed.queue_name,
                        message={k: v for k, v in body.items() if k != "deferrals"},
                        error=failed.error,
                        traceback=failed.traceback,
                        attempts=failed.attempts,
                    )
                )
            else:
                existing.status = DeadLetterStatus.DEAD
                existing.error = failed.error
                existing.traceback = failed.traceback
                existing.attempts += failed.attempts
                existing.failed_at = utcnow()
        logger.warning(
            "dead letter: %s could not apply %s %s: %s", failed.actor_name, body.get("name"), event_id, failed.error
        )
