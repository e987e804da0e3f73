"""The JSON API and every bad input of the issue: refused with a clear reason (422 with field messages as
RFC 9457 problem details, or 409 for a state that does not allow it), never a 500."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.monitoring.models import ModuleYear
from tests.fixtures.bus import Bus
from tests.platform.commitments.conftest import api_token
from tests.platform.monitoring.conftest import SLUGS, TODAY, YEAR, Cities, Client

API = "/api/v1/monitoring"


def cycle_json(year: int = YEAR, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "year": year,
        "opens_on": (TODAY - timedelta(days=10)).isoformat(),
        "submission_deadline": (TODAY + timedelta(days=20)).isoformat(),
        "validation_deadline": (TODAY + timedelta(days=40)).isoformat(),
        "reminder_days": [14, 7],
    }
    return values | overrides


def fields(response: Any) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def admin_headers(make_user: Any, sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    await make_user("admin@covenant.eu", roles=[("admin", {})])
    return await api_token(sessions, "admin@covenant.eu")


async def test_creating_and_opening_refuse_bad_input(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    admin = await admin_headers(make_user, sessions)
    early = await client.post(
        f"{API}/cycles", json=cycle_json(submission_deadline=(TODAY - timedelta(days=11)).isoformat()), headers=admin
    )
    assert early.status_code == 422
    assert "The submission deadline must come after the opening date." in fields(early)["submission_deadline"]
    inverted = await client.post(
        f"{API}/cycles", json=cycle_json(validation_deadline=(TODAY + timedelta(days=5)).isoformat()), headers=admin
    )
    assert inverted.status_code == 422
    assert "validation_deadline" in fields(inverted)
    unknown = await client.post(f"{API}/cycles", json=cycle_json(required={"astrology": ["above_1m"]}), headers=admin)
    assert unknown.status_code == 422
    assert "Unknown sections: astrology" in fields(unknown)["required"]
    bad_size = await client.post(f"{API}/cycles", json=cycle_json(required={"funding": ["huge"]}), headers=admin)
    assert bad_size.status_code == 422

    created = await client.post(f"{API}/cycles", json=cycle_json(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft"
    assert body["reminder_days"] == [14, 7]
    assert set(body["required"]) == {"commitments", *SLUGS}
    duplicate = await client.post(f"{API}/cycles", json=cycle_json(), headers=admin)
    assert duplicate.status_code == 422
    assert fields(duplicate)["year"] == f"The year {YEAR} already has a monitoring cycle."

    assert (await client.post(f"{API}/cycles/{YEAR}/close", json={"confirm": True}, headers=admin)).status_code == 409
    opened = await client.post(f"{API}/cycles/{YEAR}/open", headers=admin)
    assert opened.status_code == 200
    assert opened.json()["status"] == "open"
    twice = await client.post(f"{API}/cycles/{YEAR}/open", headers=admin)
    assert twice.status_code == 409
    assert twice.json()["detail"] == f"The {YEAR} cycle is already open."
    assert (await client.get(f"{API}/cycles/1999", headers=admin)).status_code == 404

    summary = (await client.get(f"{API}/cycles/{YEAR}/summary", headers=admin)).json()
    assert summary["sections"] == 21  # three active signatories, seven sections each
    assert summary["by_status"] == {"not_started": 21}
    matrix = (await client.get(f"{API}/cycles/{YEAR}/matrix", params={"size": 2}, headers=admin)).json()
    assert matrix["total"] == 3
    assert matrix["pages"] == 2
    assert [r["name"] for r in matrix["items"]] == ["Faenza", "Nice"]
    assert set(matrix["items"][0]["sections"]) == set(body["required"])
    by_country = (await client.get(f"{API}/cycles/{YEAR}/matrix", params={"country": "fr"}, headers=admin)).json()
    assert [r["name"] for r in by_country["items"]] == ["Nice"]


async def test_submitting_deciding_and_closing_refuse_bad_input(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Cities, bus: Bus
) -> None:
    admin = await admin_headers(make_user, sessions)
    required = {"commitments": ["250k_500k", "500k_1m", "below_50k"], "practices": ["250k_500k"]}
    assert (await client.post(f"{API}/cycles", json=cycle_json(required=required), headers=admin)).status_code == 201
    assert (await client.post(f"{API}/cycles/{YEAR}/open", headers=admin)).status_code == 200
    await make_user("mayor@nice.fr", roles=[("mayors_office", {"city_id": cities.nice})])
    mayor = await api_token(sessions, "mayor@nice.fr")
    city_api = f"/api/v1/cities/{cities.nice}/monitoring/{YEAR}"

    checklist = (await client.get(city_api, headers=mayor)).json()
    assert [s["module"] for s in checklist["sections"]] == ["commitments", "practices"]
    assert checklist["ready"] is False
    assert checklist["sections"][0]["missing"] == ["Publish at least one commitment."]

    # Submitting with missing sections: 422 naming each missing item.
    refused = await client.post(city_api + "/submit", headers=mayor)
    assert refused.status_code == 422
    errors = fields(refused)
    assert errors["sections.commitments"] == "Publish at least one commitment."
    assert "sections.practices" in errors

    # Validating a section that was not submitted: 409; returning without a comment: 422 once submitted.
    section_id = checklist["sections"][0]["id"]
    not_submitted = await client.post(f"{API}/cycles/{YEAR}/sections/{section_id}/validate", json={}, headers=admin)
    assert not_submitted.status_code == 409
    assert "Only a submitted section can be validated" in not_submitted.json()["detail"]
    unknown = await client.post(f"{API}/cycles/{YEAR}/sections/{cities.nice}/validate", json={}, headers=admin)
    assert unknown.status_code == 404

    # Delay requests: a date that does not extend the deadline, beyond the validation deadline, then one
    # that waits; a second one while it waits.
    deadline = TODAY + timedelta(days=20)
    same = await client.post(
        city_api + "/delay-requests", json={"requested_until": deadline.isoformat(), "reason": "x"}, headers=mayor
    )
    assert same.status_code == 422
    assert "requested_until" in fields(same)
    too_late = (TODAY + timedelta(days=41)).isoformat()
    beyond = await client.post(
        city_api + "/delay-requests", json={"requested_until": too_late, "reason": "x"}, headers=mayor
    )
    assert beyond.status_code == 422
    assert "cannot go past the validation deadline" in fields(beyond)["requested_until"]
    empty = await client.post(city_api + "/delay-requests", json={"requested_until": too_late}, headers=mayor)
    assert empty.status_code == 422
    assert "reason" in fields(empty)
    until = (TODAY + timedelta(days=30)).isoformat()
    first = await client.post(
        city_api + "/delay-requests", json={"requested_until": until, "reason": "Council elections."}, headers=mayor
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        city_api + "/delay-requests", json={"requested_until": until, "reason": "Again."}, headers=mayor
    )
    assert second.status_code == 409
    refuse_bare = await client.post(
        f"{API}/cycles/{YEAR}/delays/{first.json()['id']}", json={"decision": "refuse"}, headers=admin
    )
    assert refuse_bare.status_code == 422
    assert "comment" in fields(refuse_bare)
    refused_delay = await client.post(
        f"{API}/cycles/{YEAR}/delays/{first.json()['id']}",
        json={"decision": "refuse", "comment": "The deadline is common to all."},
        headers=admin,
    )
    assert refused_delay.status_code == 200
    assert refused_delay.json()["status"] == "refused"

    # Closing needs its confirmation; then submitting is refused; reopening needs a reason and is audited.
    unconfirmed = await client.post(f"{API}/cycles/{YEAR}/close", json={}, headers=admin)
    assert unconfirmed.status_code == 422
    assert "confirm" in fields(unconfirmed)
    closed = await client.post(f"{API}/cycles/{YEAR}/close", json={"confirm": True}, headers=admin)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    after = await client.post(city_api + "/submit", headers=mayor)
    assert after.status_code == 409
    assert after.json()["detail"] == f"The {YEAR} monitoring is not open; nothing can be submitted."
    await bus.settle()
    async with sessions() as session:
        assert all(y.closed_at is not None for y in await session.scalars(select(ModuleYear)))
    no_reason = await client.post(f"{API}/cycles/{YEAR}/reopen", json={"reason": ""}, headers=admin)
    assert no_reason.status_code == 422
    late = {"reason": "A city's data arrived late."}
    reopened = await client.post(f"{API}/cycles/{YEAR}/reopen", json=late, headers=admin)
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"
    await bus.settle()
    async with sessions() as session:
        years = list(await session.scalars(select(ModuleYear)))
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "monitoring.cycle_reopened")))
    assert years
    assert all(y.closed_at is None and y.report is None for y in years)
    assert len(audit) == 1
    assert audit[0].after["reason"] == "A city's data arrived late."


async def test_a_delay_after_the_deadline_is_refused(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    admin = await admin_headers(make_user, sessions)
    past = cycle_json(
        opens_on=(TODAY - timedelta(days=60)).isoformat(),
        submission_deadline=(TODAY - timedelta(days=1)).isoformat(),
        validation_deadline=(TODAY + timedelta(days=20)).isoformat(),
    )
    assert (await client.post(f"{API}/cycles", json=past, headers=admin)).status_code == 201
    assert (await client.post(f"{API}/cycles/{YEAR}/open", headers=admin)).status_code == 200
    await make_user("mayor@riga.lv", roles=[("mayors_office", {"city_id": cities.riga})])
    mayor = await api_token(sessions, "mayor@riga.lv")
    late = await client.post(
        f"/api/v1/cities/{cities.riga}/monitoring/{YEAR}/delay-requests",
        json={"requested_until": (TODAY + timedelta(days=10)).isoformat(), "reason": "We forgot."},
        headers=mayor,
    )
    assert late.status_code == 422
    assert "has passed: a delay must be requested before it" in fields(late)["requested_until"]
    # Notices only after the validation deadline.
    early = await client.post(f"{API}/cycles/{YEAR}/notices", headers=admin)
    assert early.status_code == 409
    assert "after the validation deadline" in early.json()["detail"]
