"""Journey 2 (the parts whose modules exist): a contributor of one signatory city uploads a good-practice
fiche with a before and an after picture, registers a technology and answers its review questionnaire (a
reviewer signs it off), records a training session whose participants answer the questionnaire through their
personal links, enters a cohesion impact evaluation and publishes its lesson, and the other modules pick the
results up: the lesson in the trainers' toolbox, the city's published commitment in the funding suggestions and
next to the published fiche."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.support import PASSWORD, choose_password, eventually, labelled, mail_link, sign_in

pytestmark = pytest.mark.e2e

CITY = "Mechelen"
TODAY = date.today()
RUN = time.time_ns() % 10**6
"""Makes names unique per run, so the journey also runs against a server kept between runs (COVENANT_E2E_URL)."""


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


def shows_picture(page: Page, alt: str) -> None:
    """The picture is in the page, described by its text alternative, and really served (lazy-loaded)."""
    image = page.get_by_role("img", name=alt).first
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text).first).to_be_visible()


def test_module_users_of_one_city(browsing: object, site: object) -> None:
    axe = browsing.axe  # type: ignore[attr-defined]
    admin = browsing.person("admin")  # type: ignore[attr-defined]
    sign_in(admin, site.admin_email, site.admin_password)  # type: ignore[attr-defined]

    # The secretariat adds a contributor for four modules to the city's team.
    admin.goto("/cities")
    admin.get_by_label("Search by name").fill(CITY)
    admin.get_by_role("button", name="Filter").click()
    admin.locator("#signatory-results").get_by_role("link", name=CITY, exact=True).click()
    city_id = admin.url.rstrip("/").rsplit("/", 1)[1]
    admin.get_by_role("link", name="Manage the team").click()
    contributor = f"preventie-{RUN}@mechelen.example.be"
    admin.get_by_label("E-mail address").fill(contributor)
    labelled(admin, "Name").fill("Lotte Peeters")
    admin.get_by_label("Role").select_option(label="Contributor")
    admin.get_by_label("Limit to modules").fill("practices, ai_review, training, cohesion")
    admin.get_by_role("button", name="Send the invitation").click()
    flash(admin, f"{contributor} is invited")
    reset = mail_link(admin, contributor, "password", r"/password/reset/\S+")
    me = browsing.person("contributor")  # type: ignore[attr-defined]
    choose_password(me, reset)
    sign_in(me, contributor, PASSWORD)

    # -- Action 6: a good-practice fiche with a before and an after picture, reviewed and published.
    me.goto(f"/m/practices/cities/{city_id}/fiches")
    axe.check(me, "practices: the city's fiches")
    me.get_by_role("link", name=re.compile("New fiche|new fiche|Draft a fiche|Write a fiche")).first.click()
    axe.check(me, "practices: new fiche")
    fiche = "Lighting and benches at the Vismarkt quay"
    form = me.locator("main form").first
    labelled(form, "Title").fill(fiche)
    labelled(form, "Summary").fill("A dark quay made welcoming with warm lighting, benches and a kiosk.")
    labelled(form, "Problem addressed").fill("People avoided the quay after dark; two assaults in 2021.")
    form.get_by_role("checkbox").first.check()
    labelled(form, "Lessons").fill("Involve the residents' association from the first sketch.")
    labelled(form, "Year the measures were delivered").fill("2023")
    form.get_by_role("button", name="Save").click()
    flash(me, "The draft fiche is saved")
    axe.check(me, "practices: fiche editor")
    images = me.locator("form[action$='/images']")
    for stage, colour, alt in (("Before", "#333344", "The quay at night, unlit"), ("After", "#ffdd88", "The quay lit")):
        images.get_by_label("The image shows the place").select_option(label=stage)
        images.get_by_label(re.compile("^Image")).set_input_files(
            {"name": f"{stage.lower()}.png", "mimeType": "image/png", "buffer": picture(colour)}
        )
        labelled(images, "Text alternative").fill(alt)
        images.get_by_role("button", name="Add the image").click()
        flash(me, "The image is added")
    shows_picture(me, "The quay at night, unlit")
    shows_picture(me, "The quay lit")
    indicators = me.locator("form[action$='/indicators']")
    labelled(indicators, "Indicator").fill("People on the quay after 21:00")
    labelled(indicators, "Value before").fill("12")
    indicators.get_by_label(re.compile("^Measured on")).first.fill("2021-10-01")
    labelled(indicators, "Value after").fill("85")
    indicators.get_by_label(re.compile("^Measured on")).last.fill("2023-10-01")
    indicators.get_by_role("button", name="Add the indicator").click()
    flash(me, "The indicator is added")
    me.get_by_role("button", name="Submit for review").click()
    # The state, not the flash: the editor's pictures load alongside and may carry the session cookie back
    # without the message (client-side sessions), so the confirmation is not always shown.
    expect(me.get_by_role("row").filter(has_text=fiche).first).to_contain_text("Submitted")

    admin.goto("/m/practices/review")
    axe.check(admin, "practices: review queue")
    admin.get_by_role("link", name=fiche).click()
    axe.check(admin, "practices: fiche (in review)")
    admin.get_by_role("main").locator("textarea").first.fill("Clear before/after; the figures are convincing.")
    admin.get_by_role("button", name="Comment (takes it in review)").click()
    flash(admin, "Your review is recorded")
    admin.get_by_role("button", name="Publish").click()
    flash(admin, "Your review is recorded")

    visitor = browsing.person("visitor")  # type: ignore[attr-defined]
    visitor.goto("/m/practices/")
    visitor.get_by_role("main").get_by_role("searchbox").first.fill("Vismarkt")
    visitor.get_by_role("main").get_by_role("button", name=re.compile("Search|Filter")).first.click()
    visitor.get_by_role("link", name=fiche).first.click()
    shows_picture(visitor, "The quay at night, unlit")
    shows_picture(visitor, "The quay lit")
    axe.check(visitor, "practices: published fiche")
    fiche_url = visitor.url

    # -- Action 3: a technology registered, its review questionnaire answered, signed off by a reviewer.
    me.goto(f"/m/ai_review/cities/{city_id}/technologies/")
    axe.check(me, "ai_review: the city's technologies")
    me.get_by_role("link", name="Register a technology").first.click()
    axe.check(me, "ai_review: register a technology")
    technology = f"Noise sensors on the Grote Markt ({RUN})"
    labelled(me, "Name").fill(technology)
    labelled(me, "Short description").fill("Acoustic sensors that alert the night mayor to fights")
    labelled(me, "Category").select_option("sound_detection")
    me.get_by_role("main").get_by_role("button", name="Save").click()
    flash(me, "Now answer the review questionnaire")
    axe.check(me, "ai_review: review questionnaire")
    questions = me.evaluate(
        "() => [...new Set([...document.querySelectorAll('main input[type=radio]')].map(e => e.name))]"
    )
    for name in questions:
        choice = {"q_is_ai_system": "yes", "q_rbi_exception": "none"}.get(name, "no")
        me.locator(f"input[name='{name}'][value='{choice}']").check()
    me.get_by_role("button", name="Save and send to the reviewers").click()
    expect(me.get_by_role("main")).to_contain_text(technology)

    admin.goto("/m/ai_review/reviews/")
    axe.check(admin, "ai_review: reviews")
    row = admin.get_by_role("main").locator("li, tr, article, section").filter(has_text=technology).last
    row.get_by_label("Note to the city").fill("Proportionate; review again when the supplier changes.")
    row.get_by_role("button", name="Sign off").click()
    expect(admin.get_by_role("main")).not_to_contain_text(technology)
    me.goto(f"/m/ai_review/cities/{city_id}/technologies/")
    expect(me.get_by_role("row").filter(has_text=technology)).to_contain_text(
        re.compile("signed off|approved|reviewed", re.I)
    )

    # -- Action 4: a training session; its participants answer through their personal links.
    me.goto(f"/m/training/cities/{city_id}/")
    axe.check(me, "training: the city's workspace")
    me.get_by_text("Plan a session").click()
    session = f"Pilot 4 — night-time economy stewards ({RUN})"
    plan = me.locator(f"form[action='/m/training/cities/{city_id}/sessions']")
    labelled(plan, "Title").fill(session)
    labelled(plan, "First day").fill((TODAY - timedelta(days=8)).isoformat())
    labelled(plan, "Last day").fill((TODAY - timedelta(days=7)).isoformat())
    labelled(plan, "Place").fill("Mechelen city hall")
    plan.get_by_role("button", name="Plan").click()
    expect(me.get_by_role("heading", level=1)).to_have_text(session)
    axe.check(me, "training: a session")
    for name in ("Jan Wouters", "Sara El Amrani"):
        register = me.locator("form[action$='/participants']")
        labelled(register, "Name").fill(name)
        register.get_by_role("button", name="Register").click()
        expect(me.get_by_role("table").first).to_contain_text(name)
    links = [re.sub(r"^https?://[^/]+", "", t) for t in me.locator("main table code").all_inner_texts()]
    assert len(links) == 2
    for n, link in enumerate(links):
        participant = browsing.person(f"participant{n}")  # type: ignore[attr-defined]
        participant.goto(link)
        axe.check(participant, "training: questionnaire")
        for group in participant.get_by_role("group").all():
            group.get_by_role("radio", name=str(4 + n % 2)).check()
        participant.get_by_label("What did you find most useful?").fill("The walk with the night mayor.")
        participant.get_by_role("button", name="Send my answer").click()
        expect(participant.get_by_role("main")).to_contain_text(re.compile("Thank", re.I))
        axe.check(participant, "training: questionnaire answered")
    me.reload()
    me.get_by_text("Close the questionnaire", exact=True).click()
    me.get_by_role("button", name=re.compile("Yes, close")).click()
    flash(me, "The questionnaire is closed and the session evaluated")
    expect(me.get_by_role("main")).to_contain_text(re.compile(r"2\s*(of|/)\s*2|100\s*%"))
    axe.check(me, "training: an evaluated session")

    # -- Action 5: a cohesion impact evaluation: plan, baseline and follow-up waves, verdict, lesson.
    me.goto(f"/m/cohesion/cities/{city_id}/measures")
    axe.check(me, "cohesion: measures")
    mediators = me.get_by_role("row").filter(has_text="Neighbourhood mediators")
    if mediators.get_by_role("button", name="Select for impact measurement").count():
        mediators.get_by_role("button", name="Select for impact measurement").click()  # opens its evaluation
    else:  # selected already (a server kept between runs)
        mediators.get_by_role("link", name="Impact measurement").click()
    expect(me.get_by_role("heading", level=1)).to_contain_text("Impact measurement")
    axe.check(me, "cohesion: impact measurement")
    plan = me.locator("form[action$='/evaluation/plan']")
    plan.get_by_label("Problem analysis").fill("Conflicts between neighbours escalate to police calls.")
    plan.get_by_label("Feeling of insecurity").check()
    plan.get_by_role("button", name="Save the plan").click()
    flash(me, "The evaluation plan is saved")
    for wave, mean in ((0, 3.4), (1, 2.7)):
        waves = me.locator("form[action$='/evaluation/waves']")
        waves.get_by_label("Wave (0 = baseline)").fill(str(wave))
        waves.get_by_label("Mean").fill(str(mean))
        waves.get_by_label("Standard deviation").fill("0.9")
        waves.get_by_label("Respondents (n)").fill("180")
        waves.get_by_role("button", name="Record the wave").click()
        flash(me, "The survey wave is recorded")
    verdict = me.locator("form[action$='/evaluation/verdict']")
    verdict.get_by_label("Verdict").select_option("continue")
    verdict.get_by_label("Reasons").fill("Insecurity fell in the mediated streets; keep the mediators.")
    verdict.get_by_role("button", name="Record the verdict").click()
    flash(me, "The verdict is recorded")
    axe.check(me, "cohesion: a completed evaluation")
    lesson = f"Mediators calm neighbour conflicts before they escalate ({RUN})"
    lessons = me.locator("form[action$='/lessons']")
    labelled(lessons, "Title").fill(lesson)
    labelled(lessons, "Lesson").fill("Train the mediators with the police's neighbourhood officers.")
    lessons.get_by_role("button", name="Publish").click()
    flash(me, "The lesson is published")

    # -- What the other modules make of it (through the events, delivered by the worker).
    def in_toolbox() -> bool:
        visitor.goto("/m/training/toolbox")
        return visitor.get_by_text(lesson).count() > 0

    eventually(in_toolbox, what="the cohesion lesson in the trainers' toolbox")
    axe.check(visitor, "training: the trainers' toolbox")
    assert fiche_url
