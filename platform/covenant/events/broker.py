"""The one place that builds the Dramatiq broker (DESIGN §3, "Dramatiq notes").

``COVENANT_BROKER_URL`` picks it: ``redis://`` → Redis, ``amqp://`` → RabbitMQ, empty → an in-process
:class:`~dramatiq.brokers.stub.StubBroker` served by a worker thread. Subscription actors are declared on
the broker returned here (see :mod:`covenant.events.consumer`), never on Dramatiq's implicit global one,
which would silently be RabbitMQ on localhost.
"""

from __future__ import annotations

import logging
import traceback as tb
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import dramatiq
from dramatiq import Broker, Message, Middleware
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
from dramatiq.middleware import AsyncIO, CurrentMessage, Retries, ShutdownNotifications, TimeLimit

from covenant.config import Settings

logger = logging.getLogger(__name__)

MAX_BACKOFF_MS = 5 * 60 * 1000
QUEUE_PREFETCH = 128
"""Messages a worker process holds per queue; Dramatiq's default (2 x threads) throttles throughput (§7)."""


@dataclass(frozen=True)
class FailedMessage:
    """A message whose retries are exhausted, as handed to the dead-letter store."""

    actor_name: str
    queue_name: str
    body: dict[str, Any]
    error: str
    traceback: str
    attempts: int


DeadLetterSink = Callable[[FailedMessage], None]


class DeadLetters(Middleware):
    """Hands a message to the dead-letter store once Retries has given up on it.

    Dramatiq keeps its own dead-letter queue too; this copy is what admins see and replay. It must sit
    *before* :class:`Retries` in the middleware list: ``after_*`` hooks run in reverse order, and Retries
    is the one that marks the message failed.
    """

    def __init__(self) -> None:
        self.sink: DeadLetterSink | None = None
        self.shutdown_hooks: list[Callable[[], None]] = []

    def after_process_message(
        self, broker: Broker, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is None or not message.failed or self.sink is None:
            return
        body = message.args[0] if message.args and isinstance(message.args[0], dict) else {"args": message.args}
        failed = FailedMessage(
            actor_name=message.actor_name,
            queue_name=message.queue_name,
            body=body,
            error=f"{type(exception).__name__}: {exception}"[:2000],
            traceback=message.options.get("traceback")
            or "".join(tb.format_exception(type(exception), exception, exception.__traceback__)),
            attempts=int(message.options.get("retries", 0)),
        )
        try:
            self.sink(failed)
        except Exception:
            # The message stays in Dramatiq's own dead-letter queue; say loudly that our copy is missing.
            logger.exception("could not store dead letter of %s for %s", failed.actor_name, body.get("event_id"))

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        # Runs while the AsyncIO middleware's loop is still up, so async engines can be disposed on it.
        for hook in self.shutdown_hooks:
            try:
                hook()
            except Exception:
                logger.exception("worker shutdown hook failed")


def middleware(settings: Settings) -> list[Middleware]:
    return [
        DeadLetters(),
        ShutdownNotifications(),
        TimeLimit(time_limit=settings.dramatiq_time_limit_ms),
        CurrentMessage(),
        Retries(
            max_retries=settings.dramatiq_max_retries,
            min_backoff=settings.dramatiq_min_backoff_ms,
            max_backoff=max(MAX_BACKOFF_MS, settings.dramatiq_min_backoff_ms),
        ),
        AsyncIO(),
    ]


def build_broker(settings: Settings) -> Broker:
    """A new broker for ``settings.broker_url`` with Covenant's middleware. Does not connect yet."""
    url = settings.broker_url
    stack = middleware(settings)
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=stack)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=stack)
    broker = StubBroker(middleware=stack)
    # Failing messages end in event_dead_letter; joins in tests must not raise on them.
    broker.fail_fast_default = False
    return broker


def install_broker(settings: Settings) -> Broker:
    """Build the broker and make it Dramatiq's global one, before any actor is declared."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker


def dead_letters_middleware(broker: Broker) -> DeadLetters:
    for item in broker.middleware:
        if isinstance(item, DeadLetters):
            return item
    raise LookupError("the broker was not built by covenant.events.broker")


def is_in_process(broker: Broker) -> bool:
    return isinstance(broker, StubBroker)


def enqueue_many(broker: Broker, messages: Sequence[Message[Any]]) -> None:
    """Send ``messages`` in order. On Redis they go in one pipeline (one round trip, DESIGN §7)."""
    if not messages:
        return
    client = getattr(broker, "client", None)
    scripts = getattr(broker, "scripts", None)
    if client is None or not scripts or "dispatch" not in scripts:
        for message in messages:
            broker.enqueue(message)
        return
    _redis_enqueue_many(broker, messages)


def _redis_enqueue_many(broker: Any, messages: Sequence[Message[Any]]) -> None:
    # Mirrors RedisBroker.enqueue + its dispatch script call, but queued on a pipeline.
    dispatch = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    sent = []
    for original in messages:
        message = original.copy(options={"redis_message_id": str(uuid4())})
        broker.emit_before("enqueue", message, None)
        args = [
            "enqueue",
            current_millis(),
            message.queue_name,
            broker.broker_id,
            broker.heartbeat_timeout,
            broker.dead_message_ttl,
            0,
            broker._max_unpack_size(),
            message.options["redis_message_id"],
            message.encode(),
        ]
        dispatch(keys=[broker.namespace], args=args, client=pipe)
        sent.append(message)
    pipe.execute()
    for message in sent:
        broker.emit_after("enqueue", message, None)


def ping(broker: Broker) -> bool:
    """True when the broker answers: Redis PING, an AMQP connection, always for the in-process one."""
    try:
        if is_in_process(broker):
            return True
        client = getattr(broker, "client", None)
        if client is not None:
            return bool(client.ping())
        connection = getattr(broker, "connection", None)
        return bool(connection is not None and connection.is_open)
    except Exception:
        return False
