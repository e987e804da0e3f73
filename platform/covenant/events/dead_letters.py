"""Dead letters: listing them and marking them replayed (the sending lives in the runtime and the CLI)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.events.base import utcnow
from covenant.events.models import DeadLetter, DeadLetterStatus
from covenant.events.sqlite import begin_write


async def list_dead_letters(
    session: AsyncSession, *, status: str | None = DeadLetterStatus.DEAD, offset: int = 0, limit: int = 50
) -> tuple[list[DeadLetter], int]:
    """Dead letters, newest failure first, and their total; ``status=None`` lists every status."""
    query = select(DeadLetter)
    count = select(func.count()).select_from(DeadLetter)
    if status is not None:
        query = query.where(DeadLetter.status == status)
        count = count.where(DeadLetter.status == status)
    rows = (await session.scalars(query.order_by(DeadLetter.failed_at.desc()).offset(offset).limit(limit))).all()
    return list(rows), int(await session.scalar(count) or 0)


async def pending_ids(session: AsyncSession) -> list[UUID]:
    """Ids of the dead letters waiting for a replay, oldest first."""
    rows = await session.scalars(
        select(DeadLetter.id).where(DeadLetter.status == DeadLetterStatus.DEAD).order_by(DeadLetter.failed_at)
    )
    return list(rows)


async def mark_replayed(
    sessions: async_sessionmaker[AsyncSession], dead_letter_id: UUID, status: str = DeadLetterStatus.REPLAYED
) -> DeadLetter:
    """Set the dead letter's status (replayed, or back to dead when the replay could not be sent)."""
    async with sessions() as session, session.begin():
        await begin_write(session)
        letter = await session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise LookupError(f"no dead letter {dead_letter_id}")
        letter.status = status
        if status == DeadLetterStatus.REPLAYED:
            letter.replayed_at = utcnow()
    return letter
