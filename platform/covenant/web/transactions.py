"""The request's transaction is committed before its response is sent.

advanced-alchemy's autocommit commits as the response starts, when the status can no longer change, and a
failed commit is only logged: the client is told "201 Created" about data that was never written (seen with
PostgreSQL restarting under load, ``make test-faults``). Here the commit runs right after the handler, while
the response can still be replaced, so a failed commit goes through the exception handlers like any other
error (a 503 with ``Retry-After`` when the database is away). The autocommit that follows finds nothing left
to commit and only closes the session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_SCOPE_KEY
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

_request_scope: ContextVar[Scope | None] = ContextVar("covenant_request_scope", default=None)

COMMIT_STATUSES = range(200, 400)
"""As the app's autocommit ("include redirects"): success and redirects commit, everything else rolls back."""


class RequestScopeMiddleware:
    """Makes the current request's ASGI scope reachable from :func:`commit_before_response`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _request_scope.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_scope.reset(token)


def commit_before_response(session_scope_key: str = SESSION_SCOPE_KEY) -> Callable[[Any], Awaitable[Any]]:
    """The ``after_request`` hook: commit the request's session (found under ``session_scope_key``, the
    advanced-alchemy config's) when the response is a success or a redirect."""

    async def commit(response: Any) -> Any:
        scope = _request_scope.get()
        if scope is None:
            return response
        session: AsyncSession | None = get_aa_scope_state(scope, session_scope_key)
        if session is not None and getattr(response, "status_code", 200) in COMMIT_STATUSES:
            await session.commit()
        return response

    return commit
