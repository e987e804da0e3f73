"""Demo content: the programme catalogue, a dozen calls, suggestions, applications and advocacy papers."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City, Membership, MembershipStatus
from modules.funding import services
from modules.funding.models import AdvocacyDocument, Application, Call, DeadlineModel
from modules.funding.schemas import (
    AdvocacyInput,
    AdvocacyStep,
    ApplicationInput,
    ApplicationStep,
    CallInput,
)


def demo_calls(on: date) -> list[CallInput]:
    d = on.toordinal()

    def day(offset: int) -> date:
        return date.fromordinal(d + offset)

    rows = [
        (
            "ISF-2026-AG-PROTECT",
            "ISF-POLICE",
            "Protection of public spaces against terrorist threats",
            -20,
            [40],
            ["public_spaces", "prevention", "technology"],
            None,
            None,
            8_000_000_00,
        ),
        (
            "HORIZON-CL3-2026-FCT-01-03",
            "HORIZON-CL3",
            "Safe and secure public spaces in smart cities",
            -5,
            [60, 200],
            ["research", "technology", "public_spaces"],
            None,
            None,
            15_000_000_00,
        ),
        (
            "EUI-IA-2026-03",
            "EUI",
            "Innovative actions: secure and inclusive public spaces",
            20,
            [120],
            ["urban_planning", "public_spaces", "social_inclusion"],
            50_000,
            None,
            60_000_000_00,
        ),
        (
            "CERV-2026-CHILD-PREV",
            "CERV",
            "Preventing violence and radicalisation among young people",
            -30,
            [10],
            ["prevention", "radicalisation", "social_inclusion"],
            None,
            None,
            5_500_000_00,
        ),
        (
            "URBACT-IV-APN-2026",
            "URBACT",
            "Action planning networks: resilient and safe neighbourhoods",
            -60,
            [25, 90, 150],
            ["cooperation", "public_spaces", "urban_planning"],
            None,
            None,
            12_000_000_00,
        ),
        (
            "JUST-2026-JACC-VICTIMS",
            "JUSTICE",
            "Support to victims of crime in cities",
            -15,
            [70],
            ["victims"],
            None,
            None,
            4_000_000_00,
        ),
        (
            "ERASMUS-2026-POLICE-MOB",
            "ERASMUS-PLUS",
            "Mobility of municipal police officers",
            30,
            [150],
            ["training", "cooperation"],
            None,
            None,
            3_000_000_00,
        ),
        (
            "ESF-FR-2026-PREV",
            "ESF-PLUS",
            "Social inclusion and prevention in priority neighbourhoods (France)",
            -10,
            [80],
            ["social_inclusion", "prevention"],
            None,
            None,
            9_000_000_00,
        ),
        (
            "INTERREG-EURO-MED-2026",
            "INTERREG",
            "Mediterranean cities: safer waterfronts and public spaces",
            -40,
            [45],
            ["cooperation", "public_spaces", "critical_infrastructure"],
            None,
            None,
            18_000_000_00,
        ),
        (
            "HORIZON-CL3-2025-INFRA-01",
            "HORIZON-CL3",
            "Resilience of critical infrastructure (closed)",
            -300,
            [-100],
            ["critical_infrastructure", "research"],
            None,
            None,
            20_000_000_00,
        ),
    ]
    countries = {
        "ESF-FR-2026-PREV": ["FR"],
        "INTERREG-EURO-MED-2026": ["FR", "IT", "ES", "HR", "GR", "PT", "SI", "CY", "MT"],
    }
    out = []
    for identifier, programme, title, open_offset, deadlines, themes, min_pop, max_pop, budget in rows:
        out.append(
            CallInput(
                identifier=identifier,
                reference=identifier.rsplit("-", 1)[0],
                title=title,
                programme=programme,
                description=title + ".",
                opening_date=day(open_offset),
                deadline_model=DeadlineModel.single_stage
                if len(deadlines) == 1
                else DeadlineModel.two_stage
                if len(deadlines) == 2
                else DeadlineModel.multiple_cut_off,
                deadlines=[day(x) for x in deadlines],
                budget_cents=budget,
                expected_grants=max(1, budget // 1_000_000_00),
                action_type="Grant for actions",
                eligible_countries=countries.get(identifier, []),
                applicant_types=["local_authority", "ngo", "public_body"],
                min_population=min_pop,
                max_population=max_pop,
                partnership_required=programme in {"HORIZON-CL3", "INTERREG", "URBACT"},
                themes=themes,
                url="https://ec.europa.eu/info/funding-tenders/opportunities/portal/",
            )
        )
    return out


async def load_demo(session: AsyncSession) -> None:
    """Idempotent: programmes and calls upsert by their natural keys; the rest only when absent."""
    await services.load_programmes(session)
    on = services.today()
    if await session.scalar(select(Call.id).limit(1)) is None:
        for data in demo_calls(on):
            await services.save_call(session, data, actor=None)
    await services.recompute_all(session)
    await services.send_notices(session)
    cities = list(
        await session.scalars(
            select(City)
            .join(Membership, Membership.city_id == City.id)
            .where(Membership.status == MembershipStatus.signatory)
            .order_by(City.name)
            .limit(4)
        )
    )
    if cities and await session.scalar(select(Application.id).limit(1)) is None:
        plans = [
            ("Safer station square", "ISF-POLICE", "awarded", 1_200_000_00),
            ("Youth prevention network", "CERV", "submitted", 350_000_00),
            ("Smart lighting pilot", "HORIZON-CL3", "preparing", 900_000_00),
            ("Waterfront redesign with residents", "ERDF-PO5", "interested", 2_500_000_00),
        ]
        for index, city in enumerate(cities):
            for title, programme, status, amount in plans[index % 2 :: 1][:3]:
                app = await services.create_application(
                    session,
                    city.id,
                    ApplicationInput(title=title, programme=programme, requested_cents=amount),
                    actor=None,
                )
                path = ["preparing", "submitted", "awarded"]
                for step in path[: path.index(status) + 1] if status in path else []:
                    await services.move_application(
                        session,
                        app,
                        ApplicationStep(
                            status=step,
                            on=on - timedelta(days=30),
                            awarded_cents=amount if step == "awarded" else None,
                            eu_share_cents=amount * 9 // 10 if step == "awarded" else None,
                        ),
                        actor=None,
                    )
    if await session.scalar(select(AdvocacyDocument.id).limit(1)) is None:
        paper = await services.create_advocacy(
            session,
            AdvocacyInput(
                kind="position_paper",
                title="Security of public spaces in ERDF guidance for integrated urban strategies",
                addressees=["European Commission, DG REGIO", "Managing authorities"],
                topics=["ERDF guidance", "ITI", "CLLD"],
                summary="Asks managing authorities to let cities include security in ITI and CLLD strategies.",
            ),
            actor=None,
        )
        for city in cities[:3]:
            await services.cosign(session, paper, city.id, actor=None)
        letter = await services.create_advocacy(
            session,
            AdvocacyInput(
                kind="letter",
                title="The role of cities in the Security Union Strategy",
                addressees=["European Commission, DG HOME", "Council of the EU"],
                topics=["Security Union Strategy", "ISF-Police national programmes"],
                summary="Requests a specific mention of local authorities and ISF national programme support.",
            ),
            actor=None,
        )
        await services.move_advocacy(
            session, letter, AdvocacyStep(status="sent", on=on - timedelta(days=60)), actor=None
        )
        await services.move_advocacy(
            session,
            letter,
            AdvocacyStep(
                status="answered",
                on=on - timedelta(days=10),
                answer="The Commission acknowledges the role of cities and will consult the Covenant.",
            ),
            actor=None,
        )
    await session.flush()
