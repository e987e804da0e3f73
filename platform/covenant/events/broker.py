"""The one place that builds the Dramatiq broker (DESIGN §3, "Dramatiq notes").

``COVENANT_BROKER_URL`` picks it: ``redis://`` → Redis, ``amqp://`` → RabbitMQ, empty → an in-process
:class:`~dramatiq.brokers.stub.StubBroker` served by a worker thread. Subscription actors are declared on
the broker returned here (see :mod:`covenant.events.consumer`), never on Dramatiq's implicit global one,
which would silently be RabbitMQ on localhost.
"""

from __future__ import annotations

import logging
import time
import traceback as tb
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import dramatiq
from dramatiq import Broker, Message, Middleware
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import AsyncIO, CurrentMessage, Retries, ShutdownNotifications, TimeLimit

from covenant.config import Settings
from covenant.db import database_unavailable

logger = logging.getLogger(__name__)

MAX_BACKOFF_MS = 5 * 60 * 1000
RETRY_ENQUEUE_PAUSE_SECONDS = 0.5
MAX_RETRY_ENQUEUE_PAUSE_SECONDS = 5.0
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


def is_connection_error(exc: BaseException) -> bool:
    """The broker could not be reached (as opposed to a message or code problem)."""
    if isinstance(exc, BrokerConnectionError | ConnectionError):
        return True
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis ships with dramatiq[redis]
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


class _PatientBroker:
    """The broker as :class:`PatientRetries` sees it: ``enqueue`` waits for an unreachable broker."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        pause = RETRY_ENQUEUE_PAUSE_SECONDS
        while True:
            try:
                return self._broker.enqueue(message, delay=delay)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                logger.warning(
                    "cannot re-enqueue %s for a retry (%s); trying again in %.1fs", message.actor_name, exc, pause
                )
                time.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_ENQUEUE_PAUSE_SECONDS)


class PatientRetries(Retries):
    """Dramatiq's :class:`Retries`, except that a retry the broker cannot take right now is not dropped.

    Retries re-enqueues a failed message with a delay, and the worker then acknowledges the original. With
    the broker unreachable the re-enqueue fails (Dramatiq only logs it) while the acknowledgement waits for
    the broker to come back: the message would be gone. Here the re-enqueue waits for the broker too, the
    way Dramatiq's own acknowledgement does.
    """

    def after_process_message(
        self, broker: Broker, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        super().after_process_message(  # type: ignore[no-untyped-call]
            _PatientBroker(broker), message, result=result, exception=exception
        )


def retry_policy(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Whether to retry a failed message (Dramatiq's ``retry_when``).

    A handler that fails on its own is retried ``max_retries`` times, then dead-lettered. One that failed
    because the database or the broker could not be reached is not at fault: it is retried until they are
    back (the backoff keeps growing, up to :data:`MAX_BACKOFF_MS`), so an outage longer than the retries
    never turns healthy messages into dead letters.
    """

    def retry_when(retries: int, exception: BaseException) -> bool:
        return retries < max_retries or database_unavailable(exception) or is_connection_error(exception)

    return retry_when


def middleware(settings: Settings) -> list[Middleware]:
    return [
        DeadLetters(),
        ShutdownNotifications(),
        TimeLimit(time_limit=settings.dramatiq_time_limit_ms),
        CurrentMessage(),
        PatientRetries(
            max_retries=settings.dramatiq_max_retries,
            retry_when=retry_policy(settings.dramatiq_max_retries),
            min_backoff=settings.dramatiq_min_backoff_ms,
            max_backoff=max(MAX_BACKOFF_MS, settings.dramatiq_min_backoff_ms),
        ),
        AsyncIO(),
    ]


def _redis_broker_class() -> Any:
    """Dramatiq's Redis broker, made safe across a Redis outage (DESIGN §3: nothing is lost).

    Two gaps of Dramatiq's Redis broker are closed here:

    * a delay-queue consumer that loses its connection drops the delayed messages it holds in memory
      (retries waiting for their backoff, deferred out-of-order events) while Redis still lists them as
      taken by this worker: they would only come back once this worker process stopped. A new delay-queue
      consumer therefore first puts back whatever this worker had taken from that queue and not
      acknowledged (nothing else of this worker can hold such a message at that point);
    * ``enqueue`` and ``requeue`` let Redis' own connection errors through, which the worker does not
      recognise as a connection loss: they are raised as Dramatiq's ``ConnectionClosed``.
    """
    import redis
    from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
    from dramatiq.common import dq_name
    from dramatiq.errors import ConnectionClosed

    lost_connection = (redis.ConnectionError, redis.TimeoutError)

    class Consumer(_RedisConsumer):
        def __init__(self, broker: Any, queue_name: str, prefetch: int, timeout: int) -> None:
            super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
            if queue_name != dq_name(queue_name):
                return
            acks = f"{broker.namespace}:__acks__.{broker.broker_id}.{queue_name}"
            try:
                taken = [m.decode() if isinstance(m, bytes) else m for m in broker.client.smembers(acks)]
                if taken:
                    broker.do_requeue(queue_name, *taken)
                    logger.warning(
                        "%s: put back %d delayed messages held before a reconnection", queue_name, len(taken)
                    )
            except lost_connection as exc:
                raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

        def requeue(self, messages: Any) -> None:
            try:
                super().requeue(messages)  # type: ignore[no-untyped-call]
            except lost_connection as exc:
                raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    class SafeRedisBroker(RedisBroker):
        @property
        def consumer_class(self) -> type[Consumer]:
            return Consumer

        def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
            try:
                return super().enqueue(message, delay=delay)
            except lost_connection as exc:
                raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    return SafeRedisBroker


def build_broker(settings: Settings) -> Broker:
    """A new broker for ``settings.broker_url`` with Covenant's middleware. Does not connect yet."""
    url = settings.broker_url
    stack = middleware(settings)
    if url.startswith(("redis://", "rediss://")):
        redis_broker: Broker = _redis_broker_class()(
            url=url,
            middleware=stack,
            heartbeat_timeout=settings.dramatiq_heartbeat_timeout_ms,
            maintenance_chance=settings.dramatiq_maintenance_chance,
        )
        return redis_broker
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
