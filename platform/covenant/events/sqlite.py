"""SQLite's one writer at a time, made explicit (DESIGN §7)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def begin_write(session: AsyncSession) -> None:
    """On SQLite, take the write lock now (``BEGIN IMMEDIATE``); a no-op elsewhere.

    A SQLite transaction that reads and then writes fails at once with "database is locked" when another
    connection wrote in between (the busy timeout does not apply to that upgrade). The relay and the
    consumers read then write, so they start as writers and wait their turn under the busy timeout.
    Call it first in a fresh transaction.
    """
    bind = session.bind
    if bind is not None and bind.dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
