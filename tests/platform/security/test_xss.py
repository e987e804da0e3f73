"""Script payloads in every free-text field a user can set (the world puts one, numbered, in each) come back
escaped on every page that shows them, and never as markup. Checked on the crawl: every page, as every
visitor, plus the public pages of published resources."""

from __future__ import annotations

from tests.platform.security.crawl import Crawl

NOT_SHOWN_ON_ANY_PAGE = {
    # Shown only to their owner (a person no visitor of the crawl is).
    "token.name",
    # Kept, but no page shows them back once saved (the API does, as JSON): nothing to escape.
    "applicationA.notes",
    "applicationB.notes",
    "unitA.materials",
    "unitB.materials",
    # Shown in the plan's form only while the evaluation is open; the world's evaluations are completed.
    "evaluationA.objectives",
    "evaluationA.problem_analysis",
    "evaluationB.objectives",
    "evaluationB.problem_analysis",
    # Shown once the session's questionnaire is closed (the training report); the world's are open.
    "sessionA.feedback_actions",
    "sessionB.feedback_actions",
}


def test_no_page_returns_a_payload_as_markup(crawl: Crawl) -> None:
    pages = [visit for visit in crawl.visits + crawl.extra if visit.html]
    assert len(pages) > 500
    unescaped = [str(visit) for visit in pages if visit.raw_payload]
    assert not unescaped, "pages returning a stored script unescaped:\n  " + "\n  ".join(unescaped)


def test_every_payload_was_shown_escaped_somewhere(crawl: Crawl) -> None:
    """Proves the check above saw the payloads: each field's value reached at least one page, escaped."""
    shown: set[int] = set()
    for visit in crawl.visits + crawl.extra:
        shown |= visit.escaped
    numbers = {label: int(value.split("x(")[1].split(")")[0]) for label, value in crawl.world.payloads.fields.items()}
    never = sorted(label for label, n in numbers.items() if n not in shown and label not in NOT_SHOWN_ON_ANY_PAGE)
    assert not never, "fields whose payload no crawled page showed: " + ", ".join(never)
