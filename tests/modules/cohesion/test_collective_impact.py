"""Collective Impact through HTTP (HTML and JSON): initiatives, the rubric over time, SWOT boards with one vote
per person, the Markdown executive summary, lessons from an initiative and their event; translatable warnings."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from modules.cohesion import services
from modules.cohesion.models import Lesson, SurveyWave
from modules.cohesion.plugin import module
from modules.cohesion.schemas import InitiativeInput, LessonInput
from tests.fixtures.bus import Bus, eventually
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.cohesion.conftest import Cities
from tests.platform.commitments.conftest import api_token

Client = AsyncTestClient[Litestar]
SCORES = {
    "common_agenda": 1,
    "shared_measurement": 0,
    "mutually_reinforcing_activities": 2,
    "continuous_communication": 1,
    "backbone_support": 0,
    "champion": 3,
    "resources": 1,
    "urgency": 4,
}


async def contributor(client: Client, make_user: Any, city: Any, email: str) -> None:
    await make_user(email, roles=[("contributor", {"city_id": city, "modules": ["cohesion"]})])
    assert (await sign_in(client, email)).status_code == 303


async def test_initiative_rubric_swot_and_lesson_pages(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    base = f"/m/cohesion/cities/{cities.a}"
    anonymous = await client.get(base + "/initiatives", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    await contributor(client, make_user, cities.a, "ci@mechelen.be")
    assert "No initiative yet" in (await client.get(base + "/initiatives")).text
    bad = await client.post(base + "/initiatives", data={"title": "X"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    r = await client.post(
        base + "/initiatives",
        data={
            "title": "Safe station area",
            "problem": "Drug dealing and fear around the station.",
            "partners": "City police — public\nDe Kade — civil society",
        },
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = await client.get(url)
    assert "Safe station area" in page.text
    assert "De Kade" in page.text
    assert "Not scored yet" in page.text
    # Scored twice over time: both rows stay, oldest first.
    for day, bump in (("2025-01-15", 0), ("2025-09-15", 2)):
        form = {k: str(min(4, v + bump)) for k, v in SCORES.items()} | {"scored_on": day, "notes": f"Workshop {day}"}
        r = await client.post(url + "/rubric", data=form, headers=csrf_headers(client), follow_redirects=False)
        assert r.status_code == 303, r.text
    bad = await client.post(
        url + "/rubric", data=SCORES | {"scored_on": "2025-10-01", "urgency": "7"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    shown = (await client.get(url)).text
    assert "Common agenda" in shown
    assert "Backbone support" in shown
    assert shown.index("Workshop 2025-01-15") < shown.index("Workshop 2025-09-15")
    # A SWOT board: entries, one vote per person, the summary in Markdown.
    r = await client.post(
        url + "/boards", data={"title": "Partners' workshop"}, headers=csrf_headers(client), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    board_url = r.headers["location"]
    for quadrant, text in (("strengths", "Committed partners"), ("threats", "Budget cuts"), ("threats", "Fatigue")):
        r = await client.post(
            board_url + "/entries",
            data={"quadrant": quadrant, "text": text},
            headers=csrf_headers(client),
            follow_redirects=False,
        )
        assert r.status_code == 303
    bad = await client.post(
        board_url + "/entries", data={"quadrant": "dreams", "text": "X y"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    async with sessions() as session:
        board = await services.get_board(session, cities.a, UUID(board_url.rsplit("/", 1)[1]))
        assert board is not None
        entries = await services.board_entries(session, board.id)
    fatigue = next(e for e in entries["threats"] if e.text == "Fatigue")
    for _ in range(2):
        await client.post(f"{board_url}/entries/{fatigue.id}/vote", headers=csrf_headers(client))
    summary = await client.get(board_url + "/summary.md")
    assert summary.status_code == 200
    assert summary.headers["content-type"].startswith("text/markdown")
    assert "attachment" in summary.headers["content-disposition"]
    text = summary.text
    assert text.startswith("# SWOT — Partners' workshop")
    assert "3 contributions" in text
    threats = text.split("## Threats")[1]
    assert threats.index("Fatigue (1 votes)") < threats.index("Budget cuts (0 votes)")
    assert "## Weaknesses\n\n- (none)" in text
    assert "Committed partners" in (await client.get(board_url)).text
    # A lesson from the initiative, shown on its page and on the index.
    r = await client.post(
        base + "/lessons",
        data={
            "title": "Start with a backbone",
            "body": "Without a backbone the partners drifted apart.",
            "initiative_id": url.rsplit("/", 1)[1],
        },
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == url
    short = {"title": "Hm", "body": "short", "initiative_id": url.rsplit("/", 1)[1]}
    r = await client.post(base + "/lessons", data=short, headers=csrf_headers(client), follow_redirects=False)
    assert r.headers["location"] == url
    assert "Start with a backbone" in (await client.get(url)).text
    assert "Start with a backbone" in (await client.get("/m/cohesion/")).text
    # Another city's initiatives are out of reach.
    assert (await client.get(f"/m/cohesion/cities/{cities.b}/initiatives")).status_code == 403
    assert (await client.get(board_url.replace(str(cities.a), str(cities.b)))).status_code == 403


async def test_collective_impact_api(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    api = f"/api/v1/cohesion/cities/{cities.a}"
    assert (await client.get(api + "/initiatives")).status_code == 401
    await make_user("api@mechelen.be", roles=[("contributor", {"city_id": cities.a, "modules": ["cohesion"]})])
    await make_user("b@riga.lv", roles=[("contributor", {"city_id": cities.b, "modules": ["cohesion"]})])
    client.headers.update(await api_token(sessions, "api@mechelen.be"))
    r = await client.post(api + "/initiatives", json={"title": "Night-time economy", "partners": ["Bars; business"]})
    assert r.status_code == 201, r.text
    initiative = r.json()
    assert initiative["partners"] == [{"name": "Bars", "sector": "business"}]
    iid = initiative["id"]
    for day, value in (("2025-03-01", 1), ("2024-03-01", 0)):
        r = await client.post(
            api + f"/initiatives/{iid}/rubric", json=dict.fromkeys(SCORES, value) | {"scored_on": day}
        )
        assert r.status_code == 201, r.text
    history = r.json()["rubric"]
    assert [h["scored_on"] for h in history] == ["2024-03-01", "2025-03-01"]
    assert history[1]["scores"]["backbone_support"] == 1
    assert history[1]["conditions_average"] == 1.0
    bad = await client.post(api + f"/initiatives/{iid}/rubric", json={"scored_on": "2025-01-01", "urgency": 9})
    assert bad.status_code == 422
    assert "urgency" in bad.text
    assert "common_agenda" in bad.text
    assert len((await client.get(api + "/initiatives")).json()) == 1
    board = (await client.post(api + f"/initiatives/{iid}/boards", json={"title": "Kick-off"})).json()
    entry = (
        await client.post(
            api + f"/boards/{board['id']}/entries", json={"quadrant": "opportunities", "text": "EU funds"}
        )
    ).json()
    first = (await client.post(api + f"/boards/{board['id']}/entries/{entry['id']}/vote")).json()
    second = (await client.post(api + f"/boards/{board['id']}/entries/{entry['id']}/vote")).json()
    assert (first["counted"], first["votes"]) == (True, 1)
    assert (second["counted"], second["votes"]) == (False, 1)
    got = (await client.get(api + f"/boards/{board['id']}")).json()
    assert got["entries"]["opportunities"][0]["votes"] == 1
    summary = await client.get(api + f"/boards/{board['id']}/summary")
    assert "- EU funds (1 votes)" in summary.text
    assert (await client.get(api + f"/initiatives/{iid}")).json()["board_ids"] == [board["id"]]
    lesson = await client.post(
        api + "/lessons",
        json={"title": "Bars as partners", "body": "Owners joined once the data was shared.", "initiative_id": iid},
    )
    assert lesson.status_code == 201, lesson.text
    assert lesson.json()["initiative_id"] == iid
    assert lesson.json()["evaluation_id"] is None
    # Another city's initiative cannot be the source; the other city's routes are forbidden.
    client.headers.update(await api_token(sessions, "b@riga.lv"))
    api_b = f"/api/v1/cohesion/cities/{cities.b}"
    r = await client.post(
        api_b + "/lessons", json={"title": "Stolen", "body": "Not our initiative at all.", "initiative_id": iid}
    )
    assert r.status_code in (400, 422)
    assert "initiative_id" in r.text
    assert (await client.get(api + f"/initiatives/{iid}")).status_code == 403
    assert (await client.get(api_b + f"/initiatives/{iid}")).status_code == 404
    assert (await client.get(api_b + f"/boards/{board['id']}")).status_code == 404


received: list[dict[str, Any]] = []


async def on_event(event: DomainEvent, _session: AsyncSession) -> None:
    received.append({"name": event.event_name(), **event.model_dump(mode="json")})


@pytest.fixture
def registry() -> ModuleRegistry:
    received.clear()
    return ModuleRegistry([dataclasses.replace(module, subscriptions={"cohesion.lessons_published": on_event})])


async def test_lesson_from_an_initiative_is_published_as_an_event(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        initiative = await services.create_initiative(
            session, cities.a, InitiativeInput(title="Safe nights", partners=["Police — public"]), actor=None
        )
        await services.publish_lesson(
            session,
            cities.a,
            LessonInput(title="Share the data", body="Shared measurement built trust.", initiative_id=initiative.id),
            actor=None,
        )
    await bus.settle()

    async def arrived() -> bool:
        return bool(received)

    await eventually(arrived)
    event = received[0]
    assert event["name"] == "cohesion.lessons_published"
    assert event["source"] == "initiative"
    assert event["city_id"] == str(cities.a)
    assert event["title"] == "Share the data"
    async with sessions() as session:
        lesson = (await session.scalars(select(Lesson))).one()
    assert event["lesson_id"] == str(lesson.id)
    assert lesson.initiative_id == initiative.id


def test_warnings_are_translated_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analysis keeps the untranslated message and its values; the translation comes first, then the
    values (labels translated too), so a catalogue's msgid matches the N_ constant."""

    def w(wave: int, mean: float) -> SurveyWave:
        return SurveyWave(indicator="feeling_of_insecurity", area="intervention", wave=wave, mean=mean, sd=0.8, n=20)

    analysis = services.analyse("pre_post", ["feeling_of_insecurity"], [w(0, 2.6), w(1, 2.9)])
    small = next(n for n in analysis.warnings if "Small sample" in n)
    assert "%(indicator)s" in small.template
    assert small.params["n"] == 20
    catalogue = {
        small.template: "Petit échantillon : %(indicator)s, %(area)s, vague %(wave)s, %(n)s répondants.",
        "Feeling of insecurity": "Sentiment d'insécurité",
        "area of the measure": "zone de la mesure",
    }
    monkeypatch.setattr(services, "_", lambda message: catalogue.get(message, message))
    assert small.text() == "Petit échantillon : Sentiment d'insécurité, zone de la mesure, vague 0, 20 répondants."
    assert str(small).startswith("Small sample: Feeling of insecurity, area of the measure, wave 0")
    plain = next(n for n in analysis.warnings if "Without a comparison area" in n)
    assert plain.params == {}
    assert plain.text() == str(plain)
