from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_live_and_ready(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_metrics_are_prometheus_text(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/health/live")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "covenant_requests_total" in response.text


async def test_openapi_lists_the_json_routes(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "Covenant API"
    assert "/health/ready" in schema["paths"]
    assert "/" not in schema["paths"]


async def test_every_response_carries_a_request_id(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live", headers={"x-request-id": "abcdef0123456789"})
    assert response.headers["x-request-id"] == "abcdef0123456789"
    generated = await client.get("/health/live")
    assert len(generated.headers["x-request-id"]) == 36


async def test_head_is_answered_like_get_without_a_body(client: AsyncTestClient[Litestar]) -> None:
    response = await client.head("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.content == b""
