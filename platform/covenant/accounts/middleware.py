"""Per-request security: the identity behind the request, and the security headers of every response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from covenant.accounts import services
from covenant.accounts.identity import ANONYMOUS, Identity
from covenant.accounts.models import User
from covenant.accounts.permissions import permissions_by_role
from covenant.audit.services import client_ip
from covenant.config import Settings
from covenant.db import transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_HASH_KEY = "covenant.session_hash"
"""Scope key holding the digest of the request's session id, for sign-out and rotation at sign-in."""
AUTH_METHOD_KEY = "covenant.auth_method"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# The OpenAPI viewers load their scripts from a CDN and run inline code: they get no script policy.
DOCS_PREFIX = "/schema"


class IdentityMiddleware:
    """Puts the request's :class:`Identity` in ``scope["identity"]``: from an ``Authorization: Bearer``
    API token, else from the session cookie, checked against the database on every request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._permissions: dict[int, Mapping[str, frozenset[str]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        ip = connection.client.host if connection.client else None
        reset = client_ip.set(ip)
        try:
            state: dict[str, Any] = scope  # type: ignore[assignment]  # our keys are not in Litestar's TypedDict
            state["identity"] = await self._resolve(state, connection)
            await self.app(scope, receive, send)
        finally:
            client_ip.reset(reset)

    async def _resolve(self, scope: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
        app = scope["app"]
        sessions = app.state.sessions
        authorization = connection.headers.get("authorization", "")
        scheme, _sep, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            async with transaction(sessions) as session:
                user = await services.user_for_api_token(session, credentials.strip())
                identity = self._identity(app, user)
            scope[AUTH_METHOD_KEY] = "token"
            return identity
        signed = connection.cookies.get(services.SESSION_COOKIE)
        if not signed:
            return ANONYMOUS
        # The API is exempt from CSRF tokens, so a cookie must never authorise a change there: only a
        # Bearer token can. Reading with the cookie stays allowed (the browser may call GET /api/v1/me).
        if scope["path"].startswith("/api/") and scope["method"] not in SAFE_METHODS:
            return ANONYMOUS
        token = services.unsign(signed, self.settings.resolved_secret_key())
        if token is None:
            return ANONYMOUS
        token_hash = services.digest(token)
        async with transaction(sessions) as session:
            user = await services.user_for_session(session, token_hash)
            identity = self._identity(app, user)
        if identity.is_authenticated:
            scope[SESSION_HASH_KEY] = token_hash
            scope[AUTH_METHOD_KEY] = "session"
        return identity

    def _identity(self, app: Any, user: User | None) -> Identity:
        if user is None:
            return ANONYMOUS
        key = id(app)
        if key not in self._permissions:
            self._permissions[key] = permissions_by_role(app.state.registry.permissions())
        return services.identity_for(user, self._permissions[key])


class SecurityHeadersMiddleware:
    """Headers every response carries; HSTS only when the site is served over HTTPS."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers: dict[str, str] = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if settings.https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
                if not docs and "Content-Security-Policy" not in headers:
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)
