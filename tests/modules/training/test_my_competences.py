"""Self-assessment by signed-in staff (per topic), the topic gap view, a person's learning plan."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts.models import User
from covenant.db import transaction
from modules.training import services
from modules.training.models import SelfAssessment
from modules.training.schemas import CurriculumInput, RatingInput, SelfAssessmentInput, UnitInput
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]


def topic_form(level: str, *, area_levels: dict[str, str] | None = None) -> dict[str, str]:
    """Every topic of every area at ``level`` (area_levels: area → level overrides for that area's topics)."""
    form = {}
    for area in services.areas():
        for topic in area["topics"]:
            form[f"topic.{area['key']}.{topic['key']}"] = (area_levels or {}).get(area["key"], level)
    return form


def test_an_area_level_is_derived_from_its_topics() -> None:
    data = RatingInput.model_validate(
        {
            "topic.knowledge.a": "basic",
            "topic.knowledge.b": "advanced",
            "topic.know_how.c": "basic",
            "topic.know_how.d": "intermediate",
            "interpersonal": "advanced",
        }
    )
    assert data.levels() == {"knowledge": "intermediate", "know_how": "intermediate", "interpersonal": "advanced"}
    assert data.topic_levels() == {
        "knowledge.a": "basic",
        "knowledge.b": "advanced",
        "know_how.c": "basic",
        "know_how.d": "intermediate",
    }
    with pytest.raises(ValidationError):
        RatingInput.model_validate({"topic.knowledge.a": "basic", "know_how": "basic"})  # interpersonal missing
    with pytest.raises(ValidationError):
        RatingInput.model_validate(topic_form("basic") | {"topic.knowledge.regulation_urban_planning": "guru"})


def test_topic_gap_arithmetic_and_small_groups() -> None:
    targets = {"local_police": {"knowledge": "advanced"}}
    own = {"knowledge.t1": "basic", "knowledge.t2": "advanced"}
    ratings = [
        ("local_police", own, {}),
        ("local_police", own, {"knowledge.t1": "intermediate"}),  # the supervisor's rating counts
        ("local_police", {"knowledge.t1": "advanced"}, {}),
    ]
    lines = {g.topic: g for g in services.topic_gap_lines(targets, ratings)}
    assert lines["t1"].people == 3
    assert lines["t1"].mean_assessed == 2.0
    assert lines["t1"].gap == 1.0
    assert lines["t2"].people == 2
    assert lines["t2"].gap is None
    assert lines["t2"].mean_assessed is None


async def test_signed_in_staff_rate_themselves_per_topic(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("me@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "me@a.eu")
    overview = await client.get("/m/training/me/")
    assert overview.status_code == 200
    assert "No learning plan yet" in overview.text
    # only for a city the person works for
    refused = await client.post(
        "/m/training/me/",
        data={"city_id": str(cities.b), "target_group": "local_police"},
        headers=csrf_headers(client),
    )
    assert refused.status_code == 422
    assert "city you work for" in refused.text
    r = await client.post(
        "/m/training/me/",
        data={"city_id": str(cities.a), "target_group": "local_police", "phase": "before"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    form_page = await client.get(url)
    assert form_page.status_code == 200
    assert 'name="topic.knowledge.regulation_security_prevention"' in form_page.text
    assert "Level needed for your profile" in form_page.text
    incomplete = await client.post(url, data={"topic.knowledge.local_police_prevention": "basic"},
                                   headers=csrf_headers(client))  # fmt: skip
    assert incomplete.status_code == 422
    answer = topic_form("intermediate", area_levels={"knowledge": "basic"})
    answer["topic.know_how.social_change_conflicts"] = "advanced"
    saved = await client.post(url, data=answer, headers=csrf_headers(client), follow_redirects=False)
    assert saved.status_code == 303
    async with sessions() as session:
        sa = await session.scalar(select(SelfAssessment))
        user = await session.scalar(select(User).where(User.email == "me@a.eu"))
    assert sa is not None
    assert user is not None
    assert sa.user_id == user.id
    assert sa.city_id == cities.a
    assert sa.phase == "before"
    assert sa.own_topics["know_how.social_change_conflicts"] == "advanced"
    assert sa.own_levels["knowledge"] == "basic"
    assert len(sa.own_topics) == sum(len(a["topics"]) for a in services.areas())
    again = await client.post(url, data=answer, headers=csrf_headers(client))
    assert again.status_code == 422  # answered once
    # the supervisor's rating (from the city's workspace) shows up next to the person's and the target
    await client.post(
        f"/m/training/cities/{cities.a}/self-assessments/{sa.id}/supervisor",
        data={"knowledge": "intermediate", "know_how": "intermediate", "interpersonal": "advanced"},
        headers=csrf_headers(client),
    )
    shown = await client.get(url)
    assert "Supervisor&#39;s rating" in shown.text or "Supervisor's rating" in shown.text
    assert "Target level" in shown.text
    assert "Advanced" in shown.text
    # nobody else sees it
    await make_user("other@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    client.cookies.clear()
    await sign_in(client, "other@a.eu")
    assert (await client.get(url)).status_code == 404
    client.cookies.clear()
    anonymous = await client.get("/m/training/me/", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


async def test_unknown_topics_are_refused(cities: Cities, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        sa = await services.start_self_assessment(
            session, cities.a, SelfAssessmentInput(target_group="volunteers"), user_id=None, actor=None
        )
        with pytest.raises(services.TrainingError):
            await services.rate_self(session, sa, RatingInput.model_validate(topic_form("basic") | {
                "topic.knowledge.astrology": "basic"}))  # fmt: skip
        assert sa.completed_at is None


async def test_personal_link_rates_topics_and_feeds_the_topic_gaps(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tokens = []
    async with transaction(sessions) as session:
        for _ in range(3):
            sa = await services.start_self_assessment(
                session, cities.a, SelfAssessmentInput(target_group="local_police"), user_id=None, actor=None
            )
            tokens.append(sa.token)
    for token in tokens:
        page = await client.get(f"/m/training/self/{token}")
        assert 'name="topic.interpersonal.perceived_insecurity"' in page.text
        r = await client.post(f"/m/training/self/{token}", data=topic_form("basic"), headers=csrf_headers(client))
        assert r.status_code == 200
        assert "Thank you" in r.text
    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "c@a.eu")
    workspace = await client.get(f"/m/training/cities/{cities.a}/")
    assert "Gaps by topic" in workspace.text
    async with sessions() as session:
        topic_gaps = await services.city_topic_gaps(session, cities.a)
        targets = (await services.target_levels(session))["local_police"]
    line = next(g for g in topic_gaps if g.topic == "perceived_insecurity")
    assert line.people == 3
    assert line.mean_assessed == 1.0
    assert line.gap == {"basic": 0, "intermediate": 1, "advanced": 2}[targets["interpersonal"]]


async def _publish(session: AsyncSession, city: UUID, title: str, units: list[tuple[str, str, str]]) -> None:
    curriculum = await services.create_curriculum(
        session, city, CurriculumInput(title=title, target_groups=sorted({u[0] for u in units})), actor=None
    )
    for group, area, level in units:
        await services.add_unit(
            session,
            curriculum,
            UnitInput.model_validate({"title": f"{area} unit", "target_group": group, "area": area, "level": level}),
            actor=None,
        )
    await services.submit_for_review(session, curriculum, actor=None)
    await services.review_curriculum(session, curriculum, approve=True, actor=None)


async def test_learning_plan_lists_curricula_covering_the_largest_gaps_first(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("me@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.email == "me@a.eu"))
        targets = (await services.target_levels(session))["local_police"]
    assert user is not None
    # local police: knowledge advanced, know-how advanced (Table 4); the person rates everything basic
    assert targets["knowledge"] == "advanced"
    assert targets["know_how"] == "advanced"
    async with transaction(sessions) as session:
        sa = await services.start_self_assessment(
            session, cities.a, SelfAssessmentInput(target_group="local_police"), user_id=user.id, actor=None
        )
        await services.rate_self(session, sa, RatingInput.model_validate(topic_form("basic")))
        # the supervisor sees know-how at intermediate: gap 1 there, 2 in knowledge
        await services.rate_by_supervisor(
            session,
            sa,
            RatingInput(knowledge="basic", know_how="intermediate", interpersonal="basic"),
            actor=None,
        )
        await _publish(session, cities.b, "Know-how for police", [("local_police", "know_how", "advanced")])
        await _publish(
            session,
            cities.b,
            "Prevention and integration",
            [("local_police", "knowledge", "advanced"), ("local_police", "know_how", "advanced")],
        )
        await _publish(session, cities.b, "Knowledge, basic", [("local_police", "knowledge", "basic")])  # no step up
        await _publish(session, cities.b, "For planners", [("urban_planning", "knowledge", "advanced")])
        await services.create_curriculum(  # a draft is never proposed
            session, cities.a, CurriculumInput(title="Draft", target_groups=["local_police"]), actor=None
        )
    async with sessions() as session:
        plan = await services.learning_plan(session, user.id)
    assert [(i.curriculum.title, i.covered_gap) for i in plan] == [
        ("Prevention and integration", 3),
        ("Know-how for police", 1),
    ]
    assert plan[0].cells == ["local_police/knowledge", "local_police/know_how"]
    await sign_in(client, "me@a.eu")
    page = await client.get("/m/training/me/")
    assert re.search(r"Prevention and integration.*Know-how for police", page.text, re.S)
    api = await client.get("/api/v1/training/me/learning-plan")
    assert api.status_code == 200
    assert [i["title"] for i in api.json()] == ["Prevention and integration", "Know-how for police"]
    client.cookies.clear()
    assert (await client.get("/api/v1/training/me/learning-plan")).status_code == 401
