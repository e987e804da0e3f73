"""Bad input gets a clear 4xx (RFC 9457 problem details on the API), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from pydantic import BaseModel, Field

from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ActionModule, ModuleRegistry


class Pledge(BaseModel):
    title: str = Field(min_length=3, max_length=100)
    budget_cents: int = Field(ge=0)


@post("/pledges", name="probe:pledge")
async def create_pledge(data: Pledge) -> Pledge:
    return data


PROBE = ActionModule(slug="probe", title="Probe", action=8, summary="", api_route_handlers=[create_pledge])


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    app = create_app(small, ModuleRegistry([PROBE]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_valid_json_is_accepted(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.post("/api/v1/probe/pledges", json={"title": "Lights", "budget_cents": 100})
    assert response.status_code == 201
    assert response.json()["title"] == "Lights"


async def test_malformed_json_is_a_400_problem(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.post(
        "/api/v1/probe/pledges", content=b'{"title": "Li', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"


async def test_wrong_types_are_a_422_with_field_messages(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.post("/api/v1/probe/pledges", json={"title": "x", "budget_cents": "lots"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert any("title" in f for f in fields)
    assert any("budget_cents" in f for f in fields)


async def test_oversize_body_is_a_413_problem(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.post("/api/v1/probe/pledges", json={"title": "x" * 10_000, "budget_cents": 1})
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_unknown_api_route_is_a_404_problem(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_page_is_an_html_404_in_the_site_look(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.get("/nothing-here", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Back to the home page" in response.text
    assert "site-header" in response.text


async def test_wrong_method_is_a_405(probe_client: AsyncTestClient[Litestar]) -> None:
    response = await probe_client.get("/api/v1/probe/pledges")
    assert response.status_code == 405


async def test_an_unreachable_database_answers_503_with_a_retry_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    unreachable = Settings(
        var_dir=tmp_path, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key="x" * 40, modules=[]
    )
    app = create_app(unreachable, ModuleRegistry([]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["checks"]["database"].startswith("unreachable")
