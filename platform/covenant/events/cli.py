"""``covenant events``, ``worker``, ``relay``, ``scheduler``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import click

from covenant.config import Settings
from covenant.db import create_engine, session_factory
from covenant.events import broker as brokers
from covenant.events.catalogue import Catalogue, build_catalogue, render_mermaid, render_text
from covenant.events.consumer import Consumers
from covenant.events.dead_letters import list_dead_letters, pending_ids
from covenant.events.relay import Relay
from covenant.events.runtime import replay, start_worker
from covenant.plugins import ModuleRegistry
from covenant.scheduler import Scheduler


def _context() -> tuple[Settings, ModuleRegistry, Catalogue]:
    from covenant.cli import load_registry, load_settings

    settings = load_settings()
    registry = load_registry(settings)
    registry.import_models()
    return settings, registry, build_catalogue(registry)


def _needs_broker(settings: Settings, command: str) -> None:
    if settings.embedded_broker:
        raise click.ClickException(
            f"`covenant {command}` needs COVENANT_BROKER_URL (redis://… or amqp://…); "
            "without it `covenant serve` runs the relay and a worker in-process"
        )


def _stop_event() -> threading.Event:
    """Set on SIGTERM / SIGINT, so the long-running commands stop cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@click.group(help="The event catalogue, dead letters and replay.")
def events() -> None:
    pass


@events.command(help="Print every event, who publishes it and who subscribes.")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True)
def graph(fmt: str) -> None:
    _, _, catalogue = _context()
    click.echo(render_mermaid(catalogue) if fmt == "mermaid" else render_text(catalogue))


@events.command("dead-letters", help="List dead letters (retries exhausted), newest first.")
@click.option("--all", "show_all", is_flag=True, help="Include replayed and resolved ones.")
@click.option("--limit", default=50, show_default=True, type=int)
def dead_letters(show_all: bool, limit: int) -> None:
    settings, _, _ = _context()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                rows, total = await list_dead_letters(session, status=None if show_all else "dead", limit=limit)
        finally:
            await engine.dispose()
        if not rows:
            click.echo("no dead letters")
            return
        for row in rows:
            click.echo(
                f"{row.id}  {row.failed_at:%Y-%m-%d %H:%M:%S}  {row.status:<8}  {row.subscriber}  "
                f"{row.event_name} {row.event_id}  after {row.attempts} retries\n    {row.error}"
            )
        click.echo(f"{len(rows)} of {total} shown")

    asyncio.run(run())


@events.command("replay", help="Send a dead letter (ID) again to its subscriber, or every waiting one (--all).")
@click.argument("dead_letter_id", required=False, type=click.UUID)
@click.option("--all", "replay_all", is_flag=True)
def replay_command(dead_letter_id: UUID | None, replay_all: bool) -> None:
    if (dead_letter_id is None) == (not replay_all):
        raise click.UsageError("give a dead letter ID or --all (not both)")
    settings, _, catalogue = _context()

    async def run() -> None:
        engine = create_engine(settings)
        sessions = session_factory(engine)
        broker = brokers.install_broker(settings)
        # No broker: nobody else could receive the message, so apply it here with the same inbox check.
        through_broker = not settings.embedded_broker
        consumers = Consumers(settings, catalogue, broker, sessions=sessions)
        try:
            if replay_all:
                async with sessions() as session:
                    ids = await pending_ids(session)
            else:
                assert dead_letter_id is not None
                ids = [dead_letter_id]
            failures = 0
            for letter_id in ids:
                try:
                    letter = await replay(
                        sessions, letter_id, broker=broker, consumers=consumers, through_broker=through_broker
                    )
                except LookupError as exc:
                    raise click.ClickException(str(exc)) from exc
                except Exception as exc:
                    failures += 1
                    click.echo(f"{letter_id}: failed again: {type(exc).__name__}: {exc}", err=True)
                    continue
                click.echo(
                    f"{letter_id}: {letter.subscriber} {letter.event_name} {'sent' if through_broker else 'applied'}"
                )
            if not ids:
                click.echo("no dead letters waiting")
            if failures:
                raise click.ClickException(f"{failures} replay(s) failed; see `covenant events dead-letters`")
        finally:
            with contextlib.suppress(Exception):
                broker.close()
            await engine.dispose()

    asyncio.run(run())


@click.command(help="Run Dramatiq workers for the enabled modules' queues (and core) until SIGTERM.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads per process.")
@click.option("--processes", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("--queue", "queues", multiple=True, help="Only these queues (default: all enabled + core).")
@click.option(
    "--prefetch",
    default=brokers.QUEUE_PREFETCH,
    show_default=True,
    type=int,
    help="Messages held per queue and process.",
)
def worker(threads: int, processes: int, queues: tuple[str, ...], prefetch: int) -> None:
    settings, registry, catalogue = _context()
    _needs_broker(settings, "worker")
    selected = list(queues) or catalogue.queues
    # An enabled module's queue is valid even while the module subscribes to nothing: a deployment keeps one
    # worker per module queue (deploy/k8s), and that worker idles until the module gains a subscription.
    known = sorted(set(catalogue.queues) | set(registry.slugs))
    unknown = sorted(set(selected) - set(known))
    if unknown:
        raise click.ClickException(f"unknown queue(s): {', '.join(unknown)} (known: {', '.join(known)})")
    idle = sorted(set(selected) - set(catalogue.queues))
    if idle:
        click.echo(f"worker: no subscriber on queue(s) {', '.join(idle)} yet; listening anyway")
    if processes > 1:
        import multiprocessing

        children = [
            multiprocessing.get_context("spawn").Process(
                target=_run_worker, args=(threads, selected, prefetch), daemon=False
            )
            for _ in range(processes)
        ]
        for child in children:
            child.start()
        stop = _stop_event()
        stop.wait()
        for child in children:
            if child.pid:
                child.terminate()
        for child in children:
            child.join()
        return
    click.echo(f"worker: queues {', '.join(selected)}; {threads} threads")
    _run_worker(threads, selected, prefetch, echo=False)


def _run_worker(threads: int, queues: list[str], prefetch: int, echo: bool = True) -> None:
    settings, _, catalogue = _context()
    broker = brokers.install_broker(settings)
    Consumers(settings, catalogue, broker).declare()
    for queue in queues:  # a module queue nobody subscribes to yet is listened to all the same
        broker.declare_queue(queue)
    stop = _stop_event()
    running = start_worker(broker, queues, threads=threads, prefetch=prefetch)
    stop.wait()
    running.stop()
    broker.close()


async def _until_stopped(stop: threading.Event, step: Callable[[], Awaitable[Any]], every: float) -> None:
    while not stop.is_set():
        await step()
        await asyncio.to_thread(stop.wait, every)


@click.command(help="Run the outbox relay until SIGTERM (several may run on PostgreSQL).")
def relay() -> None:
    settings, _, catalogue = _context()
    _needs_broker(settings, "relay")
    if settings.is_sqlite:
        raise click.ClickException("on SQLite exactly one relay runs, inside `covenant serve`")

    async def run() -> None:
        engine = create_engine(settings)
        broker = brokers.install_broker(settings)
        for queue in catalogue.queues:
            broker.declare_queue(queue)
        loop_relay = Relay(session_factory(engine), broker, catalogue, poll_seconds=settings.relay_poll_seconds)
        stop = _stop_event()
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(loop_relay.run())
        await loop.run_in_executor(None, stop.wait)
        loop_relay.stop()
        await task
        broker.close()
        await engine.dispose()

    click.echo(f"relay: polling every {settings.relay_poll_seconds}s")
    asyncio.run(run())


@click.command(help="Run the scheduler of periodic jobs until SIGTERM.")
@click.option("--every", default=60.0, show_default=True, type=float, help="Seconds between sweeps.")
def scheduler(every: float) -> None:
    # Re-sends events a subscriber never applied (lost by a broker), and runs the modules' periodic jobs.
    settings, registry, catalogue = _context()
    _needs_broker(settings, "scheduler")

    async def run() -> None:
        engine = create_engine(settings)
        broker = brokers.install_broker(settings)
        sessions = session_factory(engine)
        sweeper = Relay(sessions, broker, catalogue)
        jobs = Scheduler.for_deployment(sessions, registry)

        async def tick() -> None:
            await sweeper.resend_unapplied(older_than=timedelta(minutes=10))
            await jobs.run_due()

        stop = _stop_event()
        try:
            await _until_stopped(stop, tick, every)
        finally:
            broker.close()
            await engine.dispose()

    click.echo(f"scheduler: sweeping stale events every {every:g}s")
    asyncio.run(run())
