"""A synthetic Covenant of N cities for benchmarks and scale demos (``covenant demo --scale N``).

What it writes, for N cities (default 10,000; up to 100,000):

* cities whose sizes follow the real registry (the GeoNames extract behind ``covenant.cities.services``):
  half are drawn from the EU-27 towns of 15,000 inhabitants or more as they are, the other half are small
  towns (1,000 to 15,000) drawn from the power law fitted on that registry's tail — most Covenant
  signatories are small municipalities;
* memberships (mostly signatories; some applied, suspended, withdrawn, rejected), a few team accounts;
* commitments with parents, progress updates, and the events their history produced (outbox rows already
  published, with the inbox rows of every subscriber that applied them);
* for each enabled module: funding calls, matches and applications; technology register entries; training
  curricula, sessions, participants and questionnaire answers; cohesion measures, evaluations and survey
  waves; practice fiches with indicators.

Activity is skewed the way it is in real networks: every city gets an activity weight from a log-normal
distribution (a few very active cities, a long tail of quiet ones) and every count is drawn around it.

Rows are built in memory and bulk-loaded: ``COPY`` (asyncpg ``copy_records_to_table``) on PostgreSQL,
``executemany`` on SQLite — never one ORM object per row. Same seed and same ``today``: same data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from covenant.cities.models import City, SizeClass
from covenant.cities.services import registry_rows
from covenant.config import Settings
from covenant.db import create_engine, metadata, session_factory, transaction
from covenant.events.catalogue import Catalogue, build_catalogue
from covenant.models import import_core_models
from covenant.plugins import ModuleRegistry

DEFAULT_CITIES = 10_000
MAX_CITIES = 100_000
DEFAULT_SEED = 20_240_501
GENERATED_DOMAIN = "scale.example.org"
"""Contact addresses of generated cities and accounts end with it: how a second run recognises the first."""

SMALL_TOWN_SHARE = 0.5
SMALL_TOWN_MIN, SMALL_TOWN_MAX = 1_000, 15_000
REGISTRY_FLOOR = 15_000

MEMBERSHIP_MIX = (
    ("signatory", 0.84),
    ("suspended", 0.03),
    ("applied", 0.06),
    ("withdrawn", 0.04),
    ("rejected", 0.03),
)
COUNTRY_LANGUAGE = {"FR": "fr", "BE": "fr", "LU": "fr", "ES": "es", "IT": "it", "MT": "en"}
FIRST_NAMES = (
    "Anna", "Luca", "Marie", "Jonas", "Elena", "Pieter", "Sofia", "Tomás", "Giulia", "Lotte", "Marco", "Inès",
    "Jan", "Eva", "Nikos", "Ewa", "János", "Ana", "Mikko", "Ieva", "Paulo", "Katarina", "Lars", "Irena",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Rossi", "García", "Müller", "Janssens", "Nowak", "Papadopoulos", "Horvat", "Silva", "Virtanen",
    "Novák", "Kowalski", "Dubois", "Fernández", "Bianchi", "Peeters", "Schmidt", "Popescu", "Andersson", "Kask",
)  # fmt: skip
PLACES = (
    "the station square", "the old market", "the riverside promenade", "the central park", "the bus interchange",
    "the school district", "the night-time economy area", "the main shopping street", "the stadium surroundings",
    "the harbour front", "the social housing estate", "the festival grounds",
)  # fmt: skip
COMMITMENT_TEMPLATES = {
    "urban_planning": (
        "Redesign {place} with security by design",
        "Protect {place} against vehicle ramming with landscaped barriers",
        "Improve lighting and sight lines in {place}",
        "Involve residents in the redesign of {place}",
    ),
    "technology": (
        "Review every camera of {place} against the AI Act",
        "Publish the register of security technologies used in {place}",
        "Pilot privacy-preserving crowd counting in {place}",
        "Train operators of the video room covering {place}",
    ),
    "security_public_spaces": (
        "Create a local security partnership for {place}",
        "Run a prevention programme for young people around {place}",
        "Measure the feeling of safety in {place} every year",
        "Plan the security of major events in {place} with organisers",
    ),
}
INDICATORS = (
    ("Feeling of safety (survey score)", "points"),
    ("Reported incidents", "incidents/year"),
    ("Lit public space", "%"),
    ("Trained staff", "people"),
    ("Protected entrances", "entrances"),
)
THEMES = ("public_spaces", "prevention", "urban_planning", "technology", "social_inclusion", "training", "research")
TECH_CATEGORIES = (
    "video_surveillance", "video_surveillance", "video_surveillance", "iot_platform", "citizen_app",
    "sound_detection", "unstructured_data", "facial_recognition", "predictive_policing", "blockchain", "other",
)  # fmt: skip
RESTRICTED_CATEGORIES = {"facial_recognition", "predictive_policing"}
RISK_BY_CATEGORY = {
    "facial_recognition": "high",
    "predictive_policing": "high",
    "video_surveillance": "limited",
    "sound_detection": "limited",
    "unstructured_data": "high",
}
COHESION_LEVELS = ("societal_context", "fundamental", "general", "specific", "curative")
COHESION_INDICATORS = ("feeling_of_insecurity", "victimisation", "social_cohesion", "trust")
PLACE_KINDS = ("square", "street", "park", "transport_hub", "event_venue", "school_surroundings", "city_centre")
FICHE_MEASURES = ("hostile_vehicle_mitigation", "lighting", "street_furniture", "vegetation", "sight_lines", "cpted")
LIKERT_ITEMS = ("relevance", "quality", "trainers", "organisation", "applicability")
AREAS = ("knowledge", "know_how", "interpersonal")
LEVELS = ("basic", "intermediate", "advanced")

# Parents before children: the load order of the tables.
TABLE_ORDER = (
    "account_user",
    "city",
    "city_membership",
    "account_grant",
    "commitment",
    "commitment_progress_update",
    "assessment_response",
    "assessment_answer",
    "funding_call",
    "funding_call_match",
    "funding_application",
    "ai_review_technology",
    "training_curriculum",
    "training_curriculum_unit",
    "training_session",
    "training_participant",
    "training_questionnaire_answer",
    "cohesion_measure",
    "cohesion_evaluation",
    "cohesion_survey_wave",
    "practices_fiche",
    "practices_indicator",
    "event_outbox",
    "event_inbox",
)


class GenerationError(RuntimeError):
    """The database cannot take the generated data (e.g. a previous run's data is already there)."""


@dataclass
class GenerationReport:
    cities: int
    backend: str
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        return (
            f"{self.cities:,} cities, {self.total_rows:,} rows in {len(self.rows)} tables "
            f"loaded in {self.seconds:.1f} s ({self.backend})"
        )


# -- the synthetic world -------------------------------------------------------------------------------


def fit_power_law(populations: Sequence[int], floor: int) -> float:
    """Maximum-likelihood exponent of a Pareto tail above ``floor`` (Zipf's law for city sizes)."""
    logs = [math.log(p / floor) for p in populations if p >= floor]
    return len(logs) / sum(logs) if logs else 1.0


def truncated_pareto(rng: random.Random, alpha: float, low: int, high: int) -> int:
    """A draw from the power law with exponent ``alpha`` restricted to [low, high)."""
    u = rng.random()
    ratio = (low / high) ** alpha
    return int(low * (1 - u * (1 - ratio)) ** (-1 / alpha))


class Synth:
    """Builds every row in memory, deterministically from ``seed`` and ``today``."""

    def __init__(
        self,
        n: int,
        *,
        seed: int,
        today: date,
        catalogue: Catalogue,
        modules: Sequence[str],
        programmes: Sequence[UUID] = (),
        target_groups: Sequence[str] = (),
        assessment: tuple[Any, Any] | None = None,
    ) -> None:
        self.n = n
        self.rand = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.today = today
        self.horizon = datetime.combine(today, datetime.min.time(), tzinfo=UTC) - timedelta(days=3)
        """Every generated moment is before it: older than the relay's re-send window (two days)."""
        self.catalogue = catalogue
        self.modules = list(modules)
        self.programmes = list(programmes)
        self.target_groups = list(target_groups) or ["local_police"]
        self.assessment = assessment
        """(framework version row, parsed framework) of the assessment module, when it is enabled."""
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.fts: list[tuple[str, str]] = []
        self.cities: list[dict[str, Any]] = []
        self.activity: np.ndarray = np.zeros(0)
        self.public: list[int] = []
        """Indexes of the cities shown on the public site (signatory or suspended)."""

    # -- primitives --------------------------------------------------------------------------------
    def uuid(self, at: datetime) -> UUID:
        """A UUIDv7 of moment ``at`` with seeded random bits (time-ordered like the real ones, reproducible)."""
        ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
        rand = self.rand.getrandbits(74)
        value = (ms << 80) | (0x7 << 76) | (((rand >> 62) & 0xFFF) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
        return UUID(int=value)

    def moment(self, start: datetime, end: datetime | None = None) -> datetime:
        end = min(end or self.horizon, self.horizon)
        if end <= start:
            return end
        return start + timedelta(seconds=self.rand.uniform(0, (end - start).total_seconds()))

    def day_between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rand.randrange((end - start).days + 1))

    def person(self) -> str:
        return f"{self.rand.choice(FIRST_NAMES)} {self.rand.choice(LAST_NAMES)}"

    def counts(self, mean: float, cap: int, indexes: Sequence[int] | None = None) -> list[int]:
        """Poisson counts around each city's activity weight (the skew: few very active cities)."""
        weights = self.activity if indexes is None else self.activity[list(indexes)]
        return [min(cap, int(c)) for c in self.np.poisson(mean * weights)]

    def add(self, table: str, row: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        if "id" not in row:
            row["id"] = self.uuid(at or self.horizon)
        if at is not None:
            row.setdefault("created_at", at)
            row.setdefault("updated_at", at)
        self.rows[table].append(row)
        return row

    def event(self, event: Any, *, published: datetime) -> None:
        """An outbox row already published, and the inbox row of every subscriber that applied it."""
        name = event.event_name()
        self.rows["event_outbox"].append(
            {
                "event_id": event.event_id,
                "name": name,
                "version": event.version,
                "payload": event.payload(),
                "city_id": event.city_id,
                "occurred_at": event.occurred_at,
                "recorded_at": event.occurred_at,
                "published_at": published,
                "attempts": 1,
            }
        )
        for subscriber in self.catalogue.subscribers_of(name):
            self.rows["event_inbox"].append(
                {
                    "id": self.uuid(published),
                    "event_id": event.event_id,
                    "subscriber": subscriber.name,
                    "processed_at": published + timedelta(milliseconds=self.rand.randint(5, 900)),
                }
            )

    # -- the world ---------------------------------------------------------------------------------
    def build(self) -> None:
        self.build_cities()
        self.build_memberships()
        self.build_commitments()
        if "funding" in self.modules and self.programmes:
            self.build_funding()
        if "ai_review" in self.modules:
            self.build_technologies()
        if "training" in self.modules:
            self.build_training()
        if "cohesion" in self.modules:
            self.build_cohesion()
        if "practices" in self.modules:
            self.build_practices()
        if "assessment" in self.modules and self.assessment is not None:
            self.build_assessments()

    def build_cities(self) -> None:
        registry = registry_rows(REGISTRY_FLOOR)
        registry.sort(key=lambda r: r["geonames_id"])  # the extract's order is not guaranteed
        alpha = fit_power_law([r["population"] for r in registry], REGISTRY_FLOOR)
        seen: dict[int, int] = defaultdict(int)
        created = datetime(2019, 1, 1, tzinfo=UTC)
        for i in range(self.n):
            base = self.rand.choice(registry)
            seen[base["geonames_id"]] += 1
            copy = seen[base["geonames_id"]]
            small = self.rand.random() < SMALL_TOWN_SHARE
            if small:
                population = truncated_pareto(self.rand, alpha, SMALL_TOWN_MIN, SMALL_TOWN_MAX)
                name = f"{base['name']}-{self.rand.choice(('Nord', 'Sud', 'Est', 'Ouest', 'Alta', 'Bassa', 'Neu'))}"
            else:
                population = base["population"] if copy == 1 else int(base["population"] * self.rand.uniform(0.3, 1))
                name = base["name"]
            if copy > 1 or small:
                name = f"{name} {copy}" if copy > 1 else name
            jitter = 0.0 if copy == 1 and not small else 0.25
            authority = "municipality"
            roll = self.rand.random()
            if population >= 250_000 and roll < 0.15:
                authority = "metropolitan"
            elif roll < 0.015:
                authority = "region"
                population = int(population * self.rand.uniform(5, 40))
            elif roll < 0.025:
                authority = "group"
            density = self.rand.lognormvariate(math.log(900), 0.8)
            at = self.moment(created, created + timedelta(days=365))
            city = self.add(
                "city",
                {
                    "name": name[:160],
                    "country_code": base["country_code"],
                    "region": "",
                    "population": population,
                    "area_km2": round(population / density, 1),
                    "size_class": SizeClass.of(population).value,
                    "latitude": round(base["latitude"] + self.rand.uniform(-jitter, jitter), 5),
                    "longitude": round(base["longitude"] + self.rand.uniform(-jitter, jitter), 5),
                    "website": f"https://city{i}.{GENERATED_DOMAIN}",
                    "mayor": self.person(),
                    "contact_name": self.person(),
                    "contact_email": f"city{i}@{GENERATED_DOMAIN}",
                    "authority_type": authority,
                    "geonames_id": None,
                },
                at,
            )
            self.cities.append(city)
        # Activity: log-normal around 1, slightly larger for larger cities.
        sizes = np.array([c["population"] for c in self.cities], dtype=float)
        size_factor = (sizes / np.median(sizes)) ** 0.12
        self.activity = self.np.lognormal(mean=-0.6, sigma=1.1, size=self.n) * size_factor

    def build_memberships(self) -> None:
        from covenant.cities.events import CityApplied, CityRejected, CitySigned, CitySuspended, CityWithdrew

        statuses = [s for s, _ in MEMBERSHIP_MIX]
        weights = [w for _, w in MEMBERSHIP_MIX]
        start = datetime(2019, 6, 1, tzinfo=UTC)
        for index, city in enumerate(self.cities):
            status = self.rand.choices(statuses, weights)[0]
            applied_at = self.moment(start)
            decided_at = None if status == "applied" else self.moment(applied_at, applied_at + timedelta(days=90))
            adhesion = (applied_at - timedelta(days=self.rand.randint(10, 60))).date()
            membership = self.add(
                "city_membership",
                {
                    "city_id": city["id"],
                    "status": status,
                    "applicant_id": None,
                    "adhesion_date": adhesion,
                    "mayor": city["mayor"],
                    "mandate_end": date(adhesion.year + self.rand.randint(3, 6), 6, 30),
                    "contact_name": city["contact_name"],
                    "contact_email": city["contact_email"],
                    "letter_file": None,
                    "applied_at": applied_at,
                    "decided_at": decided_at,
                    "reason": "",
                    "notice_date": None,
                },
                applied_at,
            )
            city["status"] = status
            city["adhesion_date"] = adhesion
            base = {
                "city_id": city["id"],
                "membership_id": membership["id"],
                "city_name": city["name"],
                "country_code": city["country_code"],
                "adhesion_date": adhesion,
            }
            self.event(
                CityApplied(**base, event_id=self.uuid(applied_at), occurred_at=applied_at),
                published=applied_at + timedelta(milliseconds=40),
            )
            if decided_at is None:
                continue
            if status == "rejected":
                membership["reason"] = "The commitment letter was not signed by the mayor."
                self.event(
                    CityRejected(
                        **base, reason=membership["reason"], event_id=self.uuid(decided_at), occurred_at=decided_at
                    ),
                    published=decided_at + timedelta(milliseconds=40),
                )
                continue
            self.event(
                CitySigned(
                    **base, population=city["population"], event_id=self.uuid(decided_at), occurred_at=decided_at
                ),
                published=decided_at + timedelta(milliseconds=40),
            )
            if status in ("suspended", "withdrawn"):
                later = self.moment(decided_at)
                membership["reason"] = "The monitoring report was not submitted after two reminders."
                if status == "suspended":
                    membership["notice_date"] = (later - timedelta(days=30)).date()
                    event: Any = CitySuspended(
                        **base,
                        reason=membership["reason"],
                        notice_date=membership["notice_date"],
                        event_id=self.uuid(later),
                        occurred_at=later,
                    )
                else:
                    event = CityWithdrew(
                        **base, reason=membership["reason"], event_id=self.uuid(later), occurred_at=later
                    )
                membership["decided_at"] = later
                self.event(event, published=later + timedelta(milliseconds=40))
            if status in ("signatory", "suspended"):
                self.public.append(index)
            if status == "signatory" and self.rand.random() < 0.2:
                self.team_member(city, decided_at)

    def team_member(self, city: dict[str, Any], at: datetime) -> None:
        number = len(self.rows["account_user"])
        user = self.add(
            "account_user",
            {
                "email": f"mayor{number}@{GENERATED_DOMAIN}",
                "display_name": city["contact_name"],
                "password_hash": None,
                "locale": COUNTRY_LANGUAGE.get(city["country_code"]),
                "is_active": True,
                "last_login_at": None,
            },
            at,
        )
        self.add(
            "account_grant",
            {"user_id": user["id"], "role": "mayors_office", "city_id": city["id"], "module": None, "modules": []},
            at,
        )

    def build_commitments(self) -> None:
        from covenant.commitments.events import CommitmentAchieved, CommitmentProgressed, CommitmentPublished

        signed = [i for i, c in enumerate(self.cities) if c["status"] in ("signatory", "suspended", "withdrawn")]
        priorities = list(COMMITMENT_TEMPLATES)
        for index, count in zip(signed, self.counts(2.6, 150, signed), strict=True):
            city = self.cities[index]
            language = COUNTRY_LANGUAGE.get(city["country_code"], "en")
            first = datetime.combine(city["adhesion_date"], datetime.min.time(), tzinfo=UTC) + timedelta(days=30)
            roots: list[dict[str, Any]] = []
            for _ in range(count):
                priority = self.rand.choice(priorities)
                title = self.rand.choice(COMMITMENT_TEMPLATES[priority]).format(place=self.rand.choice(PLACES))
                created = self.moment(first)
                start = created.date()
                status = self.rand.choices(("planned", "in_progress", "achieved", "withdrawn"), (0.25, 0.5, 0.2, 0.05))[
                    0
                ]
                indicator, unit = self.rand.choice(INDICATORS)
                baseline = round(self.rand.uniform(10, 60), 1)
                published = self.rand.random() < 0.85 and created < self.horizon - timedelta(days=1)
                published_at = self.moment(created, created + timedelta(days=20)) if published else None
                parent = self.rand.choice(roots) if roots and self.rand.random() < 0.2 else None
                commitment = self.add(
                    "commitment",
                    {
                        "city_id": city["id"],
                        "parent_id": parent["id"] if parent else None,
                        "title": title[:200],
                        "description": f"{title}. A commitment of {city['name']} under the Covenant.",
                        "language": language,
                        "priority": priority,
                        "modules": self.rand.sample(self.modules, k=min(len(self.modules), self.rand.randint(0, 2))),
                        "indicator": indicator,
                        "baseline": baseline,
                        "target_value": round(baseline * self.rand.uniform(1.2, 2.0), 1),
                        "unit": unit,
                        "start_date": start,
                        "due_date": start + timedelta(days=self.rand.randint(365, 4 * 365)),
                        "status": status,
                        "progress": 100 if status == "achieved" else 0,
                        "weight": self.rand.choice((1, 1, 1, 2, 3)),
                        "published_at": published_at,
                    },
                    created,
                )
                if parent is None:
                    roots.append(commitment)
                if published_at is None:
                    continue
                self.event(
                    CommitmentPublished(
                        event_id=self.uuid(published_at),
                        occurred_at=published_at,
                        city_id=city["id"],
                        commitment_id=commitment["id"],
                        title=commitment["title"],
                        priority=priority,
                        modules=commitment["modules"],
                        due_date=commitment["due_date"],
                    ),
                    published=published_at + timedelta(milliseconds=30),
                )
                if status not in ("in_progress", "achieved"):
                    continue
                updates = self.rand.randint(1, 6)
                percentage = 0
                moment = published_at
                for step in range(updates):
                    moment = self.moment(moment, moment + timedelta(days=120))
                    last = step == updates - 1
                    percentage = (
                        100 if (last and status == "achieved") else min(95, percentage + self.rand.randint(5, 30))
                    )
                    update = self.add(
                        "commitment_progress_update",
                        {
                            "commitment_id": commitment["id"],
                            "reported_on": moment.date(),
                            "percentage": percentage,
                            "narrative": f"Step {step + 1}: work on {indicator.lower()} continues as planned.",
                            "evidence_links": [f"https://city.{GENERATED_DOMAIN}/reports/{step + 1}"],
                            "author_id": None,
                        },
                        moment,
                    )
                    self.event(
                        CommitmentProgressed(
                            event_id=self.uuid(moment),
                            occurred_at=moment,
                            city_id=city["id"],
                            commitment_id=commitment["id"],
                            update_id=update["id"],
                            percentage=percentage,
                            reported_on=update["reported_on"],
                        ),
                        published=moment + timedelta(milliseconds=30),
                    )
                commitment["progress"] = percentage
                if status == "achieved":
                    self.event(
                        CommitmentAchieved(
                            event_id=self.uuid(moment + timedelta(milliseconds=1)),
                            occurred_at=moment + timedelta(milliseconds=1),
                            city_id=city["id"],
                            commitment_id=commitment["id"],
                            title=commitment["title"],
                        ),
                        published=moment + timedelta(milliseconds=40),
                    )

    # -- modules -----------------------------------------------------------------------------------
    def build_funding(self) -> None:
        calls: list[dict[str, Any]] = []
        for number in range(200 + self.n // 100):
            opening = self.today + timedelta(days=self.rand.randint(-900, 200))
            deadlines = sorted(
                opening + timedelta(days=self.rand.randint(45, 240)) for _ in range(self.rand.randint(1, 2))
            )
            at = self.moment(datetime.combine(opening, datetime.min.time(), tzinfo=UTC) - timedelta(days=60))
            theme = self.rand.sample(THEMES, 2)
            calls.append(
                self.add(
                    "funding_call",
                    {
                        "identifier": f"SCALE-{number:05d}",
                        "reference": f"SCALE/{opening.year}/{number}",
                        "title": f"Call {number}: {' and '.join(t.replace('_', ' ') for t in theme)} in cities",
                        "programme_id": self.rand.choice(self.programmes),
                        "description": "Support to local authorities for safer public spaces.",
                        "opening_date": opening,
                        "deadline_model": "single_stage" if len(deadlines) == 1 else "two_stage",
                        "deadlines": [d.isoformat() for d in deadlines],
                        "final_deadline": deadlines[-1],
                        "budget_cents": self.rand.randint(5, 400) * 100_000_00,
                        "expected_grants": self.rand.randint(2, 30),
                        "action_type": "Grant",
                        "eligible_countries": [],
                        "applicant_types": ["municipality"],
                        "min_population": None,
                        "max_population": None,
                        "partnership_required": self.rand.random() < 0.3,
                        "themes": theme,
                        "url": f"https://calls.{GENERATED_DOMAIN}/{number}",
                        "opened_announced": opening <= self.today,
                        "closing_announced_for": None,
                    },
                    at,
                )
            )
        open_calls = [c for c in calls if c["opening_date"] <= self.today <= c["final_deadline"]] or calls
        statuses = ("interested", "preparing", "submitted", "awarded", "rejected", "withdrawn")
        for index, (matches, applications) in enumerate(
            zip(self.counts(3.0, 12, self.public), self.counts(0.5, 12, self.public), strict=True)
        ):
            city = self.cities[self.public[index]]
            for call in self.rand.sample(open_calls, min(matches, len(open_calls))):
                self.add(
                    "funding_call_match",
                    {
                        "city_id": city["id"],
                        "call_id": call["id"],
                        "score": self.rand.randint(35, 95),
                        "reasons": [{"kind": "theme", "value": call["themes"][0]}],
                        "commitment_ids": [],
                    },
                    self.moment(datetime(2024, 1, 1, tzinfo=UTC)),
                )
            for _ in range(applications):
                call = self.rand.choice(calls)
                status = self.rand.choices(statuses, (0.25, 0.25, 0.2, 0.15, 0.1, 0.05))[0]
                requested = self.rand.randint(1, 300) * 10_000_00
                at = self.moment(datetime.combine(call["opening_date"], datetime.min.time(), tzinfo=UTC))
                self.add(
                    "funding_application",
                    {
                        "city_id": city["id"],
                        "programme_id": call["programme_id"],
                        "call_id": call["id"],
                        "title": f"{city['name']}: {call['title']}"[:200],
                        "status": status,
                        "requested_cents": requested,
                        "awarded_cents": requested if status == "awarded" else None,
                        "eu_share_cents": requested * 8 // 10 if status == "awarded" else None,
                        "commitment_ids": [],
                        "submitted_on": at.date() if status in ("submitted", "awarded", "rejected") else None,
                        "decided_on": at.date() + timedelta(days=120) if status in ("awarded", "rejected") else None,
                        "notes": "",
                    },
                    at,
                )

    def build_technologies(self) -> None:
        for index, count in zip(self.public, self.counts(0.6, 40, self.public), strict=True):
            city = self.cities[index]
            for number in range(count):
                category = self.rand.choice(TECH_CATEGORIES)
                at = self.moment(datetime(2021, 1, 1, tzinfo=UTC))
                restricted = category in RESTRICTED_CATEGORIES
                signed_off = self.rand.random() < 0.5
                published = not restricted and self.rand.random() < 0.7
                self.add(
                    "ai_review_technology",
                    {
                        "city_id": city["id"],
                        "name": f"{category.replace('_', ' ').capitalize()} system {number + 1} of {city['name']}"[
                            :200
                        ],
                        "short_description": f"{category.replace('_', ' ').capitalize()} in public spaces"[:150],
                        "description": "Declared by the city for the public register of security technologies.",
                        "language": COUNTRY_LANGUAGE.get(city["country_code"], "en"),
                        "category": category,
                        "purpose": "Support the safety of people in public spaces.",
                        "department": "Urban security department",
                        "supplier": self.rand.choice(("Supplier A", "Supplier B", "In-house", "Consortium C")),
                        "status": self.rand.choice(("idea", "pilot", "operational", "operational", "decommissioned")),
                        "start_date": at.date(),
                        "revision_date": at.date() + timedelta(days=730),
                        "personal_data": category != "iot_platform",
                        "biometric_data": category == "facial_recognition",
                        "visibility": "restricted" if restricted else "public",
                        "published_at": self.moment(at) if published else None,
                        "risk_class": RISK_BY_CATEGORY.get(category, "minimal") if signed_off else None,
                        "review_status": "signed_off" if signed_off else self.rand.choice(("not_started", "draft")),
                        "signed_off_at": self.moment(at) if signed_off else None,
                    },
                    at,
                )

    def build_training(self) -> None:
        active = sorted(range(self.n), key=lambda i: -self.activity[i])[: max(5, self.n // 100)]
        curricula: list[dict[str, Any]] = []
        for number, index in enumerate(active):
            city = self.cities[index]
            at = self.moment(datetime(2022, 1, 1, tzinfo=UTC))
            groups = self.rand.sample(self.target_groups, min(len(self.target_groups), self.rand.randint(1, 3)))
            published = self.rand.random() < 0.7
            curriculum = self.add(
                "training_curriculum",
                {
                    "city_id": city["id"],
                    "title": f"Curriculum {number + 1}: integrated urban security for {groups[0].replace('_', ' ')}",
                    "summary": "A pilot curriculum written by the city and its partners.",
                    "language": COUNTRY_LANGUAGE.get(city["country_code"], "en"),
                    "target_groups": groups,
                    "partner_city_ids": [],
                    "toolbox_entry_ids": [],
                    "status": "published" if published else "draft",
                    "published_at": self.moment(at) if published else None,
                },
                at,
            )
            curricula.append(curriculum)
            for position in range(self.rand.randint(3, 6)):
                self.add(
                    "training_curriculum_unit",
                    {
                        "curriculum_id": curriculum["id"],
                        "title": f"Unit {position + 1}",
                        "target_group": self.rand.choice(groups),
                        "area": self.rand.choice(AREAS),
                        "level": self.rand.choice(LEVELS),
                        "learning_outcomes": "Participants can apply the method in their city.",
                        "hours": self.rand.randint(2, 16),
                        "method": "Workshop",
                        "position": position,
                    },
                    at,
                )
        offered = [c for c in curricula if c["status"] == "published"] or curricula
        sessions = self.counts(0.12, 20, self.public)
        for index, count in zip(self.public, sessions, strict=True):
            city = self.cities[index]
            for _ in range(count):
                curriculum = self.rand.choice(offered)
                starts = self.moment(datetime(2022, 6, 1, tzinfo=UTC))
                closed = starts + timedelta(days=30) < self.horizon
                session = self.add(
                    "training_session",
                    {
                        "city_id": city["id"],
                        "curriculum_id": curriculum["id"],
                        "title": f"Pilot of {curriculum['title']}"[:200],
                        "starts_on": starts.date(),
                        "ends_on": starts.date() + timedelta(days=self.rand.randint(0, 2)),
                        "place": f"Town hall of {city['name']}"[:200],
                        "online": self.rand.random() < 0.2,
                        "trainers": self.person(),
                        "capacity": 25,
                        "questionnaire_closed_at": starts + timedelta(days=30) if closed else None,
                        "feedback_actions": "",
                    },
                    starts,
                )
                for _ in range(self.rand.randint(8, 25)):
                    answered = self.rand.random() < 0.6
                    self.add(
                        "training_participant",
                        {
                            "session_id": session["id"],
                            "name": self.person(),
                            "email": "",
                            "target_group": self.rand.choice(curriculum["target_groups"]),
                            "waiting_list": False,
                            "attended": True,
                            "token": f"{self.rand.getrandbits(256):064x}",
                            "answered": answered,
                        },
                        starts,
                    )
                    if answered:
                        mood = self.rand.choice((3, 4, 4, 5))
                        self.add(
                            "training_questionnaire_answer",
                            {
                                "session_id": session["id"],
                                "scores": {k: max(1, min(5, mood + self.rand.randint(-1, 1))) for k in LIKERT_ITEMS},
                                "liked": "",
                                "improve": "",
                            },
                            starts + timedelta(days=2),
                        )

    def build_cohesion(self) -> None:
        for index, count in zip(self.public, self.counts(0.8, 30, self.public), strict=True):
            city = self.cities[index]
            measures = []
            for number in range(count):
                at = self.moment(datetime(2021, 1, 1, tzinfo=UTC))
                measures.append(
                    self.add(
                        "cohesion_measure",
                        {
                            "city_id": city["id"],
                            "name": f"Measure {number + 1} of {city['name']}"[:200],
                            "description": "A local measure against insecurity and feelings of insecurity.",
                            "language": COUNTRY_LANGUAGE.get(city["country_code"], "en"),
                            "level": self.rand.choice(COHESION_LEVELS),
                            "target_group": "Residents",
                            "area": "Neighbourhood",
                            "partners": ["Police", "Social services"],
                            "annual_budget": self.rand.randint(1, 500) * 1_000_00,
                            "start_date": at.date(),
                            "status": self.rand.choice(("planned", "running", "running", "ended")),
                            "selected": False,
                        },
                        at,
                    )
                )
            if not measures or self.rand.random() > 0.25:
                continue
            measure = self.rand.choice(measures)
            measure["selected"] = True
            design = self.rand.choice(("pre_post", "pre_post_comparison", "repeated"))
            completed = self.rand.random() < 0.4
            at = self.moment(measure["created_at"])
            evaluation = self.add(
                "cohesion_evaluation",
                {
                    "measure_id": measure["id"],
                    "city_id": city["id"],
                    "problem_analysis": "Residents feel unsafe after dark.",
                    "objectives": [{"text": "Reduce the feeling of insecurity", "children": []}],
                    "logic_model": {"inputs": ["Budget"], "activities": ["Patrols"], "outputs": [], "outcomes": []},
                    "indicators": [{"key": k, "objective": ""} for k in COHESION_INDICATORS[:2]],
                    "design": design,
                    "verdict": self.rand.choice(("continue", "adjust", "stop")) if completed else None,
                    "effect": round(self.rand.gauss(0.2, 0.3), 3) if completed else None,
                    "completed_at": self.moment(at) if completed else None,
                },
                at,
            )
            areas = ("intervention", "comparison") if design == "pre_post_comparison" else ("intervention",)
            for indicator in COHESION_INDICATORS[:2]:
                for area in areas:
                    for wave in range(3 if design == "repeated" else 2):
                        self.add(
                            "cohesion_survey_wave",
                            {
                                "evaluation_id": evaluation["id"],
                                "indicator": indicator,
                                "area": area,
                                "wave": wave,
                                "mean": round(self.rand.uniform(2.0, 4.0), 2),
                                "sd": round(self.rand.uniform(0.6, 1.2), 2),
                                "n": self.rand.randint(80, 600),
                                "from_respondents": False,
                            },
                            at,
                        )

    def build_practices(self) -> None:
        statuses = ("published", "published", "published", "draft", "submitted", "in_review", "changes_requested")
        for index, count in zip(self.public, self.counts(0.3, 25, self.public), strict=True):
            city = self.cities[index]
            for number in range(count):
                at = self.moment(datetime(2020, 1, 1, tzinfo=UTC))
                status = self.rand.choice(statuses)
                place = self.rand.choice(PLACE_KINDS)
                measures = self.rand.sample(FICHE_MEASURES, self.rand.randint(1, 3))
                title = f"Safer {place.replace('_', ' ')} in {city['name']} ({number + 1})"[:200]
                fiche = {
                    "city_id": city["id"],
                    "title": title,
                    "project": self.rand.choice(("", "PACTESUR", "PERICLES", "URBACT")),
                    "summary": f"How {city['name']} made its {place.replace('_', ' ')} safer and more welcoming.",
                    "place_kind": place,
                    "problem": "Crowds, traffic and a feeling of insecurity after dark.",
                    "measures": measures,
                    "partnership": "Police, urban planners and residents' associations.",
                    "outcome": "Fewer incidents and more people using the space in the evening.",
                    "cost_range": self.rand.choice(("", "below_100k", "100k_1m", "1m_5m")),
                    "duration_months": self.rand.randint(3, 36),
                    "difficulties": "",
                    "lessons": "Involve residents from the start.",
                    "links": [],
                    "tags": [place, *measures[:1]],
                    "language": COUNTRY_LANGUAGE.get(city["country_code"], "en"),
                    "languages": ["en"],
                    "year": at.year,
                    "status": status,
                    "submitted_at": at if status != "draft" else None,
                    "reviewed_at": self.moment(at) if status in ("published", "changes_requested") else None,
                    "published_at": self.moment(at) if status == "published" else None,
                    "reviewer_id": None,
                }
                fiche["search_text"] = "\n".join(
                    p
                    for p in (
                        fiche["title"],
                        fiche["project"],
                        fiche["summary"],
                        fiche["problem"],
                        fiche["partnership"],
                        fiche["outcome"],
                        fiche["lessons"],
                        " ".join(fiche["tags"]),
                        " ".join(m.replace("_", " ") for m in measures),
                        place.replace("_", " "),
                        city["name"],
                        city["country_code"],
                    )
                    if p
                )
                row = self.add("practices_fiche", fiche, at)
                self.fts.append((str(row["id"]), fiche["search_text"]))
                for _ in range(self.rand.randint(1, 3)):
                    indicator, unit = self.rand.choice(INDICATORS)
                    self.add(
                        "practices_indicator",
                        {
                            "fiche_id": row["id"],
                            "name": indicator,
                            "unit": unit,
                            "baseline_value": round(self.rand.uniform(10, 80), 1),
                            "baseline_date": at.date() - timedelta(days=365),
                            "after_value": round(self.rand.uniform(10, 80), 1),
                            "after_date": at.date(),
                        },
                        at,
                    )

    def build_assessments(self) -> None:
        """Three years of self-assessments: the active cities answer more often, and improve a little each year.
        The answers come from the assessment module's own synthetic-answer rules (plausible per indicator)."""
        from modules.assessment.demo import DemoCity, demo_years, synthetic_answers
        from modules.assessment.services import COUNTRY_LANGUAGES

        version, framework = self.assessment  # type: ignore[misc]
        years = demo_years(self.today)
        modules_sourced = {i.code for i in framework.indicators if i.source == "module"}
        for index in self.public:
            city = self.cities[index]
            if self.rand.random() > min(0.9, 0.15 + 0.25 * float(self.activity[index])):
                continue
            demo_city = DemoCity(city["id"], city["name"], city["population"], city["country_code"], city["size_class"])
            strength = self.rand.uniform(0.2, 0.8)
            for offset, year in enumerate(years):
                if offset and self.rand.random() < 0.15:
                    continue  # skipped a year
                submitted = datetime(year, 11, self.rand.randint(1, 30), 12, tzinfo=UTC)
                response = self.add(
                    "assessment_response",
                    {
                        "city_id": city["id"],
                        "year": year,
                        "framework_version_id": version.id,
                        "language": COUNTRY_LANGUAGES.get(city["country_code"], "en"),
                        "status": "submitted",
                        "opened_by": "survey",
                        "submitted_at": submitted,
                        "submitted_by": None,
                        "generated": True,
                    },
                    submitted - timedelta(days=30),
                )
                answers = synthetic_answers(framework, demo_city, year, strength=min(0.95, strength + 0.03 * offset))
                for code, (value, raw) in answers.items():
                    self.add(
                        "assessment_answer",
                        {
                            "response_id": response["id"],
                            "indicator_code": code,
                            "value": value,
                            "raw": raw,
                            "source": "module" if code in modules_sourced else "survey",
                            "source_detail": "",
                            "source_event_id": None,
                            "evidence": {},
                        },
                        submitted - timedelta(days=1),
                    )


# -- bulk loading --------------------------------------------------------------------------------------


def _column_default(table: str, column: str) -> Any:
    col = metadata.tables[table].columns.get(column)
    if col is None or col.default is None:
        return None
    default: Any = col.default
    if getattr(default, "is_scalar", False):
        return default.arg
    if getattr(default, "is_callable", False) and column not in ("id", "created_at", "updated_at"):
        return default.arg(None)
    return None


class BulkLoader:
    """Loads rows table by table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    async def columns(self, table: str) -> dict[str, str]:
        """The table's columns in the database (name → data type)."""
        if self.dialect == "postgresql":
            rows = await self.conn.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        else:
            rows = await self.conn.execute(text("SELECT name, type FROM pragma_table_info(:t)"), {"t": table})
        return {name: str(kind).lower() for name, kind in rows.all()}

    async def load(self, table: str, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        existing = await self.columns(table)
        if not existing:
            raise GenerationError(f"table {table} does not exist: run `covenant db upgrade` first")
        given = set().union(*(r.keys() for r in rows[:50]))
        names = [c for c in existing if c in given or (c != "id" and c != "sa_orm_sentinel")]
        if table == "event_outbox":
            names = [c for c in names if c != "id"]  # the sequence numbers them
        defaults = {c: _column_default(table, c) for c in names if c not in given}
        if self.dialect == "postgresql":
            await self._copy(table, names, existing, rows, defaults)
        else:
            await self._executemany(table, names, rows, defaults)
        return len(rows)

    async def _copy(
        self,
        table: str,
        names: list[str],
        types: dict[str, str],
        rows: list[dict[str, Any]],
        defaults: dict[str, Any],
    ) -> None:
        json_columns = {c for c in names if types[c] in ("json", "jsonb")}

        def value(row: dict[str, Any], column: str) -> Any:
            v = row[column] if column in row else defaults.get(column)
            if column in json_columns:
                return json.dumps(v if v is not None else None, default=str)
            return v

        records = [tuple(value(r, c) for c in names) for r in rows]
        raw = await self.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table, records=records, columns=names)

    async def _executemany(
        self, table: str, names: list[str], rows: list[dict[str, Any]], defaults: dict[str, Any]
    ) -> None:
        sa_table = metadata.tables[table]
        known = [c for c in names if c in sa_table.columns]
        statement = sa_table.insert()
        chunk = 5_000
        for start in range(0, len(rows), chunk):
            batch = [{c: (r[c] if c in r else defaults.get(c)) for c in known} for r in rows[start : start + chunk]]
            await self.conn.execute(statement, batch)

    async def load_fts(self, entries: list[tuple[str, str]]) -> None:
        """SQLite keeps the fiches' full-text index in an FTS5 table (PostgreSQL indexes the column itself)."""
        if self.dialect != "sqlite" or not entries:
            return
        raw = await self.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.executemany("INSERT INTO practices_fiche_fts (fiche_id, body) VALUES (?, ?)", entries)


def every_module(enabled: Sequence[str] | None = None) -> ModuleRegistry:
    """The installed modules (those ``enabled``, default all), plus assessment from its plugin while its entry
    point is not registered: the benchmarks run with all six."""
    import_core_models()
    registry = ModuleRegistry.from_entry_points(enabled)
    if "assessment" not in registry and (enabled is None or "assessment" in enabled):
        try:
            from modules.assessment.plugin import module as assessment
        except ImportError:
            return registry
        registry = ModuleRegistry([*registry, assessment])
    registry.import_models()
    return registry


# -- entry points --------------------------------------------------------------------------------------


async def _reference_data(
    engine: AsyncEngine, registry: ModuleRegistry
) -> tuple[list[UUID], list[str], tuple[Any, Any] | None]:
    """The modules' shipped reference data (programmes, the competence matrix, the assessment framework),
    loaded the normal way."""
    programmes: list[UUID] = []
    groups: list[str] = []
    assessment: tuple[Any, Any] | None = None
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        if "assessment" in registry:
            from modules.assessment.services import current_version, framework_of

            version = await current_version(session)
            assessment = (version, framework_of(version))
        if "funding" in registry:
            from modules.funding.models import Programme
            from modules.funding.services import load_programmes

            await load_programmes(session)
            programmes = list(await session.scalars(select(Programme.id).order_by(Programme.code)))
        if "training" in registry:
            from modules.training.models import TargetGroup
            from modules.training.services import ensure_matrix

            await ensure_matrix(session)
            groups = list(await session.scalars(select(TargetGroup.key).order_by(TargetGroup.position)))
    return programmes, groups, assessment


async def _scores(engine: AsyncEngine, synth: Synth) -> None:
    """The assessment scores of every generated year, computed by the module over each year's cohort."""
    if synth.assessment is None:
        return
    from modules.assessment.demo import demo_years
    from modules.assessment.services import rescore

    async with transaction(session_factory(engine)) as session:
        for year in demo_years(synth.today):
            await rescore(session, year, synth.assessment[0])


async def generate_into(
    engine: AsyncEngine,
    n: int = DEFAULT_CITIES,
    *,
    registry: ModuleRegistry | None = None,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    echo: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Generate ``n`` cities and everything around them into the migrated database behind ``engine``."""
    if not 1 <= n <= MAX_CITIES:
        raise GenerationError(f"the scale must be between 1 and {MAX_CITIES:,} cities")
    started = time.perf_counter()
    registry = registry if registry is not None else every_module()
    import_core_models()
    registry.import_models()
    say = echo or (lambda _line: None)
    async with engine.connect() as conn:
        already = await conn.scalar(
            select(func.count()).select_from(City).where(City.contact_email.like(f"%@{GENERATED_DOMAIN}"))
        )
    if already:
        raise GenerationError(
            f"this database already holds {already:,} generated cities; generate into a fresh database"
        )
    programmes, groups, assessment = await _reference_data(engine, registry)
    synth = Synth(
        n,
        seed=seed,
        today=today or date.today(),
        catalogue=build_catalogue(registry),
        modules=registry.slugs,
        programmes=programmes,
        target_groups=groups,
        assessment=assessment,
    )
    synth.build()
    built = time.perf_counter()
    say(f"built {sum(len(r) for r in synth.rows.values()):,} rows in {built - started:.1f} s")
    report = GenerationReport(cities=n, backend=engine.dialect.name, seconds=0.0)
    async with engine.begin() as conn:
        loader = BulkLoader(conn)
        await conn.execute(text("SELECT 1"))  # opens the transaction every COPY joins
        for table in TABLE_ORDER:
            rows = synth.rows.pop(table, [])
            if rows:
                report.rows[table] = await loader.load(table, rows)
                say(f"  {table}: {report.rows[table]:,}")
        await loader.load_fts(synth.fts)
    await _scores(engine, synth)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    report.seconds = time.perf_counter() - started
    return report


async def generate(
    settings: Settings,
    n: int = DEFAULT_CITIES,
    *,
    registry: ModuleRegistry | None = None,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    echo: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Generate into the database of ``settings`` (migrated beforehand with ``covenant db upgrade``)."""
    engine = create_engine(settings)
    try:
        return await generate_into(
            engine,
            n,
            registry=registry if registry is not None else every_module(settings.modules),
            seed=seed,
            today=today,
            echo=echo,
        )
    finally:
        await engine.dispose()


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cities", "-n", type=int, default=DEFAULT_CITIES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(list(argv) if argv is not None else None)
    from covenant.config import get_settings

    report = asyncio.run(generate(get_settings(), args.cities, seed=args.seed, echo=print))
    print(report.summary())


if __name__ == "__main__":
    main()
