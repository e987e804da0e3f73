"""Per-request security: the identity behind the request, and the security headers of every response."""

from __future__ import annotations

import base64
import hashlib
import re
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
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"
# The OpenAPI viewers load their code from a CDN and carry inline blocks: their pages get a policy allowing
# that CDN and exactly those inline blocks (by hash) — still no 'unsafe-inline'.
DOCS_PREFIX = "/schema"
DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE = re.compile(rb"<(script|style)(\s[^>]*)?>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)


def docs_policy(html: bytes) -> str:
    """The policy of an OpenAPI viewer page: the CDN, plus the hashes of the page's own inline blocks."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for match in _INLINE.finditer(html):
        kind = match.group(1).decode().lower()
        attributes = (match.group(2) or b"").lower()
        if kind == "script" and b"src=" in attributes:
            continue
        digest = base64.b64encode(hashlib.sha256(match.group(3)).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return (
        f"default-src 'self'; script-src 'self' {DOCS_CDN} {' '.join(hashes['script'])}; "
        f"style-src 'self' {DOCS_CDN} {' '.join(hashes['style'])}; img-src 'self' data: {DOCS_CDN}; "
        f"font-src 'self' {DOCS_CDN}; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'; object-src 'none'"
    )


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


class SecurityHeaders:
    """Headers every answer carries — pages, files, API answers, errors, redirects and the answers Litestar
    gives before any route is found (404, 405) or the CSRF check refuses (403): a ``before_send`` hook of the
    app, so nothing goes out without them.

    HSTS is sent when the site is configured for HTTPS, or when the proxy in front says the request came
    over HTTPS (``X-Forwarded-Proto: https``; browsers ignore HSTS received over plain HTTP, so trusting the
    header costs nothing). Answers to a signed-in user are never stored by caches. A route that sets its own
    policy (a file served with ``default-src 'none'``) keeps it, with ``frame-ancestors 'none'`` added.
    """

    def __init__(self, settings: Settings) -> None:
        self.https = settings.https
        self.headers: dict[str, str] = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Permissions-Policy": PERMISSIONS_POLICY,
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in self.headers.items():
            if name not in headers:
                headers[name] = value
        policy = headers.get("Content-Security-Policy")
        if policy is None:
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        elif "frame-ancestors" not in policy:
            headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; frame-ancestors 'none'"
        if self.https or scope.get("scheme") == "https" or forwarded_https(scope):
            headers["Strict-Transport-Security"] = HSTS
        identity = scope.get("identity")
        if isinstance(identity, Identity) and identity.is_authenticated:
            headers["Cache-Control"] = "no-store"


def forwarded_https(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return bool(value.split(b",")[0].strip().lower() == b"https")
    return False


class DocsPolicyMiddleware:
    """The OpenAPI viewer pages get their own policy: the CDN they load from, plus the hashes of their inline
    blocks (their pages are small: buffered to hash them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith(DOCS_PREFIX):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                headers = MutableScopeHeaders.from_message(start)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = docs_policy(bytes(body))
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, collect)
