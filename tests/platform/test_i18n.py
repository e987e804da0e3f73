"""The interface in English, French, Spanish and Italian."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant import i18n
from covenant.errors import StartupError
from covenant.i18n import Catalogues, choose_locale, from_accept_language

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("en", "fr", "es", "it")
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
}


def owners() -> list[tuple[str, Path]]:
    found = [("covenant", ROOT / "platform" / "covenant")]
    found += [(m.name, m) for m in sorted((ROOT / "modules").iterdir()) if (m / "plugin.py").exists()]
    return found


def extracted(package: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every marked string: "Open" as a status and as a link are two entries."""
    ids = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(package), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        ids.add((context, message[0] if isinstance(message, tuple) else message))
    return ids


@pytest.mark.parametrize(("domain", "package"), owners(), ids=[d for d, _ in owners()])
@pytest.mark.parametrize("locale", LOCALES)
def test_shipped_catalogue_is_complete(domain: str, package: Path, locale: str) -> None:
    po = package / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"
    assert po.exists(), f"{po.relative_to(ROOT)} is missing: run make i18n"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, abort_invalid=True)
    in_catalog = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    missing = extracted(package) - in_catalog
    first = sorted(missing, key=str)[:5]
    assert not missing, f"{len(missing)} strings not in {po.name} ({locale}), run make i18n: {first}"
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert not untranslated, f"{len(untranslated)} untranslated in {locale}: {untranslated[:5]}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in {locale}: {fuzzy[:5]}"


JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
TAG = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.S | re.I)
TEXT_ATTRS = re.compile(r'\b(?:placeholder|title|alt|aria-label)="([^"{]*[A-Za-z][^"{]*)"')
ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


def templates() -> list[Path]:
    return sorted(p for _d, pkg in owners() for p in pkg.rglob("templates/**/*.html"))


def unmarked_text(source: str) -> list[str]:
    """Words a person would read that sit outside ``_()``: in text nodes or in text attributes."""
    attrs = TEXT_ATTRS.findall(source)
    text = ENTITY.sub(" ", TAG.sub(" ", JINJA.sub(" ", source)))
    # Macros that emit attribute fragments (name="value" outside a tag) carry no text a person reads.
    text = re.sub(r'[\w:-]+="[^"]*"', " ", text)
    return attrs + [w for w in re.findall(r"[^\W\d_][\w'\u2019-]*", text) if len(w) > 1 or w.isupper()]


def test_the_template_scanner_finds_unmarked_text() -> None:
    assert unmarked_text("<p>Hello {{ name }}</p>") == ["Hello"]
    assert unmarked_text('<input placeholder="Search cities">') == ["Search cities"]
    assert unmarked_text('<p>{{ _("Hello") }}</p><!-- a note --><script src="/x.js"></script>') == []
    assert unmarked_text('{% macro m() %} aria-invalid="true" hx-post="/v"{% endmacro %}') == []
    assert unmarked_text("{% if x %}{# comment #}<a href=\"/y\">{{ _('Go') }}</a>{% endif %} · 2026") == []


@pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_text_is_all_marked_for_translation(template: Path) -> None:
    leftovers = unmarked_text(template.read_text())
    assert not leftovers, f"text outside {{{{ _() }}}}: {' '.join(leftovers)[:200]}"


def test_accept_language_honours_quality_values() -> None:
    assert from_accept_language("de-DE,fr;q=0.8,en;q=0.5") == "fr"
    assert from_accept_language("it-IT") == "it"
    assert from_accept_language("es;q=0.1,en;q=0.9") == "en"
    assert from_accept_language("de,nl") is None
    assert from_accept_language("fr;q=bogus,,;") is None


def test_locale_order_saved_preference_then_switch_then_browser() -> None:
    assert choose_locale(switch="es", saved="fr", remembered="it", accept_language="en") == ("es", True)
    assert choose_locale(switch=None, saved="fr", remembered="it", accept_language="en") == ("fr", False)
    assert choose_locale(switch=None, saved=None, remembered="it", accept_language="fr") == ("it", False)
    assert choose_locale(switch="xx", saved=None, remembered=None, accept_language="zz") == ("en", False)


def test_money_numbers_and_dates_follow_the_locale() -> None:
    from datetime import date

    token = i18n.set_locale("fr")
    try:
        assert i18n.format_money(123456).replace("\u202f", " ").replace("\xa0", " ") == "1 234,56 €"
        assert i18n.format_date(date(2026, 3, 1), "long") == "1 mars 2026"
    finally:
        i18n.reset_locale(token)
    token = i18n.set_locale("en")
    try:
        assert i18n.format_money(123456) == "€1,234.56"
        assert i18n.format_number(1234567) == "1,234,567"
    finally:
        i18n.reset_locale(token)


@pytest.mark.parametrize(
    "source",
    [
        'msgid "Hello"\nnot a keyword\n',
        '#, python-format\nmsgid "Hello %(name)s"\nmsgstr "Bonjour %(nom)s"\n',
    ],
    ids=["syntax", "placeholders"],
)
def test_a_malformed_catalogue_stops_startup_not_a_page(tmp_path: Path, source: str) -> None:
    po = tmp_path / "fr" / "LC_MESSAGES" / "broken.po"
    po.parent.mkdir(parents=True)
    po.write_text(source)
    with pytest.raises(StartupError, match=r"broken\.po \(fr\) is malformed"):
        Catalogues([("broken", tmp_path)])


def _module_catalogue(tmp_path: Path, domain: str, entries: dict[str, str]) -> Path:
    po = tmp_path / "es" / "LC_MESSAGES" / f"{domain}.po"
    po.parent.mkdir(parents=True)
    po.write_text("".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items()))
    return tmp_path


def test_each_domain_keeps_its_own_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core says "Abierto" (a cycle), a module "Abierta" (a call): neither overwrites the other."""
    directory = _module_catalogue(tmp_path, "calls", {"Open": "Abierta", "Call for proposals": "Convocatoria"})
    monkeypatch.setattr(i18n, "_catalogues", Catalogues([("calls", directory)]))
    with i18n.using_locale("es"):
        assert i18n.gettext("Open") == "Abierto"
        assert i18n.gettext("Call for proposals") == "Convocatoria"  # the module's word, on any page
        with i18n.using_domain("calls"):
            assert i18n.gettext("Open") == "Abierta"
            assert i18n.gettext("Signatories") == "Firmantes"  # the core's word where the module has none
        with i18n.using_domain("unknown"):
            assert i18n.gettext("Open") == "Abierto"


def test_a_module_template_speaks_its_module_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jinja2 import DictLoader, Environment

    from covenant.web.templating import _in_template_domain

    directory = _module_catalogue(tmp_path, "calls", {"Open": "Abierta"})
    monkeypatch.setattr(i18n, "_catalogues", Catalogues([("calls", directory)]))
    env = Environment(
        loader=DictLoader(
            {
                "page.html": "{{ _('Open') }} {% include 'calls/_badge.html' %}",
                "calls/_badge.html": "{{ _('Open') }}",
            }
        ),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
    )
    slugs = frozenset({"calls"})
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _in_template_domain(i18n.gettext, slugs), _in_template_domain(i18n.ngettext, slugs), newstyle=True
    )
    with i18n.using_locale("es"):
        assert env.get_template("page.html").render() == "Abierto Abierta"


async def test_accept_language_french_gives_a_french_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in response.text
    assert response.headers["content-language"] == "fr"
    assert "Aller au contenu" in response.text


async def test_switcher_is_remembered_for_anonymous_visitors(client: AsyncTestClient[Litestar]) -> None:
    switched = await client.get("/?lang=it")
    assert '<html lang="it">' in switched.text
    assert "covenant_locale=it" in switched.headers["set-cookie"]
    again = await client.get("/", headers={"accept-language": "fr"})
    assert '<html lang="it">' in again.text


async def test_unknown_locale_falls_back_to_english(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/?lang=xx", headers={"accept-language": "zz-ZZ"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text


async def test_a_signed_in_users_switch_becomes_their_saved_preference(
    client: AsyncTestClient[Litestar], make_user: Any, sessions: Any
) -> None:
    from sqlalchemy import select

    from covenant.accounts.models import User
    from tests.fixtures.web import sign_in

    await make_user("maire@nice.example")
    assert (await sign_in(client, "maire@nice.example")).status_code == 303
    assert '<html lang="es">' in (await client.get("/?lang=es")).text
    async with sessions() as session:
        assert await session.scalar(select(User.locale).where(User.email == "maire@nice.example")) == "es"
    client.cookies.delete("covenant_locale")
    assert '<html lang="es">' in (await client.get("/", headers={"accept-language": "it"})).text


def test_validation_messages_are_in_the_readers_language() -> None:
    from pydantic import BaseModel, Field, ValidationError

    from covenant.web.validation import message_for

    class Pledge(BaseModel):
        title: str = Field(min_length=1)
        population: int = Field(gt=0)

    try:
        Pledge.model_validate({"title": "", "population": "0"})
    except ValidationError as exc:
        errors = exc.errors()
    token = i18n.set_locale("fr")
    try:
        assert [message_for(e) for e in errors] == ["Ce champ est obligatoire.", "Saisissez un nombre supérieur à 0."]
    finally:
        i18n.reset_locale(token)
    assert message_for(errors[1]) == "Enter a number greater than 0."


async def test_a_french_form_shows_french_field_messages(admin_client: AsyncTestClient[Litestar]) -> None:
    from tests.fixtures.web import csrf_headers

    admin_client.cookies.set("covenant_locale", "fr")
    await admin_client.get("/admin/cities/new")
    response = await admin_client.post(
        "/admin/cities/new",
        data={"authority_type": "region", "name": "Région test", "country_code": "FR", "population": "0"},
        headers=csrf_headers(admin_client),
    )
    assert response.status_code == 422
    assert "Saisissez un nombre supérieur à 0." in response.text


def test_pgettext_tells_the_status_open_from_the_link_open(monkeypatch: pytest.MonkeyPatch) -> None:
    from covenant.plugins import ModuleRegistry
    from covenant.web.templating import build_environment

    monkeypatch.setattr(i18n, "_catalogues", Catalogues((d, p / "locale") for d, p in owners()[1:]))
    template = build_environment(ModuleRegistry()).from_string(
        '{{ _("Open") }}|{{ pgettext("action", "Open") }}|{{ npgettext("action", "Open", "Open", 2) }}'
    )
    with i18n.using_locale("fr"):
        assert i18n.gettext("Open") == "Ouvert"  # the monitoring cycle's and the call's status
        assert i18n.pgettext("status", "Open") == "Ouvert"
        assert i18n.pgettext("action", "Open") == "Ouvrir"
        assert template.render() == "Ouvert|Ouvrir|Open"  # no plural entry: the source text
    with i18n.using_locale("es"):
        assert i18n.pgettext("action", "Open") == "Abrir"
    assert i18n.pgettext("action", "Open") == "Open"


async def test_a_mail_is_written_in_its_recipients_saved_language(make_user: Any, sessions: Any) -> None:
    from sqlalchemy import update

    from covenant.accounts.models import User

    await make_user("maire@nice.example")
    async with sessions() as session:
        await session.execute(update(User).where(User.email == "maire@nice.example").values(locale="fr"))
        await session.commit()
        locales = await i18n.recipient_locales(session, ["Maire@Nice.example", "nobody@nice.example", ""])
    assert locales == {"Maire@Nice.example": "fr", "nobody@nice.example": "en"}
    with i18n.using_locale(locales["Maire@Nice.example"]) as locale:
        assert (locale, i18n.current_locale()) == ("fr", "fr")
    with i18n.using_locale(None):
        assert i18n.current_locale() == "en"
