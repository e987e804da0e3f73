"""The Redis broker across an outage (a private redis-server, stopped and started here): a retry waits for
Redis instead of being dropped, connection errors are the ones the worker recognises, and delayed messages
a consumer held when its connection broke are put back (see ``make test-faults`` for the whole story)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq import Message
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed

from covenant.config import Settings
from covenant.events.broker import PatientRetries, _PatientBroker, build_broker
from tests.faults.stack import PrivateRedis, Unavailable

QUEUE = "outage"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    try:
        server = PrivateRedis(tmp_path / "redis")
        server.start()
    except Unavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


def _broker(server: PrivateRedis, tmp_path: Path) -> Any:
    settings = Settings(var_dir=tmp_path, broker_url=server.url, secret_key="k" * 40, modules=[])
    broker = build_broker(settings)
    broker.declare_queue(QUEUE)
    dramatiq.actor(actor_name="outage.noop", queue_name=QUEUE, broker=broker)(lambda: None)
    return broker


def _message() -> Message[Any]:
    return Message(queue_name=QUEUE, actor_name="outage.noop", args=(), kwargs={}, options={})


def test_enqueue_without_redis_raises_the_error_the_worker_knows(redis_server: PrivateRedis, tmp_path: Path) -> None:
    broker = _broker(redis_server, tmp_path)
    redis_server.stop()
    with pytest.raises(ConnectionClosed):
        broker.enqueue(_message())
    broker.close()


def test_a_retry_waits_for_redis_instead_of_being_dropped(redis_server: PrivateRedis, tmp_path: Path) -> None:
    broker = _broker(redis_server, tmp_path)
    assert any(isinstance(m, PatientRetries) for m in broker.middleware)
    redis_server.stop()
    restart = threading.Timer(1.5, redis_server.start)
    restart.start()
    started = time.monotonic()
    try:
        _PatientBroker(broker).enqueue(_message(), delay=10)
    finally:
        restart.join()
    assert time.monotonic() - started >= 1.4
    assert redis_server.queue_lengths(dq_name(QUEUE)) == (1, 1)
    broker.close()


def test_delayed_messages_held_by_a_broken_consumer_are_put_back(redis_server: PrivateRedis, tmp_path: Path) -> None:
    broker = _broker(redis_server, tmp_path)
    delayed = dq_name(QUEUE)
    broker.enqueue(_message(), delay=60_000)
    first = broker.consume(delayed, prefetch=10, timeout=100)
    assert next(first) is not None  # taken: now in this worker's unacknowledged set, held in memory
    acks = f"dramatiq:__acks__.{broker.broker_id}.{delayed}"
    client = redis_server.client()
    assert client.scard(acks) == 1
    assert redis_server.queue_lengths(delayed) == (0, 1)

    # Dramatiq drops what the consumer held when its connection breaks, then starts a new consumer.
    second = broker.consume(delayed, prefetch=10, timeout=100)
    assert client.scard(acks) == 0
    assert redis_server.queue_lengths(delayed) == (1, 1)
    again = next(second)
    assert again is not None
    assert again.actor_name == "outage.noop"
    broker.close()


def test_only_a_handler_at_fault_runs_out_of_retries() -> None:
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    from covenant.events.broker import retry_policy

    retry_when = retry_policy(3)
    assert retry_when(2, RuntimeError("a bug"))
    assert not retry_when(3, RuntimeError("a bug"))
    # The database or the broker away: not the message's fault, retried until they are back.
    assert retry_when(50, ConnectionRefusedError(111, "Connect call failed"))
    assert retry_when(50, asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"))
    lost = DBAPIError("COMMIT", None, asyncpg.exceptions.ConnectionDoesNotExistError("closed"))
    lost.__cause__ = lost.orig
    assert retry_when(50, lost)
    assert retry_when(50, ConnectionClosed(OSError("redis went away")))
    assert not retry_when(50, DBAPIError("SELECT", None, ValueError("not a number")))
