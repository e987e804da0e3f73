"""Self-assessment through personal links, supervisor ratings and the city-wide gap view."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.training import services
from modules.training.models import Curriculum, SelfAssessment
from modules.training.schemas import CurriculumInput, RatingInput, SelfAssessmentInput, UnitInput
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]


def rating(k: str, h: str, i: str) -> RatingInput:
    return RatingInput.model_validate({"knowledge": k, "know_how": h, "interpersonal": i})


def test_gap_arithmetic() -> None:
    targets = {"local_police": {"knowledge": "advanced", "know_how": "advanced", "interpersonal": "intermediate"}}
    ratings = [
        ("local_police", {"knowledge": "basic", "know_how": "advanced", "interpersonal": "basic"}, {}),
        ("local_police", {"knowledge": "advanced", "know_how": "advanced", "interpersonal": "advanced"}, {}),
        # the supervisor's rating counts where given
        ("local_police", {"knowledge": "advanced", "know_how": "advanced", "interpersonal": "advanced"},
         {"knowledge": "intermediate", "know_how": "advanced", "interpersonal": "basic"}),
    ]  # fmt: skip
    lines = {g.area: g for g in services.gap_lines(targets, ratings)}
    k = lines["knowledge"]
    assert k.people == 3
    assert k.mean_own == round((1 + 3 + 3) / 3, 2)
    assert k.mean_supervisor == 2.0
    assert k.below_target == 2  # basic (own) and intermediate (supervisor)
    assert k.gap == round(3 - (1 + 3 + 2) / 3, 2)
    assert lines["know_how"].gap == 0.0
    assert lines["know_how"].below_target == 0
    i = lines["interpersonal"]
    assert i.below_target == 2
    assert i.gap == round(2 - (1 + 3 + 1) / 3, 2)


def test_small_groups_show_only_their_size() -> None:
    lines = services.gap_lines(
        {}, [("volunteers", {"knowledge": "basic", "know_how": "basic", "interpersonal": "basic"}, {})]
    )
    assert all(g.people == 1 and g.mean_own is None and g.gap is None for g in lines)


async def test_self_assessment_by_personal_link_feeds_the_city_gap_view(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "c@a.eu")
    await client.get("/m/training/")
    r = await client.post(
        f"/m/training/cities/{cities.a}/self-assessments",
        data={"target_group": "urban_planning", "phase": "before"},
        headers=csrf_headers(client),
    )
    assert r.status_code == 200
    token = re.search(r"/m/training/self/([A-Za-z0-9_-]+)", r.text)
    assert token, r.text
    link = f"/m/training/self/{token.group(1)}"
    client.cookies.clear()  # the person answering has no account
    anonymous = client
    page = await anonymous.get(link)
    assert page.status_code == 200
    assert "Level needed for your profile" in page.text
    levels = {"knowledge": "intermediate", "know_how": "intermediate", "interpersonal": "basic"}
    answer = await anonymous.post(link, data=levels, headers=csrf_headers(anonymous))
    assert answer.status_code == 200
    assert "Thank you" in answer.text
    twice = await anonymous.post(link, data=levels, headers=csrf_headers(anonymous))
    assert twice.status_code == 422
    bad = await anonymous.post(link, data=levels | {"knowledge": "guru"}, headers=csrf_headers(anonymous))
    assert bad.status_code == 422
    # two more colleagues, then the group is large enough to be shown
    async with transaction(sessions) as session:
        for own in (rating("basic", "intermediate", "basic"), rating("advanced", "basic", "basic")):
            sa = await services.start_self_assessment(
                session, cities.a, SelfAssessmentInput(target_group="urban_planning"), user_id=None, actor=None
            )
            await services.rate_self(session, sa, own)
        curriculum = await services.create_curriculum(
            session,
            cities.b,
            CurriculumInput(title="Prevention for planners", target_groups=["urban_planning"]),
            actor=None,
        )
        await services.add_unit(
            session,
            curriculum,
            UnitInput.model_validate(
                {"title": "Regulation", "target_group": "urban_planning", "area": "knowledge", "level": "advanced"}
            ),
            actor=None,
        )
        await services.submit_for_review(session, curriculum, actor=None)
        await services.review_curriculum(session, curriculum, approve=True, actor=None)
    async with sessions() as session:
        gaps = {g.area: g for g in await services.city_gaps(session, cities.a)}
        recommended = await services.recommended_curricula(session, list(gaps.values()))
    assert gaps["knowledge"].people == 3
    assert gaps["knowledge"].gap == round(3 - (2 + 1 + 3) / 3, 2)  # advanced needed
    assert gaps["interpersonal"].gap == 0.0  # basic needed, all basic
    assert [(c.title, cells) for c, cells in recommended] == [("Prevention for planners", ["urban_planning/knowledge"])]
    assert isinstance(recommended[0][0], Curriculum)


async def test_a_supervisor_rating_is_added_by_the_city(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        sa = await services.start_self_assessment(
            session, cities.a, SelfAssessmentInput(target_group="local_police"), user_id=None, actor=None
        )
    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "c@a.eu")
    await client.get("/m/training/")
    r = await client.post(
        f"/m/training/cities/{cities.a}/self-assessments/{sa.id}/supervisor",
        data={"knowledge": "basic", "know_how": "basic", "interpersonal": "advanced"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303
    other = await client.post(
        f"/m/training/cities/{cities.b}/self-assessments/{sa.id}/supervisor",
        data={"knowledge": "basic", "know_how": "basic", "interpersonal": "advanced"},
        headers=csrf_headers(client),
    )
    assert other.status_code == 403
    async with sessions() as session:
        stored = await session.get(SelfAssessment, sa.id)
    assert stored is not None
    assert stored.supervisor_levels == {"knowledge": "basic", "know_how": "basic", "interpersonal": "advanced"}
    assert stored.own_levels == {}  # the person's own rating stays theirs to give
