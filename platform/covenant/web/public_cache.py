"""Public pages for anonymous readers, answered from memory while nothing has been written.

Most of the Covenant's traffic is the public reading the same pages: the signatory list, city profiles, the
practice library and their JSON. A route opts in with ``opt={"public_cache": True}``. After an anonymous GET
rendered it, the answer is kept under the request's path, query, locale and htmx headers, and served again
without touching the database until

* anything is written through this process: every transaction that wrote moves a generation counter, once
  when it commits and once when its connection goes back to the pool, and an entry made under an older
  generation is never served (a reader that started before the commit was visible stored its answer under
  a generation that the second move retires); or
* ``COVENANT_PUBLIC_CACHE_SECONDS`` have passed (default 10; 0 turns the cache off): writes made by other
  processes (another web replica, a worker) show within that time.

Never cached: a request with a session, a flash message or an ``Authorization`` header, a language switch,
an answer other than 200, an answer that sets a cookie (the CSRF cookie aside, when the page does not carry
its token), bodies over :data:`MAX_BODY`.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import uuid_utils
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from covenant.accounts.middleware import forwarded_https
from covenant.accounts.services import SESSION_COOKIE
from covenant.i18n import LOCALE_COOKIE, choose_locale

MAX_ENTRIES = 2_000
MAX_BODY = 1024 * 1024
PRIVATE_COOKIES = (SESSION_COOKIE, "covenant_flash")
_SKIPPED_HEADERS = {b"set-cookie", b"x-request-id"}

LOOKUPS = Counter(
    "covenant_public_cache_lookups", "Anonymous GETs of cacheable pages, by outcome (hit, miss, stored).", ["outcome"]
)

# -- the write generation --------------------------------------------------------------------------------

_ticks = itertools.count(1)
_generation = 0
_WROTE = "covenant_wrote"
_READ_ONLY = ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA", "SHOW", "SET ", "EXPLAIN", "COMMIT")
_DATA_CHANGE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_listening = threading.Lock()
_installed = False


def generation() -> int:
    """The number of write transactions this process has seen (moves twice per transaction)."""
    return _generation


def _move() -> None:
    global _generation
    _generation = next(_ticks)


def writes(statement: str) -> bool:
    """Whether a statement may change data (a ``WITH`` is read for the verbs it carries)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith("WITH"):
        return _DATA_CHANGE.search(statement) is not None
    return not head.startswith(_READ_ONLY)


def _mark(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if writes(statement):
        conn.info[_WROTE] = True


def _on_commit(conn: Any) -> None:
    if conn.info.get(_WROTE):
        _move()


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None and record.info.pop(_WROTE, False):
        _move()


def watch_writes() -> None:
    """Listen to every engine and pool of this process (idempotent)."""
    global _installed
    with _listening:
        if _installed:
            return
        event.listen(Engine, "before_cursor_execute", _mark)
        event.listen(Engine, "commit", _on_commit)
        event.listen(Pool, "checkin", _on_checkin)
        _installed = True


# -- the cache -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    generation: int
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


Key = tuple[str, bytes, str, tuple[bytes, ...], bool]


def _headers(scope: Any) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers") or []}


def cache_key(scope: Any) -> Key | None:
    """The key an anonymous GET is cached under, or None when it must not be cached."""
    headers = _headers(scope)
    if b"authorization" in headers:
        return None
    query: bytes = scope.get("query_string") or b""
    if b"lang=" in query and "lang" in parse_qs(query.decode("latin-1")):
        return None  # a language switch sets a cookie
    remembered = None
    raw_cookie = headers.get(b"cookie")
    if raw_cookie:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(raw_cookie.decode("latin-1"))
        except Exception:
            return None
        if any(name in cookies for name in PRIVATE_COOKIES):
            return None
        remembered = cookies[LOCALE_COOKIE].value if LOCALE_COOKIE in cookies else None
    locale, _ = choose_locale(
        switch=None,
        saved=None,
        remembered=remembered,
        accept_language=headers.get(b"accept-language", b"").decode("latin-1"),
    )
    htmx = tuple(v for k, v in sorted(headers.items()) if k.startswith(b"hx-"))
    # HTTPS (directly or as a proxy says) adds Strict-Transport-Security: a different response.
    secure = scope.get("scheme") == "https" or forwarded_https(scope)
    return scope["path"], query, locale, htmx, secure


class PublicCache:
    """The entries of one process, least recently used first."""

    def __init__(
        self, seconds: float, csrf: CSRFConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.csrf = csrf
        self.csrf_cookie = f"{csrf.cookie_name}=".encode() if csrf is not None else None
        """How this app's CSRF cookie starts (``name=``) in a Cookie or Set-Cookie header."""
        self.clock = clock
        self._entries: OrderedDict[Key, Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != generation() or entry.expires <= self.clock():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    async def serve(self, scope: Any, receive: Any, send: Any, app: Callable[[Any, Any, Any], Awaitable[None]]) -> None:
        """Answer ``scope`` from the cache, or through ``app`` (storing the answer when it may be kept); straight
        through ``app`` when the cache is off."""
        key = cache_key(scope) if self.enabled else None
        if key is None:
            await app(scope, receive, send)
            return
        entry = self.get(key)
        if entry is not None:
            LOOKUPS.labels("hit").inc()
            await replay(entry, send, self._csrf_cookie(scope))
            return
        LOOKUPS.labels("miss").inc()
        started = generation()
        recorder = Recorder(send)
        await app(scope, receive, recorder.send)
        route = scope.get("route_handler")
        if route is not None and route.opt.get("public_cache") and recorder.keepable(self.csrf_cookie):
            headers = [(k, v) for k, v in recorder.headers if k.lower() not in _SKIPPED_HEADERS]
            self.put(key, Entry(started, self.clock() + self.seconds, recorder.status, headers, bytes(recorder.body)))
            LOOKUPS.labels("stored").inc()

    def _csrf_cookie(self, scope: Any) -> bytes | None:
        """A new visitor gets their CSRF cookie from a stored page as from a rendered one."""
        if self.csrf is None or self.csrf_cookie is None or self.csrf_cookie in (_headers(scope).get(b"cookie") or b""):
            return None
        config = self.csrf
        cookie = Cookie(
            key=config.cookie_name,
            value=generate_csrf_token(config.secret),
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        )
        return cookie.to_header(header="").encode("latin-1")


async def replay(entry: Entry, send: Any, csrf_cookie: bytes | None = None) -> None:
    headers = [*entry.headers, (b"x-request-id", str(uuid_utils.uuid7()).encode())]
    if csrf_cookie is not None:
        headers.append((b"set-cookie", csrf_cookie))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body, "more_body": False})


class Recorder:
    """Passes an answer through while keeping a copy of it."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.overflow = False

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers") or [])
        elif message["type"] == "http.response.body" and not self.overflow:
            self.body += message.get("body", b"")
            if len(self.body) > MAX_BODY:
                self.overflow, self.body = True, bytearray()
        await self._send(message)

    def keepable(self, csrf_cookie: bytes | None) -> bool:
        """Whether the answer is the same for every anonymous reader: a 200 that sets no cookie but, perhaps,
        a CSRF cookie (``csrf_cookie`` is how it starts) whose token the body does not carry."""
        if self.status != 200 or self.overflow:
            return False
        for name, value in self.headers:
            if name.lower() != b"set-cookie":
                continue
            if csrf_cookie is None or not value.startswith(csrf_cookie):
                return False
            token = value[len(csrf_cookie) :].partition(b";")[0]
            if token and token in self.body:
                return False  # the page carries this visitor's CSRF token: it is theirs alone
        return True
