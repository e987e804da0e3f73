"""Extract the user-facing strings of the core and of each module into their own catalogues and update
the shipped locales (``make i18n``). Each package owns its strings: the core's domain is ``covenant``,
a module's domain is its slug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("en", "fr", "es", "it")
# pgettext/npgettext carry a context first: "Open" as a status and "Open" as a link are two messages.
KEYWORDS = ["-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-k", "pgettext:1c,2", "-k", "npgettext:1c,2,3"]
KEYWORDS += ["-k", "N_"]


def packages() -> list[tuple[str, Path]]:
    found = [("covenant", ROOT / "platform" / "covenant")]
    for module in sorted((ROOT / "modules").iterdir()):
        if (module / "plugin.py").exists():
            found.append((module.name, module))
    return found


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)  # noqa: S603 - our own arguments


def main() -> None:
    for domain, package in packages():
        locale_dir = package / "locale"
        locale_dir.mkdir(exist_ok=True)
        pot = locale_dir / f"{domain}.pot"
        pybabel(
            "extract",
            "-F",
            "babel.cfg",
            *KEYWORDS,
            "--no-location",
            "--sort-output",
            "--project",
            "Covenant",
            "-o",
            str(pot),
            str(package),
        )
        for locale in LOCALES:
            po = locale_dir / locale / "LC_MESSAGES" / f"{domain}.po"
            if po.exists():
                pybabel(
                    "update", "-i", str(pot), "-o", str(po), "-l", locale, "--no-fuzzy-matching", "--ignore-obsolete"
                )
            else:
                pybabel("init", "-i", str(pot), "-o", str(po), "-l", locale, "-D", domain)
        fill_english(locale_dir / "en" / "LC_MESSAGES" / f"{domain}.po")


def fill_english(po: Path) -> None:
    """The source strings are English: the English catalogue translates each one to itself."""
    from babel.messages.pofile import read_po, write_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(message.id)
        else:
            message.string = message.id
        message.flags.discard("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, width=100)


if __name__ == "__main__":
    main()
