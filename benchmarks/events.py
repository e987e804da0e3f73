"""The event-bus benchmark: outbox → relay → Redis → worker → handler committed, against raw Dramatiq.

The measured subscriber is a benchmark module's no-op handler: what is timed is the bus itself — the relay's
batch read and pipeline send, the worker's per-city ordering check, the inbox claim and the commit. The
baseline is a plain Dramatiq no-op actor (default middleware) drained by a worker with the same threads and
prefetch, on the same Redis server (another database number).

Processes (started by :mod:`benchmarks.run`, one role each, so their memory can be read):

* ``python -m benchmarks.events worker``      — the Covenant worker (``covenant worker``'s code path);
* ``python -m benchmarks.events relay``       — the Covenant relay (``covenant relay``'s code path);
* ``python -m benchmarks.events raw-worker URL`` — the raw Dramatiq worker.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import dramatiq
from dramatiq import Message
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from covenant.config import Settings, get_settings
from covenant.db import create_engine, session_factory
from covenant.events import broker as brokers
from covenant.events.base import DomainEvent
from covenant.events.catalogue import build_catalogue
from covenant.events.consumer import Consumers
from covenant.events.models import InboxRecord, OutboxRecord
from covenant.events.outbox import record
from covenant.events.relay import Relay
from covenant.events.runtime import start_worker
from covenant.models import import_core_models
from covenant.plugins import ActionModule, ModuleRegistry

WORKER_THREADS = 8
"""``covenant worker``'s default."""
RAW_QUEUE = "raw"
SUBSCRIBER = "bench.on_ping"


class Pinged(DomainEvent):
    name = "bench.pinged"
    description = "A benchmark event; its subscriber does nothing but be applied exactly once."

    sequence: int = 0


async def on_ping(event: DomainEvent, session: AsyncSession) -> None:
    """The measured handler: nothing of its own (the consumer's inbox claim and commit are what is timed)."""


bench_module = ActionModule(
    slug="bench",
    title="Benchmark",
    action=0,
    summary="Only in benchmarks.",
    publishes=[Pinged],
    subscriptions={Pinged.name: on_ping},
)


def bench_registry() -> ModuleRegistry:
    import_core_models()
    return ModuleRegistry([bench_module])


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


# -- the processes -----------------------------------------------------------------------------------


def run_worker(settings: Settings, threads: int = WORKER_THREADS) -> None:
    catalogue = build_catalogue(bench_registry())
    broker = brokers.install_broker(settings)
    Consumers(settings, catalogue, broker).declare()
    stop = _stop_event()
    worker = start_worker(broker, catalogue.queues, threads=threads)
    print("worker ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()


def run_relay(settings: Settings) -> None:
    catalogue = build_catalogue(bench_registry())

    async def main() -> None:
        engine = create_engine(settings)
        broker = brokers.install_broker(settings)
        for queue in catalogue.queues:
            broker.declare_queue(queue)
        relay = Relay(session_factory(engine), broker, catalogue, poll_seconds=settings.relay_poll_seconds)
        stop = _stop_event()
        task = asyncio.create_task(relay.run())
        print("relay ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        relay.stop()
        await task
        broker.close()
        await engine.dispose()

    asyncio.run(main())


def raw_broker(url: str) -> tuple[Any, Any]:
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]

    def noop(sequence: int) -> None:
        return None

    actor = dramatiq.actor(actor_name="raw.noop", queue_name=RAW_QUEUE, broker=broker)(noop)
    return broker, actor


def run_raw_worker(url: str, threads: int = WORKER_THREADS) -> None:
    broker, _actor = raw_broker(url)
    stop = _stop_event()
    worker = dramatiq.Worker(broker, queues={RAW_QUEUE}, worker_threads=threads)
    worker.queue_prefetch = brokers.QUEUE_PREFETCH
    worker.start()
    print("raw worker ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()


# -- the drivers (in the benchmark process) -----------------------------------------------------------


async def clear(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(delete(InboxRecord).where(InboxRecord.subscriber == SUBSCRIBER))
        await session.execute(delete(OutboxRecord).where(OutboxRecord.name == Pinged.name))


async def city_ids(engine: AsyncEngine, limit: int = 5_000) -> list[UUID]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id FROM city ORDER BY id LIMIT :n"), {"n": limit})
        return [row[0] if isinstance(row[0], UUID) else UUID(str(row[0])) for row in rows]


async def applied(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(InboxRecord).where(InboxRecord.subscriber == SUBSCRIBER)
        )
        return int(count or 0)


async def record_batch(engine: AsyncEngine, cities: Sequence[UUID], start: int, size: int) -> None:
    """One transaction recording ``size`` events through the outbox, as a service would."""
    async with session_factory(engine)() as session, session.begin():
        for sequence in range(start, start + size):
            record(session, Pinged(city_id=cities[sequence % len(cities)], sequence=sequence))


async def lags(engine: AsyncEngine) -> list[float]:
    """Seconds from each bench event's recording to its subscriber's commit."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(OutboxRecord.recorded_at, InboxRecord.processed_at)
            .join(InboxRecord, InboxRecord.event_id == OutboxRecord.event_id)
            .where(OutboxRecord.name == Pinged.name, InboxRecord.subscriber == SUBSCRIBER)
        )
        return [(_aware(done) - _aware(recorded)).total_seconds() for recorded, done in rows]


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def burst(engine: AsyncEngine, total: int, cities: Sequence[UUID], window: float = 30) -> dict[str, Any]:
    """Record ``total`` events at once (in transactions of 500), then count what is applied: the rate over
    the time until all are applied, or until ``window`` seconds after recording when the worker is slower."""
    await clear(engine)
    started = time.perf_counter()
    for start in range(0, total, 500):
        await record_batch(engine, cities, start, min(500, total - start))
    deadline = time.perf_counter() + window
    done = await applied(engine)
    while done < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        done = await applied(engine)
    seconds = time.perf_counter() - started
    return {
        "events": total,
        "applied": done,
        "seconds": round(seconds, 3),
        "per_second": round(done / seconds, 1),
        "all_applied": done >= total,
    }


async def steady(
    engine: AsyncEngine, rate: int, seconds: float, cities: Sequence[UUID], batch: int = 20, grace: float = 20
) -> dict[str, Any]:
    """Record ``rate`` events per second for ``seconds`` (``batch`` per transaction), wait up to ``grace``
    seconds for the last ones, then take the lag percentiles. An event still unapplied counts with the lag it
    has reached so far: the percentiles are then lower bounds (``censored``)."""
    import numpy as np

    await clear(engine)
    interval = batch / rate
    total = int(rate * seconds) // batch * batch
    started = time.perf_counter()
    for number, start in enumerate(range(0, total, batch)):
        await record_batch(engine, cities, start, batch)
        delay = started + (number + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    achieved = total / (time.perf_counter() - started)
    deadline = time.perf_counter() + grace
    done = await applied(engine)
    while done < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
        done = await applied(engine)
    measured = await lags(engine)
    waiting = await waited(engine)
    values = np.array(measured + waiting)
    return {
        "target_per_second": rate,
        "recorded_per_second": round(achieved, 1),
        "events": total,
        "applied": len(measured),
        "censored": bool(waiting),
        "lag_p50_s": round(float(np.percentile(values, 50)), 3),
        "lag_p99_s": round(float(np.percentile(values, 99)), 3),
        "lag_max_s": round(float(values.max()), 3),
    }


async def waited(engine: AsyncEngine) -> list[float]:
    """How long each bench event not yet applied has been waiting."""
    from covenant.events.base import utcnow

    now = utcnow()
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(OutboxRecord.recorded_at).where(
                OutboxRecord.name == Pinged.name,
                ~select(InboxRecord.id)
                .where(InboxRecord.event_id == OutboxRecord.event_id, InboxRecord.subscriber == SUBSCRIBER)
                .exists(),
            )
        )
        return [(now - _aware(recorded)).total_seconds() for (recorded,) in rows]


def raw_throughput(url: str, total: int, window: float = 30) -> dict[str, Any]:
    """Enqueue ``total`` no-op messages through pipelines and count what the raw worker drains: until all
    are done, or for ``window`` seconds after enqueueing."""
    broker, actor = raw_broker(url)
    client = broker.client
    key = f"{broker.namespace}:{RAW_QUEUE}.msgs"
    messages: list[Message[Any]] = [
        Message(queue_name=RAW_QUEUE, actor_name=actor.actor_name, args=(n,), kwargs={}, options={})
        for n in range(total)
    ]
    started = time.perf_counter()
    for start in range(0, total, 500):
        brokers.enqueue_many(broker, messages[start : start + 500])
    deadline = time.perf_counter() + window
    while client.hlen(key) > 0 and time.perf_counter() < deadline:
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    done = total - int(client.hlen(key))
    client.delete(key, f"{broker.namespace}:{RAW_QUEUE}")
    broker.close()
    return {
        "events": total,
        "applied": done,
        "seconds": round(seconds, 3),
        "per_second": round(done / seconds, 1),
        "all_applied": done >= total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Processes of the event-bus benchmark.")
    parser.add_argument("role", choices=("worker", "relay", "raw-worker"))
    parser.add_argument("url", nargs="?", help="Redis URL of the raw worker.")
    parser.add_argument("--threads", type=int, default=WORKER_THREADS)
    args = parser.parse_args()
    if args.role == "raw-worker":
        run_raw_worker(args.url, args.threads)
    elif args.role == "worker":
        run_worker(get_settings(), args.threads)
    else:
        run_relay(get_settings())


if __name__ == "__main__":
    main()
