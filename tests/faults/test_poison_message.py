"""A poison message: retried with backoff, then in the dead-letter store, visible to admins (page and API),
replayed once its cause is fixed — and a second replay changes nothing."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from covenant.accounts import services
from covenant.db import session_factory, transaction
from tests.faults.stack import Stack, eventually, post_notes
from tests.fixtures.web import DEFAULT_PASSWORD

pytestmark = pytest.mark.faults

MAX_RETRIES = 3  # COVENANT_DRAMATIQ_MAX_RETRIES in the stack's environment
MIN_BACKOFF = 0.3  # COVENANT_DRAMATIQ_MIN_BACKOFF_MS


async def _users(stack: Stack) -> tuple[str, str]:
    """An admin and a contributor, each with an API token; returns their secrets."""
    async with transaction(session_factory(stack.engine)) as session:
        admin = await services.create_user(
            session, email="admin@faults.eu", display_name="Admin", password=DEFAULT_PASSWORD, actor=None
        )
        await services.grant_role(session, admin, role="admin", actor=None)
        someone = await services.create_user(
            session, email="someone@faults.eu", display_name="Someone", password=DEFAULT_PASSWORD, actor=None
        )
        admin_token = await services.create_api_token(session, admin, name="faults", expires_at=None, actor=None)
        other_token = await services.create_api_token(session, someone, name="faults", expires_at=None, actor=None)
    return admin_token.secret, other_token.secret


async def _sign_in(client: httpx.AsyncClient, email: str) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": email, "password": DEFAULT_PASSWORD},
        headers={"x-csrftoken": client.cookies.get("covenant_csrf") or ""},
    )
    assert response.status_code == 303, response.text


async def test_poison_message_is_retried_dead_lettered_shown_to_admins_and_replayed(stack: Stack) -> None:
    admin_secret, other_secret = await _users(stack)
    stack.start_relay()
    stack.start_worker()
    base = await stack.start_web()
    city = str(uuid4())  # one city: the notes after the poison one wait for it, then go on without it
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        responses = await post_notes(client, [{"label": f"before {i}", "city_id": city} for i in range(5)])
        poisoned = {"label": "poison", "city_id": city, "poison": True}
        poison = await client.post("/api/v1/faultmodule/notes", json=poisoned)
        responses += [poison, *await post_notes(client, [{"label": f"after {i}", "city_id": city} for i in range(5)])]
    assert [r.status_code for r in responses] == [201] * 11
    event_id = await stack.scalar(
        "SELECT event_id::text FROM event_outbox WHERE payload->>'note_id' = :n", n=poison.json()["id"]
    )

    async def dead_lettered() -> bool:
        status = await stack.scalar("SELECT status FROM event_dead_letter WHERE event_id::text = :e", e=event_id)
        return status == "dead"

    await eventually(dead_lettered, 60, "the poison message in the dead-letter store")

    # Retried with exponential backoff: 1 + MAX_RETRIES attempts, each wait about twice the one before.
    attempts = [float(t) for t in (stack.markers / f"{event_id}.attempts").read_text().split()]
    assert len(attempts) == 1 + MAX_RETRIES
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    for k, gap in enumerate(gaps):  # Dramatiq waits between half and all of min_backoff * 2**k
        assert gap >= MIN_BACKOFF * 2**k / 2 * 0.9, gaps
    assert gaps[-1] > gaps[0], gaps
    # The poison stopped only its own subscriber: the other one applied the event, the later notes went on.
    report = await stack.wait_for_invariants(30, expected_events=11, dead_letters_allowed=True)
    assert list(report.dead_letters) == [(UUID(event_id), "faultmodule.mirror_note")]
    assert (UUID(event_id), "faultpeer.tally_note") in report.effects

    async with httpx.AsyncClient(base_url=base, timeout=20) as api:
        listed = await api.get("/api/v1/admin/events/dead-letters", headers={"Authorization": f"Bearer {admin_secret}"})
        assert listed.status_code == 200, listed.text
        [letter] = listed.json()["items"]
        assert letter["event_id"] == event_id
        assert letter["subscriber"] == "faultmodule.mirror_note"
        assert "poison note" in letter["error"]
        assert letter["attempts"] >= MAX_RETRIES
        assert (await api.get("/api/v1/admin/events/dead-letters")).status_code == 401
        forbidden = await api.get(
            "/api/v1/admin/events/dead-letters", headers={"Authorization": f"Bearer {other_secret}"}
        )
        assert forbidden.status_code == 403

    (stack.markers / "cured").write_text("fixed")
    async with httpx.AsyncClient(base_url=base, timeout=20) as browser:
        await _sign_in(browser, "admin@faults.eu")
        page = await browser.get("/admin/events/dead-letters")
        assert page.status_code == 200
        assert event_id in page.text
        assert "poison note" in page.text
        replayed = await browser.post(
            f"/admin/events/dead-letters/{letter['id']}/replay",
            headers={"x-csrftoken": browser.cookies.get("covenant_csrf") or ""},
        )
        assert replayed.status_code == 303, replayed.text

    async def resolved() -> bool:
        return await stack.scalar("SELECT status FROM event_dead_letter WHERE event_id::text = :e", e=event_id) == (
            "resolved"
        )

    await eventually(resolved, 30, "the replayed dead letter applied and resolved")
    report = await stack.wait_for_invariants(30, expected_events=11)
    assert report.duplicate_effects == 0

    # Replaying it again sends the message again; the inbox skips it.
    async with httpx.AsyncClient(base_url=base, timeout=20) as api:
        again = await api.post(
            f"/api/v1/admin/events/dead-letters/{letter['id']}/replay",
            headers={"Authorization": f"Bearer {admin_secret}"},
        )
        assert again.status_code == 202, again.text

    async def consumed() -> bool:
        return stack.redis.queue_lengths("faultmodule") == (0, 0)

    await eventually(consumed, 30, "the second replay consumed")
    report = await stack.wait_for_invariants(10, expected_events=11)
    assert report.duplicate_effects == 0
    attempts_after: Any = (stack.markers / f"{event_id}.attempts").read_text().split()
    assert len(attempts_after) == 1 + MAX_RETRIES + 1  # the first replay ran the handler; the second was skipped
