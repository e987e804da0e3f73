"""Journey 2, the self-assessment: a contributor of one signatory city answers the year's survey (each answer
saved by htmx as she moves on; one refused answer shows its message inline and is corrected), submits it,
looks at the benchmarking dashboard, and the other modules act on ``assessment.submitted`` (delivered by the
server's worker): peer fiches in practices, curricula in training and calls in funding for the city's two
weakest dimensions."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import answer, bring_in_contributor, city_id_of, open_survey, submit_survey
from tests.e2e.support import eventually, sign_in

pytestmark = pytest.mark.e2e

CITY = "Nice"
YEAR = date.today().year
RUN = time.time_ns() % 10**6

# Security by design and social cohesion answered at the bottom of their scales, the other dimensions answered
# at the top: those two are the city's weakest (the framework scores these indicators on fixed goalposts).
STRONG = {"INC01": "yes", "PER06": "yes", "TEC01": "yes", "TEC03": "yes", "TEC05": "yes", "GOV02": "yes"}
STRONG |= {"GOV04": "5", "CAP03": "yes"}
WEAK = {"SBD01": "none", "SBD04": "no", "SBD06": "1", "COH04": "no", "COH05": "1"}
WEAKEST = ("security_by_design", "social_cohesion")


def shows(page: Page, path: str, text: str | re.Pattern[str]) -> bool:
    page.goto(path)
    main = page.get_by_role("main")
    return bool(main.get_by_text(text).count())


def test_module_users_fill_in_the_self_assessment(browsing: object, site: object) -> None:
    axe = browsing.axe  # type: ignore[attr-defined]
    admin = browsing.person("admin")  # type: ignore[attr-defined]
    sign_in(admin, site.admin_email, site.admin_password)  # type: ignore[attr-defined]
    city_id = city_id_of(admin, CITY)
    me = bring_in_contributor(
        browsing,
        admin,
        city_id,
        f"observatoire-{RUN}@nice.example.fr",
        "Camille Martin",
        "assessment, practices, training, funding",
    )

    me.goto("/m/assessment/")
    axe.check(me, "assessment: start")
    me.get_by_role("link", name="All years, scores and sharing").click()
    expect(me.get_by_role("heading", level=1)).to_have_text(f"Self-assessment of {CITY}")
    axe.check(me, "assessment: the city's self-assessments")
    me.get_by_role("link", name=f"Self-assessment {YEAR}").click()
    open_survey(me, city_id, YEAR)
    axe.check(me, "assessment: survey")
    before = me.locator("#completeness progress").get_attribute("value")

    for code, value in (STRONG | WEAK).items():
        answer(me, code, value)

    # A share typed as words: refused inline (422), the message tied to the field, then corrected.
    share = me.locator("#field-a_SBD02")
    share.fill("about a third")
    with me.expect_response(re.compile(r"/answers/SBD02$")) as refused:
        share.press("Tab")
    assert refused.value.status == 422
    field = me.locator("#answer-SBD02")
    error = field.locator(".field-error")
    expect(error).to_be_visible()
    expect(me.locator("#field-a_SBD02")).to_have_attribute("aria-invalid", "true")
    expect(me.locator("#field-a_SBD02")).to_have_attribute("aria-describedby", re.compile(r"\berror-SBD02\b"))
    expect(me.locator("#field-a_SBD02")).to_have_value("about a third")  # what she typed is kept
    axe.check(me, "assessment: survey with a refused answer")
    answer(me, "SBD02", "0")
    expect(field.locator(".field-error")).to_have_count(0)
    expect(me.locator("#field-a_SBD02")).not_to_have_attribute("aria-invalid", "true")

    # The completeness bar followed every save without a reload.
    after = me.locator("#completeness progress").get_attribute("value")
    assert after is not None
    assert before is not None
    assert float(after) > float(before)
    me.reload()
    expect(me.locator("#field-a_SBD02")).to_have_value("0")
    expect(me.locator("#field-a_SBD01")).to_have_value("none")

    submit_survey(me)
    axe.check(me, "assessment: survey submitted")

    me.goto(f"/m/assessment/cities/{city_id}/benchmark/")
    expect(me.get_by_role("heading", level=1)).to_contain_text(f"Benchmarking of {CITY}")
    axe.check(me, "assessment: benchmarking dashboard")
    me.goto(f"/m/assessment/cities/{city_id}/benchmark/?year={YEAR - 1}")
    expect(me.get_by_role("heading", name="Profile per dimension")).to_be_visible()
    axe.check(me, "assessment: benchmarking dashboard (last year, with peers)")

    # -- What the other modules make of it (``assessment.submitted``, delivered by the worker).
    training = f"/m/training/cities/{city_id}/"
    eventually(
        lambda: shows(me, training, f"After the city's {YEAR} assessment"),
        timeout=45,
        what="the training workspace's recommendations after the assessment",
    )
    weakest = me.get_by_role("main").get_by_text("Weakest dimensions:")
    for dimension in WEAKEST:
        expect(weakest).to_contain_text(dimension)
    axe.check(me, "training: the city's workspace after the assessment")

    practices = f"/m/practices/cities/{city_id}/fiches"
    eventually(
        lambda: shows(me, practices, "Recommended for your city"),
        timeout=30,
        what="peer fiches recommended after the assessment",
    )
    recommended = (
        me.get_by_role("main")
        .locator("section")
        .filter(has=me.get_by_role("heading", name="Recommended for your city"))
    )
    expect(recommended.get_by_role("listitem").first).to_contain_text(re.compile("|".join(WEAKEST)))
    recommended.get_by_role("link").first.click()
    expect(me.get_by_role("heading", level=1)).to_be_visible()
    axe.check(me, "practices: a recommended fiche")
    me.goto(practices)
    axe.check(me, "practices: the city's fiches with recommendations")

    funding = f"/m/funding/cities/{city_id}/suggestions"
    eventually(
        lambda: shows(me, funding, re.compile("Addresses a weak assessment dimension")),
        timeout=30,
        what="funding calls matched to the weak dimensions",
    )
    expect(me.get_by_role("main").get_by_text("Addresses a weak assessment dimension").first).to_contain_text(
        re.compile("|".join(WEAKEST))
    )
    axe.check(me, "funding: calls suggested after the assessment")
