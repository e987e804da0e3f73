"""Journey 3, the yearly monitoring: the secretariat creates next year's cycle through the form and opens it,
watches the progress bar move (htmx polling, no reload) as two cities submit their self-assessment section in
browsers of their own, returns one submission with a comment (refused first without one) and validates the
other, closes the cycle after confirming, publishes the report, and the public "Covenant in figures" shows the
new year's report.

The demo has last year's cycle closed and this year's open; the journey takes the first year after them that
has no cycle (next year on a fresh server), so it also runs against a server kept between runs."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import answer, bring_in_contributor, city_id_of, flash, open_survey, submit_survey
from tests.e2e.support import sign_in

pytestmark = pytest.mark.e2e

RUN = time.time_ns() % 10**6
CITIES = ("Mechelen", "Riga")
SECTION = "Self-assessment and benchmarking"
COMMENT = "Please answer the security-by-design indicators too; the report compares them across cities."


def progress(page: Page) -> int:
    return int(page.locator("#progress-bar").get_attribute("value") or 0)


def test_administrator_runs_the_yearly_cycle(browsing: object, site: object) -> None:
    axe = browsing.axe  # type: ignore[attr-defined]
    admin = browsing.person("admin")  # type: ignore[attr-defined]
    sign_in(admin, site.admin_email, site.admin_password)  # type: ignore[attr-defined]

    admin.goto("/admin/monitoring/")
    axe.check(admin, "monitoring: cycles")
    years = [int(y) for y in admin.get_by_role("main").locator("table tbody tr td:first-child").all_inner_texts()]
    year = max([*years, date.today().year]) + 1

    visitor = browsing.person("visitor")  # type: ignore[attr-defined]
    visitor.goto("/figures")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Covenant in figures")
    expect(visitor.get_by_role("heading", name=f"({year} report)")).to_have_count(0)

    # -- The cycle, created through the form (one mistake first: the deadlines in the wrong order).
    form = admin.get_by_role("main").locator("form[action='/admin/monitoring/']")
    form.get_by_label("Year").fill(str(year))
    form.get_by_label("Opening date").fill(f"{year}-02-01")
    form.get_by_label("Submission deadline").fill(f"{year}-12-20")
    form.get_by_label("Validation deadline").fill(f"{year}-10-31")
    form.get_by_role("button", name="Create the cycle").click()
    expect(admin.locator(".error-summary")).to_be_visible()
    axe.check(admin, "monitoring: cycles (form with an error)")
    form = admin.get_by_role("main").locator("form[action='/admin/monitoring/']")
    form.get_by_label("Submission deadline").fill(f"{year}-10-31")
    form.get_by_label("Validation deadline").fill(f"{year}-12-15")
    form.get_by_role("button", name="Create the cycle").click()
    flash(admin, f"The {year} cycle is created")
    expect(admin.get_by_role("heading", level=1)).to_contain_text(f"Monitoring {year}")
    axe.check(admin, "monitoring: a draft cycle")
    admin.get_by_role("button", name="Open the cycle now").click()
    flash(admin, f"The {year} cycle is open")
    axe.check(admin, "monitoring: an open cycle")

    # -- Two cities submit their self-assessment of the year; the secretariat's page follows without a reload.
    city_ids = {}
    for name in CITIES:
        city_ids[name] = city_id_of(admin, name)
    team = {}
    for name in CITIES:
        email = f"monitoring-{RUN}@{name.lower()}.example.eu"
        team[name] = bring_in_contributor(browsing, admin, city_ids[name], email, f"Monitoring officer {name}", "")
    admin.goto(f"/admin/monitoring/{year}")
    admin.evaluate("() => { window.stillTheSamePage = true; }")
    start = progress(admin)
    for n, name in enumerate(CITIES):
        city = team[name]
        open_survey(city, city_ids[name], year)
        answer(city, "GOV02", "yes")
        answer(city, "SBD01", "guidance")
        submit_survey(city)
        expect(admin.locator("#progress-bar")).to_have_attribute("value", str(start + n + 1), timeout=40_000)
    assert admin.evaluate("() => window.stillTheSamePage === true"), "the progress bar came with a page reload"
    expect(admin.locator("#cycle-progress")).to_contain_text(f"{start + len(CITIES)} of")
    axe.check(admin, "monitoring: an open cycle (progress updated)")

    # -- The matrix: the submitted sections; one returned with a comment, the other validated.
    admin.get_by_role("link", name=re.compile("^Cities . sections$")).click()
    axe.check(admin, "monitoring: cities x sections")
    admin.get_by_label("Status").select_option(label="Submitted")
    admin.get_by_label("Section").select_option(label=SECTION)
    admin.get_by_role("main").get_by_role("button", name="Filter").click()
    matrix = admin.locator("table.matrix")
    for name in CITIES:
        expect(matrix.get_by_role("row").filter(has_text=name)).to_contain_text("Submitted")
    axe.check(admin, "monitoring: cities x sections (filtered)")
    matrix_url = admin.url

    returned, validated = CITIES
    matrix.get_by_role("link", name=returned).click()
    axe.check(admin, "monitoring: a city's sections")
    section = admin.locator("ul.checklist > li").filter(has=admin.get_by_role("heading", name=re.compile(SECTION)))
    section.get_by_role("button", name="Return to the city").click()
    expect(admin.locator(".error-summary")).to_be_visible()
    comment = admin.locator("ul.checklist > li").filter(has=admin.get_by_role("heading", name=re.compile(SECTION)))
    comment_box = comment.get_by_label("Comment for the city (needed to return it)")
    expect(comment_box).to_have_attribute("aria-invalid", "true")
    axe.check(admin, "monitoring: a city's sections (comment missing)")
    comment_box.fill(COMMENT)
    comment.get_by_role("button", name="Return to the city").click()
    flash(admin, "The section is returned to the city.")
    expect(admin.locator("ul.checklist")).to_contain_text(COMMENT)

    admin.goto(matrix_url)
    admin.locator("table.matrix").get_by_role("link", name=validated).click()
    section = admin.locator("ul.checklist > li").filter(has=admin.get_by_role("heading", name=re.compile(SECTION)))
    section.get_by_role("button", name="Validate").click()
    flash(admin, "The section is validated.")
    expect(section.locator(".status")).to_have_text("Validated")
    axe.check(admin, "monitoring: a city's sections (validated)")

    # The city whose section came back finds the comment on its checklist.
    city = team[returned]
    city.goto(f"/cities/{city_ids[returned]}/monitoring/{year}")
    expect(city.get_by_role("main")).to_contain_text(COMMENT)
    axe.check(city, "monitoring: a city's checklist (section returned)")

    # -- Closing, confirmed; then the report, published.
    admin.goto(f"/admin/monitoring/{year}")
    admin.get_by_role("link", name="Close the cycle…").click()
    axe.check(admin, "monitoring: close the cycle?")
    admin.get_by_role("button", name="Close the cycle").click()
    expect(admin.locator(".error-summary")).to_be_visible()
    expect(admin.get_by_role("checkbox")).to_have_attribute("aria-describedby", "error-confirm")
    axe.check(admin, "monitoring: close the cycle? (not confirmed)")
    admin.get_by_label(f"I understand; close the {year} cycle.").check()
    admin.get_by_role("button", name="Close the cycle").click()
    flash(admin, f"The {year} cycle is closed and its report compiled.")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Closed")
    axe.check(admin, "monitoring: a closed cycle")

    visitor.goto("/figures")
    expect(visitor.get_by_role("heading", name=f"({year} report)")).to_have_count(0)  # not yet published
    admin.get_by_role("button", name="Publish the report").click()
    flash(admin, f"The {year} report is published.")
    axe.check(admin, "monitoring: a closed cycle, report published")
    admin.get_by_role("link", name="Read the report").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text(str(year))
    axe.check(admin, "monitoring: the report (admin)")

    # -- The public figures follow.
    visitor.goto("/figures")
    expect(visitor.get_by_role("heading", name=re.compile(rf"\({year} report\)"))).to_be_visible()
    submitted = visitor.get_by_role("heading", name=re.compile(rf"Monitoring {year}: share of signatories"))
    expect(submitted).to_be_visible()
    axe.check(visitor, "Covenant in figures (after publishing)")
    visitor.get_by_role("link", name="Monitoring reports").click()
    axe.check(visitor, "monitoring reports")
    visitor.get_by_role("link", name=re.compile(str(year))).first.click()
    expect(visitor.get_by_role("heading", level=1)).to_contain_text(str(year))
    axe.check(visitor, "a published monitoring report")
