"""Journey 1: a mayor's office gets an account, applies for membership with the council's decision and the
signed letter, is accepted by the secretariat, invites a contributor, drafts and publishes a commitment,
reports progress, and anyone finds it on the public city profile. Once with the mouse, once with the
keyboard alone (Tab, Shift+Tab, Enter, Space and typing), the focus visible at every stop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    PASSWORD,
    PDF,
    by_href,
    by_label,
    by_name,
    by_role,
    choose_password,
    focused,
    key_date,
    key_press,
    key_type,
    labelled,
    mail_link,
    sign_in,
    tab_to,
)

pytestmark = pytest.mark.e2e

TODAY = date.today()


@dataclass(frozen=True)
class Applicant:
    city: str
    mayor_email: str
    mayor_name: str
    contributor_email: str
    commitment: str


def create_account(admin: Page, axe: object, email: str, name: str) -> None:
    """The secretariat opens an account; its owner gets a link to choose a password (there is no public
    sign-up: the Covenant's members are public authorities, vetted by the secretariat)."""
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    axe.check(admin, "admin: users")  # type: ignore[attr-defined]
    form = admin.get_by_role("main").locator("form[method=post]")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Create the account").click()
    expect(admin.get_by_role("status").filter(has_text="The account is created")).to_be_visible()
    axe.check(admin, "admin: a user")  # type: ignore[attr-defined]


def test_mayors_office_joins_and_commits(browsing: object, site: object) -> None:
    who = Applicant("Tampere", "turvallisuus@tampere.example.fi", "Kaisa Mäkinen", "analyst@tampere.example.fi", "")
    axe = browsing.axe  # type: ignore[attr-defined]
    admin = browsing.person("admin")  # type: ignore[attr-defined]
    sign_in(admin, site.admin_email, site.admin_password)  # type: ignore[attr-defined]
    axe.check(admin, "home (admin)")
    create_account(admin, axe, who.mayor_email, who.mayor_name)
    reset = mail_link(admin, who.mayor_email, "password", r"/password/reset/\S+")
    axe.check(admin, "admin: a mail")

    mayor = browsing.person("mayor")  # type: ignore[attr-defined]
    mayor.goto("/")
    axe.check(mayor, "home")
    choose_password(mayor, reset)
    axe.check(mayor, "sign in")
    sign_in(mayor, who.mayor_email, PASSWORD)

    # Applying: find the city in the registry, then the form (one mistake first: no letter).
    mayor.get_by_role("navigation", name="Main").get_by_role("link", name="Signatories").click()
    axe.check(mayor, "signatories")
    mayor.get_by_role("link", name="Apply for your city").click()
    mayor.get_by_label("City name").fill(who.city)
    mayor.get_by_role("main").get_by_role("button", name="Search").click()
    axe.check(mayor, "apply: city search")
    mayor.get_by_role("link", name=who.city).click()
    expect(mayor.get_by_role("heading", level=1)).to_have_text(f"Apply for {who.city}")
    axe.check(mayor, "apply: form")
    mayor.get_by_label("Date of the council's decision").fill(TODAY.replace(day=1).isoformat())
    labelled(mayor, "Mayor").fill("Lauri Lyly")
    mayor.get_by_label("End of the mayor's mandate").fill(TODAY.replace(year=TODAY.year + 3).isoformat())
    mayor.get_by_label("Contact person").fill(who.mayor_name)
    mayor.get_by_label("Contact e-mail address").fill(who.mayor_email)
    mayor.get_by_role("button", name="Send the application").click()
    letter = mayor.get_by_label("Commitment letter signed by the mayor")
    expect(letter).to_have_attribute("aria-invalid", "true")
    expect(mayor.get_by_role("alert")).to_contain_text("Attach the commitment letter")
    axe.check(mayor, "apply: form with an error")
    letter.set_input_files({"name": "council-decision.pdf", "mimeType": "application/pdf", "buffer": PDF})
    mayor.get_by_role("button", name="Send the application").click()
    expect(mayor.get_by_role("status").filter(has_text="Your application is sent")).to_be_visible()
    axe.check(mayor, "city profile (applicant)")
    city_path = re.sub(r"^https?://[^/]+", "", mayor.url)

    # The secretariat accepts.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Memberships").click()
    axe.check(admin, "admin: memberships")
    admin.get_by_role("link", name=who.city).click()
    axe.check(admin, "admin: a membership")
    admin.get_by_role("button", name="Accept").click()
    expect(admin.get_by_role("status").filter(has_text="The decision is recorded")).to_be_visible()

    # The mayor's office, now the city's, invites a contributor (a partial save: the page stays).
    mayor.goto(city_path)
    expect(mayor.get_by_role("main")).to_contain_text("Signatory")
    mayor.get_by_role("link", name="Manage the team").click()
    axe.check(mayor, "city team")
    mayor.get_by_label("E-mail address").fill(who.contributor_email)
    labelled(mayor, "Name").fill("Olli Analyytikko")
    mayor.get_by_label("Role").select_option(label="Contributor")
    mayor.get_by_role("button", name="Send the invitation").click()
    expect(mayor.get_by_role("status").filter(has_text=f"{who.contributor_email} is invited")).to_be_visible()
    expect(mayor.get_by_role("table")).to_contain_text(who.contributor_email)
    axe.check(mayor, "city team (after inviting)")

    # A commitment: drafted, published, then progress reported.
    mayor.goto(city_path)
    mayor.get_by_role("link", name="Manage the commitments").click()
    axe.check(mayor, "city commitments")
    mayor.get_by_role("link", name="Draft a commitment").first.click()
    axe.check(mayor, "commitment form")
    title = "Safety audits of every tram stop by women walkers"
    mayor.get_by_label("Title").fill(title)
    mayor.get_by_label("Description").fill("Exploratory walks with residents at the forty busiest stops.")
    mayor.get_by_label("Priority").select_option(index=1)
    mayor.get_by_label("Indicator").fill("Tram stops audited")
    mayor.get_by_label("Baseline").fill("0")
    mayor.get_by_label("Target value").fill("40")
    mayor.get_by_label("Unit").fill("stops")
    mayor.get_by_label("Start date").fill(TODAY.isoformat())
    mayor.get_by_label("Due date").fill(TODAY.replace(year=TODAY.year + 2).isoformat())
    mayor.get_by_role("button", name="Save").click()
    expect(mayor.get_by_role("status").filter(has_text="The draft commitment is saved")).to_be_visible()
    mayor.get_by_role("link", name=re.compile("Commitments of")).click()
    row = mayor.get_by_role("row").filter(has_text=title)
    row.get_by_text("Publish", exact=True).click()
    row.get_by_role("button", name="Yes, publish").click()
    expect(mayor.get_by_role("status").filter(has_text="The commitment is published")).to_be_visible()
    axe.check(mayor, "city commitments (published)")
    mayor.get_by_role("row").filter(has_text=title).get_by_role("link", name="Add a progress update").click()
    axe.check(mayor, "progress form")
    labelled(mayor, "Date").fill(TODAY.isoformat())
    mayor.get_by_label("Progress in percent").fill("25")
    narrative = "Ten stops audited; lighting replaced at four."
    mayor.get_by_label("What was done").fill(narrative)
    mayor.get_by_role("button", name="Add to the timeline").click()
    expect(mayor.get_by_role("status").filter(has_text="The progress update is added")).to_be_visible()
    expect(mayor.get_by_role("main")).to_contain_text(narrative)
    axe.check(mayor, "progress form (after an update)")

    # Anyone finds it on the public city profile.
    visitor = browsing.person("visitor")  # type: ignore[attr-defined]
    visitor.goto("/cities")
    visitor.get_by_label("Search by name").fill(who.city)
    visitor.get_by_role("button", name="Filter").click()
    visitor.get_by_role("link", name=who.city, exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(who.city)
    axe.check(visitor, "city profile (public)")
    commitments = visitor.get_by_role("region", name="Commitments")
    expect(commitments).to_contain_text(title)
    expect(commitments).to_contain_text("25")
    commitments.get_by_text("Progress timeline").first.click()
    expect(commitments).to_contain_text(narrative)
    commitments.get_by_role("link", name=title).click()
    expect(visitor.get_by_role("main")).to_contain_text(narrative)
    axe.check(visitor, "commitment (public)")


def test_mayors_office_journey_with_the_keyboard_only(browsing: object, site: object) -> None:
    """The same journey with keys only: Tab and Shift+Tab to move (the focus visible at every stop), Enter and
    Space to follow links, press buttons, open disclosures and the file chooser, and typing into fields."""
    city, email = "Utrecht", "veiligheid@utrecht.example.nl"
    admin = browsing.person("admin")  # type: ignore[attr-defined]
    sign_in(admin, site.admin_email, site.admin_password)  # type: ignore[attr-defined]
    create_account(admin, browsing.axe, email, "Noor de Vries")  # type: ignore[attr-defined]
    reset = mail_link(admin, email, "password", r"/password/reset/\S+")

    mayor = browsing.person("mayor")  # type: ignore[attr-defined]
    mayor.goto(reset)
    # The first Tab reaches the skip link, which takes the focus to the main content.
    tab_to(mayor, by_label("Skip to content"), limit=1)
    mayor.keyboard.press("Enter")
    assert (focused(mayor) or {}).get("id") == "main"
    key_type(mayor, "password", PASSWORD)
    key_type(mayor, "password_confirm", PASSWORD)
    key_press(mayor, by_role("button", "Save the password"))
    expect(mayor.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()
    key_type(mayor, "email", email)
    key_type(mayor, "password", PASSWORD)
    key_press(mayor, by_role("button", "Sign in"))
    expect(mayor.get_by_role("status").filter(has_text="You are signed in.")).to_be_visible()

    key_press(mayor, by_href(r"^/cities$"))
    key_press(mayor, by_href(r"^/cities/apply$"))
    key_type(mayor, "q", city)
    with mayor.expect_navigation():
        mayor.keyboard.press("Enter")
    expect(mayor.get_by_role("link", name=city)).to_be_visible()
    key_press(mayor, by_label(city))
    expect(mayor.get_by_role("heading", level=1)).to_have_text(f"Apply for {city}")
    key_date(mayor, "adhesion_date", TODAY.replace(day=1))
    key_type(mayor, "mayor", "Sharon Dijksma")
    key_date(mayor, "mandate_end", TODAY.replace(year=TODAY.year + 4))
    key_type(mayor, "contact_name", "Noor de Vries")
    key_type(mayor, "contact_email", email)
    tab_to(mayor, by_name("letter"))
    with mayor.expect_file_chooser() as chooser:
        mayor.keyboard.press("Space")
    chooser.value.set_files({"name": "raadsbesluit.pdf", "mimeType": "application/pdf", "buffer": PDF})
    key_press(mayor, by_role("button", "Send the application"))
    expect(mayor.get_by_role("status").filter(has_text="Your application is sent")).to_be_visible()
    city_path = re.sub(r"^https?://[^/]+", "", mayor.url)

    admin.goto("/")
    key_press(admin, by_href(r"^/admin/memberships"))
    key_press(admin, by_label(city))
    key_press(admin, by_role("button", "Accept"))
    expect(admin.get_by_role("status").filter(has_text="The decision is recorded")).to_be_visible()

    mayor.reload()
    key_press(mayor, by_label("Manage the team"))
    key_type(mayor, "email", "data@utrecht.example.nl")
    key_type(mayor, "display_name", "Daan Bakker")
    key_press(mayor, by_role("button", "Send the invitation"), loads=False)
    expect(mayor.get_by_role("status").filter(has_text="data@utrecht.example.nl is invited")).to_be_visible()
    # After the partial save the focus stays in the page: Shift+Tab finds the way back to the profile.
    key_press(mayor, by_href(rf"^{re.escape(city_path)}$"), back=True)
    key_press(mayor, by_label("Manage the commitments"))
    key_press(mayor, by_label("Draft a commitment"))
    title = "Lighting plan for the station quarter"
    key_type(mayor, "title", title)
    key_type(mayor, "description", "New lighting along the walking routes from the station, designed with residents.")
    tab_to(mayor, by_name("priority"))
    mayor.keyboard.press("ArrowDown")
    key_date(mayor, "start_date", TODAY)
    key_date(mayor, "due_date", TODAY.replace(year=TODAY.year + 1))
    key_press(mayor, by_role("button", "Save"))
    expect(mayor.get_by_role("status").filter(has_text="The draft commitment is saved")).to_be_visible()
    key_press(mayor, by_label("← Commitments of"))
    key_press(mayor, by_role("summary", "Publish"), loads=False)
    key_press(mayor, by_role("button", "Yes, publish"))
    expect(mayor.get_by_role("status").filter(has_text="The commitment is published")).to_be_visible()
    key_press(mayor, by_label("Add a progress update"))
    key_date(mayor, "reported_on", TODAY)
    key_type(mayor, "percentage", "40")
    narrative = "Lighting designed with residents; works start in spring."
    key_type(mayor, "narrative", narrative)
    key_press(mayor, by_role("button", "Add to the timeline"), loads=False)
    expect(mayor.get_by_role("status").filter(has_text="The progress update is added")).to_be_visible()
    expect(mayor.get_by_role("main")).to_contain_text(narrative)

    visitor = browsing.person("visitor")  # type: ignore[attr-defined]
    visitor.goto("/cities")
    key_type(visitor, "q", city)  # the live filter narrows the list as one types
    expect(visitor.locator("#signatory-results").get_by_role("link")).to_have_count(1)
    visitor.wait_for_load_state("networkidle")  # the live filter's last swap must not replace the focused link
    key_press(visitor, by_label(city))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(city, timeout=20_000)
    commitments = visitor.get_by_role("region", name="Commitments")
    expect(commitments).to_contain_text(title)
    key_press(visitor, by_role("summary", "Progress timeline"), "Space", loads=False)
    expect(commitments.get_by_text(narrative)).to_be_visible()
