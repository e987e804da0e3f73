"""One seeded world for the security tests: two cities (A and B) holding one of everything every module keeps,
the people of the authorisation matrix, and a script payload in every free-text field a user can set.

Built through the services (the same rules as the forms and the API), once per backend, then shared by the
authorisation matrix, the CSRF, header and XSS crawls.
"""

from __future__ import annotations

import io
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import services as accounts
from covenant.accounts.identity import Identity
from covenant.accounts.models import RoleGrant, User
from covenant.calendar import services as calendar
from covenant.calendar.schemas import DeadlineForm, EditionForm, RegistrationForm, SessionForm
from covenant.cities import services as cities
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.cities.schemas import CityProfileForm, InvitationForm, MunicipalityForm
from covenant.commitments import services as commitments
from covenant.commitments.schemas import CommitmentInput, ProgressInput
from covenant.config import Settings
from covenant.db import transaction
from covenant.events.models import DeadLetter
from covenant.monitoring import report as monitoring_report
from covenant.monitoring import services as monitoring
from covenant.monitoring.models import DelayRequest, MonitoringSection, Notice
from covenant.monitoring.schemas import CycleInput, DelayInput
from covenant.notifications.models import MailMessage
from covenant.plugins import ModuleRegistry
from modules.ai_review import rules
from modules.ai_review import services as ai_review
from modules.ai_review.schemas import (
    LegalDevelopmentInput,
    PublishInput,
    ReviewInput,
    SurveyInput,
    TechnologyInput,
)
from modules.assessment import services as assessment
from modules.assessment.demo import synthetic_answer
from modules.cohesion import services as cohesion
from modules.cohesion.schemas import (
    EvaluationPlanInput,
    GlossaryInput,
    InitiativeInput,
    LessonInput,
    MeasureInput,
    RubricInput,
    SwotEntryInput,
    VerdictInput,
    WaveInput,
)
from modules.funding import services as funding
from modules.funding.schemas import AdvocacyInput, ApplicationInput, CallInput
from modules.practices import services as practices
from modules.practices.schemas import CampaignInput, FicheInput, IndicatorInput
from modules.practices.schemas import ReviewInput as FicheReview
from modules.training import services as training
from modules.training.schemas import CurriculumInput, SelfAssessmentInput, SessionInput, UnitInput

MODULES = ("funding", "ai_review", "training", "cohesion", "practices", "assessment")
OTHER_MODULE = "elsewhere"
"""The one module of contributor_without: none the app has, so every module's routes are another's to them."""
YEAR = date.today().year
PASSWORD = "correct horse battery staple"


class Payloads:
    """A distinct script payload per field, so a test can tell which one came back and how."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.fields: dict[str, str] = {}

    def __call__(self, label: str, max_length: int = 200) -> str:
        n = next(self._counter)
        value = f'"><script>x({n})</script>' if max_length >= 30 else f"<script>x({n})</script>"
        assert len(value) <= max_length, label
        self.fields[label] = value
        return value

    @staticmethod
    def escaped_marker(value: str) -> str:
        """How the payload's tag reads once escaped by the templates."""
        start = value.index("<script>")
        return value[start:].replace("<", "&lt;").replace(">", "&gt;").split("&lt;/")[0]


RAW_MARKER = "<script>x("
"""Never to be found in an HTML page: it would run."""


@dataclass
class Person:
    key: str
    email: str
    user_id: UUID
    api_token: str = ""


@dataclass
class World:
    a: UUID
    b: UUID
    ids: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    """Per city: path parameter → the id of that city's resource."""
    shared: dict[str, Any] = field(default_factory=dict)
    """Path parameters of resources that belong to no city."""
    people: dict[str, Person] = field(default_factory=dict)
    payloads: Payloads = field(default_factory=Payloads)

    def extra_pages(self) -> list[tuple[str, str]]:
        """Public pages of the published resources (the matrix visits the drafts)."""
        pages = []
        for city in (self.a, self.b):
            ids = self.ids[city]
            pages += [
                ("/m/practices/fiches/{fiche_id:uuid}", f"/m/practices/fiches/{ids['published_fiche_id']}"),
                (
                    "/m/ai_review/technologies/{technology_id:uuid}",
                    f"/m/ai_review/technologies/{ids['published_technology_id']}",
                ),
            ]
        return pages


def png(size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _city(session: AsyncSession, name: str, country: str, population: int) -> City:
    city = City(
        name=name,
        country_code=country,
        population=population,
        size_class=SizeClass.of(population),
        region="",
        authority_type="group",
    )
    session.add(city)
    await session.flush()
    session.add(
        Membership(
            city_id=city.id,
            status=MembershipStatus.signatory,
            adhesion_date=date(2024, 1, 15),
            mayor="Mayor",
            contact_name="Contact",
            contact_email=f"contact@{name.lower()}.example",
            applied_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return city


async def _person(
    session: AsyncSession, world: World, key: str, email: str, roles: list[tuple[str, dict[str, Any]]]
) -> User:
    user = await accounts.create_user(session, email=email, display_name=key, password=PASSWORD, actor=None)
    for role, scope in roles:
        await accounts.grant_role(session, user, role=role, actor=None, **scope)  # type: ignore[arg-type]
    token = await accounts.create_api_token(session, user, name="matrix", expires_at=None, actor=None)
    world.people[key] = Person(key, email, user.id, token.secret)
    return user


async def build_world(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> World:
    var_dir, secret_key = settings.var_dir, settings.resolved_secret_key()
    from modules.training import services as training_services

    async with transaction(sessions) as session:
        a = await _city(session, "Nice", "FR", 342_000)
        b = await _city(session, "Riga", "LV", 605_000)
    world = World(a=a.id, b=b.id)
    p = world.payloads
    async with transaction(sessions) as session:
        await funding.load_programmes(session)
        await training_services.ensure_matrix(session)
        await cohesion.ensure_glossary(session)
        await ai_review.load_legal_seed(session)
        await _person(session, world, "admin", "admin@matrix.eu", [("admin", {})])
        await _person(
            session,
            world,
            "contributor",
            "contributor@a.eu",
            [("contributor", {"city_id": a.id, "modules": list(MODULES)})],
        )
        await _person(
            session,
            world,
            "contributor_without",
            "other-module@a.eu",
            [("contributor", {"city_id": a.id, "modules": [OTHER_MODULE]})],
        )
        await _person(session, world, "mayor", "mayor@a.eu", [("mayors_office", {"city_id": a.id})])
        for slug in MODULES:
            await _person(
                session, world, f"reviewer:{slug}", f"reviewer-{slug}@matrix.eu", [("reviewer", {"module": slug})]
            )
        # People the matrix acts upon (their grants are revoked, their tokens revoked): never a visitor.
        subject_b = await _person(session, world, "subject_b", "subject@b.eu", [])
        await calendar.create_edition(
            session,
            EditionForm(
                year=YEAR + 1,
                title=p("edition.title"),
                starts_on=date(YEAR + 1, 6, 1),
                ends_on=date(YEAR + 1, 6, 3),
                venue=p("edition.venue"),
                theme=p("edition.theme"),
                description=p("edition.description"),
                status="registration_open",
                capacity=100,
            ),
            actor=None,
        )
    admin = Identity(user_id=world.people["admin"].user_id, email="admin@matrix.eu")
    for city in (a, b):
        world.ids[city.id] = {"city_id": city.id}
        await _seed_city(sessions, world, city.id, settings, admin, p)
    await _seed_shared(sessions, world, var_dir, admin, p, subject_b)
    await _seed_assessment(sessions, world, admin)
    await _seed_monitoring(sessions, world, admin, p)
    async with transaction(sessions) as session:
        world.shared["feed"] = await calendar.feed_token(session, world.people["contributor"].user_id, secret_key)
    return world


async def _seed_city(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    city_id: UUID,
    settings: Settings,
    admin: Identity,
    p: Payloads,
) -> None:
    var_dir, base_url = settings.var_dir, settings.base_url
    ids = world.ids[city_id]
    tag = "A" if city_id == world.a else "B"
    async with transaction(sessions) as session:
        city = await session.get(City, city_id)
        assert city is not None
        await cities.update_profile(
            session,
            city,
            CityProfileForm(
                name=city.name,
                country_code=city.country_code,
                region=p(f"city{tag}.region", 160),
                population=city.population,
                website="https://example.eu/",
                mayor=p(f"city{tag}.mayor", 160),
                contact_name=p(f"city{tag}.contact_name", 160),
                contact_email=f"contact@{city.name.lower()}.example",
            ),
            actor=admin,
        )
        member = await cities.invite(
            session,
            city,
            InvitationForm(email=f"team-{tag.lower()}@city.eu", display_name=p(f"team{tag}.display_name", 120)),
            actor=admin,
            base_url=base_url,
            known_modules=MODULES,
        )
        ids["grant_id"] = member.grant_id
        municipality = await cities.add_municipality(
            session, city, MunicipalityForm(name=p(f"municipality{tag}.name", 160), population=1000), actor=admin
        )
        ids["municipality_id"] = municipality.id
        membership = await cities.membership_of(session, city_id)
        assert membership is not None
        membership.letter_file = cities.store_letter(settings, PDF)
        fields = {
            "title": p(f"commitment{tag}.title"),
            "description": p(f"commitment{tag}.description"),
            "priority": "urban_planning",
            "indicator": p(f"commitment{tag}.indicator"),
            "unit": p(f"commitment{tag}.unit", 40),
            "baseline": 0,
            "target_value": 10,
            "start_date": "2025-01-01",
            "due_date": "2027-12-31",
        }
        c = await commitments.create_commitment(
            session, city_id, CommitmentInput.model_validate(fields), actor=admin, known_modules=MODULES
        )
        await commitments.publish_commitment(session, c, actor=admin)
        await commitments.add_progress(
            session,
            c,
            ProgressInput(reported_on=date.today(), percentage=20, narrative=p(f"progress{tag}.narrative")),
            actor=admin,
        )
        ids["commitment_id"] = c.id

    # -- funding
    async with transaction(sessions) as session:
        application = await funding.create_application(
            session,
            city_id,
            ApplicationInput(
                title=p(f"application{tag}.title"), programme="ISF-POLICE", notes=p(f"application{tag}.notes")
            ),
            actor=admin,
        )
        ids["application_id"] = application.id

    # -- ai_review: a draft entry (the matrix's) and a published one (for the public pages)
    async with transaction(sessions) as session:
        draft = await ai_review.create_technology(session, city_id, _technology(p, f"technology{tag}"), actor=admin)
        ids["technology_id"] = draft.id
        public = await ai_review.create_technology(session, city_id, _technology(p, f"published{tag}"), actor=admin)
        ids["published_technology_id"] = public.id
        answers = {q.key: False for q in rules.QUESTIONS if q.kind == "yesno"}
        answers.update({"is_ai_system": True, "necessity_argued": True, "retention_bounded": True})
        await ai_review.save_review(session, public, ReviewInput(answers=answers), actor=admin)
        await ai_review.publish_technology(
            session, public, PublishInput(sensitive_information_removed=True), actor=admin
        )
        await ai_review.answer_survey(
            session,
            city_id,
            SurveyInput(
                year=YEAR,
                ratings={key: 1 for key, _label in ai_review.BOTTLENECKS},
                quote=p(f"survey{tag}.quote"),
                quote_public=True,
                name_public=True,
            ),
            actor=admin,
        )

    # -- training
    async with transaction(sessions) as session:
        curriculum = await training.create_curriculum(
            session,
            city_id,
            CurriculumInput(
                title=p(f"curriculum{tag}.title"), summary=p(f"curriculum{tag}.summary"), target_groups=["local_police"]
            ),
            actor=admin,
        )
        await training.add_unit(
            session,
            curriculum,
            UnitInput(
                title=p(f"unit{tag}.title"),
                target_group="local_police",
                area="knowledge",
                level="advanced",
                learning_outcomes=p(f"unit{tag}.learning_outcomes"),
                method=p(f"unit{tag}.method"),
                materials=p(f"unit{tag}.materials"),
            ),
            actor=admin,
        )
        ids["curriculum_id"] = curriculum.id
        ts = await training.create_session(
            session,
            city_id,
            SessionInput(
                curriculum_id=curriculum.id,
                title=p(f"session{tag}.title"),
                starts_on=date.today() - timedelta(days=3),
                ends_on=date.today() - timedelta(days=2),
                place=p(f"session{tag}.place"),
                trainers=p(f"session{tag}.trainers"),
            ),
            actor=admin,
        )
        person = await training.register_participant(
            session, ts, name=p(f"participant{tag}.name"), email=f"trainee@{tag.lower()}.eu", actor=admin
        )
        await training.record_feedback_actions(session, ts, p(f"session{tag}.feedback_actions"), actor=admin)
        ids["training_session_id"] = ts.id
        ids["questionnaire_token"] = person.token
        owner = world.people["contributor"] if tag == "A" else None
        sa = await training.start_self_assessment(
            session,
            city_id,
            SelfAssessmentInput(target_group="local_police"),
            user_id=owner.user_id if owner else None,
            actor=admin,
        )
        ids["assessment_id"] = sa.id
        ids["self_token"] = sa.token

    # -- cohesion
    async with transaction(sessions) as session:
        measure = await cohesion.create_measure(
            session,
            city_id,
            MeasureInput(
                name=p(f"measure{tag}.name"),
                description=p(f"measure{tag}.description"),
                level="specific",
                target_group=p(f"measure{tag}.target_group"),
                area=p(f"measure{tag}.area"),
            ),
            actor=admin,
        )
        ids["measure_id"] = measure.id
        evaluation = await cohesion.select_measure(session, measure, actor=admin)
        await cohesion.save_plan(
            session,
            evaluation,
            EvaluationPlanInput(
                problem_analysis=p(f"evaluation{tag}.problem_analysis"),
                objectives=p(f"evaluation{tag}.objectives"),
                indicators=["feeling_of_insecurity"],
                design="pre_post",
            ),
            actor=admin,
        )
        for wave, mean in ((0, 3.2), (1, 2.8)):
            await cohesion.add_wave(
                session,
                evaluation,
                WaveInput(indicator="feeling_of_insecurity", wave=wave, mean=mean, sd=0.9, n=200),
                actor=admin,
            )
        await cohesion.complete_evaluation(
            session,
            evaluation,
            measure,
            VerdictInput(verdict="continue", reasons=p(f"evaluation{tag}.reasons")),
            actor=admin,
        )
        initiative = await cohesion.create_initiative(
            session,
            city_id,
            InitiativeInput(title=p(f"initiative{tag}.title"), problem=p(f"initiative{tag}.problem")),
            actor=admin,
        )
        ids["initiative_id"] = initiative.id
        await cohesion.score_initiative(
            session,
            initiative,
            RubricInput(
                scored_on=date.today(),
                common_agenda=3,
                shared_measurement=2,
                mutually_reinforcing_activities=3,
                continuous_communication=2,
                backbone_support=1,
                champion=3,
                resources=2,
                urgency=3,
                notes=p(f"rubric{tag}.notes"),
            ),
            actor=admin,
        )
        board = await cohesion.create_board(
            session, p(f"board{tag}.title"), city_id=city_id, initiative_id=initiative.id, actor=admin
        )
        ids["board_id"] = board.id
        entry = await cohesion.add_entry(
            session, board, SwotEntryInput(quadrant="strengths", text=p(f"swot{tag}.text")), actor=admin
        )
        ids["entry_id"] = entry.id
        await cohesion.publish_lesson(
            session,
            city_id,
            LessonInput(title=p(f"lesson{tag}.title"), body=p(f"lesson{tag}.body"), initiative_id=initiative.id),
            actor=admin,
        )

    # -- practices: a draft fiche with an indicator, an image and a document; and a published one
    directory = var_dir / "uploads" / "practices"
    async with transaction(sessions) as session:
        fiche = await practices.create_fiche(session, city_id, _fiche(p, f"fiche{tag}"), actor=admin)
        ids["fiche_id"] = fiche.id
        await practices.add_indicator(session, fiche, _indicator(p, f"indicator{tag}"), actor=admin)
        image = await practices.add_image(
            session,
            fiche,
            stage="before",
            caption=p(f"image{tag}.caption"),
            alt_text=p(f"image{tag}.alt_text"),
            raw=png(),
            directory=directory,
            actor=admin,
        )
        ids["image_id"] = image.id
        document = await practices.add_document(
            session,
            fiche,
            title=p(f"document{tag}.title"),
            original_name="<script>.pdf",
            raw=PDF,
            directory=directory,
            actor=admin,
        )
        ids["document_id"] = document.id
        published = await practices.create_fiche(session, city_id, _fiche(p, f"publishedfiche{tag}"), actor=admin)
        await practices.add_indicator(session, published, _indicator(p, f"publishedindicator{tag}"), actor=admin)
        await practices.add_image(
            session,
            published,
            stage="after",
            caption=p(f"publishedimage{tag}.caption"),
            alt_text=p(f"publishedimage{tag}.alt_text"),
            raw=png(),
            directory=directory,
            actor=admin,
        )
        await practices.submit_fiche(session, published, actor=admin)
        await practices.review_fiche(
            session, published, FicheReview(decision="comment", body=p(f"review{tag}.body")), actor=admin
        )
        await practices.publish_fiche(session, published, actor=admin)
        ids["published_fiche_id"] = published.id

    # -- convention delegates and deadlines
    async with transaction(sessions) as session:
        edition = await calendar.edition_by_year(session, YEAR + 1)
        assert edition is not None
        registration = await calendar.register_delegate(
            session,
            edition,
            city_id,
            RegistrationForm(
                name=p(f"delegate{tag}.name", 160),
                email=f"delegate@{tag.lower()}.eu",
                role=p(f"delegate{tag}.role", 120),
            ),
            actor=admin,
        )
        ids["registration_id"] = registration.id
        deadline = await calendar.create_deadline(
            session,
            DeadlineForm(
                title=p(f"deadline{tag}.title"),
                due_on=date.today() + timedelta(days=30),
                audience="city",
                city_id=city_id,
                description=p(f"deadline{tag}.description"),
            ),
            actor=admin,
        )
        ids["deadline_id"] = deadline.id


def _technology(p: Payloads, label: str) -> TechnologyInput:
    return TechnologyInput.model_validate(
        {
            "name": p(f"{label}.name"),
            "short_description": p(f"{label}.short_description", 150),
            "description": p(f"{label}.description"),
            "category": "sound_detection",
            "purpose": p(f"{label}.purpose"),
            "department": p(f"{label}.department"),
            "contact": p(f"{label}.contact"),
            "supplier": p(f"{label}.supplier"),
            "status": "pilot",
            "spaces": p(f"{label}.spaces"),
            "data_subjects": p(f"{label}.data_subjects"),
            "retention": p(f"{label}.retention"),
            "legal_basis": p(f"{label}.legal_basis"),
            "human_oversight": p(f"{label}.human_oversight"),
            "alternatives": p(f"{label}.alternatives"),
            "complaint_channel": p(f"{label}.complaint_channel"),
            "visibility": "public",
        }
    )


def _fiche(p: Payloads, label: str) -> FicheInput:
    return FicheInput.model_validate(
        {
            "title": p(f"{label}.title"),
            "project": p(f"{label}.project"),
            "summary": p(f"{label}.summary"),
            "place_kind": "square",
            "problem": p(f"{label}.problem"),
            "measures": ["street_furniture"],
            "partnership": p(f"{label}.partnership"),
            "outcome": p(f"{label}.outcome"),
            "cost_range": "100k_1m",
            "difficulties": p(f"{label}.difficulties"),
            "lessons": p(f"{label}.lessons"),
            "links": ["https://example.eu/"],
            "tags": [p(f"{label}.tag", 40)],
            "language": "en",
            "year": 2021,
        }
    )


def _indicator(p: Payloads, label: str) -> IndicatorInput:
    return IndicatorInput(
        name=p(f"{label}.name"),
        unit=p(f"{label}.unit", 40),
        baseline_value=12,
        baseline_date=date(2019, 1, 1),
        after_value=0,
        after_date=date(2021, 6, 1),
    )


async def _seed_shared(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    var_dir: Path,
    admin: Identity,
    p: Payloads,
    subject_b: User,
) -> None:
    shared = world.shared
    async with transaction(sessions) as session:
        edition = await calendar.edition_by_year(session, YEAR + 1)
        assert edition is not None
        shared["year"] = edition.year
        agenda = await calendar.add_session(
            session,
            edition,
            SessionForm(
                title=p("agenda.title"),
                starts_at=datetime(edition.year, 6, 2, 9, 0, tzinfo=UTC),
                ends_at=datetime(edition.year, 6, 2, 10, 0, tzinfo=UTC),
                room=p("agenda.room", 120),
                speakers=p("agenda.speakers"),
                description=p("agenda.description"),
            ),
            actor=admin,
        )
        shared["convention_session_id"] = agenda.id
        (call, _) = await funding.save_call(
            session,
            CallInput.model_validate(
                {
                    "identifier": "ISF-MATRIX",
                    "title": p("call.title"),
                    "programme": "ISF-POLICE",
                    "description": p("call.description"),
                    "opening_date": (date.today() - timedelta(days=5)).isoformat(),
                    "deadlines": [(date.today() + timedelta(days=40)).isoformat()],
                    "action_type": p("call.action_type", 80),
                    "themes": ["public_spaces"],
                    "applicant_types": ["local_authority"],
                }
            ),
            actor=admin,
        )
        shared["call_id"] = call.id
        advocacy = await funding.create_advocacy(
            session,
            AdvocacyInput(kind="position_paper", title=p("advocacy.title"), summary=p("advocacy.summary")),
            actor=admin,
        )
        funding.store_document(var_dir, advocacy, PDF, "<script>.pdf")
        await funding.cosign(session, advocacy, world.a, actor=admin)
        shared["advocacy_id"] = advocacy.id
        development = await ai_review.add_legal_development(
            session,
            LegalDevelopmentInput(
                country_code="FR",
                kind="court_decision",
                decided_on=date(2024, 5, 1),
                category="sound_detection",
                stance="restrictive",
                title=p("legal.title"),
                authority=p("legal.authority"),
                summary=p("legal.summary"),
            ),
            actor=admin,
        )
        shared["development_id"] = development.id
        term = await cohesion.get_term(session, "social_cohesion")
        assert term is not None
        shared["glossary_key"] = term.key
        await cohesion.update_term(
            session,
            term,
            GlossaryInput(term_en=p("glossary.term_en", 100), definition_en=p("glossary.definition_en")),
            actor=admin,
        )
        campaign = await practices.create_campaign(
            session,
            CampaignInput(
                title=p("campaign.title"), message=p("campaign.message"), deadline=date.today() + timedelta(days=30)
            ),
            actor=admin,
        )
        shared["campaign_id"] = campaign.id
        await training.add_toolbox_entry(
            session, source="security", source_key="x", title=p("toolbox.title"), summary=p("toolbox.summary")
        )
        # The admin's own things, and another person's (for routes keyed by a user or a token).
        subject = await session.get(User, subject_b.id)
        assert subject is not None
        await accounts.grant_role(session, subject, role="contributor", city_id=world.b, actor=admin)
        await session.flush()
        shared["user_id"] = subject.id
        shared["user_grant_id"] = await session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == subject.id))
        token = await accounts.create_api_token(
            session, subject_b, name=p("token.name", 80), expires_at=None, actor=None
        )
        shared["token_id"] = token.token.id
        mail = (await session.scalars(select(MailMessage).limit(1))).first()
        assert mail is not None
        shared["mail_id"] = mail.id
        letter = DeadLetter(
            event_id=uuid4(),
            event_name="commitment.published",
            subscriber="funding.match_commitment",
            queue="funding",
            message={},
            error=p("dead_letter.error"),
        )
        session.add(letter)
        await session.flush()
        shared["letter_id"] = letter.id


async def _seed_assessment(sessions: async_sessionmaker[AsyncSession], world: World, admin: Identity) -> None:
    """A submitted (hence scored) self-assessment of the current year for each city."""
    rng = random.Random("matrix")
    for city_id in (world.a, world.b):
        async with transaction(sessions) as session:
            city = await session.get(City, city_id)
            assert city is not None
            current = await assessment.survey(session, city, YEAR)
            indicators = [i for i in current.framework.indicators_for(city.size_class) if i.source_event is None]
            raws = {i.code: synthetic_answer(i, 0.5, city.population, rng) for i in indicators}
            response = await assessment.save_answers(session, city, YEAR, raws, actor=admin)
            await assessment.submit(session, city, YEAR, actor=admin)
            world.shared["version_id"] = response.framework_version_id
            world.shared["code"] = indicators[0].code


async def _seed_monitoring(
    sessions: async_sessionmaker[AsyncSession], world: World, admin: Identity, p: Payloads
) -> None:
    """Last year's cycle, closed with its report published; this year's, open (sections for A and B), with a
    delay request and a written notice per city and a compiled (unpublished) report."""
    from tests.platform.security.crawl import all_modules

    registry = ModuleRegistry(all_modules())

    def dates(year: int) -> CycleInput:
        return CycleInput(
            year=year,
            opens_on=date(year, 2, 1),
            submission_deadline=date(year, 10, 31),
            validation_deadline=date(year, 12, 15),
        )

    async with transaction(sessions) as session:
        last = await monitoring.create_cycle(session, dates(YEAR - 1), registry=registry, actor=admin)
        await monitoring.open_cycle(session, last, registry=registry, actor=admin)
        await monitoring.close_cycle(session, last, confirm=True, actor=admin)
        report = await monitoring_report.compile_report(session, last, registry=registry, actor=admin)
        await monitoring_report.publish_report(session, report, last, actor=admin)
        world.shared["report_year"] = YEAR - 1
    async with transaction(sessions) as session:
        cycle = await monitoring.create_cycle(session, dates(YEAR), registry=registry, actor=admin)
        await monitoring.open_cycle(session, cycle, registry=registry, actor=admin)
        for city_id in (world.a, world.b):
            tag = "A" if city_id == world.a else "B"
            await monitoring.request_delay(
                session,
                cycle,
                city_id,
                DelayInput(requested_until=date(YEAR, 11, 30), reason=p(f"delay{tag}.reason")),
                actor=admin,
                today=date(YEAR, 3, 1),
            )
        await monitoring.send_notices(session, cycle, actor=admin, today=date(YEAR, 12, 16))
        await monitoring_report.compile_report(session, cycle, registry=registry, actor=admin)
        for city_id in (world.a, world.b):
            ids = world.ids[city_id]
            ids["section_id"] = await session.scalar(
                select(MonitoringSection.id)
                .where(MonitoringSection.cycle_id == cycle.id, MonitoringSection.city_id == city_id)
                .limit(1)
            )
            ids["delay_id"] = await session.scalar(
                select(DelayRequest.id).where(DelayRequest.cycle_id == cycle.id, DelayRequest.city_id == city_id)
            )
            ids["notice_id"] = await session.scalar(
                select(Notice.id).where(Notice.cycle_id == cycle.id, Notice.city_id == city_id)
            )
            for key in ("section_id", "delay_id", "notice_id"):
                assert ids[key] is not None, (key, city_id)
