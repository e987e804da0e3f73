"""What the journeys share: the served site, axe-core checks with a summary of every page checked,
keyboard helpers that watch the focus, and the few steps every journey takes (signing in, reading a mail)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("COVENANT_E2E_ARTEFACTS", ROOT / "var" / "e2e-artifacts"))
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
PASSWORD = "a long e2e passphrase 2024"

# A one-page PDF (the letter of commitment): the platform checks the magic bytes and the end marker.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Site:
    base_url: str
    admin_email: str
    admin_password: str
    var_dir: Path


# -- axe-core ----------------------------------------------------------------------------------------

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


AMBIGUOUS_LABELS = """() => [...new Set([...document.querySelectorAll("label[for]")].map(l => l.htmlFor)
  .filter(id => document.querySelectorAll("#" + CSS.escape(id)).length > 1))]"""


@dataclass
class PageCheck:
    label: str
    path: str
    violations: list[dict[str, Any]]

    def by_impact(self, *impacts: str) -> list[dict[str, Any]]:
        return [v for v in self.violations if v["impact"] in impacts]


@dataclass
class AxeRecorder:
    """Every page axe looked at, and what it found (the blocking findings fail the test on the spot)."""

    checks: list[PageCheck] = field(default_factory=list)

    def check(self, page: Page, label: str) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(AXE_SOURCE)
        violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_TAGS)
        # axe no longer reports duplicate ids (WCAG 2.2 dropped 4.1.1), but a label whose ``for`` names an id
        # used twice labels the first control only: the second one has no name.
        ambiguous = page.evaluate(AMBIGUOUS_LABELS)
        if ambiguous:
            violations.append(
                {
                    "id": "label-for-duplicate-id",
                    "impact": "critical",
                    "help": "A label's for= names an id that several controls carry",
                    "nodes": [{"target": f"#{i}", "summary": "duplicate id"} for i in ambiguous],
                }
            )
        path = re.sub(r"^https?://[^/]+", "", page.url)
        check = PageCheck(label, path, violations)
        self.checks.append(check)
        blocking = check.by_impact(*BLOCKING)
        assert not blocking, f"axe: {label} ({path}) has serious or critical WCAG 2.1 A/AA violations:\n" + "\n".join(
            f"  [{v['impact']}] {v['id']}: {v['help']}\n"
            + "\n".join(f"      {n['target']}: {n['summary'][:300]}" for n in v["nodes"][:5])
            for v in blocking
        )

    def write(self, path: Path) -> None:
        if not self.checks:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "# axe-core results of the e2e journeys",
            "",
            f"Rules: axe-core tags {', '.join(WCAG_TAGS)}. A serious or critical violation fails the test.",
            "",
            "| page | path | critical | serious | moderate | minor | rules |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in self.checks:
            counts = [len(c.by_impact(i)) for i in ("critical", "serious", "moderate", "minor")]
            rules = ", ".join(sorted({v["id"] for v in c.violations})) or "-"
            lines.append(f"| {c.label} | `{c.path}` | {' | '.join(map(str, counts))} | {rules} |")
        lines += ["", f"{len(self.checks)} page checks, {len({c.label for c in self.checks})} distinct pages."]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the keyboard --------------------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const label = el.getAttribute("aria-label")
    || (el.labels && el.labels.length ? el.labels[0].textContent : "")
    || (el.tagName === "INPUT" ? (el.value || el.name) : el.textContent) || "";
  return {
    tag: el.tagName.toLowerCase(), type: el.getAttribute("type") || "", name: el.getAttribute("name") || "",
    id: el.id, href: el.getAttribute("href") || "", label: label.replace(/\\s+/g, " ").trim(),
    focusVisible: el.matches(":focus-visible"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(FOCUSED)
    return result


def tab_to(
    page: Page, matches: Callable[[dict[str, Any]], bool], *, limit: int = 120, back: bool = False
) -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until the focused element matches, checking at every stop that the focus
    is visible (an outline or a ring drawn by the stylesheet, and ``:focus-visible`` holds)."""

    def describe(element: dict[str, Any]) -> str:
        return f"{element['tag']}[{element['name'] or element['href'] or element['label'][:30]}]"

    start = focused(page)
    seen: list[str] = [describe(start)] if start else []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        element = focused(page)
        if element is None:
            continue
        stop = describe(element)
        # A date field's own parts (day, month, year, the calendar button) are stops inside one element.
        inner = bool(seen) and seen[-1] == stop and element["type"] in ("date", "time", "datetime-local")
        seen.append(stop)
        if not inner:
            assert element["focusVisible"], f"{stop} has the focus but not :focus-visible"
            assert element["outline"] or element["shadow"], f"the focus on {stop} is not visible"
        if matches(element):
            return element
    raise AssertionError(f"no focusable element matched after {limit} presses of Tab: {' → '.join(seen[-25:])}")


def by_label(text: str) -> Callable[[dict[str, Any]], bool]:
    wanted = text.lower()
    return lambda e: wanted in e["label"].lower()


def by_name(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["name"] == name


def by_href(pattern: str) -> Callable[[dict[str, Any]], bool]:
    regex = re.compile(pattern)
    return lambda e: bool(e["href"]) and bool(regex.search(e["href"]))


def by_role(tag: str, label: str) -> Callable[[dict[str, Any]], bool]:
    wanted = label.lower()
    return lambda e: e["tag"] == tag and e["label"].lower().startswith(wanted)


def key_type(page: Page, name: str, text: str) -> None:
    """Tab to the field named ``name`` and type into it (keys only)."""
    tab_to(page, by_name(name))
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def key_date(page: Page, name: str, day: date) -> None:
    """Tab to a date field and type the date into its parts (Debian's chromium orders them month, day, year
    whatever the page's locale)."""
    tab_to(page, by_name(name))
    page.keyboard.type(f"{day.month:02d}{day.day:02d}{day.year}")


def key_press(
    page: Page, matches: Callable[[dict[str, Any]], bool], key: str = "Enter", *, back: bool = False, loads: bool = True
) -> None:
    """Tab to an element and press ``key`` on it; ``loads``: it opens another page (a link, a form's button),
    whose arrival is awaited before the next key."""
    tab_to(page, matches, back=back)
    if loads:
        with page.expect_navigation():
            page.keyboard.press(key)
    else:
        page.keyboard.press(key)


# -- steps every journey takes ------------------------------------------------------------------------


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status").filter(has_text="You are signed in.")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def mail_link(admin: Page, to: str, subject: str, pattern: str, *, timeout: float = 20) -> str:
    """The admin opens the platform's mailbox and reads the newest mail to ``to`` whose subject contains
    ``subject``; returns the first link in it matching ``pattern`` (a path of this site)."""
    deadline = time.monotonic() + timeout
    while True:
        admin.goto("/admin/mailbox")
        row = admin.get_by_role("row").filter(has_text=to).filter(has_text=subject)
        if row.count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    row.first.get_by_role("link").click()
    body = admin.get_by_role("main").inner_text()
    found = re.search(r"https?://[^\s/]+(" + pattern + r")", body)
    assert found, f"no link matching {pattern} in the mail to {to}:\n{body}"
    return found.group(1)


def labelled(scope: Page | Locator, label: str) -> Locator:
    """The control whose label is exactly ``label`` (a required field's label ends with a hidden asterisk)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def choose_password(page: Page, reset_path: str, password: str = PASSWORD) -> None:
    page.goto(reset_path)
    labelled(page, "New password").fill(password)
    labelled(page, "New password again").fill(password)
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()


def eventually(check: Callable[[], bool], *, timeout: float = 20, every: float = 0.5, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(every)
