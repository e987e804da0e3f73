"""Every classification rule and exception of services.classify, one test each."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from modules.ai_review import rules
from modules.ai_review.models import Technology
from modules.ai_review.services import EntryFacts, classify, review_overdue
from tests.modules.ai_review.conftest import FULL_FRIA, all_no

PLAIN = EntryFacts(
    category="other",
    personal_data=True,
    legal_basis="GDPR Art. 6(1)(e)",
    dpia_done=True,
    human_oversight="Operator",
    complaint_channel="dpo",
)
BIOMETRIC = EntryFacts(
    category="facial_recognition",
    personal_data=True,
    biometric_data=True,
    legal_basis="LED Art. 10",
    dpia_done=True,
    human_oversight="Two officers",
    complaint_channel="dpo",
)


def keys(items: list[Any]) -> set[str]:
    return {f.key for f in items}


@pytest.mark.parametrize(
    ("question", "rule", "article"),
    [
        ("social_scoring", "social_scoring", "5(1)(c)"),
        ("crime_prediction_profiling", "crime_prediction_profiling", "5(1)(d)"),
        ("untargeted_face_scraping", "untargeted_face_scraping", "5(1)(e)"),
        ("emotion_work_education", "emotion_work_education", "5(1)(f)"),
        ("biometric_categorisation_sensitive", "biometric_categorisation_sensitive", "5(1)(g)"),
    ],
)
def test_each_article_5_practice_is_prohibited(question: str, rule: str, article: str) -> None:
    result = classify(all_no(**{question: True}), BIOMETRIC)
    assert result.risk_class == "prohibited"
    assert rule in keys(result.rules)
    assert any(article in f.articles for f in result.rules)
    assert "stop" in keys(result.open_obligations)


def test_realtime_biometric_identification_for_law_enforcement_without_exception_is_prohibited() -> None:
    answers = all_no(realtime_rbi=True, law_enforcement=True, rbi_exception="none")
    result = classify(answers, BIOMETRIC)
    assert result.risk_class == "prohibited"
    assert keys(result.rules) == {"realtime_rbi_law_enforcement"}
    assert "prior_authorisation" not in result.missing_answers  # not asked when no exception applies


@pytest.mark.parametrize("exception", ["victims", "threat", "suspects"])
def test_each_article_5_1_h_exception_needs_prior_authorisation(exception: str) -> None:
    without = classify(
        all_no(realtime_rbi=True, law_enforcement=True, rbi_exception=exception, prior_authorisation=False), BIOMETRIC
    )
    assert without.risk_class == "prohibited"
    with_authorisation = classify(
        all_no(realtime_rbi=True, law_enforcement=True, rbi_exception=exception, prior_authorisation=True),
        BIOMETRIC,
        FULL_FRIA,
    )
    assert with_authorisation.risk_class == "high"
    assert "realtime_rbi_authorised" in keys(with_authorisation.rules)


def test_authorisation_question_is_asked_only_when_an_exception_is_claimed() -> None:
    answers = all_no(realtime_rbi=True, law_enforcement=True, rbi_exception="threat")
    del answers["prior_authorisation"]
    result = classify(answers, BIOMETRIC)
    assert result.missing_answers == ["prior_authorisation"]
    assert result.risk_class == "prohibited"  # until authorisation is confirmed
    result = classify(all_no(realtime_rbi=True, law_enforcement=True), BIOMETRIC)
    assert result.missing_answers == ["rbi_exception"]


def test_realtime_identification_outside_law_enforcement_is_high_risk_not_article_5() -> None:
    result = classify(all_no(realtime_rbi=True), BIOMETRIC, FULL_FRIA)
    assert result.risk_class == "high"


@pytest.mark.parametrize(
    ("question", "annex_point"),
    [
        ("remote_biometric_id", "Annex III 1(a)"),
        ("biometric_categorisation", "Annex III 1(b)"),
        ("emotion_recognition", "Annex III 1(c)"),
        ("critical_infrastructure", "Annex III 2"),
        ("essential_services", "Annex III 5(a)"),
        ("law_enforcement_assessment", "Annex III 6"),
        ("migration", "Annex III 7"),
    ],
)
def test_each_annex_iii_use_is_high_risk(question: str, annex_point: str) -> None:
    result = classify(all_no(**{question: True}), BIOMETRIC)
    assert result.risk_class == "high"
    assert any(annex_point in f.articles for f in result.rules)
    assert result.fria_required
    assert result.fria_missing == list(rules.FRIA_KEYS)
    assert {"fria", "register", "logs"} <= keys(result.open_obligations)


def test_article_6_3_derogation_documented_and_without_profiling_lifts_high_risk() -> None:
    result = classify(
        all_no(critical_infrastructure=True, derogation_claimed=True, derogation_reason="Narrow procedural task."),
        PLAIN,
    )
    assert result.risk_class == "minimal"
    assert result.derogation_applied
    assert "derogation" in keys(result.open_obligations)
    assert not result.fria_required


def test_article_6_3_derogation_never_covers_profiling() -> None:
    answers = all_no(
        law_enforcement_assessment=True, profiling=True, derogation_claimed=True, derogation_reason="Preparatory task."
    )
    assert classify(answers, PLAIN).risk_class == "high"


def test_article_6_3_derogation_must_be_documented() -> None:
    result = classify(all_no(critical_infrastructure=True, derogation_claimed=True), PLAIN)
    assert result.risk_class == "high"
    assert result.missing_answers == ["derogation_reason"]


def test_article_6_3_derogation_does_not_cover_realtime_identification() -> None:
    answers = all_no(realtime_rbi=True, derogation_claimed=True, derogation_reason="Preparatory task.")
    assert classify(answers, BIOMETRIC).risk_class == "high"


@pytest.mark.parametrize(
    ("question", "rule"),
    [("interacts_with_people", "interacts_with_people"), ("synthetic_content", "synthetic_content")],
)
def test_article_50_uses_carry_transparency_obligations(question: str, rule: str) -> None:
    result = classify(all_no(**{question: True}), PLAIN)
    assert result.risk_class == "limited"
    assert keys(result.rules) == {rule}
    assert "inform" in keys(result.open_obligations)


def test_emotion_recognition_is_high_risk_and_still_owes_the_article_50_notice() -> None:
    result = classify(all_no(emotion_recognition=True), BIOMETRIC)
    assert result.risk_class == "high"
    assert "inform" in keys(result.open_obligations)


def test_an_ai_system_matching_no_rule_is_minimal_risk() -> None:
    result = classify(all_no(), PLAIN)
    assert result.risk_class == "minimal"
    assert result.complete
    assert not result.open_obligations
    assert not result.missing_safeguards


def test_a_system_that_is_not_ai_is_checked_only_against_data_protection() -> None:
    result = classify(all_no(is_ai_system=False, large_scale_monitoring=True), EntryFacts(personal_data=True))
    assert result.risk_class == "not_ai"
    assert {"legal_basis", "dpia", "complaints"} <= keys(result.missing_safeguards)


def test_prohibition_wins_over_high_risk() -> None:
    assert classify(all_no(social_scoring=True, migration=True), PLAIN).risk_class == "prohibited"


def test_unanswered_questions_are_listed() -> None:
    result = classify({"is_ai_system": True}, PLAIN)
    assert "social_scoring" in result.missing_answers
    assert not result.complete


@pytest.mark.parametrize(
    ("answers", "entry", "contradiction"),
    [
        (all_no(), EntryFacts(category="facial_recognition", personal_data=False), "face_without_personal_data"),
        (all_no(), EntryFacts(personal_data=False, biometric_data=True), "biometric_without_personal_data"),
        (
            all_no(remote_biometric_id=True),
            EntryFacts(personal_data=True, biometric_data=False),
            "biometric_use_without_biometric_data",
        ),
        (
            all_no(is_ai_system=False, emotion_recognition=True),
            EntryFacts(personal_data=True, biometric_data=True),
            "biometric_use_but_not_ai",
        ),
        (
            all_no(large_scale_monitoring=True),
            EntryFacts(category="video_surveillance", personal_data=False),
            "monitoring_without_personal_data",
        ),
    ],
)
def test_contradictory_answers_are_flagged(answers: dict[str, Any], entry: EntryFacts, contradiction: str) -> None:
    result = classify(answers, entry)
    assert contradiction in keys(result.contradictions)
    assert not result.complete


def test_gdpr_checks() -> None:
    bare = EntryFacts(personal_data=True)
    result = classify(all_no(large_scale_monitoring=True, necessity_argued=False, retention_bounded=False), bare)
    assert keys(result.missing_safeguards) == {"legal_basis", "dpia", "necessity", "retention", "complaints"}
    assert classify(all_no(large_scale_monitoring=True), PLAIN).missing_safeguards == []  # DPIA done, basis stated
    assert classify(all_no(), EntryFacts(personal_data=False)).missing_safeguards == []  # no personal data


def test_high_risk_without_human_oversight_lacks_a_safeguard() -> None:
    entry = EntryFacts(
        category="facial_recognition",
        personal_data=True,
        biometric_data=True,
        legal_basis="x",
        dpia_done=True,
        complaint_channel="x",
    )
    assert "oversight" in keys(classify(all_no(remote_biometric_id=True), entry, FULL_FRIA).missing_safeguards)


def test_fria_with_its_six_elements_clears_the_obligation() -> None:
    partial = dict(FULL_FRIA, risks="")
    result = classify(all_no(remote_biometric_id=True), BIOMETRIC, partial)
    assert result.fria_missing == ["risks"]
    assert not result.ready_for_sign_off
    result = classify(all_no(remote_biometric_id=True), BIOMETRIC, FULL_FRIA)
    assert result.fria_missing == []
    assert result.ready_for_sign_off
    assert "fria" not in keys(result.open_obligations)


def test_re_review_is_overdue_after_the_revision_date_without_a_new_sign_off() -> None:
    t = Technology(revision_date=date(2025, 6, 1), status="operational", signed_off_at=None)
    assert not review_overdue(t, on=date(2025, 5, 31))
    assert review_overdue(t, on=date(2025, 6, 1))
    t.signed_off_at = datetime(2025, 6, 2, tzinfo=UTC)
    assert not review_overdue(t, on=date(2025, 7, 1))
    t.signed_off_at = datetime(2024, 6, 2, tzinfo=UTC)
    t.status = "archived"
    assert not review_overdue(t, on=date(2025, 7, 1))  # archived entries are not reviewed again
