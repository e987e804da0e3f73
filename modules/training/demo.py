"""Demo content for Action 4 (``covenant demo``): Table 4, a coordinator profile, two curricula, pilots with
answered questionnaires, self-assessments and toolbox entries. Running it twice changes nothing."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from modules.training import services
from modules.training.models import Curriculum, TargetGroup
from modules.training.schemas import (
    AnswerInput,
    CurriculumInput,
    ProfileInput,
    RatingInput,
    SelfAssessmentInput,
    SessionInput,
    UnitInput,
)

# The Action's responsible partners first (Unione Romagna Faentina leads; Faenza is its main town).
CITY_NAMES = ("Mechelen", "Faenza", "Nice", "Madrid", "Helsinki")
JOINT_TITLE = "Integrated urban security for local police and social services"
COMMUNITY_TITLE = "Neighbourhood watch and volunteers: engaging the community"
FIRST_NAMES = ("Anna", "Luca", "Marie", "Jonas", "Elena", "Pieter", "Sofia", "Tom", "Giulia", "Lotte", "Marco", "Inès")


async def _cities(session: AsyncSession) -> list[City]:
    found: list[City] = []
    for name in CITY_NAMES:
        city = await session.scalar(select(City).where(City.name == name).order_by(City.population.desc()).limit(1))
        if city is not None:
            found.append(city)
    if len(found) < 2:
        found += [c for c in await session.scalars(select(City).order_by(City.name).limit(3)) if c not in found]
    return found


async def load(session: AsyncSession) -> None:
    await services.ensure_matrix(session)
    if not await session.scalar(select(TargetGroup.id).where(TargetGroup.key == "urban_security_coordinator")):
        await services.add_profile(
            session,
            ProfileInput(
                key="urban_security_coordinator",
                title="Urban Security Coordinator",
                family="New professional positions",
                knowledge="advanced",
                know_how="advanced",
                interpersonal="advanced",
            ),
            actor=None,
        )
    if await session.scalar(select(Curriculum.id).where(Curriculum.title == JOINT_TITLE)):
        return
    cities = await _cities(session)
    if len(cities) < 2:
        return
    lead, partner = cities[0], cities[1]
    rng = random.Random(4)

    joint = await services.create_curriculum(
        session,
        lead.id,
        CurriculumInput(
            title=JOINT_TITLE,
            summary="A joint pilot curriculum of the Action's partners: prevention law, integrated work in public "
            "spaces and citizen engagement for officers and social workers who patrol and serve the same streets.",
            target_groups=["local_police", "social_services"],
            partner_city_ids=[partner.id],
        ),
        actor=None,
    )
    for title, group, area, level, hours, method in (
        (
            "Prevention law from the region to the street",
            "local_police",
            "knowledge",
            "advanced",
            8,
            "Lecture and case law",
        ),
        ("Reading social conflict in public spaces", "local_police", "know_how", "advanced", 6, "Walk-through"),
        ("Making a qualified warning", "local_police", "interpersonal", "intermediate", 4, "Role play"),
        ("Working in a mixed police-social team", "social_services", "know_how", "advanced", 6, "Joint case study"),
    ):
        await services.add_unit(
            session,
            joint,
            UnitInput(
                title=title,
                target_group=group,
                area=area,
                level=level,
                hours=hours,
                method=method,
                learning_outcomes="Participants can apply this in their daily work with partners.",
            ),
            actor=None,
        )
    await services.submit_for_review(session, joint, actor=None)
    await services.review_curriculum(session, joint, approve=True, actor=None)

    community = await services.create_curriculum(
        session,
        partner.id,
        CurriculumInput(
            title=COMMUNITY_TITLE,
            summary="Perceived insecurity, qualified warnings and cooperation with the local police for residents.",
            target_groups=["neighbourhood_watch", "volunteers"],
        ),
        actor=None,
    )
    await services.add_unit(
        session,
        community,
        UnitInput(
            title="What makes people feel unsafe",
            target_group="neighbourhood_watch",
            area="interpersonal",
            level="basic",
            hours=3,
            method="Workshop",
        ),
        actor=None,
    )
    await services.submit_for_review(session, community, actor=None)

    # Two evaluated pilots and one still open.
    for city, title, start, capacity, answers, feedback in (
        (
            lead,
            "Pilot 1 — police and social services",
            date(2025, 3, 10),
            12,
            9,
            "More time for the joint case study; invite the national police to the cooperation unit.",
        ),
        (partner, "Pilot 2 — police and social services", date(2025, 5, 19), 10, 7, ""),
    ):
        ts = await services.create_session(
            session,
            city.id,
            SessionInput(
                curriculum_id=joint.id,
                title=title,
                starts_on=start,
                ends_on=start,
                place=f"Town hall, {city.name}",
                trainers="Efus trainers with the city's police commander",
                capacity=capacity,
            ),
            actor=None,
        )
        people = []
        for i in range(capacity + 1):  # one more than fits: the last one waits
            people.append(
                await services.register_participant(
                    session,
                    ts,
                    name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {chr(65 + i)}.",
                    target_group="local_police" if i % 2 else "social_services",
                    actor=None,
                )
            )
        await services.set_attendance(session, ts, {p.id for p in people[:-2]}, actor=None)
        for person in people[:answers]:
            await services.answer_questionnaire(
                session,
                person.token,
                AnswerInput(
                    relevance=rng.choice((4, 5, 5)),
                    quality=rng.choice((3, 4, 5)),
                    trainers=rng.choice((4, 5)),
                    organisation=rng.choice((3, 4, 4)),
                    applicability=rng.choice((3, 4, 5)),
                    liked=rng.choice(("", "Meeting colleagues from social services.", "The walk through the square.")),
                    improve=rng.choice(("", "Longer breaks.", "More concrete cases.")),
                ),
            )
        await services.close_questionnaire(session, ts, actor=None)
        if feedback:
            await services.record_feedback_actions(session, ts, feedback, actor=None)
    upcoming = await services.create_session(
        session,
        lead.id,
        SessionInput(
            curriculum_id=joint.id,
            title="Pilot 3 — online follow-up",
            starts_on=date(2026, 2, 2),
            ends_on=date(2026, 2, 3),
            online=True,
            trainers="Regione Toscana training school",
            capacity=25,
        ),
        actor=None,
    )
    for name in ("Marta R.", "Koen D."):
        await services.register_participant(session, upcoming, name=name, target_group="local_police", actor=None)

    # Self-assessments of the lead city's local police, some with a supervisor's rating.
    levels = ("basic", "intermediate", "advanced")
    for i in range(7):
        sa = await services.start_self_assessment(
            session, lead.id, SelfAssessmentInput(target_group="local_police"), user_id=None, actor=None
        )
        # rated topic by topic (each area's level follows from its topics)
        topics = {
            f"topic.{area['key']}.{topic['key']}": levels[(i + n + a) % 3 if a == 0 else (i + n) % 2]
            for a, area in enumerate(services.areas())
            for n, topic in enumerate(area["topics"])
        }
        await services.rate_self(session, sa, RatingInput.model_validate(topics))
        if i % 3 == 0:
            await services.rate_by_supervisor(
                session,
                sa,
                RatingInput(knowledge="basic", know_how="intermediate", interpersonal="basic"),
                actor=None,
            )

    for key, title, link in (
        (
            "dg-regio-competency-framework",
            "DG REGIO EU Competency Framework and self-assessment tool",
            "https://ec.europa.eu/regional_policy/en/policy/how/improving-investment/competency/",
        ),
        ("efus-manifesto-2017", "Efus Manifesto: Security, Democracy and Cities (2017)", "https://efus.eu/"),
    ):
        entry = await services.add_toolbox_entry(session, source="partnership", source_key=key, title=title, link=link)
        await services.attach_toolbox_entry(session, joint, entry.id, actor=None)
