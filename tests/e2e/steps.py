"""Steps the assessment and monitoring journeys share: finding a signatory, bringing a city's contributor in
(invited by the secretariat, password chosen through the mailed link), answering the self-assessment survey
field by field as htmx saves it, and submitting it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.support import PASSWORD, choose_password, labelled, mail_link, sign_in


def flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text).first).to_be_visible()


def city_id_of(page: Page, name: str) -> str:
    """The id of a signatory, found as a visitor finds it: the signatories' search, then its profile."""
    page.goto("/cities")
    page.get_by_label("Search by name").fill(name)
    page.get_by_role("button", name="Filter").click()
    page.locator("#signatory-results").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def bring_in_contributor(browsing: object, admin: Page, city_id: str, email: str, name: str, modules: str) -> Page:
    """The secretariat invites a contributor to the city's team (limited to ``modules``, all when empty); the
    contributor chooses a password through the mailed link and signs in in a browser of their own."""
    admin.goto(f"/cities/{city_id}/team")
    admin.get_by_label("E-mail address").fill(email)
    labelled(admin, "Name").fill(name)
    admin.get_by_label("Role").select_option(label="Contributor")
    admin.get_by_label("Limit to modules").fill(modules)
    admin.get_by_role("button", name="Send the invitation").click()
    flash(admin, f"{email} is invited")
    reset = mail_link(admin, email, "password", r"/password/reset/\S+")
    person: Page = browsing.person(email.split("@", 1)[0])  # type: ignore[attr-defined]
    choose_password(person, reset)
    sign_in(person, email, PASSWORD)
    return person


def open_survey(page: Page, city_id: str, year: int) -> None:
    """The city's survey of the year, a draft (reopened if a kept server already has it submitted)."""
    if not page.url.endswith(f"/m/assessment/cities/{city_id}/years/{year}"):
        page.goto(f"/m/assessment/cities/{city_id}/years/{year}")
    reopen = page.get_by_role("button", name="Reopen to correct it")
    if reopen.count():
        reopen.click()
        flash(page, "The self-assessment is a draft again")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Self-assessment o")


def answer(page: Page, code: str, value: str) -> None:
    """Answer one indicator the way a person does: choose the option (or type and leave the field); htmx
    saves it and swaps the field back with a "Saved" note."""
    field = page.locator(f"#field-a_{code}")
    if field.evaluate("e => e.tagName") == "SELECT":
        with page.expect_response(re.compile(rf"/answers/{code}$")):
            field.select_option(value)
    else:
        field.fill(value)
        with page.expect_response(re.compile(rf"/answers/{code}$")):
            field.press("Tab")
    expect(page.locator(f"#answer-{code}").get_by_role("status")).to_have_text("Saved")


def submit_survey(page: Page) -> None:
    page.locator("#submit").get_by_role("button", name="Submit").click()
    flash(page, "Your self-assessment is submitted")
    expect(page.get_by_role("main")).to_contain_text("its answers can no longer be changed")
