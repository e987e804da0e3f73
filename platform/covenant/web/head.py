"""HEAD answered as GET without a body (RFC 9110 §9.3.2): load balancers and link checkers use it.

Litestar routes before its middleware runs, so this sits in front of the router, in the app itself.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send


class CovenantApp(Litestar):
    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend
    ) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "HEAD":
            await super().__call__(scope, receive, send)
            return
        send_any: Any = send

        async def send_headers_only(message: Any) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send_any(message)

        as_get: Any = {**scope, "method": "GET"}
        await super().__call__(as_get, receive, send_headers_only)
