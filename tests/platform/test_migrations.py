"""One linear history; every migration runs down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from covenant.cli import alembic_config
from tests.conftest import Backend


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_every_migration_runs_down_and_up(backend: Backend) -> None:
    cfg = alembic_config(backend.database_url)
    at_head = _tables(backend.database_url)
    command.downgrade(cfg, "base")
    assert _tables(backend.database_url) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert _tables(backend.database_url) == at_head
