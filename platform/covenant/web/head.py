"""The app itself, in front of Litestar's router: HEAD answered as GET without a body (RFC 9110 §9.3.2:
load balancers and link checkers use it), and public pages answered from :mod:`covenant.web.public_cache`.

Litestar routes before its middleware runs, so both sit here rather than in a middleware.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

from covenant.web.public_cache import PublicCache


class CovenantApp(Litestar):
    @cached_property
    def public_cache(self) -> PublicCache:
        settings = self.state.get("settings")
        return PublicCache(getattr(settings, "public_cache_seconds", 0.0), self.csrf_config)

    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend
    ) -> None:
        method = scope.get("method") if scope["type"] == ScopeType.HTTP else None
        if method not in ("GET", "HEAD"):
            await super().__call__(scope, receive, send)
            return
        if method == "GET":
            await self.public_cache.serve(scope, receive, send, super().__call__)
            return
        send_any: Any = send

        async def send_headers_only(message: Any) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send_any(message)

        as_get: Any = {**scope, "method": "GET"}
        await self.public_cache.serve(as_get, receive, send_headers_only, super().__call__)
