"""Service level: lifecycle, weighted parent progress, validation, figures, CSV."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.cities.services import search_signatories
from covenant.commitments import services
from covenant.commitments.models import Commitment, ProgressUpdate
from covenant.commitments.schemas import CommitmentInput, ProgressInput
from covenant.commitments.services import CommitmentError, CsvImportError, weighted_progress
from covenant.db import new_id, transaction
from covenant.events.models import OutboxRecord
from tests.platform.commitments.conftest import Cities, commitment_fields

MODULES = ["testmodule"]


def form(**overrides: Any) -> CommitmentInput:
    return CommitmentInput.model_validate(commitment_fields(**overrides))


def progress(percentage: int, on: date = date(2025, 6, 1), **extra: Any) -> ProgressInput:
    return ProgressInput.model_validate({"reported_on": on, "percentage": percentage, **extra})


async def create(session: AsyncSession, city: UUID, **overrides: Any) -> Commitment:
    return await services.create_commitment(session, city, form(**overrides), actor=None, known_modules=MODULES)


async def events(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(OutboxRecord.name).order_by(OutboxRecord.id))).all())


def node(
    progress: int, *, parent: UUID | None = None, weight: int = 1, status: str = "in_progress", published: bool = True
) -> Any:
    return SimpleNamespace(
        id=new_id(),
        parent_id=parent,
        progress=progress,
        weight=weight,
        status=status,
        published_at=date(2025, 1, 1) if published else None,
    )


def test_weighted_progress_rule() -> None:
    root = node(0)
    heavy = node(60, parent=root.id, weight=2)
    light = node(0, parent=root.id, weight=1, status="achieved")  # achieved counts 100 whatever its own figure
    withdrawn = node(0, parent=root.id, weight=5, status="withdrawn")  # left out
    draft = node(0, parent=root.id, weight=5, published=False)  # left out of the public figure
    grandchild = node(30, parent=heavy.id)  # heavy has a child: its own 60 no longer counts
    result = weighted_progress([root, heavy, light, withdrawn, draft, grandchild])
    assert result[heavy.id] == 30
    assert result[root.id] == round((2 * 30 + 1 * 100) / 3)  # 53
    with_drafts = weighted_progress([root, heavy, light, draft, grandchild], published_only=False)
    assert with_drafts[root.id] == round((2 * 30 + 100 + 5 * 0) / 8)
    leaf = node(42)
    assert weighted_progress([leaf])[leaf.id] == 42


async def test_lifecycle_draft_publish_progress_achieve_withdraw(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        c = await create(session, cities.a, modules=["testmodule"])
        assert c.published_at is None
        assert c.status == "planned"
        assert c.progress == 0
        assert await services.public_commitments_of(session, cities.a) == []
        with pytest.raises(CommitmentError):
            await services.add_progress(session, c, progress(10), actor=None)  # drafts take no progress
        await services.publish_commitment(session, c, actor=None)
        with pytest.raises(CommitmentError):
            await services.publish_commitment(session, c, actor=None)
        await services.add_progress(
            session, c, progress(40, evidence_links="https://nice.fr/a\nhttps://nice.fr/b"), actor=None
        )
        assert c.status == "in_progress"
        assert c.progress == 40
        await services.add_progress(session, c, progress(100, date(2025, 9, 1)), actor=None)
        assert c.status == "achieved"
        assert await events(session) == [
            "commitment.published",
            "commitment.progressed",
            "commitment.progressed",
            "commitment.achieved",
        ]
        views = await services.public_commitments_of(session, cities.a)
        assert [v.progress for v in views] == [100]
        assert [u.percentage for u in views[0].updates] == [40, 100]
        assert views[0].updates[0].evidence_links == ["https://nice.fr/a", "https://nice.fr/b"]
        await services.withdraw_commitment(session, c, actor=None)
        with pytest.raises(CommitmentError):
            await services.add_progress(session, c, progress(50), actor=None)
        audits = (await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(c.id)))).all()
    assert audits.count("commitment.progressed") == 2
    assert {"commitment.created", "commitment.published", "commitment.withdrawn"} <= set(audits)


async def test_parent_progress_is_weighted_and_parent_achieved_with_children(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        parent = await create(session, cities.a, title="Safer seafront")
        one = await create(session, cities.a, title="Barriers", parent_id=parent.id, weight=3)
        two = await create(session, cities.a, title="Event zones", parent_id=parent.id, weight=1)
        for c in (parent, one, two):
            await services.publish_commitment(session, c, actor=None)
        await services.add_progress(session, one, progress(50), actor=None)
        await services.add_progress(session, two, progress(100), actor=None)
        views = {v.title: v for v in await services.public_commitments_of(session, cities.a)}
        assert views["Safer seafront"].progress == round((3 * 50 + 100) / 4)  # 63
        assert views["Safer seafront"].children == 2
        assert next(v.title for v in await services.public_commitments_of(session, cities.a)) == "Safer seafront"
        await services.add_progress(session, one, progress(100), actor=None)
        assert parent.status == "achieved"
        names = await events(session)
    assert names.count("commitment.achieved") == 3  # both children and then the parent


async def test_bad_input_is_refused_and_nothing_saved(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    with pytest.raises(ValidationError, match="due date cannot be before"):
        form(start_date="2026-01-01", due_date="2025-01-01")
    for bad in (-1, 101):
        with pytest.raises(ValidationError):
            progress(bad)
    with pytest.raises(ValidationError, match="web address"):
        progress(10, evidence_links="not a link")
    async with transaction(sessions) as session:
        other = await create(session, cities.b, title="Riga's own")
        mine = await create(session, cities.a)
        child = await create(session, cities.a, title="Child", parent_id=mine.id)
    mine_id, child_id, other_id = mine.id, child.id, other.id
    async with sessions() as session:
        with pytest.raises(CommitmentError, match="Unknown action module") as unknown:
            await create(session, cities.a, modules=["nope"])
        assert unknown.value.field == "modules"
        with pytest.raises(CommitmentError, match="same city"):
            await create(session, cities.a, parent_id=other_id)
        mine = await session.get(Commitment, mine_id)  # type: ignore[assignment]
        with pytest.raises(CommitmentError, match="sub-commitments"):
            await services.update_commitment(session, mine, form(parent_id=child_id), actor=None, known_modules=MODULES)
        with pytest.raises(CommitmentError, match="own parent"):
            await services.update_commitment(session, mine, form(parent_id=mine_id), actor=None, known_modules=MODULES)
        await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Commitment)) == 3
        assert (await session.get(Commitment, mine_id)).parent_id is None  # type: ignore[union-attr]


async def test_figures_and_counts(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with transaction(sessions) as session:
        a1 = await create(session, cities.a)
        a2 = await create(session, cities.a, title="Second")
        await create(session, cities.a, title="Draft stays private")
        b1 = await create(session, cities.b)
        for c in (a1, a2, b1):
            await services.publish_commitment(session, c, actor=None)
        await services.add_progress(session, a2, progress(100), actor=None)
    async with sessions() as session:
        figures = await services.commitment_figures(session)
        counts = await services.commitment_counts(session, [cities.a, cities.b, new_id()])
        listed, _ = await search_signatories(session)
    assert figures == {
        "published": 3,
        "achieved": 1,
        "by_country": {"FR": {"published": 2, "achieved": 1}, "LV": {"published": 1, "achieved": 0}},
    }
    assert counts == {cities.a: 2, cities.b: 1}
    assert {row.id: row.commitments for row in listed} == counts  # the signatory list counts the same


async def test_csv_round_trip_and_all_or_nothing(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with transaction(sessions) as session:
        parent = await create(session, cities.a, title="Parent, with a comma", description="Line one\nline two — é")
        await create(session, cities.a, title="Child", parent_id=parent.id, modules=["testmodule"], weight=2)
        exported = services.commitments_csv(await services.city_commitments(session, cities.a))
    # Re-importing the export changes nothing; the same rows without ids create copies.
    async with transaction(sessions) as session:
        assert await services.import_csv(session, cities.a, exported, actor=None, known_modules=MODULES) == (0, 0)
    async with sessions() as session:
        again = services.commitments_csv(await services.city_commitments(session, cities.a))
    assert again == exported
    # Into city B (ids removed): new drafts with the same fields.
    lines = exported.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["id", "parent_id", "title"]
    without_ids = "\n".join([lines[0]] + [",," + line.split(",", 2)[2] for line in lines[1:] if line.count(",") > 2])
    # The description spans lines inside quotes: use the csv module rather than naive splitting.
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(exported)))
    for row in rows:
        row["id"] = row["parent_id"] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    del without_ids
    async with transaction(sessions) as session:
        assert await services.import_csv(session, cities.b, out.getvalue(), actor=None, known_modules=MODULES) == (2, 0)
        copies = await services.city_commitments(session, cities.b)
    assert sorted(c.title for c in copies) == ["Child", "Parent, with a comma"]
    assert {c.title: c.description for c in copies}["Parent, with a comma"] == "Line one\nline two — é"
    assert {c.title: c.weight for c in copies}["Child"] == 2

    bad = (
        "title,priority,start_date,due_date,modules\n"
        "Good row,technology,2025-01-01,2025-12-31,\n"
        "Backwards,technology,2025-12-31,2025-01-01,\n"
        "Unknown,nonsense,2025-01-01,2025-12-31,\n"
        "Module,technology,2025-01-01,2025-12-31,nope\n"
    )
    async with sessions() as session:
        with pytest.raises(CsvImportError) as refused:
            await services.import_csv(session, cities.a, bad, actor=None, known_modules=MODULES)
        await session.rollback()
    assert refused.value.errors[0].startswith("Line 3: ")
    assert "due date" in refused.value.errors[0]
    assert refused.value.errors[1].startswith("Line 4: priority")
    assert refused.value.errors[2].startswith("Line 5: modules")
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Commitment).where(Commitment.title == "Good row"))
            == 0
        )
        assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
    with pytest.raises(CsvImportError, match="Line 1: missing columns"):
        async with sessions() as session:
            await services.import_csv(session, cities.a, "name;when\nx;y\n", actor=None, known_modules=MODULES)


async def test_only_an_active_signatory_may_publish(sessions) -> None:  # type: ignore[no-untyped-def]
    from covenant.cities.models import MembershipStatus
    from covenant.commitments.services import can_publish_for
    from tests.platform.commitments.conftest import add_city

    signatory = await add_city(sessions, "Helsinki", "FI", 650_000)
    suspended = await add_city(sessions, "Graz", "AT", 290_000, status=MembershipStatus.suspended)
    registry_only = await add_city(sessions, "Tampere", "FI", 250_000, status=None)
    async with sessions() as session:
        assert await can_publish_for(session, signatory)
        assert not await can_publish_for(session, suspended)
        assert not await can_publish_for(session, registry_only)
