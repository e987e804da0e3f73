"""PostgreSQL restarted while requests run: they fail cleanly (503 with Retry-After, never a 500), the app
reconnects by itself, and nothing half-written remains (every note has its event and the other way round)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.faults.stack import PrivatePostgres, Stack, eventually

pytestmark = pytest.mark.faults

DOWN_SECONDS = 3.0


@dataclass
class Outcome:
    at: float
    method: str
    status: int
    retry_after: str | None
    content_type: str
    body: str


async def test_postgres_restart_gives_503s_then_recovers_with_nothing_half_written(
    stack: Stack, private_postgres: PrivatePostgres
) -> None:
    stack.start_relay()
    stack.start_worker()
    base = await stack.start_web()
    outcomes: list[Outcome] = []
    created: list[str] = []
    stop = asyncio.Event()

    async def keep_requesting(client: httpx.AsyncClient, method: str) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if method == "POST":
                response = await client.post("/api/v1/faultmodule/notes", json={"label": f"note {n}"})
                if response.status_code == 201:
                    created.append(response.json()["id"])
            elif method == "PAGE":  # an HTML page reading the database
                response = await client.get("/", headers={"accept": "text/html"})
            else:
                response = await client.get("/api/v1/faultmodule/notes/count")
            outcomes.append(
                Outcome(
                    time.monotonic(),
                    method,
                    response.status_code,
                    response.headers.get("retry-after"),
                    response.headers.get("content-type", ""),
                    response.text[:500],
                )
            )
            await asyncio.sleep(0.01)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        load = [asyncio.create_task(keep_requesting(client, m)) for m in ("POST",) * 4 + ("GET", "PAGE")]
        await asyncio.sleep(2)
        await asyncio.to_thread(private_postgres.stop, "fast")
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(private_postgres.start)
        up_at = time.monotonic()

        async def recovered() -> bool:
            after = [o for o in outcomes if o.at > up_at + 0.5]
            return all(any(o.method == m and o.status in {200, 201} for o in after) for m in ("POST", "GET", "PAGE"))

        try:
            await eventually(recovered, 30, "requests succeed again after the restart")
            await asyncio.sleep(1)
        finally:
            stop.set()
            await asyncio.gather(*load)

    statuses = {o.status for o in outcomes}
    assert statuses <= {200, 201, 503}, [o for o in outcomes if o.status not in {200, 201, 503}][:3]
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "the restart was not felt: no request was refused"
    assert {"POST", "GET"} <= {o.method for o in refused}
    for outcome in refused:
        assert outcome.retry_after, outcome
        if outcome.method == "PAGE":
            assert outcome.content_type.startswith("text/html"), outcome
        else:
            assert outcome.content_type.startswith("application/problem+json"), outcome
            assert '"status":503' in outcome.body.replace(" ", ""), outcome

    # Nothing half-written: each answered note exists, and notes and their events go together.
    notes = await stack.scalar("SELECT count(*) FROM faultmodule_note")
    assert notes >= len(created)
    missing = await stack.scalar(
        "SELECT count(*) FROM unnest(CAST(:ids AS uuid[])) AS c(id) WHERE id NOT IN (SELECT id FROM faultmodule_note)",
        ids=created,
    )
    assert missing == 0
    orphans = await stack.scalar(
        "SELECT count(*) FROM faultmodule_note n FULL JOIN event_outbox o ON o.payload->>'note_id' = n.id::text "
        "WHERE n.id IS NULL OR o.id IS NULL"
    )
    assert orphans == 0
    # The relay and the worker reconnected too: everything is delivered once.
    report = await stack.wait_for_invariants(120, expected_events=notes)
    assert report.duplicate_effects == 0
