"""Demo commitments of the Partnership's cities, with progress timelines (``covenant demo``).

Cities come from the cities part's demo loader, which runs first; a city it did not create is skipped.
Running it twice changes nothing: a commitment whose title the city already has is left alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.commitments import services
from covenant.commitments.models import Commitment
from covenant.commitments.schemas import CommitmentInput, ProgressInput

DEMO_MODULES = ("assessment", "funding", "ai_review", "training", "cohesion", "practices")

# (city, commitment fields, progress updates [(date, %, narrative, links)], children [same shape], publish)
Update = tuple[date, int, str, list[str]]
DEMO: list[dict[str, Any]] = [
    {
        "city": "Nice",
        "title": "Sécuriser la Promenade des Anglais sans la fermer",
        "description": "Protéger le front de mer contre les attaques au véhicule-bélier "
        "tout en gardant une promenade ouverte, "
        "belle et accessible à tous.",
        "language": "fr",
        "priority": "urban_planning",
        "modules": ["assessment", "practices"],
        "indicator": "Part du linéaire protégé",
        "baseline": 20,
        "target_value": 100,
        "unit": "%",
        "start_date": date(2024, 1, 15),
        "due_date": date(2026, 12, 31),
        "updates": [],
        "children": [
            {
                "title": "Mobilier urbain anti-intrusion intégré au paysage",
                "description": "Bancs, jardinières et bornes certifiés remplaçant les blocs de béton provisoires.",
                "language": "fr",
                "priority": "urban_planning",
                "modules": ["practices"],
                "indicator": "Blocs provisoires remplacés",
                "baseline": 0,
                "target_value": 340,
                "unit": "blocs",
                "start_date": date(2024, 3, 1),
                "due_date": date(2026, 6, 30),
                "weight": 2,
                "updates": [
                    (date(2024, 9, 30), 25, "Premier tronçon (Negresco - Jardin Albert Ier) livré.", []),
                    (
                        date(2025, 6, 30),
                        60,
                        "Deuxième tronçon livré ; audit de sûreté favorable.",
                        ["https://www.nice.fr/"],
                    ),
                ],
            },
            {
                "title": "Zones piétonnes temporaires pour les grands événements",
                "description": "Plan de circulation et filtrage pour le Carnaval et la Fête de la musique.",
                "language": "fr",
                "priority": "security_public_spaces",
                "modules": ["training"],
                "indicator": "Grands événements couverts",
                "baseline": 0,
                "target_value": 6,
                "unit": "événements",
                "start_date": date(2024, 2, 1),
                "due_date": date(2025, 12, 31),
                "weight": 1,
                "updates": [
                    (date(2024, 3, 10), 50, "Carnaval 2024 sécurisé avec le nouveau dispositif.", []),
                    (date(2025, 7, 1), 100, "Tous les grands événements de l'année couverts.", []),
                ],
            },
        ],
    },
    {
        "city": "Madrid",
        "title": "Auditoría de iluminación con perspectiva de género en 50 plazas",
        "description": "Marchas exploratorias nocturnas con vecinas y mejora del alumbrado "
        "en las plazas con peor percepción.",
        "language": "es",
        "priority": "urban_planning",
        "modules": ["assessment", "cohesion"],
        "indicator": "Plazas auditadas y mejoradas",
        "baseline": 0,
        "target_value": 50,
        "unit": "plazas",
        "start_date": date(2024, 4, 1),
        "due_date": date(2027, 3, 31),
        "updates": [
            (date(2024, 12, 15), 20, "Diez plazas auditadas en Usera y Villaverde.", []),
            (date(2025, 9, 30), 40, "Veinte plazas con alumbrado renovado.", ["https://www.madrid.es/"]),
        ],
    },
    {
        "city": "Helsinki",
        "title": "Co-design public spaces with residents in ten districts",
        "description": "Participatory workshops decide how squares are shared between markets, play and events.",
        "language": "en",
        "priority": "security_public_spaces",
        "modules": ["cohesion", "practices"],
        "indicator": "Districts with a co-designed square",
        "baseline": 2,
        "target_value": 10,
        "unit": "districts",
        "start_date": date(2023, 9, 1),
        "due_date": date(2025, 9, 1),
        "updates": [
            (date(2024, 5, 1), 50, "Five districts held their workshops.", []),
            (date(2025, 6, 15), 100, "All ten squares redesigned and opened.", ["https://www.hel.fi/"]),
        ],
    },
    {
        "city": "Mechelen",
        "title": "Neighbourhood stewards in every public park",
        "description": "Trained stewards who know the residents keep parks welcoming in the evening.",
        "language": "en",
        "priority": "security_public_spaces",
        "modules": ["training", "cohesion"],
        "indicator": "Parks with a steward team",
        "baseline": 3,
        "target_value": 18,
        "unit": "parks",
        "start_date": date(2024, 1, 1),
        "due_date": date(2026, 12, 31),
        "updates": [(date(2025, 3, 1), 35, "Stewards active in nine parks.", [])],
    },
    {
        "city": "Riga",
        "title": "Privacy impact assessment of every public-space camera",
        "description": "An inventory and an impact assessment of all CCTV and analytics used in public spaces.",
        "language": "en",
        "priority": "technology",
        "modules": ["ai_review"],
        "indicator": "Cameras assessed",
        "baseline": 0,
        "target_value": 420,
        "unit": "cameras",
        "start_date": date(2024, 6, 1),
        "due_date": date(2026, 6, 1),
        "updates": [(date(2025, 2, 1), 25, "Inventory complete; the first 105 cameras assessed.", [])],
    },
]


async def _ensure(session: AsyncSession, city: City, spec: dict[str, Any], parent_id: UUID | None) -> None:
    existing = await session.scalar(
        select(Commitment).where(Commitment.city_id == city.id, Commitment.title == spec["title"])
    )
    if existing is None:
        fields = {k: v for k, v in spec.items() if k not in ("city", "updates", "children")}
        data = CommitmentInput.model_validate({**fields, "parent_id": parent_id})
        existing = await services.create_commitment(session, city.id, data, actor=None, known_modules=DEMO_MODULES)
        await services.publish_commitment(session, existing, actor=None)
        for reported_on, percentage, narrative, links in spec.get("updates", []):
            update = ProgressInput(
                reported_on=reported_on, percentage=percentage, narrative=narrative, evidence_links=links
            )
            await services.add_progress(session, existing, update, actor=None)
    for child in spec.get("children", []):
        await _ensure(session, city, child, existing.id)


async def load_demo(session: AsyncSession) -> None:
    """Published commitments with timelines for Nice, Madrid, Helsinki, Mechelen and Riga, including a
    parent with weighted children (Nice) and achieved ones (Helsinki, a Nice child)."""
    for spec in DEMO:
        city = await session.scalar(select(City).where(City.name == spec["city"]).limit(1))
        if city is None:
            continue
        await _ensure(session, city, spec, None)
    await session.flush()
