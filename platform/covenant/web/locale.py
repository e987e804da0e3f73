"""Per-request locale: chosen once (see :mod:`covenant.i18n`), visible to templates, code and responses."""

from __future__ import annotations

from dataclasses import replace
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from covenant.accounts.services import save_locale_preference
from covenant.i18n import LOCALE_COOKIE, catalogues, choose_locale, reset_locale, set_locale, using_domain

ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:
            cookies = SimpleCookie()
        identity: Any = scope.get("identity")
        locale, switched = choose_locale(
            switch=next(iter(query.get("lang", [])), None),
            saved=getattr(identity, "locale", None),
            remembered=cookies[LOCALE_COOKIE].value if LOCALE_COOKIE in cookies else None,
            accept_language=headers.get("accept-language", ""),
        )
        scope["locale"] = locale  # type: ignore[typeddict-unknown-key]
        if switched and getattr(identity, "is_authenticated", False) and identity.locale != locale:
            # Saved before the handler opens its own transaction, so SQLite sees one writer at a time.
            await save_locale_preference(scope["app"].state.sessions, identity.user_id, locale)
            scope["identity"] = replace(identity, locale=locale)  # type: ignore[typeddict-unknown-key]
        token = set_locale(locale)

        async def send_with_locale(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-language", locale.encode())]
                if switched:
                    cookie = f"{LOCALE_COOKIE}={locale}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax; HttpOnly"
                    extra.append((b"set-cookie", cookie.encode()))
                message["headers"] = [*(message.get("headers") or []), *extra]
            await send(message)

        try:
            with using_domain(_owner(scope["path"])):
                await self.app(scope, receive, send_with_locale)
        finally:
            reset_locale(token)


def _owner(path: str) -> str | None:
    """The module whose pages (``/m/<slug>/``) or API (``/api/v1/<slug>/``) ``path`` belongs to."""
    parts = path.split("/", 4)
    if len(parts) > 2 and parts[1] == "m":
        slug = parts[2]
    elif len(parts) > 3 and parts[1:3] == ["api", "v1"]:
        slug = parts[3]
    else:
        return None
    return slug if slug in catalogues().domains else None
