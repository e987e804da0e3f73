"""Subscribers as Dramatiq actors: apply each event exactly once, per city in order.

Every subscriber of the catalogue becomes one async actor ``<module>.<handler>`` on its module's queue.
For one message the actor opens ONE transaction on ONE connection that

1. on PostgreSQL, takes a transaction-scoped advisory lock on ``(subscriber, city)``: Dramatiq runs several
   messages at once, and a later event of the city waits here while the one before it is being applied;
2. inserts ``(event_id, subscriber)`` into ``event_inbox`` — in the same statement, only when no earlier
   event of the same city is still unapplied by this subscriber (retries reorder messages). No row comes
   back when it was a duplicate delivery (skipped) or when it is out of order: then it waits a moment in
   place and, when that is not enough, is sent again with a short delay (see :data:`MAX_DEFERRALS`);
3. runs the handler with that session, so events it records go to the outbox in the same transaction;
4. resolves a dead letter of the same event and subscriber, when the claim reported one (a replay).

A predecessor is never applied on behalf of its own message: a failing one is being retried with backoff,
and its successors wait for it (or for its dead letter) instead of running its handler again.

The database engine is created lazily on the worker's event loop (the AsyncIO middleware's thread), not
at import: an async engine is bound to the loop it first connects on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

import dramatiq
from dramatiq import Broker
from dramatiq.asyncio import get_event_loop_thread
from sqlalchemy import BigInteger, Executable, String, Table, bindparam, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import create_engine, session_factory
from covenant.events.base import DomainEvent, new_event_id, utcnow
from covenant.events.broker import FailedMessage, dead_letters_middleware
from covenant.events.catalogue import Catalogue, Subscriber
from covenant.events.models import DeadLetter, DeadLetterStatus, InboxRecord, OutboxRecord
from covenant.events.sqlite import begin_write
from covenant.i18n import using_domain

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


def _lock_key(subscriber: str, city_id: UUID | None) -> int:
    """The advisory lock of one subscriber's events of one city: the same 64-bit key in every process."""
    digest = hashlib.blake2b(f"{subscriber}:{city_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class _Statements:
    """One subscriber's statements, built once: SQLAlchemy then reuses their cache keys and compiled SQL."""

    lock: Executable
    claim: Executable
    applied: Executable
    resolve: Executable

    @classmethod
    def build(cls, subscriber: Subscriber) -> _Statements:
        inbox = cast(Table, InboxRecord.__table__)
        letters = cast(Table, DeadLetter.__table__)
        me = bindparam("sub", type_=inbox.c.subscriber.type)
        event_id = bindparam("event", type_=inbox.c.event_id.type)
        # Text, because the dialects' INSERT .. ON CONFLICT constructs are not cacheable: SQLAlchemy would
        # compile them again for every message. The same SQL runs on PostgreSQL and SQLite (3.35+).
        claim = text(
            """
            INSERT INTO event_inbox (id, event_id, subscriber, processed_at)
            SELECT :claim, :event, :sub, :at
            WHERE NOT EXISTS (
                SELECT 1 FROM event_outbox AS earlier
                WHERE earlier.city_id = :city AND earlier.id < :before AND earlier.name IN :names
                AND NOT EXISTS (
                    SELECT 1 FROM event_inbox AS applied
                    WHERE applied.event_id = earlier.event_id AND applied.subscriber = :sub
                )
                AND NOT EXISTS (
                    SELECT 1 FROM event_dead_letter AS dead
                    WHERE dead.event_id = earlier.event_id AND dead.subscriber = :sub
                )
            )
            ON CONFLICT DO NOTHING
            RETURNING id, (
                SELECT count(*) FROM event_dead_letter AS letter
                WHERE letter.event_id = :event AND letter.subscriber = :sub AND letter.status <> :resolved
            ) AS open_dead_letters
            """
        ).bindparams(
            bindparam("claim", type_=inbox.c.id.type),
            event_id,
            me,
            bindparam("at", type_=inbox.c.processed_at.type),
            bindparam("city", type_=OutboxRecord.__table__.c.city_id.type),
            bindparam("before", type_=OutboxRecord.__table__.c.id.type),
            bindparam("names", value=sorted(subscriber.events), type_=String(), expanding=True),
            bindparam("resolved", value=DeadLetterStatus.RESOLVED, type_=letters.c.status.type),
        )
        return cls(
            lock=select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger()))),
            claim=claim,
            applied=select(inbox.c.id).where(inbox.c.event_id == event_id, inbox.c.subscriber == me),
            resolve=update(letters)
            .where(
                letters.c.event_id == event_id,
                letters.c.subscriber == me,
                letters.c.status != DeadLetterStatus.RESOLVED,
            )
            .values(status=DeadLetterStatus.RESOLVED),
        )


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
        self._statements: dict[str, _Statements] = {}
        self._holding: dict[tuple[str, UUID | None], set[int]] = {}
        """Outbox ids of the ordered messages being applied (or waiting their turn) here, per subscriber and city."""
        self._changed: dict[tuple[str, UUID | None], asyncio.Event] = {}

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
            # No pre-ping: it costs three round trips per checkout (BEGIN, ping, ROLLBACK), more than the
            # whole claim. A connection found dead is retried once instead (see :meth:`apply`).
            self._engine = create_engine(self.settings, pool_pre_ping=False)
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

        Raises :class:`OutOfOrder` when ``check_order`` and an earlier event of the same city is still
        unapplied after :data:`ORDER_PATIENCE_SECONDS`.
        """
        event_type = self.catalogue.event_type(body["name"])
        if event_type is None:
            raise LookupError(f"no enabled part publishes {body['name']!r}; cannot decode it")
        event = event_type.model_validate(body["event"])
        ordered = check_order and event.city_id is not None and body.get("outbox_id") is not None
        # Outbox ids start at 1: nothing comes before 0, so an unordered claim never finds a predecessor.
        before = int(body["outbox_id"]) if ordered else 0
        key = (subscriber.name, event.city_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ORDER_PATIENCE_SECONDS
        pause = 0.002
        reconnected = False
        with self._held(key, before):
            while True:
                started: list[bool] = []
                try:
                    return await self._apply_once(subscriber, event, before, started)
                except OutOfOrder:
                    if await self._wait_for_earlier_held(key, before):
                        continue
                    # Usually another worker is applying the previous event right now, or just about to.
                    if loop.time() + pause > deadline:
                        raise
                except DBAPIError as exc:
                    # A pooled connection the database dropped (restart, idle timeout) fails on first use: the
                    # pool is invalidated and the message tried once more on a fresh connection — unless its
                    # handler had already run (then Dramatiq's retry, with its backoff, takes over).
                    if reconnected or started or not exc.connection_invalidated:
                        raise
                    reconnected = True
                    continue
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.02)

    @contextmanager
    def _held(self, key: tuple[str, UUID | None], outbox_id: int) -> Iterator[None]:
        """Note that this process holds the message ``outbox_id`` of ``key`` until it is applied or given up."""
        if not outbox_id:
            yield
            return
        held = self._holding.setdefault(key, set())
        held.add(outbox_id)
        try:
            yield
        finally:
            held.discard(outbox_id)
            if not held:
                del self._holding[key]
            changed = self._changed.pop(key, None)
            if changed is not None:
                changed.set()

    async def _wait_for_earlier_held(self, key: tuple[str, UUID | None], outbox_id: int) -> bool:
        """Wait until an earlier message of ``key`` held by this process is done with; False when there is none.

        Dramatiq hands several messages of one city to the worker's threads at once: the later ones wait
        here, in memory, instead of asking the database again and again or being sent back to the queue.
        All actors of a worker run on one event loop, so no lock is needed.
        """
        held = self._holding.get(key)
        if not held or min(held) >= outbox_id:
            return False
        await self._changed.setdefault(key, asyncio.Event()).wait()
        return True

    async def _apply_once(self, subscriber: Subscriber, event: DomainEvent, before: int, started: list[bool]) -> bool:
        async with self.session() as session, session.begin():
            await begin_write(session)
            connection = await session.connection()
            statements = self._statements_for(subscriber)
            mine = {"event": event.event_id, "sub": subscriber.name}
            if before and connection.dialect.name == "postgresql":
                # One (subscriber, city) at a time: a later event waits here for the one being applied.
                await connection.execute(statements.lock, {"key": _lock_key(subscriber.name, event.city_id)})
            claim = {"claim": new_event_id(), "at": utcnow(), "city": event.city_id, "before": before, **mine}
            claimed = (await connection.execute(statements.claim, claim)).first()
            if claimed is None:
                if (await connection.execute(statements.applied, mine)).first() is not None:
                    logger.info("%s: %s %s already applied, skipped", subscriber.name, event.name, event.event_id)
                    return False
                raise OutOfOrder(f"{subscriber.name}: an event of city {event.city_id} before #{before} is pending")
            started.append(True)
            with using_domain(subscriber.module):
                await subscriber.handler(event, session)
            if claimed.open_dead_letters:
                # A replay (or a late delivery of a dead-lettered event): its dead letter is resolved.
                await connection.execute(statements.resolve, mine)
        return True

    def _statements_for(self, subscriber: Subscriber) -> _Statements:
        statements = self._statements.get(subscriber.name)
        if statements is None:
            statements = self._statements[subscriber.name] = _Statements.build(subscriber)
        return statements

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
