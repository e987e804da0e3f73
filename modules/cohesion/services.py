"""Business rules of the social-cohesion module: glossary, pyramid mapping, impact measurement, Collective
Impact, SWOT and lessons.

Services never commit: the caller's transaction does, so a change, its audit entry and its event are saved
together or not at all.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from sqlalchemy import delete, func, insert, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.cities.models import City
from covenant.db import new_id
from covenant.events import outbox
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.web.pagination import Page
from modules.cohesion import stats
from modules.cohesion.events import EvaluationCompleted, LessonsPublished
from modules.cohesion.models import (
    AGE_GROUPS,
    GENDERS,
    INDICATORS,
    LEVELS,
    Evaluation,
    GlossaryTerm,
    Initiative,
    Lesson,
    Measure,
    RubricScore,
    SurveyResponse,
    SurveyWave,
    SwotBoard,
    SwotEntry,
    SwotVote,
)
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

Actor = Identity | UUID | None
SEED = Path(__file__).parent / "seed"
CONDITIONS = (
    "common_agenda",
    "shared_measurement",
    "mutually_reinforcing_activities",
    "continuous_communication",
    "backbone_support",
)
PRECONDITIONS = ("champion", "resources", "urgency")
CONDITION_LABELS: dict[str, str] = {
    "common_agenda": N_("Common agenda"),
    "shared_measurement": N_("Shared measurement"),
    "mutually_reinforcing_activities": N_("Mutually reinforcing activities"),
    "continuous_communication": N_("Continuous communication"),
    "backbone_support": N_("Backbone support"),
    "champion": N_("An influential champion"),
    "resources": N_("Adequate financial resources"),
    "urgency": N_("A sense of urgency for change"),
}
AREA_LABELS: dict[str, str] = {"intervention": N_("area of the measure"), "comparison": N_("comparison area")}
QUADRANTS = ("strengths", "weaknesses", "opportunities", "threats")
QUADRANT_LABELS: dict[str, str] = {
    "strengths": N_("Strengths"),
    "weaknesses": N_("Weaknesses"),
    "opportunities": N_("Opportunities"),
    "threats": N_("Threats"),
}
CSV_COLUMNS = ("wave", "area", "indicator", "value", "gender", "age_group")
MAX_CSV_ROWS = 50_000


@dataclass(frozen=True)
class Notice:
    """A message kept untranslated (an ``N_`` constant with ``%(name)s`` placeholders and its values), so each
    reader gets it in their language: ``text()`` translates first, then fills the placeholders."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Translated now (placeholder values that are labels are translated too)."""
        if not self.params:
            return _(self.template)
        values = {k: _(v) if isinstance(v, str) else v for k, v in self.params.items()}
        return _(self.template) % values

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template

    def __contains__(self, part: str) -> bool:
        return part in str(self)


class CohesionError(ValueError):
    """A rule refused the input; ``field`` names the form field it concerns; ``text()`` is the translated
    message."""

    def __init__(self, field: str, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message % params if params else message)
        self.field = field
        self.message = message
        self.params = params or {}

    def text(self) -> str:
        return Notice(self.message, self.params).text()


class CsvImportError(ValueError):
    """The file was refused as a whole; ``errors`` name the row and the column."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _label(indicator: str) -> str:
    """The indicator's (untranslated) label, translated when a ``Notice`` is read."""
    return str(INDICATORS[indicator]["label"]) if indicator in INDICATORS else indicator


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


# -- glossary ---------------------------------------------------------------------------------------


def seed_glossary() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load((SEED / "glossary.yaml").read_text(encoding="utf-8"))
    return data


async def ensure_glossary(session: AsyncSession) -> int:
    """Insert the shipped glossary terms that are missing (edited terms are left alone). Returns how many."""
    existing = set((await session.scalars(select(GlossaryTerm.key))).all())
    added = 0
    for item in seed_glossary():
        if item["key"] in existing:
            continue
        session.add(
            GlossaryTerm(
                key=item["key"], term=item["term"], definition=item["definition"], source=item.get("source", "")
            )
        )
        added += 1
    await session.flush()
    return added


async def glossary(session: AsyncSession) -> list[GlossaryTerm]:
    await ensure_glossary(session)
    return list((await session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.key))).all())


async def get_term(session: AsyncSession, key: str) -> GlossaryTerm | None:
    await ensure_glossary(session)
    return (await session.scalars(select(GlossaryTerm).where(GlossaryTerm.key == key))).one_or_none()


async def update_term(session: AsyncSession, term: GlossaryTerm, data: GlossaryInput, *, actor: Actor) -> None:
    before = {"term": dict(term.term), "definition": dict(term.definition), "source": term.source}
    term.term = {**term.term, "en": data.term_en} | ({"fr": data.term_fr} if data.term_fr else {})
    term.definition = {**term.definition, "en": data.definition_en} | (
        {"fr": data.definition_fr} if data.definition_fr else {}
    )
    term.source = data.source
    audit.record(
        session,
        actor=actor,
        action="cohesion.glossary_updated",
        entity_type="cohesion_glossary_term",
        entity_id=term.id,
        before=before,
        after={"term": term.term, "definition": term.definition, "source": term.source},
    )
    await session.flush()


# -- measures and the pyramid -----------------------------------------------------------------------


def _measure_snapshot(m: Measure) -> dict[str, Any]:
    return {
        "name": m.name,
        "level": m.level,
        "target_group": m.target_group,
        "area": m.area,
        "partners": list(m.partners or []),
        "annual_budget": m.annual_budget,
        "start_date": m.start_date.isoformat() if m.start_date else None,
        "status": m.status,
        "selected": m.selected,
    }


def _apply_measure(m: Measure, data: MeasureInput) -> None:
    m.name = data.name
    m.description = data.description
    m.language = data.language
    m.level = data.level
    m.target_group = data.target_group
    m.area = data.area
    m.partners = list(data.partners)
    m.annual_budget = data.annual_budget
    m.start_date = data.start_date
    m.status = data.status


async def create_measure(session: AsyncSession, city_id: UUID, data: MeasureInput, *, actor: Actor) -> Measure:
    if await session.get(City, city_id) is None:
        raise CohesionError("city_id", N_("Unknown city."))
    measure = Measure(id=new_id(), city_id=city_id)
    _apply_measure(measure, data)
    session.add(measure)
    audit.record(
        session,
        actor=actor,
        action="cohesion.measure_created",
        entity_type="cohesion_measure",
        entity_id=measure.id,
        after=_measure_snapshot(measure),
    )
    await session.flush()
    return measure


async def update_measure(session: AsyncSession, measure: Measure, data: MeasureInput, *, actor: Actor) -> Measure:
    before = _measure_snapshot(measure)
    _apply_measure(measure, data)
    after = _measure_snapshot(measure)
    changed = [k for k in after if after[k] != before[k]]
    audit.record(
        session,
        actor=actor,
        action="cohesion.measure_updated",
        entity_type="cohesion_measure",
        entity_id=measure.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    await session.flush()
    return measure


async def delete_measure(session: AsyncSession, measure: Measure, *, actor: Actor) -> None:
    evaluation = await evaluation_of(session, measure.id)
    if evaluation is not None and evaluation.completed_at is not None:
        # Evaluated measures stay: what did not work must remain visible.
        raise CohesionError("measure", N_("An evaluated measure is kept; set its status to ended instead."))
    audit.record(
        session,
        actor=actor,
        action="cohesion.measure_deleted",
        entity_type="cohesion_measure",
        entity_id=measure.id,
        before=_measure_snapshot(measure),
    )
    await session.delete(measure)
    await session.flush()


async def select_measure(session: AsyncSession, measure: Measure, *, actor: Actor) -> Evaluation:
    """Make ``measure`` the city's one measure selected for impact measurement; opens its evaluation."""
    previous = (
        await session.scalars(
            select(Measure).where(
                Measure.city_id == measure.city_id, Measure.selected.is_(True), Measure.id != measure.id
            )
        )
    ).all()
    for other in previous:
        other.selected = False
    measure.selected = True
    evaluation = await evaluation_of(session, measure.id)
    if evaluation is None:
        evaluation = Evaluation(
            id=new_id(),
            measure_id=measure.id,
            city_id=measure.city_id,
            indicators=[{"key": "feeling_of_insecurity", "objective": ""}],
            logic_model={},
            objectives=[],
        )
        session.add(evaluation)
    audit.record(
        session,
        actor=actor,
        action="cohesion.measure_selected",
        entity_type="cohesion_measure",
        entity_id=measure.id,
        after={"selected": True, "unselected": [str(o.id) for o in previous]},
    )
    await session.flush()
    return evaluation


async def get_measure(session: AsyncSession, city_id: UUID, measure_id: UUID) -> Measure | None:
    measure = await session.get(Measure, measure_id)
    return measure if measure is not None and measure.city_id == city_id else None


async def city_measures(
    session: AsyncSession, city_id: UUID, *, q: str = "", level: str = "", number: int = 1, size: int = 25
) -> Page[Measure]:
    where: list[Any] = [Measure.city_id == city_id]
    if level:
        where.append(Measure.level == level)
    if q:
        like = f"%{q.lower()}%"
        where.append(or_(func.lower(Measure.name).like(like), func.lower(Measure.target_group).like(like)))
    total = int(await session.scalar(select(func.count()).select_from(Measure).where(*where)) or 0)
    rows = (
        await session.scalars(
            select(Measure)
            .where(*where)
            .order_by(Measure.created_at.desc(), Measure.id)
            .offset((number - 1) * size)
            .limit(size)
        )
    ).all()
    return Page(list(rows), total, number, size)


async def evaluated_measure_ids(session: AsyncSession, city_id: UUID) -> set[UUID]:
    return set(
        (
            await session.scalars(
                select(Evaluation.measure_id).where(Evaluation.city_id == city_id, Evaluation.completed_at.is_not(None))
            )
        ).all()
    )


@dataclass
class Pyramid:
    """A city's measures per level of the prevention pyramid, with what the analysis flags."""

    city_id: UUID
    city_name: str
    counts: dict[str, int]
    budgets: dict[str, int]
    measures: int
    evaluated: int

    @property
    def empty_levels(self) -> list[str]:
        return [level for level in LEVELS if self.counts[level] == 0]

    @property
    def without_evaluation(self) -> int:
        return self.measures - self.evaluated

    @property
    def total_budget(self) -> int:
        return sum(self.budgets.values())

    @property
    def widest(self) -> int:
        return max(self.counts.values()) or 1


async def pyramid(session: AsyncSession, city: City) -> Pyramid:
    rows = (
        await session.execute(
            select(Measure.level, func.count(), func.coalesce(func.sum(Measure.annual_budget), 0))
            .where(Measure.city_id == city.id)
            .group_by(Measure.level)
        )
    ).all()
    counts = dict.fromkeys(LEVELS, 0)
    budgets = dict.fromkeys(LEVELS, 0)
    for level, count, budget in rows:
        if level in counts:
            counts[level] = int(count)
            budgets[level] = int(budget)
    evaluated = len(await evaluated_measure_ids(session, city.id))
    return Pyramid(city.id, city.name, counts, budgets, sum(counts.values()), evaluated)


async def compare(session: AsyncSession, city_ids: list[UUID]) -> list[Pyramid]:
    """3-5 pilot cities side by side (any number is computed; the page asks for 3 to 5)."""
    cities = (await session.scalars(select(City).where(City.id.in_(city_ids)).order_by(City.name))).all()
    return [await pyramid(session, city) for city in cities]


async def cities_with_measures_page(session: AsyncSession, *, number: int = 1, size: int = 50) -> Page[Any]:
    """One page of the cities mapping their measures (name, id, how many), by name: the public index shows
    it, so its cost must not grow with the number of cities."""
    total = await session.scalar(select(func.count(func.distinct(Measure.city_id)))) or 0
    counted = select(Measure.city_id, func.count(Measure.id).label("measures")).group_by(Measure.city_id).subquery()
    rows = await session.execute(
        select(City.id, City.name, counted.c.measures)
        .join(counted, counted.c.city_id == City.id)
        .order_by(City.name, City.id)
        .limit(literal_column(str(int(size))))
        .offset(literal_column(str(max(0, (number - 1) * int(size)))))
    )
    return Page(items=[(row, int(row.measures)) for row in rows.all()], total=int(total), number=number, size=size)


async def cities_with_measures(session: AsyncSession) -> list[tuple[City, int]]:
    rows = (
        await session.execute(
            select(City, func.count(Measure.id))
            .join(Measure, Measure.city_id == City.id)
            .group_by(City.id)
            .order_by(City.name)
        )
    ).all()
    return [(city, int(count)) for city, count in rows]


# -- impact measurement -----------------------------------------------------------------------------


async def evaluation_of(session: AsyncSession, measure_id: UUID) -> Evaluation | None:
    return (await session.scalars(select(Evaluation).where(Evaluation.measure_id == measure_id))).one_or_none()


def parse_objectives(text: str) -> list[dict[str, Any]]:
    """Indented lines (two spaces or a leading '-' per level) as a tree of objectives."""
    roots: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        expanded = raw.replace("\t", "  ")
        depth = (len(expanded) - len(expanded.lstrip(" "))) // 2
        stripped = expanded.strip().lstrip("-*").strip()
        node: dict[str, Any] = {"text": stripped[:500], "children": []}
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def objectives_text(tree: list[dict[str, Any]], depth: int = 0) -> str:
    lines: list[str] = []
    for node in tree:
        lines.append("  " * depth + node["text"])
        child = objectives_text(node.get("children", []), depth + 1)
        if child:
            lines.append(child)
    return "\n".join(lines)


async def save_plan(session: AsyncSession, evaluation: Evaluation, data: EvaluationPlanInput, *, actor: Actor) -> None:
    if evaluation.completed_at is not None:
        raise CohesionError("design", N_("This evaluation is completed; its plan can no longer change."))
    objectives = parse_objectives(data.objectives)
    first_objective = objectives[0]["text"] if objectives else ""
    known = {i["key"]: i.get("objective", "") for i in evaluation.indicators or []}
    evaluation.problem_analysis = data.problem_analysis
    evaluation.objectives = objectives
    evaluation.logic_model = {
        "inputs": list(data.inputs),
        "activities": list(data.activities),
        "outputs": list(data.outputs),
        "outcomes": list(data.outcomes),
    }
    evaluation.indicators = [{"key": key, "objective": known.get(key) or first_objective} for key in data.indicators]
    evaluation.design = data.design
    audit.record(
        session,
        actor=actor,
        action="cohesion.evaluation_planned",
        entity_type="cohesion_evaluation",
        entity_id=evaluation.id,
        after={"design": data.design, "indicators": data.indicators},
    )
    await session.flush()


def _check_wave(evaluation: Evaluation, indicator: str, area: str) -> None:
    keys = [i["key"] for i in evaluation.indicators or []]
    if indicator not in keys:
        raise CohesionError("indicator", N_("This indicator is not part of the evaluation's plan."))
    if area == "comparison" and evaluation.design != "pre_post_comparison":
        raise CohesionError("area", N_("Only the design with a comparison area takes comparison data."))


async def add_wave(session: AsyncSession, evaluation: Evaluation, data: WaveInput, *, actor: Actor) -> SurveyWave:
    """Record (or replace) one wave's aggregated values of one indicator in one area."""
    if evaluation.completed_at is not None:
        raise CohesionError("wave", N_("This evaluation is completed; its data can no longer change."))
    _check_wave(evaluation, data.indicator, data.area)
    wave = (
        await session.scalars(
            select(SurveyWave).where(
                SurveyWave.evaluation_id == evaluation.id,
                SurveyWave.indicator == data.indicator,
                SurveyWave.area == data.area,
                SurveyWave.wave == data.wave,
            )
        )
    ).one_or_none()
    if wave is None:
        wave = SurveyWave(
            id=new_id(), evaluation_id=evaluation.id, indicator=data.indicator, area=data.area, wave=data.wave
        )
        session.add(wave)
    wave.mean, wave.sd, wave.n, wave.from_respondents = data.mean, data.sd, data.n, False
    audit.record(
        session,
        actor=actor,
        action="cohesion.wave_recorded",
        entity_type="cohesion_evaluation",
        entity_id=evaluation.id,
        after=data.model_dump(),
    )
    await session.flush()
    return wave


def _cell(column: str, problem: str) -> str:
    return _("column %(column)s: %(problem)s") % {"column": column, "problem": problem}


def parse_responses_csv(text: str, evaluation: Evaluation) -> list[dict[str, Any]]:
    """Respondent-level rows checked one by one; every problem is reported with its row number and column, in
    the reader's language (the column names are the header's own, not translated)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    errors: list[str] = []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in ("wave", "indicator", "value") if h not in header]
    if unknown:
        errors.append(
            _("Unknown column(s): %(columns)s (expected: %(expected)s).")
            % {"columns": ", ".join(unknown), "expected": ", ".join(CSV_COLUMNS)}
        )
    if missing:
        errors.append(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
    if errors:
        raise CsvImportError(errors)
    keys = {i["key"] for i in evaluation.indicators or []}
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        problems: list[str] = []
        try:
            wave = int(row["wave"])
            if not 0 <= wave <= 20:
                raise ValueError
        except ValueError:
            problems.append(_cell("wave", _("a whole number from 0 (baseline) to 20")))
            wave = 0
        try:
            value = float(row["value"].replace(",", "."))
        except ValueError:
            problems.append(_cell("value", _("a number")))
            value = 0.0
        indicator = row["indicator"]
        if indicator not in keys:
            problems.append(
                _cell(
                    "indicator", _("%(indicator)s is not measured in this evaluation") % {"indicator": repr(indicator)}
                )
            )
        area = row.get("area") or "intervention"
        if area not in ("intervention", "comparison"):
            problems.append(_cell("area", _("one of %(values)s") % {"values": "intervention, comparison"}))
        elif area == "comparison" and evaluation.design != "pre_post_comparison":
            problems.append(_cell("area", _("this design has no comparison area")))
        gender = row.get("gender") or "unknown"
        if gender not in GENDERS:
            problems.append(_cell("gender", _("one of %(values)s") % {"values": ", ".join(GENDERS)}))
        age_group = row.get("age_group") or "unknown"
        if age_group not in AGE_GROUPS:
            problems.append(_cell("age_group", _("one of %(values)s") % {"values": ", ".join(AGE_GROUPS)}))
        if problems:
            errors.append(_("Row %(row)d: %(problems)s.") % {"row": number, "problems": "; ".join(problems)})
            if len(errors) >= 50:
                break
            continue
        rows.append(
            {
                "wave": wave,
                "value": value,
                "indicator": indicator,
                "area": area,
                "gender": gender,
                "age_group": age_group,
            }
        )
        if len(rows) > MAX_CSV_ROWS:
            raise CsvImportError([_("More than %(count)d rows; split the file.") % {"count": MAX_CSV_ROWS}])
    if errors:
        raise CsvImportError(errors)
    if not rows:
        raise CsvImportError([_("The file has no data rows.")])
    groups: dict[tuple[str, str, int], int] = defaultdict(int)
    for row in rows:
        groups[(row["indicator"], row["area"], row["wave"])] += 1
    small = [
        _("%(indicator)s / %(area)s / wave %(wave)d") % {"indicator": i, "area": a, "wave": w}
        for (i, a, w), n in groups.items()
        if n < 2
    ]
    if small:
        raise CsvImportError(
            [_("At least 2 respondents are needed per wave (n ≥ 2): %(groups)s.") % {"groups": ", ".join(small)}]
        )
    return rows


async def import_responses(session: AsyncSession, evaluation: Evaluation, text: str, *, actor: Actor) -> int:
    """Replace the respondent-level data of the waves in the file and recompute their summaries, set-based."""
    if evaluation.completed_at is not None:
        raise CsvImportError([_("This evaluation is completed; its data can no longer change.")])
    rows = parse_responses_csv(text, evaluation)
    by_group: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for row in rows:
        by_group[(row["indicator"], row["area"], row["wave"])].append(row["value"])
    for indicator, area, wave in by_group:
        for table in (SurveyResponse, SurveyWave):
            await session.execute(
                delete(table).where(
                    table.evaluation_id == evaluation.id,
                    table.indicator == indicator,
                    table.area == area,
                    table.wave == wave,
                )
            )
    await session.execute(
        insert(SurveyResponse),
        [{"id": new_id(), "evaluation_id": evaluation.id, **row} for row in rows],
    )
    for (indicator, area, wave), values in by_group.items():
        summary = stats.summarise(values)
        session.add(
            SurveyWave(
                id=new_id(),
                evaluation_id=evaluation.id,
                indicator=indicator,
                area=area,
                wave=wave,
                mean=summary.mean,
                sd=summary.sd,
                n=summary.n,
                from_respondents=True,
            )
        )
    audit.record(
        session,
        actor=actor,
        action="cohesion.responses_imported",
        entity_type="cohesion_evaluation",
        entity_id=evaluation.id,
        after={"rows": len(rows), "waves": len(by_group)},
    )
    await session.flush()
    return len(rows)


async def waves_of(session: AsyncSession, evaluation_id: UUID) -> list[SurveyWave]:
    return list(
        (
            await session.scalars(
                select(SurveyWave)
                .where(SurveyWave.evaluation_id == evaluation_id)
                .order_by(SurveyWave.indicator, SurveyWave.area, SurveyWave.wave)
            )
        ).all()
    )


@dataclass
class IndicatorResult:
    indicator: str
    follow_up_wave: int
    change: stats.Estimate
    direction: str
    comparison_change: stats.Estimate | None = None
    comparison_direction: str | None = None
    did: stats.Estimate | None = None
    did_direction: str | None = None

    @property
    def headline(self) -> stats.Estimate:
        return self.did or self.change

    @property
    def headline_direction(self) -> str:
        return self.did_direction or self.direction


@dataclass
class Breakdown:
    indicator: str
    dimension: str
    group: str
    before: stats.Summary
    after: stats.Summary
    change: stats.Estimate


@dataclass
class Analysis:
    design: str
    results: list[IndicatorResult] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    errors: list[Notice] = field(default_factory=list)

    @property
    def headline(self) -> IndicatorResult | None:
        """Feeling of insecurity first (the seed's question), else the first indicator measured."""
        for result in self.results:
            if result.indicator == "feeling_of_insecurity":
                return result
        return self.results[0] if self.results else None


def analyse(
    design: str, indicators: list[str], waves: list[SurveyWave], responses: list[SurveyResponse] | None = None
) -> Analysis:
    """Change per indicator (last follow-up vs baseline; every follow-up for repeated measures), DiD with a
    comparison area, effect sizes, breakdowns and warnings. Pure: reads only its arguments."""
    analysis = Analysis(design=design)
    table: dict[tuple[str, str, int], stats.Summary] = {
        (w.indicator, w.area, w.wave): stats.Summary(w.mean, w.sd, w.n) for w in waves
    }
    for key, summary in table.items():
        if summary.n < stats.SMALL_SAMPLE:
            analysis.warnings.append(
                Notice(
                    N_("Small sample: %(indicator)s, %(area)s, wave %(wave)s has %(n)s respondents (fewer than 30)."),
                    {"indicator": _label(key[0]), "area": AREA_LABELS[key[1]], "wave": key[2], "n": summary.n},
                )
            )
    for indicator in indicators:
        better_up = bool(INDICATORS[indicator]["higher_is_better"])
        intervention = sorted(w for (i, a, w) in table if i == indicator and a == "intervention")
        if 0 not in intervention or len(intervention) < 2:
            analysis.errors.append(
                Notice(
                    N_("%(indicator)s: a baseline (wave 0) and at least one follow-up wave are needed."),
                    {"indicator": _label(indicator)},
                )
            )
            continue
        base = table[(indicator, "intervention", 0)]
        follow_ups = [w for w in intervention if w > 0]
        if design != "repeated":
            follow_ups = follow_ups[-1:]
        for wave in follow_ups:
            est = stats.change(base, table[(indicator, "intervention", wave)])
            result = IndicatorResult(indicator, wave, est, stats.improvement(est, better_up))
            if design == "pre_post_comparison":
                c0, c1 = table.get((indicator, "comparison", 0)), table.get((indicator, "comparison", wave))
                if c0 is None or c1 is None:
                    analysis.errors.append(
                        Notice(
                            N_(
                                "%(indicator)s: the design with a comparison area needs comparison data "
                                "for the baseline and wave %(wave)s."
                            ),
                            {"indicator": _label(indicator), "wave": wave},
                        )
                    )
                else:
                    result.comparison_change = stats.change(c0, c1)
                    result.comparison_direction = stats.improvement(result.comparison_change, better_up)
                    result.did = stats.difference_in_differences(base, table[(indicator, "intervention", wave)], c0, c1)
                    result.did_direction = stats.improvement(result.did, better_up)
            analysis.results.append(result)
    for result in analysis.results:
        if result.indicator == "feeling_of_insecurity" and result.direction == "worsened":
            analysis.warnings.append(
                Notice(
                    N_(
                        "Feelings of insecurity rose after the measure (wave %(wave)s). A measure can backfire — "
                        "as CCTV can make people feel watched: look at why before continuing."
                    ),
                    {"wave": result.follow_up_wave},
                )
            )
        if (
            result.indicator in ("feeling_of_insecurity", "victimisation")
            and result.direction == "improved"
            and result.comparison_direction == "worsened"
        ):
            analysis.warnings.append(
                Notice(
                    N_(
                        "Possible displacement: %(indicator)s improved in the area of the measure while it "
                        "worsened in the comparison area. Problems may have moved rather than gone."
                    ),
                    {"indicator": _label(result.indicator)},
                )
            )
    if design != "pre_post_comparison" and analysis.results:
        analysis.warnings.append(
            Notice(
                N_(
                    "Without a comparison area, the change cannot be told apart from trends in the whole city, "
                    "and displacement cannot be checked."
                )
            )
        )
    analysis.breakdowns = _breakdowns(indicators, responses or [])
    return analysis


def _breakdowns(indicators: list[str], responses: list[SurveyResponse]) -> list[Breakdown]:
    """Change from the baseline to the last wave per gender and per age group (area of the measure)."""
    out: list[Breakdown] = []
    for indicator in indicators:
        rows = [r for r in responses if r.indicator == indicator and r.area == "intervention"]
        waves = sorted({r.wave for r in rows})
        if 0 not in waves or len(waves) < 2:
            continue
        last = waves[-1]
        for dimension in ("gender", "age_group"):
            groups = sorted({getattr(r, dimension) for r in rows})
            for group in groups:
                before = [r.value for r in rows if r.wave == 0 and getattr(r, dimension) == group]
                after = [r.value for r in rows if r.wave == last and getattr(r, dimension) == group]
                if len(before) < 2 or len(after) < 2:
                    continue
                b, a = stats.summarise(before), stats.summarise(after)
                out.append(Breakdown(indicator, dimension, group, b, a, stats.change(b, a)))
    return out


async def analysis_of(session: AsyncSession, evaluation: Evaluation) -> Analysis:
    waves = await waves_of(session, evaluation.id)
    responses = list(
        (await session.scalars(select(SurveyResponse).where(SurveyResponse.evaluation_id == evaluation.id))).all()
    )
    return analyse(evaluation.design, [i["key"] for i in evaluation.indicators or []], waves, responses)


async def complete_evaluation(
    session: AsyncSession, evaluation: Evaluation, measure: Measure, data: VerdictInput, *, actor: Actor
) -> Analysis:
    """Record the city's verdict; emits ``cohesion.evaluation_completed``. Refused while the analysis has
    errors (missing baseline, comparison design without comparison data)."""
    if evaluation.completed_at is not None:
        raise CohesionError("verdict", N_("This evaluation is already completed."))
    analysis = await analysis_of(session, evaluation)
    if analysis.errors:
        raise CohesionError("verdict", analysis.errors[0].template, analysis.errors[0].params)
    headline = analysis.headline
    if headline is None:
        raise CohesionError("verdict", N_("Enter survey data before recording a verdict."))
    evaluation.verdict = data.verdict
    evaluation.verdict_reasons = data.reasons
    evaluation.effect = headline.headline.effect_size
    evaluation.completed_at = datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="cohesion.evaluation_completed",
        entity_type="cohesion_evaluation",
        entity_id=evaluation.id,
        after={"verdict": data.verdict, "effect": evaluation.effect},
    )
    outbox.record(
        session,
        EvaluationCompleted(
            actor=_actor_id(actor),
            city_id=evaluation.city_id,
            evaluation_id=evaluation.id,
            measure_id=measure.id,
            measure_name=measure.name,
            level=measure.level,
            indicator=headline.indicator,
            change=headline.headline.value,
            effect=headline.headline.effect_size,
            direction=headline.headline_direction,
            verdict=data.verdict,
        ),
    )
    await session.flush()
    return analysis


async def completed_evaluations(session: AsyncSession, *, limit: int = 100) -> list[tuple[Evaluation, Measure, City]]:
    """Every completed evaluation, those that did not work included."""
    rows = (
        await session.execute(
            select(Evaluation, Measure, City)
            .join(Measure, Measure.id == Evaluation.measure_id)
            .join(City, City.id == Evaluation.city_id)
            .where(Evaluation.completed_at.is_not(None))
            .order_by(Evaluation.completed_at.desc())
            .limit(limit)
        )
    ).all()
    return [(e, m, c) for e, m, c in rows]


# -- Collective Impact, SWOT, lessons ---------------------------------------------------------------


def _partners(lines: list[str]) -> list[dict[str, str]]:
    out = []
    for line in lines:
        for sep in (" — ", " - ", ";", ":"):
            if sep in line:
                name, sector = line.split(sep, 1)
                out.append({"name": name.strip(), "sector": sector.strip()})
                break
        else:
            out.append({"name": line.strip(), "sector": ""})
    return out


async def create_initiative(session: AsyncSession, city_id: UUID, data: InitiativeInput, *, actor: Actor) -> Initiative:
    initiative = Initiative(
        id=new_id(), city_id=city_id, title=data.title, problem=data.problem, partners=_partners(data.partners)
    )
    session.add(initiative)
    audit.record(
        session,
        actor=actor,
        action="cohesion.initiative_created",
        entity_type="cohesion_initiative",
        entity_id=initiative.id,
        after={"title": data.title},
    )
    await session.flush()
    return initiative


async def get_initiative(session: AsyncSession, city_id: UUID, initiative_id: UUID) -> Initiative | None:
    initiative = await session.get(Initiative, initiative_id)
    return initiative if initiative is not None and initiative.city_id == city_id else None


async def get_board(session: AsyncSession, city_id: UUID, board_id: UUID) -> SwotBoard | None:
    board = await session.get(SwotBoard, board_id)
    return board if board is not None and board.city_id == city_id else None


async def get_entry(session: AsyncSession, board: SwotBoard, entry_id: UUID) -> SwotEntry | None:
    entry = await session.get(SwotEntry, entry_id)
    return entry if entry is not None and entry.board_id == board.id else None


async def initiative_boards(session: AsyncSession, initiative_id: UUID) -> list[SwotBoard]:
    return list(
        (
            await session.scalars(
                select(SwotBoard).where(SwotBoard.initiative_id == initiative_id).order_by(SwotBoard.created_at)
            )
        ).all()
    )


async def initiative_lessons(session: AsyncSession, initiative_id: UUID) -> list[Lesson]:
    return list(
        (
            await session.scalars(
                select(Lesson).where(Lesson.initiative_id == initiative_id).order_by(Lesson.published_at.desc())
            )
        ).all()
    )


async def city_initiatives(session: AsyncSession, city_id: UUID) -> list[Initiative]:
    return list(
        (
            await session.scalars(
                select(Initiative).where(Initiative.city_id == city_id).order_by(Initiative.created_at.desc())
            )
        ).all()
    )


async def score_initiative(
    session: AsyncSession, initiative: Initiative, data: RubricInput, *, actor: Actor
) -> RubricScore:
    scores = {key: int(getattr(data, key)) for key in (*CONDITIONS, *PRECONDITIONS)}
    score = RubricScore(
        id=new_id(), initiative_id=initiative.id, scored_on=data.scored_on, scores=scores, notes=data.notes
    )
    session.add(score)
    audit.record(
        session,
        actor=actor,
        action="cohesion.initiative_scored",
        entity_type="cohesion_initiative",
        entity_id=initiative.id,
        after={"scored_on": data.scored_on.isoformat(), **scores},
    )
    await session.flush()
    return score


async def rubric_history(session: AsyncSession, initiative_id: UUID) -> list[RubricScore]:
    return list(
        (
            await session.scalars(
                select(RubricScore).where(RubricScore.initiative_id == initiative_id).order_by(RubricScore.scored_on)
            )
        ).all()
    )


async def create_board(
    session: AsyncSession, title: str, *, city_id: UUID | None, initiative_id: UUID | None, actor: Actor
) -> SwotBoard:
    board = SwotBoard(id=new_id(), title=title, city_id=city_id, initiative_id=initiative_id)
    session.add(board)
    audit.record(
        session,
        actor=actor,
        action="cohesion.swot_created",
        entity_type="cohesion_swot_board",
        entity_id=board.id,
        after={"title": title},
    )
    await session.flush()
    return board


async def add_entry(session: AsyncSession, board: SwotBoard, data: SwotEntryInput, *, actor: Actor) -> SwotEntry:
    entry = SwotEntry(id=new_id(), board_id=board.id, quadrant=data.quadrant, text=data.text, votes=0)
    session.add(entry)
    audit.record(
        session,
        actor=actor,
        action="cohesion.swot_entry_added",
        entity_type="cohesion_swot_board",
        entity_id=board.id,
        after={"quadrant": data.quadrant, "text": data.text},
    )
    await session.flush()
    return entry


async def vote(session: AsyncSession, entry: SwotEntry, voter_id: UUID) -> bool:
    """One vote per person and entry; a second vote changes nothing. Returns whether it counted."""
    exists = await session.scalar(
        select(func.count()).select_from(SwotVote).where(SwotVote.entry_id == entry.id, SwotVote.voter_id == voter_id)
    )
    if exists:
        return False
    session.add(SwotVote(id=new_id(), entry_id=entry.id, voter_id=voter_id))
    entry.votes += 1
    await session.flush()
    return True


async def board_entries(session: AsyncSession, board_id: UUID) -> dict[str, list[SwotEntry]]:
    rows = (
        await session.scalars(
            select(SwotEntry)
            .where(SwotEntry.board_id == board_id)
            .order_by(SwotEntry.votes.desc(), SwotEntry.created_at)
        )
    ).all()
    out: dict[str, list[SwotEntry]] = {q: [] for q in QUADRANTS}
    for entry in rows:
        out[entry.quadrant].append(entry)
    return out


def executive_summary(board: SwotBoard, entries: dict[str, list[SwotEntry]], top: int = 5) -> str:
    """A Markdown executive summary in the reader's language: the most-voted entries of each quadrant."""
    lines = [f"# {_('SWOT')} — {board.title}", ""]
    total = sum(len(v) for v in entries.values())
    lines.append(_("%(n)s contributions. Most-voted entries per quadrant:") % {"n": total})
    for quadrant in QUADRANTS:
        lines += ["", f"## {_(QUADRANT_LABELS[quadrant])}", ""]
        chosen = entries[quadrant][:top]
        lines += [
            "- " + _("%(text)s (%(votes)s votes)") % {"text": e.text.replace("\n", " "), "votes": e.votes}
            for e in chosen
        ] or ["- " + _("(none)")]
    return "\n".join(lines) + "\n"


async def publish_lesson(session: AsyncSession, city_id: UUID, data: LessonInput, *, actor: Actor) -> Lesson:
    """Publish a lesson learned; emits ``cohesion.lessons_published`` for the training toolbox."""
    if data.evaluation_id is not None:
        evaluation = await session.get(Evaluation, data.evaluation_id)
        if evaluation is None or evaluation.city_id != city_id:
            raise CohesionError("evaluation_id", N_("No such evaluation in this city."))
    if data.initiative_id is not None:
        initiative = await session.get(Initiative, data.initiative_id)
        if initiative is None or initiative.city_id != city_id:
            raise CohesionError("initiative_id", N_("No such initiative in this city."))
    lesson = Lesson(
        id=new_id(),
        city_id=city_id,
        evaluation_id=data.evaluation_id,
        initiative_id=data.initiative_id,
        title=data.title,
        body=data.body,
        language=data.language,
        published_at=datetime.now(UTC),
    )
    session.add(lesson)
    source = "evaluation" if data.evaluation_id else "initiative" if data.initiative_id else "general"
    audit.record(
        session,
        actor=actor,
        action="cohesion.lesson_published",
        entity_type="cohesion_lesson",
        entity_id=lesson.id,
        after={"title": data.title, "source": source},
    )
    outbox.record(
        session,
        LessonsPublished(
            actor=_actor_id(actor),
            city_id=city_id,
            lesson_id=lesson.id,
            title=data.title,
            summary=data.body[:500],
            language=data.language,
            source=source,
        ),
    )
    await session.flush()
    return lesson


async def published_lessons(session: AsyncSession, *, number: int = 1, size: int = 25) -> Page[tuple[Lesson, City]]:
    where = [Lesson.published_at.is_not(None)]
    total = int(await session.scalar(select(func.count()).select_from(Lesson).where(*where)) or 0)
    rows = (
        await session.execute(
            select(Lesson, City)
            .join(City, City.id == Lesson.city_id)
            .where(*where)
            .order_by(Lesson.published_at.desc(), Lesson.id)
            .offset((number - 1) * size)
            .limit(size)
        )
    ).all()
    return Page([(lesson, city) for lesson, city in rows], total, number, size)
