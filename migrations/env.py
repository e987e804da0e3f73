"""Alembic environment: async, one linear history for the core and every enabled module."""

from __future__ import annotations

import asyncio
import re

from advanced_alchemy.types import GUID
from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from covenant.config import get_settings
from covenant.db import metadata
from covenant.models import import_core_models
from covenant.plugins import ModuleRegistry

config = context.config
settings = get_settings()
url = config.attributes.get("database_url") or settings.effective_database_url

import_core_models()
ModuleRegistry.from_entry_points(settings.modules).import_models()


def _compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    # SQLite reads advanced-alchemy's GUID back as NUMERIC(16): the same column, not drift.
    if isinstance(metadata_type, GUID) and context.dialect.name == "sqlite":
        return False
    return None


FULL_TEXT_TABLE = re.compile(r"_fts(_[a-z]+)?$")
FULL_TEXT_INDEX = re.compile(r"_search$")


def _include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    # Full-text search is database-specific and made by raw SQL in migrations, on purpose without a model:
    # SQLite FTS5 virtual tables (with their shadow tables) and PostgreSQL GIN expression indexes
    # named ``*_search`` stay out of the comparison.
    if name is None:
        return True
    if type_ == "table":
        return not FULL_TEXT_TABLE.search(name)
    if type_ == "index":
        return not FULL_TEXT_INDEX.search(name)
    return True


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=_compare_type,
        include_name=_include_name,
        user_module_prefix="advanced_alchemy.types.",
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run_sync)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
