"""Curricula, pilot sessions and their questionnaires through the pages and the API, with authorisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.training import services
from modules.training.models import CurriculumStatus, Participant, QuestionnaireAnswer, TrainingSession
from modules.training.schemas import AnswerInput, CurriculumInput, SessionInput, UnitInput
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]
ANSWER = {"relevance": 5, "quality": 4, "trainers": 5, "organisation": 3, "applicability": 4, "liked": "The walk."}


async def contributor(client: Client, make_user: Any, city: UUID, email: str = "c@a.eu") -> Client:
    await make_user(email, roles=[("contributor", {"city_id": city, "modules": ["training"]})])
    assert (await sign_in(client, email)).status_code == 303
    await client.get("/m/training/")
    return client


async def planned_session(
    sessions: async_sessionmaker[AsyncSession], city: UUID, capacity: int = 3
) -> tuple[UUID, UUID]:
    async with transaction(sessions) as session:
        c = await services.create_curriculum(
            session,
            city,
            CurriculumInput(title="Police and social services", target_groups=["local_police"]),
            actor=None,
        )
        await services.add_unit(
            session,
            c,
            UnitInput(title="Prevention law", target_group="local_police", area="knowledge", level="advanced"),
            actor=None,
        )
        ts = await services.create_session(
            session,
            city,
            SessionInput.model_validate(
                {
                    "curriculum_id": c.id,
                    "title": "Pilot 1",
                    "starts_on": "2025-03-10",
                    "ends_on": "2025-03-11",
                    "place": "Town hall",
                    "capacity": capacity,
                }
            ),
            actor=None,
        )
        return c.id, ts.id


async def test_a_contributor_drafts_a_curriculum_with_units_and_submits_it(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    r = await client.post(
        f"/m/training/cities/{cities.a}/curricula",
        data={"title": "Community engagement", "target_groups": ["volunteers", "neighbourhood_watch"]},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    unit = {"title": "Perceived insecurity", "target_group": "volunteers", "area": "interpersonal", "level": "basic"}
    assert (
        await client.post(f"{url}/units", data=unit, headers=csrf_headers(client), follow_redirects=False)
    ).status_code == 303
    # a cell that does not exist: no such target group in the matrix
    bad = await client.post(f"{url}/units", data=unit | {"target_group": "astronauts"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    assert "matrix cell that does not exist" in bad.text
    bad_level = await client.post(f"{url}/units", data=unit | {"level": "expert"}, headers=csrf_headers(client))
    assert bad_level.status_code == 422
    assert (await client.post(f"{url}/submit", headers=csrf_headers(client), follow_redirects=False)).status_code == 303
    page = await client.get(url)
    assert "In review" in page.text
    assert "Perceived insecurity" in page.text


async def test_a_reviewer_publishes_a_curriculum(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    curriculum_id, _ = await planned_session(sessions, cities.a)
    async with transaction(sessions) as session:
        c = await services.get_curriculum(session, curriculum_id)
        assert c is not None
        await services.submit_for_review(session, c, actor=None)
    await make_user("r@eu.eu", roles=[("reviewer", {"module": "training"})])
    await sign_in(client, "r@eu.eu")
    page = await client.get("/m/training/review/")
    assert page.status_code == 200
    assert "Police and social services" in page.text
    r = await client.post(
        f"/m/training/review/{curriculum_id}",
        data={"decision": "publish"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303
    async with sessions() as session:
        c = await services.get_curriculum(session, curriculum_id)
        assert c is not None
        assert c.status == CurriculumStatus.published


async def test_sessions_fill_up_then_put_people_on_the_waiting_list(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    _, ts = await planned_session(sessions, cities.a, capacity=2)
    url = f"/m/training/cities/{cities.a}/sessions/{ts}"
    for name in ("Anna", "Luca", "Marie"):
        r = await client.post(
            f"{url}/participants", data={"name": name}, headers=csrf_headers(client), follow_redirects=False
        )
        assert r.status_code == 303
    page = await client.get(url)
    assert "waiting list" in page.text
    async with sessions() as session:
        people = await services.participants_of(session, ts)
    assert [p.waiting_list for p in people] == [False, False, True]
    api = await client.get(f"/api/v1/training/cities/{cities.a}/sessions")
    assert api.status_code == 200
    assert api.json()[0]["registered"] == 2
    assert api.json()[0]["waiting"] == 1


async def test_plan_a_session_through_the_form(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    curriculum_id, _ = await planned_session(sessions, cities.a)
    form = {"curriculum_id": str(curriculum_id), "title": "Pilot 2", "starts_on": "2025-06-02", "ends_on": "2025-06-01"}
    r = await client.post(f"/m/training/cities/{cities.a}/sessions", data=form, headers=csrf_headers(client))
    assert r.status_code == 422
    assert "end date" in r.text
    form |= {"ends_on": "2025-06-03", "online": "on"}
    r = await client.post(
        f"/m/training/cities/{cities.a}/sessions", data=form, headers=csrf_headers(client), follow_redirects=False
    )
    assert r.status_code == 303


async def test_questionnaire_link_works_once_without_login_and_answers_stay_anonymous(
    client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, ts_id = await planned_session(sessions, cities.a)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        person = await services.register_participant(session, ts, name="Anna Verbeek", actor=None)
        other = await services.register_participant(session, ts, name="Luca Bassi", actor=None)
    url = f"/m/training/q/{person.token}"
    form = await client.get(url)
    assert form.status_code == 200
    assert "anonymous" in form.text
    r = await client.post(url, data=ANSWER, headers=csrf_headers(client))
    assert r.status_code == 200
    assert "Thank you" in r.text
    twice = await client.post(url, data=ANSWER, headers=csrf_headers(client))
    assert twice.status_code == 422
    assert "already been used" in twice.text
    api_twice = await client.post(f"/api/v1/training/questionnaires/{person.token}", json=ANSWER)
    assert api_twice.status_code == 422
    assert "already been used" in api_twice.text
    assert (await client.get("/m/training/q/not-a-token")).status_code == 404
    api = await client.post(f"/api/v1/training/questionnaires/{other.token}", json=ANSWER | {"relevance": 9})
    assert api.status_code in (400, 422)  # 1-5 only
    api = await client.post(f"/api/v1/training/questionnaires/{other.token}", json=ANSWER | {"liked": ""})
    assert api.status_code == 201
    # Anonymity: the answer table cannot point back at anybody.
    columns = {c.key for c in inspect(QuestionnaireAnswer).columns}
    assert not columns & {"participant_id", "token", "name", "email", "created_by"}
    async with sessions() as session:
        answers = list(await session.scalars(select(QuestionnaireAnswer)))
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        report = await services.session_report(session, ts)
    assert len(answers) == 2
    assert all("Anna" not in str(a.scores) + a.liked + a.improve for a in answers)
    assert report.respondents == 2
    assert report.response_rate == 1.0
    assert report.comments_liked == ["The walk."]


async def test_a_closed_questionnaire_refuses_answers(
    client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, ts_id = await planned_session(sessions, cities.a)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        person = await services.register_participant(session, ts, name="Anna", actor=None)
        await services.close_questionnaire(session, ts, actor=None)
    r = await client.post(f"/api/v1/training/questionnaires/{person.token}", json=ANSWER)
    assert r.status_code == 422
    assert "closed" in r.text
    async with sessions() as session:
        assert (await session.scalars(select(Participant.answered))).all() == [False]


async def test_report_arithmetic(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    _, ts_id = await planned_session(sessions, cities.a, capacity=4)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        people = [await services.register_participant(session, ts, name=f"P{i}", actor=None) for i in range(5)]
        await services.set_attendance(session, ts, {p.id for p in people[:3]} | {people[4].id}, actor=None)
        for scores in ({"relevance": 5, "quality": 4}, {"relevance": 3, "quality": 2}, {"relevance": 4, "quality": 3}):
            base = {"trainers": 4, "organisation": 4, "applicability": 4}
            await services.answer_questionnaire(session, people.pop(0).token, AnswerInput.model_validate(base | scores))
        report = await services.close_questionnaire(session, ts, actor=None)
    assert report.participants == 4  # the fifth is on the waiting list
    assert report.attended == 3  # a waiting-list person cannot attend
    assert report.respondents == 3
    assert report.response_rate == 0.75
    items = {i.item: i for i in report.items}
    assert items["relevance"].mean == 4.0
    assert items["quality"].mean == 3.0
    assert items["relevance"].distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    # overall: (12 + 9 + 12*3) / 15 = 57/15 = 3.8
    assert report.satisfaction == 3.8
    async with sessions() as session:
        full = await services.evaluation_report(session)
    assert full.sessions == 1
    assert full.participants == 4
    assert full.respondents == 3
    assert full.satisfaction == 3.8
    assert [line.label for line in full.by_city] == ["Mechelen"]
    assert [line.label for line in full.by_target_group] == ["local_police"]


async def test_a_contributor_of_city_a_cannot_touch_city_b(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, ts_b = await planned_session(sessions, cities.b)
    await contributor(client, make_user, cities.a)
    assert (await client.get(f"/m/training/cities/{cities.a}/")).status_code == 200
    assert (await client.get(f"/m/training/cities/{cities.b}/")).status_code == 403
    assert (await client.get(f"/m/training/cities/{cities.b}/sessions/{ts_b}")).status_code == 403
    r = await client.post(f"/m/training/cities/{cities.b}/sessions/{ts_b}/close", headers=csrf_headers(client))
    assert r.status_code == 403
    # a session of city B reached through city A's address is not found
    assert (await client.get(f"/m/training/cities/{cities.a}/sessions/{ts_b}")).status_code == 404
    assert (await client.get(f"/api/v1/training/cities/{cities.b}/sessions")).status_code in (401, 403)
    assert (await client.get("/m/training/report")).status_code == 403


async def test_api_of_another_city_is_forbidden_with_a_token(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from covenant.accounts import services as accounts
    from covenant.accounts.models import User

    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    async with transaction(sessions) as session:
        user = (await session.scalars(select(User).where(User.email == "c@a.eu"))).one()
        token = await accounts.create_api_token(session, user, name="t", expires_at=None, actor=None)
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert (await client.get(f"/api/v1/training/cities/{cities.a}/gaps", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/training/cities/{cities.b}/gaps", headers=headers)).status_code == 403
    curriculum_id, _ = await planned_session(sessions, cities.a)
    body = {
        "curriculum_id": str(curriculum_id),
        "title": "API pilot",
        "starts_on": "2025-09-01",
        "ends_on": "2025-09-01",
        "online": True,
    }
    assert (
        await client.post(f"/api/v1/training/cities/{cities.a}/sessions", json=body, headers=headers)
    ).status_code == 201
    assert (
        await client.post(f"/api/v1/training/cities/{cities.b}/sessions", json=body, headers=headers)
    ).status_code == 403


async def test_anonymous_visitors_are_sent_to_sign_in(client: Client, cities: Cities) -> None:
    r = await client.get(f"/m/training/cities/{cities.a}/", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
    assert (await client.get(f"/api/v1/training/cities/{cities.a}/sessions")).status_code == 401
    assert (await client.get("/m/training/matrix")).status_code == 200


async def test_organisers_cannot_tell_who_answered(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, ts_id = await planned_session(sessions, cities.a)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        anna = await services.register_participant(session, ts, name="Anna Verbeek", actor=None)
        await services.register_participant(session, ts, name="Luca Bassi", actor=None)
        await services.answer_questionnaire(session, anna.token, AnswerInput.model_validate(ANSWER))
    await contributor(client, make_user, cities.a)
    page = await client.get(f"/m/training/cities/{cities.a}/sessions/{ts_id}")
    assert page.status_code == 200
    assert "answered" not in page.text.lower().replace("who answered is not shown", "")
    report = await client.get(f"/api/v1/training/cities/{cities.a}/sessions/{ts_id}/report")
    assert report.status_code == 200
    assert report.json()["respondents"] == 1
    assert "Anna" not in report.text
