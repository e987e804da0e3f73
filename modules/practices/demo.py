"""Demo content: the projects of the seed's §3.3 as published fiches, one under review, and an open campaign."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.config import get_settings
from modules.practices import services
from modules.practices.models import CollectionCampaign, PracticeFiche
from modules.practices.schemas import CampaignInput, FicheInput, IndicatorInput, ReviewInput

ALT = {
    "before": "Sketch of the place before: an open paved area where cars can drive in, few trees, dark corners.",
    "after": "Sketch of the place after: bollards and planters stop vehicles, benches, trees and lamps line the space.",
}


def sketches(place_kind: str) -> dict[str, bytes]:
    """Two schematic plans of a public space (demo pictures: the seed ships no photographs)."""
    pictures = {}
    for stage in ("before", "after"):
        img = Image.new("RGB", (960, 640), (236, 232, 222))
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 260, 960, 380), fill=(150, 150, 150))  # the road
        for x in range(40, 960, 120):
            draw.line((x, 320, x + 60, 320), fill=(250, 250, 250), width=4)
        if stage == "before":
            for x in (120, 420, 700):
                draw.rectangle((x, 180, x + 110, 240), fill=(190, 60, 50))  # cars parked on the square
            draw.polygon([(0, 640), (200, 420), (320, 640)], fill=(90, 90, 90))  # a dark corner
        else:
            for x in range(60, 960, 90):
                draw.ellipse((x, 238, x + 18, 256), fill=(40, 40, 40))  # bollards along the road
            for x in (100, 380, 660):
                draw.ellipse((x, 80, x + 120, 200), fill=(70, 140, 70))  # trees in planters
                draw.rectangle((x + 10, 420, x + 150, 450), fill=(140, 100, 60))  # benches
                draw.line((x + 200, 420, x + 200, 560), fill=(60, 60, 60), width=6)  # lamps
                draw.ellipse((x + 185, 400, x + 215, 430), fill=(250, 220, 90))
        draw.text((24, 24), f"{place_kind.replace('_', ' ')} - {stage}", fill=(30, 30, 30))
        out = io.BytesIO()
        img.save(out, "PNG")
        pictures[stage] = out.getvalue()
    return pictures


async def load_demo(session: AsyncSession, directory: Path | None = None) -> None:
    """Idempotent: a fiche whose title exists already is left as it is. Pictures go to ``directory`` (by
    default the configured uploads folder)."""
    directory = directory or get_settings().var_dir / "uploads" / "practices"
    specs: list[dict[str, Any]] = yaml.safe_load((services.SEED / "demo_fiches.yaml").read_text(encoding="utf-8"))
    existing = set(await session.scalars(select(PracticeFiche.title)))
    cities = {name: cid for cid, name in (await session.execute(select(City.id, City.name))).all()}
    for spec in specs:
        if spec["fiche"]["title"] in existing:
            continue
        city_id = cities.get(spec.get("city", ""))
        fiche = await services.create_fiche(session, city_id, FicheInput.model_validate(spec["fiche"]), actor=None)
        for stage_name, picture in sketches(spec["fiche"]["place_kind"]).items():
            await services.add_image(
                session,
                fiche,
                stage=stage_name,
                caption=f"{spec['fiche']['project']}: illustrative sketch, {stage_name} the measures",
                alt_text=ALT[stage_name],
                raw=picture,
                directory=directory,
                actor=None,
            )
        for indicator in spec.get("indicators", []):
            await services.add_indicator(session, fiche, IndicatorInput.model_validate(indicator), actor=None)
        stage = spec.get("stage", "published")
        if stage == "draft":
            continue
        await services.submit_fiche(session, fiche, actor=None)
        if stage == "submitted":
            continue
        await services.review_fiche(
            session,
            fiche,
            ReviewInput(decision="comment", body="Clear and well documented; checking figures."),
            actor=None,
        )
        if stage == "published":  # "in_review" stops after the comment
            await services.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)
    title = "Collection survey 2026: share your security-by-design practices"
    if not (await session.scalars(select(CollectionCampaign.id).where(CollectionCampaign.title == title))).first():
        await services.create_campaign(
            session,
            CampaignInput(
                title=title,
                message="Send one visual before/after case study of a public space you redesigned.",
                deadline=date.today() + timedelta(days=60),
            ),
            actor=None,
        )
