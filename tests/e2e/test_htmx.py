"""htmx in the browser — live filters on the signatory list, inline validation of the commitment form, partial
saves of a progress update and of a team invitation — and the very same forms in a browser with JavaScript
turned off, where each works by plain page loads."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import labelled, sign_in

pytestmark = pytest.mark.e2e

CITY = "Mechelen"
RUN = time.time_ns() % 10**6


def mark_document(page: Page) -> None:
    """A mark on the current document: it survives htmx swaps, not a page load."""
    page.evaluate("() => { window.__sameDocument = true; }")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameDocument === true"))


def press(page: Page, button: str, *, javascript: bool) -> None:
    """With htmx the button posts in the background and the page stays; without JavaScript it loads a page
    (page scripts, ours included, cannot run there: the check is the navigation itself)."""
    if javascript:
        mark_document(page)
        page.get_by_role("button", name=button).click()
    else:
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()


def stayed(page: Page, *, javascript: bool) -> None:
    if javascript:
        assert same_document(page), "the page was reloaded: htmx did not make this a partial save"


def city_id(page: Page) -> str:
    page.goto("/cities?q=" + CITY)
    page.locator("main table").get_by_role("link", name=CITY, exact=True).click()
    return page.url.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_signatory_list_filters(browsing: object, javascript: bool) -> None:
    page = browsing.person("visitor", javascript=javascript)  # type: ignore[attr-defined]
    page.goto("/cities")
    results = page.locator("#signatory-results")
    expect(results.get_by_role("link", name="Madrid")).to_be_visible()
    if javascript:
        mark_document(page)
    page.get_by_label("Search by name").fill("Mech")
    if javascript:
        # No button pressed: the list narrows as one types, and the address follows (shareable, Back works).
        expect(results.get_by_role("link", name="Madrid")).to_have_count(0)
        expect(results.get_by_role("link", name=CITY)).to_be_visible()
        expect(page).to_have_url(re.compile(r"[?&]q=Mech"))
        expect(page.locator("#results-count")).to_have_text(re.compile(r"^1 result"))
        assert same_document(page), "the live filter reloaded the page"
        page.get_by_label("Country").select_option(label="Spain")
        expect(results.get_by_role("link")).to_have_count(0)
        expect(results).to_contain_text("No signatory matches")
        assert same_document(page)
    else:
        with page.expect_navigation():
            page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"[?&]q=Mech"))
        expect(results.get_by_role("link", name="Madrid")).to_have_count(0)
        expect(results.get_by_role("link", name=CITY)).to_be_visible()
    if javascript:  # axe runs in the page: the same page without JavaScript is the one checked elsewhere
        browsing.axe.check(page, "signatories filtered (htmx)")  # type: ignore[attr-defined]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_commitment_form_validation(browsing: object, site: object, javascript: bool) -> None:
    page = browsing.person("admin", javascript=javascript)  # type: ignore[attr-defined]
    sign_in(page, site.admin_email, site.admin_password)  # type: ignore[attr-defined]
    page.goto(f"/cities/{city_id(page)}/commitments/new")
    title = labelled(page, "Title")
    if javascript:
        mark_document(page)
        title.fill("ab")
        title.press("Tab")  # leaving the field asks the server; only this field's message appears
        expect(title).to_have_attribute("aria-invalid", "true")
        message = page.locator("#error-title")
        expect(message).to_contain_text(re.compile("3"))
        expect(title).to_have_attribute("aria-describedby", "error-title")
        expect(page.locator("#error-start_date")).to_have_count(0)  # untouched fields stay quiet
        title.fill("Benches and light on the Vismarkt quay")
        title.press("Tab")
        expect(page.locator("#error-title")).to_have_count(0)
        expect(labelled(page, "Title")).not_to_have_attribute("aria-invalid", "true")
        assert same_document(page), "inline validation reloaded the page"
    else:
        title.fill("ab")
        press(page, "Save", javascript=False)
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("There is a problem")
        title = labelled(page, "Title")
        expect(title).to_have_attribute("aria-invalid", "true")
        expect(title).to_have_attribute("aria-describedby", "error-title")
        summary.get_by_role("link").filter(has_text="3").first.click()  # the summary links to the field
        expect(title).to_be_focused()
        title.fill(f"Benches and light on the Vismarkt quay ({RUN})")
    page.get_by_label("Priority").select_option(index=1)
    labelled(page, "Start date").fill(date.today().isoformat())
    labelled(page, "Due date").fill(date.today().replace(year=date.today().year + 1).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="The draft commitment is saved")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_partial_saves(browsing: object, site: object, javascript: bool) -> None:
    page = browsing.person("admin", javascript=javascript)  # type: ignore[attr-defined]
    sign_in(page, site.admin_email, site.admin_password)  # type: ignore[attr-defined]
    city = city_id(page)

    # A progress update of a published commitment.
    page.goto(f"/cities/{city}/commitments")
    page.get_by_role("link", name="Add a progress update").first.click()
    labelled(page, "Date").fill(date.today().isoformat())
    labelled(page, "Progress in percent").fill("140")  # out of range: the message comes back in place
    press(page, "Add to the timeline", javascript=javascript)
    expect(labelled(page, "Progress in percent")).to_have_attribute("aria-invalid", "true")
    stayed(page, javascript=javascript)
    labelled(page, "Progress in percent").fill("60")
    narrative = f"Half of the benches are in place ({RUN})."
    page.get_by_label("What was done").fill(narrative)
    press(page, "Add to the timeline", javascript=javascript)
    expect(page.get_by_role("status").filter(has_text="The progress update is added")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(narrative)
    expect(labelled(page, "What was done")).to_have_value("")
    stayed(page, javascript=javascript)

    # An invitation to the team.
    page.goto(f"/cities/{city}/team")
    email = f"{'htmx' if javascript else 'plain'}-{RUN}@mechelen.example.be"
    page.get_by_label("E-mail address").fill(email)
    press(page, "Send the invitation", javascript=javascript)
    expect(page.get_by_role("status").filter(has_text=f"{email} is invited")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(email)
    stayed(page, javascript=javascript)
