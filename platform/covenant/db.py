"""Engine, sessions and the declarative base shared by the core and every module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import uuid_utils
from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base, metadata_registry
from sqlalchemy import MetaData, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from covenant.config import Settings

__all__ = [
    "AuditedBase",
    "Base",
    "create_engine",
    "database_unavailable",
    "metadata",
    "new_id",
    "session_factory",
    "transaction",
]

# The core and every module declare their tables on these two bases, so one MetaData
# (with advanced-alchemy's naming convention) holds everything Alembic compares against.
Base = UUIDv7Base
AuditedBase = UUIDv7AuditBase
metadata: MetaData = metadata_registry.get(None)


_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
"""Connection exceptions, and a server shutting down, crashed or still starting up."""


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached right now (down, restarting, connection lost,
    pool exhausted), however the driver wrapped it: worth retrying later, unlike a wrong query or bad data."""
    current: BaseException | None = exc
    for _depth in range(6):
        if current is None:
            return False
        if isinstance(current, ConnectionError | PoolTimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def insert_or_skip(session: AsyncSession, table: Any) -> Any:
    """An ``INSERT`` into ``table`` of the session's database that accepts ``.on_conflict_do_nothing(...)``
    (PostgreSQL's or SQLite's construct: the two supported databases)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def new_id() -> UUID:
    """A UUIDv7, for rows whose id is needed before the flush (e.g. to name them in an event)."""
    return UUID(str(uuid_utils.uuid7()))


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL + busy timeout: the web process and the in-process worker write at once (DESIGN §7).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    """The async engine for the configured database; SQLite gets WAL and a busy timeout."""
    url = settings.effective_database_url
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        options = {"connect_args": {"timeout": 10}}
    else:
        options |= {"pool_size": 10, "max_overflow": 10}
    options |= overrides
    engine = create_async_engine(url, **options)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session
