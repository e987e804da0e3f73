"""The running event bus of one process: broker connection, relay loop, and (embedded) the worker thread.

The web app owns one :class:`EventRuntime`. ``start(embedded_worker=True)`` — the default without a broker
URL — runs the relay on the web process's loop and a Dramatiq worker in threads of this process; the
worker gets its own event loop and database engine. With ``embedded_worker=False`` the process only
records events (the relay and workers run as ``covenant relay`` / ``covenant worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from typing import Any
from uuid import UUID

from dramatiq import Broker, Message, Worker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.events import broker as brokers
from covenant.events import outbox
from covenant.events.broker import FailedMessage
from covenant.events.catalogue import Catalogue, build_catalogue
from covenant.events.consumer import Consumers
from covenant.events.dead_letters import mark_replayed
from covenant.events.models import DeadLetter, DeadLetterStatus
from covenant.events.relay import Relay
from covenant.plugins import ModuleRegistry
from covenant.scheduler import Scheduler

logger = logging.getLogger(__name__)

EMBEDDED_WORKER_THREADS = 2
"""Few on purpose: on SQLite there is one writer at a time anyway."""


def start_worker(broker: Broker, queues: list[str], *, threads: int, prefetch: int = brokers.QUEUE_PREFETCH) -> Worker:
    """Start a Dramatiq worker on ``queues`` in background threads of this process."""
    worker = Worker(broker, queues=set(queues), worker_threads=threads, worker_timeout=100)
    worker.queue_prefetch = prefetch
    worker.start()
    return worker


class EventRuntime:
    def __init__(
        self, settings: Settings, registry: ModuleRegistry, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.sessions = sessions
        self.catalogue: Catalogue = build_catalogue(registry)
        self.broker: Broker | None = None
        self.consumers: Consumers | None = None
        self.relay: Relay | None = None
        self.worker: Worker | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self.scheduler: Scheduler | None = None
        self._scheduler_task: asyncio.Task[None] | None = None
        # Applies a replayed dead letter right here when no worker can receive it; unlike the actors'
        # consumer (which makes its own engine on the worker's loop) it uses this process's sessions.
        self._inline: Consumers | None = None

    async def start(self, *, embedded_worker: bool) -> None:
        """Connect the broker; when ``embedded_worker``, also run the relay and a worker here."""
        self.broker = brokers.install_broker(self.settings)
        self.consumers = Consumers(self.settings, self.catalogue, self.broker)
        self.consumers.declare()
        self._inline = Consumers(self.settings, self.catalogue, self.broker, sessions=self.sessions)
        if not embedded_worker:
            return
        self.worker = await asyncio.to_thread(
            start_worker, self.broker, self.catalogue.queues, threads=EMBEDDED_WORKER_THREADS
        )
        self.relay = Relay(self.sessions, self.broker, self.catalogue, poll_seconds=self.settings.relay_poll_seconds)
        outbox.add_nudger(self.relay.nudge)
        self._relay_task = asyncio.create_task(self.relay.run(), name="covenant-relay")
        # Embedded: one process is the whole deployment, so it is the scheduler too.
        self.scheduler = Scheduler.for_deployment(self.sessions, self.registry)
        self._scheduler_task = asyncio.create_task(self.scheduler.run_forever(), name="covenant-scheduler")
        # The in-process broker forgot its messages when the process stopped; the outbox did not.
        if brokers.is_in_process(self.broker):
            with contextlib.suppress(Exception):
                await self.relay.resend_unapplied()

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._scheduler_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._scheduler_task, timeout=10)
            self._scheduler_task = None
        if self.relay is not None:
            outbox.remove_nudger(self.relay.nudge)
            self.relay.stop()
        if self._relay_task is not None:
            try:
                await asyncio.wait_for(self._relay_task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self._relay_task.cancel()
            self._relay_task = None
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
            self.worker = None
        if self.broker is not None:
            with contextlib.suppress(Exception):
                self.broker.close()

    async def ping(self) -> bool:
        """True when the broker answers (always for the in-process one)."""
        if self.broker is None:
            return True
        return await asyncio.to_thread(brokers.ping, self.broker)

    def nudge(self) -> None:
        """Wake this process's relay now (e.g. after a commit outside a session)."""
        if self.relay is not None:
            self.relay.nudge()

    async def replay(self, dead_letter_id: UUID) -> DeadLetter:
        """Send a dead letter's message again to its subscriber.

        Through the broker when a worker can receive it (a real broker, or the embedded worker);
        otherwise it is applied right here, in this process, with the same inbox check.
        """
        return await replay(
            self.sessions,
            dead_letter_id,
            broker=self.broker,
            consumers=self._inline,
            through_broker=self.worker is not None
            or (self.broker is not None and not brokers.is_in_process(self.broker)),
        )


async def replay(
    sessions: async_sessionmaker[AsyncSession],
    dead_letter_id: UUID,
    *,
    broker: Broker | None,
    consumers: Consumers | None,
    through_broker: bool,
) -> DeadLetter:
    """Replay one dead letter (see :meth:`EventRuntime.replay`). Raises LookupError when unknown."""
    async with sessions() as session:
        letter = await session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise LookupError(f"no dead letter {dead_letter_id}")
    body: dict[str, Any] = dict(letter.message)
    if through_broker and broker is not None:
        message: Message[Any] = Message(
            queue_name=letter.queue, actor_name=letter.subscriber, args=(body,), kwargs={}, options={}
        )
        # Marked first: the worker may apply (and resolve) it before enqueue even returns.
        letter = await mark_replayed(sessions, dead_letter_id)
        try:
            await asyncio.to_thread(broker.enqueue, message)
        except Exception:
            await mark_replayed(sessions, dead_letter_id, status=DeadLetterStatus.DEAD)
            raise
        return letter
    if consumers is None:
        raise RuntimeError("no broker and no consumers to replay with")
    subscriber = consumers.catalogue.subscribers.get(letter.subscriber)
    if subscriber is None:
        raise LookupError(f"subscriber {letter.subscriber} is not enabled in this process")
    letter = await mark_replayed(sessions, dead_letter_id)
    try:
        await consumers.apply(subscriber, body, check_order=False)
    except Exception as exc:
        await consumers.store_dead_letter(
            FailedMessage(
                actor_name=letter.subscriber,
                queue_name=letter.queue,
                body=body,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                attempts=1,
            )
        )
        raise
    async with sessions() as session:
        refreshed = await session.get(DeadLetter, dead_letter_id)
        assert refreshed is not None
        return refreshed
