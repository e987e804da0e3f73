"""``covenant backup`` / ``covenant restore``: a round trip on each backend gives back every row of every
table; a restore refuses a database that holds data unless forced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.backup import BackupError, backup, backup_kind, restore, tables_with_rows
from covenant.config import Settings, get_settings
from covenant.db import create_engine, transaction
from covenant.demo import load_demo
from covenant.events.outbox import record
from covenant.plugins import ModuleRegistry
from tests.conftest import Backend

Snapshot = dict[str, list[tuple[str, ...]]]


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Every table of the database (as the database lists them) and its rows, in a stable order."""
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            names_sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        names = sorted((await conn.execute(text(names_sql))).scalars())
        tables: Snapshot = {}
        for name in names:
            quoted = conn.dialect.identifier_preparer.quote(name)
            rows = (await conn.execute(text(f"SELECT * FROM {quoted}"))).all()  # noqa: S608
            tables[name] = sorted(tuple(repr(value) for value in row) for row in rows)
    return tables


async def _fill(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The core's demo data (users, cities, commitments, calendar, monitoring) and a recorded event."""
    from covenant_testmodule.events import SomethingNoted

    await load_demo(settings, ModuleRegistry([]))
    async with transaction(sessions) as session:
        record(session, SomethingNoted(note="before the backup"))


@pytest.fixture
async def filled(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    await _fill(settings, sessions)
    yield
    if settings.is_sqlite:
        return
    # A failed restore could leave the shared test database without its schema: put it back.
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            present = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    finally:
        await engine.dispose()
    if not present:  # pragma: no cover - only after a broken restore
        from tests.conftest import _migrate

        _migrate(settings.effective_database_url)


async def _outbox_ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT id FROM event_outbox ORDER BY id"))).scalars())


@pytest.mark.backend
async def test_round_trip_gives_back_every_row_of_every_table(
    filled: None, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    before = await snapshot(engine)
    assert sum(len(rows) for rows in before.values()) > 20, "the demo data should fill many tables"
    assert len([name for name, rows in before.items() if rows]) >= 5
    file = tmp_path / "covenant.backup"

    outcome = await backup(settings, file)
    assert outcome.path == file
    assert outcome.size == file.stat().st_size > 0
    assert backup_kind(file) == ("sqlite" if settings.is_sqlite else "postgresql")
    assert outcome.revision
    with pytest.raises(BackupError, match="exists"):
        await backup(settings, file)
    assert await snapshot(engine) == before, "taking a backup changed the database"

    # Change things, then check a plain restore refuses to overwrite them.
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM event_outbox"))
        if before.get("calendar_deadline"):
            await conn.execute(text("DELETE FROM calendar_deadline"))
    from covenant_testmodule.events import SomethingNoted

    async with transaction(sessions) as session:
        record(session, SomethingNoted(note="after the backup"))
    changed = await snapshot(engine)
    assert changed != before
    with pytest.raises(BackupError, match="holds data"):
        await restore(settings, file)
    assert await snapshot(engine) == changed

    await engine.dispose()  # the restore replaces the database under any open connection
    restored = await restore(settings, file, force=True)
    assert restored.revision == outcome.revision
    assert await snapshot(engine) == before

    # Sequences came back too: a new event gets an id after the restored ones.
    ids = await _outbox_ids(engine)
    async with transaction(sessions) as session:
        record(session, SomethingNoted(note="after the restore"))
    assert (await _outbox_ids(engine))[-1] > max(ids)


@pytest.mark.backend
async def test_restore_into_an_empty_database_needs_no_force(
    filled: None, settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    before = await snapshot(engine)
    file = tmp_path / "covenant.backup"
    await backup(settings, file)

    if settings.is_sqlite:
        target = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'new.db'}"})
    else:
        target = settings
        await engine.dispose()
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    assert await tables_with_rows(target) == []
    await restore(target, file)
    other = create_engine(target)
    try:
        assert await snapshot(other) == before
    finally:
        await other.dispose()


@pytest.mark.backend
async def test_restore_refuses_a_backup_of_the_other_kind_and_a_file_that_is_no_backup(
    settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="neither a pg_dump"):
        await restore(settings, junk, force=True)
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" + b"\0" * 64 if settings.is_sqlite else b"SQLite format 3\x00" + b"\0" * 100)
    with pytest.raises(BackupError, match="backup but the configured database is"):
        await restore(settings, other, force=True)


def _cli(monkeypatch: pytest.MonkeyPatch, backend: Backend, *args: str) -> Any:
    from covenant.cli import cli

    monkeypatch.setenv("COVENANT_DATABASE_URL", backend.database_url)
    monkeypatch.setenv("COVENANT_MODULES", "")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def _snapshot_of(settings: Settings) -> Snapshot:
    async def take() -> Snapshot:
        engine = create_engine(settings)
        try:
            return await snapshot(engine)
        finally:
            await engine.dispose()

    return asyncio.run(take())


@pytest.mark.backend
def test_the_commands(
    filled: None, backend: Backend, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = _snapshot_of(settings)
    file = tmp_path / "nightly.backup"

    result = _cli(monkeypatch, backend, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert f"backup written to {file}" in result.output

    refused = _cli(monkeypatch, backend, "restore", str(file))
    assert refused.exit_code == 1
    assert "holds data" in refused.output
    assert "--force" in refused.output

    forced = _cli(monkeypatch, backend, "restore", str(file), "--force")
    assert forced.exit_code == 0, forced.output
    assert f"restored {file}" in forced.output
    assert _snapshot_of(settings) == before
