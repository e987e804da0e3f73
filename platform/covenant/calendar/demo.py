"""Demo content of the convention calendar: the 2025 convention in Nice (held), the 2027 one in Mechelen
(open for registration) with a realistic agenda and a few delegates, and the yearly deadlines.

Runs after the cities' demo (it looks the host cities up by name and skips what is missing); running it
twice changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.calendar import services
from covenant.calendar.models import ConventionEdition, EditionStatus, Registration
from covenant.calendar.schemas import EditionForm, RegistrationForm, SessionForm
from covenant.cities.models import City

EDITIONS: list[dict[str, object]] = [
    {
        "host": "Nice",
        "form": {
            "year": 2025,
            "title": "Covenant Convention 2025 · Nice",
            "starts_on": date(2025, 10, 8),
            "ends_on": date(2025, 10, 9),
            "timezone": "Europe/Paris",
            "venue": "Palais des congrès Acropolis",
            "theme": "Protecting public spaces while keeping them open",
            "description": "The first convention of the signatories, hosted by the city that leads the Partnership.",
            "status": EditionStatus.held,
            "capacity": 180,
        },
        "sessions": [
            (
                "2025-10-08T09:30",
                "2025-10-08T10:30",
                "Opening: the Covenant one year on",
                "Plenary hall",
                "Mayor of Nice; European Commission, DG HOME",
            ),
            (
                "2025-10-08T11:00",
                "2025-10-08T12:30",
                "Security by design in squares and promenades",
                "Room Matisse",
                "Urban planners of Nice and Mechelen",
            ),
            (
                "2025-10-08T14:00",
                "2025-10-08T15:30",
                "Video surveillance and the AI Act: what cities may deploy",
                "Room Chagall",
                "Riga municipal police; a data protection authority",
            ),
            (
                "2025-10-09T09:30",
                "2025-10-09T11:00",
                "Funding your protective measures: ISF, ERDF and the Urban Initiative",
                "Room Matisse",
                "European Urban Initiative secretariat",
            ),
            (
                "2025-10-09T11:30",
                "2025-10-09T12:30",
                "Closing: commitments for the next year",
                "Plenary hall",
                "Signatory mayors",
            ),
        ],
        "delegates": [],
    },
    {
        "host": "Mechelen",
        "form": {
            "year": 2027,
            "title": "Covenant Convention 2027 · Mechelen",
            "starts_on": date(2027, 5, 19),
            "ends_on": date(2027, 5, 20),
            "timezone": "Europe/Brussels",
            "venue": "Lamot Congress Centre",
            "theme": "Safe and inclusive public spaces: from risk assessment to social cohesion",
            "description": "Two days of exchange between signatory cities, the Partnership and the EU institutions.",
            "status": EditionStatus.registration_open,
            "capacity": 150,
        },
        "sessions": [
            (
                "2027-05-19T09:00",
                "2027-05-19T10:00",
                "Welcome and the state of the Covenant",
                "Main hall",
                "Mayor of Mechelen; Covenant secretariat",
            ),
            (
                "2027-05-19T10:30",
                "2027-05-19T12:00",
                "Security by design: lessons from the practice fiches",
                "Room Dijle",
                "Helsinki city planning; Métropole Européenne de Lille",
            ),
            (
                "2027-05-19T13:30",
                "2027-05-19T15:00",
                "AI and surveillance under the AI Act: risk classes in practice",
                "Room Dijle",
                "Regione Toscana; an AI governance researcher",
            ),
            (
                "2027-05-19T15:30",
                "2027-05-19T17:00",
                "Funding calls for protective measures in 2027-2028",
                "Room Zenne",
                "European Urban Initiative; Brussels-Capital Region",
            ),
            (
                "2027-05-20T09:00",
                "2027-05-20T10:30",
                "Training city staff: curricula and pilot results",
                "Room Zenne",
                "Unione della Romagna Faentina; training partners",
            ),
            (
                "2027-05-20T11:00",
                "2027-05-20T12:30",
                "Social cohesion: measuring what protective measures do to a neighbourhood",
                "Main hall",
                "Madrid; Mechelen social services",
            ),
            (
                "2027-05-20T14:00",
                "2027-05-20T15:00",
                "Closing: the signatories' commitments for 2028",
                "Main hall",
                "Signatory mayors",
            ),
        ],
        "delegates": [
            ("Nice", "Élodie Martin", "elodie.martin@nice.example.eu", "Deputy mayor for security"),
            ("Madrid", "Javier Ortega", "javier.ortega@madrid.example.eu", "Head of urban planning"),
            ("Helsinki", "Aino Virtanen", "aino.virtanen@hel.example.eu", "Safety coordinator"),
            ("Mechelen", "Pieter Janssens", "pieter.janssens@mechelen.example.eu", "Mayor's chief of staff"),
        ],
    },
]

DEADLINES: list[dict[str, object]] = [
    {
        "key": "monitoring-2025",
        "title": "Monitoring submission 2025",
        "due_on": date(2026, 3, 31),
        "description": "Each signatory submits its yearly monitoring report for 2025.",
        "link": "/convention",
    },
    {
        "key": "monitoring-2026",
        "title": "Monitoring submission 2026",
        "due_on": date(2027, 3, 31),
        "description": "Each signatory submits its yearly monitoring report: commitments and module sections.",
        "link": "/convention",
    },
    {
        "key": "convention-2027-registration",
        "title": "Registration for the 2027 convention closes",
        "due_on": date(2027, 4, 30),
        "description": "Register your city's delegates for the convention in Mechelen.",
        "link": "/convention/2027",
    },
    {
        "key": "monitoring-report-2026",
        "title": "Compile the 2026 monitoring report",
        "due_on": date(2027, 4, 15),
        "audience": "admins",
        "description": "The secretariat compiles and publishes the yearly report.",
    },
]


async def _city_id(session: AsyncSession, name: str) -> UUID | None:
    city_id: UUID | None = await session.scalar(
        select(City.id).where(City.name == name).order_by(City.population.desc()).limit(1)
    )
    return city_id


async def load_demo(session: AsyncSession) -> None:
    for demo in EDITIONS:
        form = dict(demo["form"])  # type: ignore[call-overload]
        edition = await services.edition_by_year(session, int(form["year"]))
        if edition is None:
            form["host_city_id"] = await _city_id(session, str(demo["host"]))
            # Created open so the delegates can register, then set to the edition's status.
            status = form["status"]
            form["status"] = EditionStatus.registration_open
            edition = await services.create_edition(session, EditionForm.model_validate(form), actor=None)
            for starts, ends, title, room, speakers in demo["sessions"]:  # type: ignore[attr-defined]
                session_form = SessionForm(
                    title=title,
                    starts_at=datetime.fromisoformat(starts),
                    ends_at=datetime.fromisoformat(ends),
                    room=room,
                    speakers=speakers,
                )
                await services.add_session(session, edition, session_form, actor=None)
            edition.status = status
        await _register(session, edition, demo["delegates"])  # type: ignore[arg-type]
    for deadline in DEADLINES:
        values = {"audience": "all", "city_id": None, "link": "", "description": "", **deadline}
        key = str(values.pop("key"))
        await services.save_deadline(session, services.CORE_SOURCE, key, values, actor=None)
    nice = await _city_id(session, "Nice")
    if nice is not None:
        await services.save_deadline(
            session,
            services.CORE_SOURCE,
            "nice-progress-2026",
            {
                "title": "Nice: update the progress of your commitments",
                "due_on": date(2027, 2, 28),
                "audience": "city",
                "city_id": nice,
                "link": "",
                "description": "Record the 2026 progress of each published commitment before the submission.",
            },
            actor=None,
        )


async def _register(
    session: AsyncSession, edition: ConventionEdition, delegates: list[tuple[str, str, str, str]]
) -> None:
    if edition.status != EditionStatus.registration_open:
        return
    for city_name, name, email, role in delegates:
        city_id = await _city_id(session, city_name)
        known = await session.scalar(
            select(Registration.id).where(Registration.edition_id == edition.id, Registration.email == email)
        )
        if city_id is None or known is not None:
            continue
        await services.register_delegate(
            session, edition, city_id, RegistrationForm(name=name, email=email, role=role), actor=None
        )
