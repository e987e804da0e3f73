"""Translation of the interface (gettext catalogues via Babel) and locale-aware formatting.

The locale of a request is chosen, in order, by: a ``?lang=`` switch (remembered in a cookie for
anonymous visitors and saved as the user's preference when signed in), the user's saved preference, the
remembered switch, the browser's ``Accept-Language``, English. An unknown locale falls back to English.

Catalogues live beside the code that owns the strings: ``covenant/locale/<lang>/LC_MESSAGES/covenant.po``
for the core, ``<module>/locale/<lang>/LC_MESSAGES/<slug>.po`` for each module. They are compiled in
memory at start-up, so there is no build step; a malformed catalogue stops start-up, never a page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from covenant.errors import StartupError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "fr", "es", "it")
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano"}
DEFAULT_LOCALE = "en"
CORE_DOMAIN = "covenant"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"
DISPLAY_TIMEZONE: tzinfo = ZoneInfo("Europe/Brussels")
LOCALE_COOKIE = "covenant_locale"

_current_locale: ContextVar[str] = ContextVar("covenant_locale", default=DEFAULT_LOCALE)
_current_domain: ContextVar[str] = ContextVar("covenant_domain", default=CORE_DOMAIN)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it now (module-level constants)."""
    return message


def normalise(locale: str | None) -> str | None:
    """``fr-BE`` → ``fr``; None for anything that is not one of the supported locales."""
    if not locale:
        return None
    language = locale.strip().replace("_", "-").split("-")[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def from_accept_language(header: str) -> str | None:
    """The best supported locale for an ``Accept-Language`` header, honouring q-values."""
    weighted: list[tuple[float, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((quality - position * 1e-6, tag))
    preferred = [tag for _, tag in sorted(weighted, reverse=True)]
    chosen = negotiate_locale(preferred, list(SUPPORTED_LOCALES), sep="-") if preferred else None
    return normalise(chosen) or next((n for n in map(normalise, preferred) if n), None)


def current_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> Any:
    """Make ``locale`` current for this task; returns a token for :func:`reset_locale`."""
    return _current_locale.set(normalise(locale) or DEFAULT_LOCALE)


def reset_locale(token: Any) -> None:
    _current_locale.reset(token)


@contextmanager
def using_domain(domain: str | None) -> Iterator[str]:
    """Translate with ``domain``'s catalogue first inside the block: a module's page, template or event
    handler says "Open" in its own words even where the core (or another module) translates the same
    English word differently. Strings the domain does not translate come from the core, then the others."""
    token = _current_domain.set(domain or CORE_DOMAIN)
    try:
        yield _current_domain.get()
    finally:
        _current_domain.reset(token)


@contextmanager
def using_locale(locale: str | None) -> Iterator[str]:
    """Translate in ``locale`` inside the block (a mail built for its recipient, not for the request's
    reader); English when ``locale`` is None or unknown. Yields the locale in use."""
    token = set_locale(locale or DEFAULT_LOCALE)
    try:
        yield current_locale()
    finally:
        reset_locale(token)


async def recipient_locales(session: AsyncSession, addresses: Iterable[str]) -> dict[str, str]:
    """The language to write to each address in: the saved preference of the account with that address,
    English for an address without an account or without a preference. Keys are the addresses as given."""
    from sqlalchemy import func, select

    from covenant.accounts.models import User  # imported here: the accounts package uses this module

    wanted = {address: address.strip().lower() for address in addresses if address}
    saved: dict[str, str] = {}
    if wanted:
        rows = await session.execute(
            select(User.email, User.locale).where(func.lower(User.email).in_(set(wanted.values())))
        )
        saved = {email.lower(): locale for email, locale in rows.all() if locale}
    return {address: normalise(saved.get(email)) or DEFAULT_LOCALE for address, email in wanted.items()}


async def recipient_locale(session: AsyncSession, address: str) -> str:
    """:func:`recipient_locales` for one address."""
    return (await recipient_locales(session, [address])).get(address, DEFAULT_LOCALE)


class Catalogues:
    """The translations of the core and of each module's domain, for every supported locale.

    Each domain keeps its own words: a lookup tries the current domain (:func:`using_domain`) first, then
    the core, then the other modules. The same English word may so be translated differently by two
    owners ("Open" is *Abierto* for a cycle, *Abierta* for a funding call) without one overwriting the
    other in a merged catalogue."""

    def __init__(self, sources: Iterable[tuple[str, Path]] = ()) -> None:
        self.sources: list[tuple[str, Path]] = [(CORE_DOMAIN, CORE_LOCALE_DIR), *sources]
        self.domains: frozenset[str] = frozenset(domain for domain, _ in self.sources)
        self._by_locale: dict[str, NullTranslations] = {}
        self._by_domain: dict[tuple[str, str], NullTranslations] = {}
        for locale in SUPPORTED_LOCALES:
            compiled = {
                domain: mo
                for domain, directory in self.sources
                if (mo := _compile(directory / locale / "LC_MESSAGES" / f"{domain}.po", domain)) is not None
            }
            # The core last, so that it wins over the modules wherever no domain is current.
            ordered = sorted(compiled, key=lambda domain: domain == CORE_DOMAIN)
            merged: Translations | None = None
            for domain in ordered:
                translations = Translations(fp=io.BytesIO(compiled[domain]), domain=domain)
                if merged is None:
                    merged = translations
                else:
                    merged.merge(translations)
            everything: NullTranslations = merged if merged is not None else NullTranslations()
            self._by_locale[locale] = everything
            for domain, mo in compiled.items():
                own = Translations(fp=io.BytesIO(mo), domain=domain)
                own.add_fallback(everything)
                self._by_domain[(locale, domain)] = own

    def for_locale(self, locale: str, domain: str | None = None) -> NullTranslations:
        if domain is not None and (own := self._by_domain.get((locale, domain))) is not None:
            return own
        return self._by_locale.get(locale) or self._by_locale[DEFAULT_LOCALE]


def _compile(path: Path, domain: str) -> bytes | None:
    """The catalogue at ``path`` compiled to .mo bytes; None when there is none."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, domain=domain, abort_invalid=True)
        # A translation whose placeholders differ from the source would fail at render time: refuse it now.
        problems = [f"{message.id!r}: {errors[0]}" for message, errors in catalog.check() if errors]
        if problems:
            raise ValueError("; ".join(problems[:3]))
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
    except Exception as exc:
        raise StartupError(
            f"translation catalogue {path.name} ({path.parent.parent.name}) is malformed: {exc}"
        ) from exc
    return buffer.getvalue()


_catalogues: Catalogues = Catalogues()


def install_catalogues(catalogues: Catalogues) -> None:
    """Use these catalogues from now on (the app installs the core's and its modules')."""
    global _catalogues
    _catalogues = catalogues


def catalogues() -> Catalogues:
    return _catalogues


def _translations() -> NullTranslations:
    return _catalogues.for_locale(current_locale(), _current_domain.get())


def gettext(message: str) -> str:
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as meant in ``context``: the same English word may need two translations ("Open" as a
    status is *Ouvert*, as a link *Ouvrir*)."""
    return str(_translations().pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _translations().npgettext(context, singular, plural, n)


_ = gettext


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_date(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002 - Babel's name
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(DISPLAY_TIMEZONE).date() if value.tzinfo else value.date()
    return babel_dates.format_date(value, format=format, locale=_babel_locale(current_locale()))


def format_datetime(value: datetime | None, format: str = "medium") -> str:  # noqa: A002
    if value is None:
        return ""
    return babel_dates.format_datetime(
        value, format=format, tzinfo=DISPLAY_TIMEZONE, locale=_babel_locale(current_locale())
    )


def format_number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=_babel_locale(current_locale()))
    return babel_numbers.format_decimal(value, locale=_babel_locale(current_locale()))


def format_percent(value: float | None, decimals: int = 0) -> str:
    """``value`` is a fraction (0.25 → 25 %)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    return babel_numbers.format_percent(value, format=pattern, locale=_babel_locale(current_locale()))


def format_money(cents: int | None, currency: str = "EUR") -> str:
    """Money is stored as integer euro cents."""
    if cents is None:
        return ""
    return babel_numbers.format_currency(Decimal(cents) / 100, currency, locale=_babel_locale(current_locale()))


def choose_locale(
    *, switch: str | None, saved: str | None, remembered: str | None, accept_language: str
) -> tuple[str, bool]:
    """The request's locale and whether the visitor just switched to it (so it should be remembered)."""
    if switched := normalise(switch):
        return switched, True
    for candidate in (saved, remembered):
        if chosen := normalise(candidate):
            return chosen, False
    return from_accept_language(accept_language) or DEFAULT_LOCALE, False


def localized(value: Mapping[str, str] | str | None, locale: str | None = None) -> str:
    """Reference content stored per language (``{"en": ..., "fr": ...}``), shown in the reader's language
    where a translation exists, English otherwise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    wanted = locale or current_locale()
    return value.get(wanted) or value.get(DEFAULT_LOCALE) or next(iter(value.values()), "")
