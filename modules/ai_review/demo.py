"""Demo content of Action 3: register entries of the partner cities (Nice lead, Madrid, Riga, Lille) and Helsinki,
their answers to the bottleneck survey, and the legal tracker's seed (``seed/legal_developments.yaml``).

Idempotent: an entry is added only when the city has no entry of that name yet, a survey answer only once per
city and year, a legal development only once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from modules.ai_review import rules, services
from modules.ai_review.models import BOTTLENECKS, Technology
from modules.ai_review.schemas import PublishInput, ReviewInput, SignOffInput, SurveyInput, TechnologyInput


def answers(**yes: Any) -> dict[str, Any]:
    """Every yes/no question answered "no", except those given."""
    base: dict[str, Any] = {q.key: False for q in rules.QUESTIONS if q.kind == "yesno"}
    base.update({"is_ai_system": True, "necessity_argued": True, "retention_bounded": True})
    return base | yes


KEYS = tuple(key for key, _label in BOTTLENECKS)

FULL_FRIA = {
    "processes": "Used by the missing-persons unit only, on recorded footage, "
    "after a written request of the investigating judge.",
    "period_frequency": "Per case, for at most 72 hours of footage; about ten cases a year.",
    "affected_persons": "The missing person; passers-by filmed in the same footage (not identified, not stored).",
    "risks": "False matches with people of under-represented demographics; chilling effect on the use of public space.",
    "oversight": "Every match is checked by two trained officers before any action; the system never acts alone.",
    "mitigation": "Matches below the threshold are discarded; complaints go to the "
    "municipal ombudsperson and the DPA; yearly audit.",
}

ENTRIES: list[dict[str, Any]] = [
    {
        "city": "Nice",
        "entry": {
            "name": "Sound detection in the old town",
            "short_description": "Microphones detect gunshots, breaking glass and screams "
            "and alert the urban supervision centre.",
            "description": "Acoustic sensors classify sound events on the device; only an alert with a "
            "category and a location leaves the sensor. No recording is kept.",
            "category": "sound_detection",
            "purpose": "Faster intervention after violent incidents at night.",
            "department": "Municipal police — urban supervision centre",
            "contact": "csu@nice.example",
            "supplier": "Local SME (public procurement 2023-041)",
            "status": "operational",
            "start_date": "2023-06-01",
            "revision_date": "2026-06-01",
            "spaces": "Streets and squares of the old town",
            "personal_data": True,
            "data_subjects": "People in the street (voices may be captured, not stored)",
            "retention": "Alerts: 30 days; no audio kept",
            "legal_basis": "GDPR Art. 6(1)(e); French Internal Security Code",
            "human_oversight": "An operator confirms every alert before dispatching a patrol.",
            "dpia_done": True,
            "dpia_date": "2023-04-12",
            "alternatives": "More foot patrols (kept); permanent CCTV recording (rejected as more intrusive).",
            "complaint_channel": "dpo@nice.example and the CNIL",
        },
        "answers": answers(large_scale_monitoring=True),
        "submit": True,
        "sign_off": True,
        "publish": True,
    },
    {
        "city": "Nice",
        "entry": {
            "name": "Crowd density on the Promenade des Anglais",
            "short_description": "Cameras count people per zone during major events to prevent dangerous crowding.",
            "description": "Video is analysed on the edge; only counts per zone "
            "and minute are kept. No identification.",
            "category": "video_surveillance",
            "purpose": "Crowd management during festivals and the Carnival.",
            "department": "Events and public space",
            "contact": "evenements@nice.example",
            "supplier": "Consortium of an EU-funded research project",
            "status": "pilot",
            "start_date": "2025-02-10",
            "revision_date": "2026-02-10",
            "spaces": "Promenade des Anglais, Place Masséna",
            "personal_data": True,
            "data_subjects": "Visitors",
            "retention": "Counts: 1 year; video frames: not stored",
            "legal_basis": "GDPR Art. 6(1)(e)",
            "human_oversight": "Event control room decides on any measure.",
            "dpia_done": True,
            "dpia_date": "2024-12-01",
            "alternatives": "Manual counting by stewards (not reliable over 20,000 people).",
            "complaint_channel": "dpo@nice.example",
        },
        "answers": answers(large_scale_monitoring=True),
        "submit": True,
        "sign_off": True,
        "publish": True,
    },
    {
        "city": "Madrid",
        "entry": {
            "name": "Post-event facial search for missing persons",
            "short_description": "Recorded footage is searched for a missing person's face on a judge's request.",
            "description": "Restricted: a law-enforcement use registered in the non-public section of the EU database.",
            "category": "facial_recognition",
            "purpose": "Finding missing vulnerable persons.",
            "department": "Policía Municipal — missing persons unit",
            "contact": "dpd@madrid.example",
            "supplier": "National police IT service",
            "status": "pilot",
            "start_date": "2025-03-01",
            "revision_date": "2026-03-01",
            "spaces": "Transport hubs",
            "personal_data": True,
            "biometric_data": True,
            "special_categories": True,
            "data_subjects": "Missing persons; passers-by in the footage",
            "retention": "Match results: duration of the case",
            "legal_basis": "Directive (EU) 2016/680 Art. 10; Spanish Organic Law 7/2021",
            "human_oversight": "Two officers verify every match.",
            "dpia_done": True,
            "dpia_date": "2025-01-20",
            "alternatives": "Manual review of footage (too slow in urgent cases).",
            "complaint_channel": "AEPD; municipal ombudsperson",
            "visibility": "restricted",
        },
        "answers": answers(
            remote_biometric_id=True,
            law_enforcement=True,
            law_enforcement_assessment=False,
            large_scale_monitoring=True,
        ),
        "fria": FULL_FRIA,
        "submit": True,
        "sign_off": True,
        "publish": False,
    },
    {
        "city": "Helsinki",
        "entry": {
            "name": "Safety feedback chatbot",
            "short_description": "A chatbot helps residents report unsafe places and "
            "routes the report to the right service.",
            "description": "A language model answers residents and files a report; staff handle every report.",
            "category": "citizen_app",
            "purpose": "Easier reporting of lighting, vandalism and harassment hot spots.",
            "department": "City services — feedback",
            "contact": "feedback@hel.example",
            "supplier": "In-house",
            "status": "operational",
            "start_date": "2024-09-01",
            "revision_date": "2026-09-01",
            "spaces": "Whole city",
            "personal_data": True,
            "data_subjects": "Residents who report",
            "retention": "12 months",
            "legal_basis": "GDPR Art. 6(1)(e)",
            "human_oversight": "Every report is read by staff.",
            "alternatives": "Web form (kept).",
            "complaint_channel": "Data protection officer of the city",
        },
        "answers": answers(interacts_with_people=True),
        "submit": True,
        "sign_off": True,
        "publish": True,
    },
    {
        "city": "Riga",
        "entry": {
            "name": "Place-based patrol planning",
            "short_description": "Forecasts where incidents are likely this week from "
            "past incident reports, to plan patrols.",
            "description": "Uses only places and times of past incidents; no data about persons.",
            "category": "predictive_policing",
            "purpose": "Better allocation of municipal police patrols.",
            "department": "Riga Municipal Police",
            "contact": "policija@riga.example",
            "supplier": "University research group",
            "status": "pilot",
            "start_date": "2025-05-01",
            "revision_date": "2026-05-01",
            "spaces": "City centre",
            "personal_data": False,
            "retention": "Aggregates only",
            "legal_basis": "No personal data",
            "human_oversight": "Shift commanders decide the patrol plans.",
            "alternatives": "Planning from experience alone.",
            "complaint_channel": "policija@riga.example",
        },
        "answers": answers(law_enforcement=True),
        "public_override": "Place-based forecasts only: no data about persons, and the city council asked for "
        "the tool to be listed publicly.",
        "submit": True,
        "sign_off": False,
        "publish": True,
    },
    {
        "city": "Riga",
        "entry": {
            "name": "Social media monitoring for large events",
            "short_description": "Idea: scan public posts for signs of threats before large events.",
            "category": "unstructured_data",
            "status": "idea",
            "personal_data": True,
        },
        "answers": {"is_ai_system": True, "social_scoring": False},
        "submit": False,
        "sign_off": False,
        "publish": False,
    },
    {
        "city": "Métropole Européenne de Lille",
        "entry": {
            "name": "Tamper-proof log of municipal police evidence",
            "short_description": "A distributed ledger timestamps the fingerprints of "
            "evidence files to prove they were not altered.",
            "description": "Only hashes are written to the ledger; files stay on the police servers.",
            "category": "blockchain",
            "status": "operational",
            "start_date": "2022-01-10",
            "revision_date": "2025-01-10",
            "personal_data": False,
            "retention": "Hashes: permanent; no personal data",
            "legal_basis": "No personal data on the ledger",
            "human_oversight": "Not applicable (no automated decision)",
            "alternatives": "Qualified electronic timestamps.",
            "complaint_channel": "dpo@lillemetropole.example",
            "department": "Police municipale",
        },
        "answers": answers(is_ai_system=False),
        "submit": True,
        "sign_off": True,
        "publish": True,
    },
]


SURVEY: dict[str, tuple[dict[str, int], int, str]] = {
    # city: (ratings in BOTTLENECKS order, experiments, quote shown anonymously)
    "Nice": (
        dict(zip(KEYS, (3, 3, 1, 2, 1, 1, 2, 2, 1, 2), strict=True)),
        3,
        "Each experiment waits months for an opinion, and the answer differs from one authority to the next.",
    ),
    "Madrid": (
        dict(zip(KEYS, (2, 3, 2, 2, 2, 1, 2, 1, 2, 2), strict=True)),
        2,
        "We lack lawyers who understand the technology and engineers who understand the law.",
    ),
    "Riga": (dict(zip(KEYS, (2, 1, 3, 2, 3, 2, 1, 1, 2, 1), strict=True)), 1, ""),
    "Métropole Européenne de Lille": (
        dict(zip(KEYS, (3, 2, 1, 3, 2, 1, 3, 2, 1, 2), strict=True)),
        1,
        "Residents accept a tool when they were asked before, not after.",
    ),
    "Helsinki": (dict(zip(KEYS, (1, 0, 1, 1, 1, 2, 1, 1, 2, 2), strict=True)), 4, ""),
}
SURVEY_YEAR = 2025
NAMED_IN_SURVEY = ("Helsinki", "Nice")
"""The cities that agreed to be named among the survey's participants."""


async def load(session: AsyncSession) -> None:
    """Add the demo entries, survey answers and legal developments that are not there yet."""
    await services.load_legal_seed(session)
    for name, (ratings, experiments, quote) in SURVEY.items():
        city = await session.scalar(select(City).where(City.name == name).limit(1))
        if city is None or await services.city_survey(session, city.id, SURVEY_YEAR) is not None:
            continue
        data = SurveyInput(
            year=SURVEY_YEAR,
            ratings=ratings,
            experiments=experiments,
            quote=quote,
            quote_public=bool(quote),
            name_public=name in NAMED_IN_SURVEY,
        )
        await services.answer_survey(session, city.id, data, actor=None)
    for spec in ENTRIES:
        city = await session.scalar(select(City).where(City.name == spec["city"]).limit(1))
        if city is None:
            continue
        exists = await session.scalar(
            select(Technology.id)
            .where(Technology.city_id == city.id, Technology.name == spec["entry"]["name"])
            .limit(1)
        )
        if exists is not None:
            continue
        override = spec.get("public_override")
        entry = spec["entry"] | ({"visibility": "restricted"} if override else {})
        t = await services.create_technology(session, city.id, TechnologyInput.model_validate(entry), actor=None)
        if override:  # a reviewer allowed this law-enforcement use to be public, with a reason
            await services.allow_public_visibility(session, t, override, actor=None)
        await services.save_review(
            session, t, ReviewInput(answers=spec["answers"], fria=spec.get("fria", {})), actor=None
        )
        if spec["submit"]:
            await services.submit_review(session, t, actor=None)
        if spec["sign_off"]:
            await services.sign_off(
                session, t, SignOffInput(approve=True, note="Checked against the documents provided."), actor=None
            )
            if t.revision_date and t.revision_date < date(2025, 6, 1):
                t.signed_off_at = (
                    t.signed_off_at.replace(year=2024) if t.signed_off_at else None
                )  # an old sign-off: re-review overdue
        if spec["publish"]:
            await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)
    await session.flush()
