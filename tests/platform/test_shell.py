from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_home_renders_the_shell(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "/static/htmx-2.0.11.min.js" in response.text
    assert "No action module is enabled" in response.text
