"""The audit log: written in the caller's transaction, readable by filter."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts.identity import Identity
from covenant.audit import record
from covenant.audit.services import search
from covenant.db import transaction


async def test_record_commits_and_rolls_back_with_the_change(sessions: async_sessionmaker[AsyncSession]) -> None:
    actor = Identity(user_id=uuid4(), email="admin@city.eu")
    city = uuid4()
    async with transaction(sessions) as session:
        record(
            session,
            actor=actor,
            action="city.renamed",
            entity_type="city",
            entity_id=city,
            before={"name": "Old"},
            after={"name": "New", "when": None, "ids": [city]},
        )

    async def failing_change() -> None:
        async with transaction(sessions) as session:
            record(session, actor=None, action="city.deleted", entity_type="city", entity_id=city)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with sessions() as session:
        entries, total = await search(session, entity_type="city", entity_id=str(city))
        assert total == 1
        entry = entries[0]
        assert (entry.actor_id, entry.actor_email, entry.action) == (actor.user_id, "admin@city.eu", "city.renamed")
        assert entry.after == {"name": "New", "when": None, "ids": [str(city)]}
        assert (await search(session, actor_id=actor.user_id))[1] == 1
        assert (await search(session, actor_email="ADMIN@city.eu"))[1] == 1
        assert (await search(session, actor_id=uuid4()))[1] == 0
