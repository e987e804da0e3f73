"""Demo content of the city registry: the EU-27 registry from GeoNames, the Partnership's members as the
first signatories (through the real lifecycle, so their events and audit rows exist), a few applicants,
a rejected and a suspended city for the admins' views. Idempotent: a second run adds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities import services
from covenant.cities.models import City, GroupMunicipality, SizeClass
from covenant.cities.schemas import ApplicationForm, DecisionForm


@dataclass(frozen=True)
class DemoCity:
    name: str
    country: str
    adhesion: date
    mayor: str
    contact: str
    slug: str
    outcome: str = "accept"
    """accept, apply (left pending), reject or suspend."""
    registry_name: str | None = None
    """Name in the GeoNames registry; None for authorities that are not one city (created here)."""
    authority: str = "municipality"
    population: int = 0
    region: str = ""
    latitude: float | None = None
    longitude: float | None = None
    area_km2: float | None = None
    website: str = ""


PARTNERSHIP = (
    DemoCity(
        "Nice",
        "FR",
        date(2019, 3, 18),
        "Hélène Barbier",
        "Julien Morel",
        "nice",
        registry_name="Nice",
        area_km2=71.9,
        website="https://www.nice.fr",
    ),
    DemoCity(
        "Madrid",
        "ES",
        date(2019, 2, 27),
        "Lucía Ortega Ramos",
        "Pablo Serrano",
        "madrid",
        registry_name="Madrid",
        area_km2=604.3,
        website="https://www.madrid.es",
    ),
    DemoCity(
        "Helsinki",
        "FI",
        date(2019, 5, 6),
        "Mikko Lehtinen",
        "Aino Virtanen",
        "helsinki",
        registry_name="Helsinki",
        area_km2=214.0,
        website="https://www.hel.fi",
    ),
    DemoCity(
        "Mechelen",
        "BE",
        date(2019, 4, 1),
        "Pieter Claes",
        "Sofie Peeters",
        "mechelen",
        registry_name="Mechelen",
        area_km2=65.2,
        website="https://www.mechelen.be",
    ),
    DemoCity(
        "Métropole Européenne de Lille",
        "FR",
        date(2019, 6, 28),
        "Claire Dufresne",
        "Antoine Leroy",
        "lille-metropole",
        authority="metropolitan",
        population=1_180_000,
        region="Hauts-de-France",
        latitude=50.6292,
        longitude=3.0573,
        area_km2=672.0,
        website="https://www.lillemetropole.fr",
    ),
    DemoCity(
        "Unione della Romagna Faentina",
        "IT",
        date(2019, 9, 12),
        "Marco Bassi",
        "Giulia Ricci",
        "romagna-faentina",
        authority="group",
        population=88_000,
        region="Emilia-Romagna",
        latitude=44.2857,
        longitude=11.8833,
        area_km2=594.9,
        website="https://www.romagnafaentina.it",
    ),
    DemoCity(
        "Regione Toscana",
        "IT",
        date(2020, 1, 20),
        "Francesca Galli",
        "Lorenzo Conti",
        "toscana",
        authority="region",
        population=3_660_000,
        region="Toscana",
        latitude=43.7711,
        longitude=11.2486,
        area_km2=22_987.0,
        website="https://www.regione.toscana.it",
    ),
    DemoCity(
        "Brussels-Capital Region",
        "BE",
        date(2019, 11, 7),
        "Nathalie Dubois",
        "Thomas Janssens",
        "brussels",
        authority="region",
        population=1_235_000,
        region="Brussels-Capital",
        latitude=50.8467,
        longitude=4.3525,
        area_km2=161.4,
        website="https://be.brussels",
    ),
    DemoCity(
        "Riga",
        "LV",
        date(2020, 2, 13),
        "Andris Kalniņš",
        "Laura Bērziņa",
        "riga",
        registry_name="Riga",
        area_km2=304.0,
        website="https://www.riga.lv",
    ),
)
OTHERS = (
    DemoCity(
        "Porto", "PT", date(2025, 9, 30), "Rui Carvalho", "Inês Sousa", "porto", outcome="apply", registry_name="Porto"
    ),
    DemoCity(
        "Gdańsk",
        "PL",
        date(2025, 10, 14),
        "Katarzyna Nowak",
        "Piotr Wiśniewski",
        "gdansk",
        outcome="apply",
        registry_name="Gdańsk",
    ),
    DemoCity(
        "Graz", "AT", date(2021, 4, 22), "Stefan Huber", "Anna Gruber", "graz", outcome="suspend", registry_name="Graz"
    ),
    DemoCity(
        "Thessaloniki",
        "GR",
        date(2024, 6, 3),
        "Nikos Papadopoulos",
        "Eleni Georgiou",
        "thessaloniki",
        outcome="reject",
        registry_name="Thessaloníki",
    ),
)
ROMAGNA_FAENTINA = (
    ("Faenza", 58_800),
    ("Brisighella", 7_500),
    ("Casola Valsenio", 2_500),
    ("Castel Bolognese", 9_600),
    ("Riolo Terme", 5_700),
    ("Solarolo", 4_400),
)


async def _city(session: AsyncSession, demo: DemoCity) -> City | None:
    if demo.registry_name is not None:
        city: City | None = await session.scalar(
            select(City)
            .where(City.name == demo.registry_name, City.country_code == demo.country, City.geonames_id.is_not(None))
            .order_by(City.population.desc())
            .limit(1)
        )
        return city
    city = await session.scalar(select(City).where(City.name == demo.name, City.country_code == demo.country))
    if city is None:
        city = City(
            name=demo.name,
            country_code=demo.country,
            region=demo.region,
            population=demo.population,
            size_class=SizeClass.of(demo.population).value,
            latitude=demo.latitude,
            longitude=demo.longitude,
            authority_type=demo.authority,
        )
        session.add(city)
        await session.flush()
        if demo.authority == "group":
            session.add_all(GroupMunicipality(group_id=city.id, name=n, population=p) for n, p in ROMAGNA_FAENTINA)
    return city


async def load_demo(session: AsyncSession) -> None:
    """Load the registry and the demo memberships; a second call changes nothing."""
    await services.load_registry(session)
    for demo in (*PARTNERSHIP, *OTHERS):
        city = await _city(session, demo)
        if city is None or await services.membership_of(session, city.id) is not None:
            continue
        contact_email = f"contact@{demo.slug}.example"
        city.mayor, city.contact_name, city.contact_email = demo.mayor, demo.contact, contact_email
        city.website = city.website or demo.website
        city.area_km2 = city.area_km2 or demo.area_km2
        form = ApplicationForm(
            adhesion_date=demo.adhesion,
            mayor=demo.mayor,
            mandate_end=date(demo.adhesion.year + 6, 6, 30),
            contact_name=demo.contact,
            contact_email=contact_email,
        )
        await services.apply(session, city, form, actor=None)
        if demo.outcome in ("accept", "suspend"):
            await services.decide(session, city, "accept", DecisionForm(), actor=None)
        if demo.outcome == "suspend":
            reason = "The yearly monitoring report was not submitted by the deadline despite two reminders."
            notice = DecisionForm(reason=reason, notice_date=date(2025, 2, 14))
            await services.decide(session, city, "suspend", notice, actor=None)
        if demo.outcome == "reject":
            reason = "The commitment letter is not signed by the mayor; please apply again with a signed letter."
            await services.decide(session, city, "reject", DecisionForm(reason=reason), actor=None)
