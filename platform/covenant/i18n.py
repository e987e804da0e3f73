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
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from covenant.errors import StartupError

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "fr", "es", "it")
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano"}
DEFAULT_LOCALE = "en"
CORE_DOMAIN = "covenant"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"
DISPLAY_TIMEZONE: tzinfo = ZoneInfo("Europe/Brussels")
LOCALE_COOKIE = "covenant_locale"

_current_locale: ContextVar[str] = ContextVar("covenant_locale", default=DEFAULT_LOCALE)


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


class Catalogues:
    """The merged translations (core + each module's domain) for every supported locale."""

    def __init__(self, sources: Iterable[tuple[str, Path]] = ()) -> None:
        self.sources: list[tuple[str, Path]] = [(CORE_DOMAIN, CORE_LOCALE_DIR), *sources]
        self._by_locale: dict[str, NullTranslations] = {}
        for locale in SUPPORTED_LOCALES:
            merged: Translations | None = None
            for domain, directory in self.sources:
                translations = _compile(directory / locale / "LC_MESSAGES" / f"{domain}.po", domain)
                if translations is None:
                    continue
                if merged is None:
                    merged = translations
                else:
                    merged.add(translations, merge=True)
                    merged.merge(translations)
            self._by_locale[locale] = merged if merged is not None else NullTranslations()

    def for_locale(self, locale: str) -> NullTranslations:
        return self._by_locale.get(locale) or self._by_locale[DEFAULT_LOCALE]


def _compile(path: Path, domain: str) -> Translations | None:
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
        buffer.seek(0)
    except Exception as exc:
        raise StartupError(
            f"translation catalogue {path.name} ({path.parent.parent.name}) is malformed: {exc}"
        ) from exc
    return Translations(fp=buffer, domain=domain)


_catalogues: Catalogues = Catalogues()


def install_catalogues(catalogues: Catalogues) -> None:
    """Use these catalogues from now on (the app installs the core's and its modules')."""
    global _catalogues
    _catalogues = catalogues


def gettext(message: str) -> str:
    return _catalogues.for_locale(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogues.for_locale(current_locale()).ngettext(singular, plural, n)


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
