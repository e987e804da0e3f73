"""``covenant backup FILE`` and ``covenant restore FILE`` (see :mod:`covenant.backup`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from covenant.backup import BackupError, Outcome
from covenant.backup import backup as take_backup
from covenant.backup import restore as restore_backup


def _size(outcome: Outcome) -> str:
    size = float(outcome.size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{outcome.size} bytes"  # pragma: no cover


@click.command(
    "backup",
    help="Write a backup of the whole database to FILE: pg_dump's custom format on PostgreSQL, "
    "SQLite's online backup otherwise (the app may keep running).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    from covenant.cli import load_settings

    settings = load_settings()
    try:
        outcome = asyncio.run(take_backup(settings, file, overwrite=force))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{outcome.engine} backup written to {outcome.path} ({_size(outcome)}, revision {outcome.revision or 'none'})"
    )


@click.command(
    "restore",
    help="Replace the database's content with the backup in FILE. Stop the web, worker and relay processes "
    "first. Refuses a database that holds data unless --force.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore even over a database that holds data (it is replaced).")
def restore(file: Path, force: bool) -> None:
    from covenant.cli import alembic_config, load_settings

    settings = load_settings()
    try:
        outcome = asyncio.run(restore_backup(settings, file, force=force))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {outcome.path} into the {outcome.engine} database (revision {outcome.revision or 'none'})")
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if outcome.revision != head:
        click.echo(f"the code's schema is at {head}: run `covenant db upgrade` before starting the app")
