"""``covenant events``, ``worker``, ``relay``, ``scheduler``. (Placeholder until the event bus lands.)"""

from __future__ import annotations

import click


@click.group(help="The event catalogue, dead letters and replay.")
def events() -> None:
    pass


@click.command(help="Run Dramatiq workers for the enabled modules' queues.")
def worker() -> None:
    raise click.ClickException("the event bus is not built yet")


@click.command(help="Run the outbox relay.")
def relay() -> None:
    raise click.ClickException("the event bus is not built yet")


@click.command(help="Run the scheduler of periodic jobs.")
def scheduler() -> None:
    raise click.ClickException("the scheduler is not built yet")
