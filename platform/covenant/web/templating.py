"""The Jinja environment: core templates, each module's templates in its namespace, i18n from the start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from covenant import i18n
from covenant.i18n import N_
from covenant.plugins import ModuleRegistry, NavigationEntry

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
HTMX_FILE = "htmx-2.0.11.min.js"

# The public pages of the core domain (signatories, convention) join this list as they land.
CORE_NAVIGATION: tuple[NavigationEntry, ...] = (
    NavigationEntry(N_("Signatories"), "/cities"),
    NavigationEntry(N_("Convention"), "/convention"),
    NavigationEntry(N_("Covenant in figures"), "/figures"),
)
ADMIN_NAVIGATION: tuple[NavigationEntry, ...] = (
    NavigationEntry(N_("Memberships"), "/admin/memberships", "admin"),
    NavigationEntry(N_("Monitoring"), "/admin/monitoring/", "admin"),
    NavigationEntry(N_("Users"), "/admin/users", "admin"),
    NavigationEntry(N_("Convention editions"), "/admin/convention", "admin"),
    NavigationEntry(N_("Events"), "/admin/events", "admin"),
    NavigationEntry(N_("Audit log"), "/admin/audit", "admin"),
    NavigationEntry(N_("Mailbox"), "/admin/mailbox", "admin"),
)


def _in_template_domain(translate: Callable[..., str], slugs: frozenset[str]) -> Callable[..., str]:
    @pass_context
    def in_domain(context: Context, *args: Any) -> str:
        owner = (context.name or "").partition("/")[0]
        if owner not in slugs:
            return translate(*args)
        with i18n.using_domain(owner):
            return translate(*args)

    return in_domain


def build_environment(registry: ModuleRegistry) -> Environment:
    loaders = [FileSystemLoader(TEMPLATE_DIR)]
    loaders += [FileSystemLoader(m.template_dir) for m in registry if m.template_dir is not None]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The callables read the request's locale at render time, so one environment serves every language;
    # a module's template (``<slug>/...``, also when included in a core page) speaks its module's words.
    slugs = frozenset(m.slug for m in registry)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        *(_in_template_domain(f, slugs) for f in (i18n.gettext, i18n.ngettext)),
        newstyle=True,
        pgettext=_in_template_domain(i18n.pgettext, slugs),
        npgettext=_in_template_domain(i18n.npgettext, slugs),
    )
    env.globals |= {
        "current_locale": i18n.current_locale,
        "language_names": i18n.LANGUAGE_NAMES,
        "supported_locales": i18n.SUPPORTED_LOCALES,
    }
    env.filters |= {
        "date": i18n.format_date,
        "datetime": i18n.format_datetime,
        "number": i18n.format_number,
        "percent": i18n.format_percent,
        "money": i18n.format_money,
        "localized": i18n.localized,
    }
    env.globals["htmx_file"] = HTMX_FILE
    env.globals["modules"] = list(registry)
    env.globals["navigation_for"] = _navigation_for(registry)
    return env


def _navigation_for(registry: ModuleRegistry) -> Any:
    module_entries = [entry for module in registry for entry in module.navigation]

    def navigation_for(identity: Any) -> dict[str, list[NavigationEntry]]:
        def visible(entry: NavigationEntry) -> bool:
            if entry.permission is None:
                return True
            if entry.permission == "admin":
                return bool(getattr(identity, "is_admin", False))
            return bool(identity is not None and identity.can(entry.permission))

        return {
            "core": [e for e in CORE_NAVIGATION if visible(e)],
            "modules": [e for e in module_entries if visible(e)],
            "admin": [e for e in ADMIN_NAVIGATION if visible(e)],
        }

    return navigation_for


def template_config(registry: ModuleRegistry) -> TemplateConfig[JinjaTemplateEngine]:
    env = build_environment(registry)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))
