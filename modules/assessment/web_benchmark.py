"""The benchmarking dashboard (under /m/assessment/cities/<id>/benchmark) and the public index catalogue.

A city's editors and the admins see the city's profile per dimension against its peer group (same size
class, optionally same country): the peers' median and interquartile range, the trend over the years, the
indicators where the city differs most, peers that are strong in a dimension and publish practices, their
own monitor (other dimension weights), scenarios (other indicator values) and the uncertainty of their
position. Nothing here is saved, and nothing orders cities: other cities' individual scores appear only when
those cities opted in (``assessment_sharing``), and no statistic is shown for fewer than ``MIN_PEERS`` peers.

Peer statistics come from one query over the year's score rows, cached per process with a freshness token
(count and last computation time of the cohort), then NumPy.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
import numpy as np
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from markupsafe import Markup
from numpy.typing import NDArray
from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import requires
from covenant.accounts.permissions import MODULE_EDIT
from covenant.cities.models import City
from covenant.cities.web import SIZE_LABELS
from covenant.i18n import N_, current_locale
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, page
from modules.assessment import benchmarking, charts, engine, indices
from modules.assessment.framework import Framework, Indicator, default_framework
from modules.assessment.models import Answer, AssessmentScore, FrameworkVersion, ScoreSharing
from modules.assessment.services import framework_of

AnyRequest = Request[Any, Any, Any]
SLUG = "assessment"
BASE = "/m/assessment"
edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
PRACTICES_EVENT = "practices.fiche_published"
LEARNING_DIMENSIONS = 3
LEARNING_PEERS = 5
SHARED_PEERS_SHOWN = 25
UNCERTAINTY_DRAWS = 1000
CACHE_SIZE = 8

YearQ = Annotated[int | None, Parameter(query="year", required=False, ge=2000, le=2100)]
CountryQ = Annotated[bool, Parameter(query="country", required=False)]

STANDING_LABELS: dict[str, str] = {
    "below": N_("below the middle half of peers"),
    "within": N_("within the middle half of peers"),
    "above": N_("above the middle half of peers"),
    "unknown": N_("no comparison"),
}
STRENGTH_LABELS: dict[str, str] = {
    "none": N_("not covered"),
    "weak": N_("weakly"),
    "partial": N_("partly"),
    "strong": N_("well"),
}
ACTION_LABELS: dict[str, str] = {"yes": N_("yes"), "partly": N_("partly"), "no": N_("no")}


# -- the cohort of one year and framework version, cached per process -------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """What the pages say about a framework version (plain values: the cache outlives the session)."""

    id: UUID
    code: str
    version: str
    title: str


@dataclass
class Cohort:
    """The scored cohort of one year on one framework version, as arrays (one row per city)."""

    year: int
    version: VersionInfo
    framework: Framework
    token: tuple[int, datetime]
    city_ids: list[UUID]
    row_of: dict[UUID, int]
    response_ids: list[UUID]
    size_class: NDArray[np.str_]
    country: NDArray[np.str_]
    dimensions: NDArray[np.float64]
    index: NDArray[np.float64]
    coverage: NDArray[np.float64]
    normalised: NDArray[np.float64]
    practices: NDArray[np.float64]
    derived: dict[Any, Any] = field(default_factory=dict)
    """Peer statistics and uncertainty bands already computed for this cohort (same lifetime)."""

    def peers(self, city_id: UUID, *, same_country: bool) -> NDArray[np.bool_]:
        """Rows of the city's peer group: its size class (and country), the city itself excluded."""
        me = self.row_of[city_id]
        mask = self.size_class == self.size_class[me]
        if same_country:
            mask &= self.country == self.country[me]
        mask = np.array(mask, dtype=bool)
        mask[me] = False
        return mask


_cohorts: OrderedDict[tuple[int, UUID], Cohort] = OrderedDict()


async def _token(session: AsyncSession, year: int, computed_at: datetime) -> tuple[int, datetime]:
    """What changes when the cohort changes: a submission scores the whole cohort again (every row gets the
    same new ``computed_at``, the viewer's included) and a reopened response removes its row (the year's
    count drops). The count is answered from the (year, size_class) index alone."""
    count = await session.scalar(select(func.count()).select_from(AssessmentScore).where(AssessmentScore.year == year))
    return int(count or 0), computed_at


async def cohort_for(session: AsyncSession, year: int, version_id: UUID, computed_at: datetime) -> Cohort | None:
    """The year's cohort on the version, given the ``computed_at`` of one of its rows: from the cache while
    its token is unchanged, otherwise loaded with one query over the score rows (and one over the
    practices-sourced answers)."""
    token = await _token(session, year, computed_at)
    key = (year, version_id)
    cached = _cohorts.get(key)
    if cached is not None and cached.token == token:
        _cohorts.move_to_end(key)
        return cached
    version = await session.get(FrameworkVersion, version_id)
    if version is None:
        return None
    framework = framework_of(version)
    rows = (
        await session.execute(
            select(
                AssessmentScore.city_id,
                AssessmentScore.response_id,
                AssessmentScore.size_class,
                AssessmentScore.country_code,
                AssessmentScore.index.label("score_index"),
                AssessmentScore.coverage,
                # As text, decoded below in one msgspec call: 20,000 json.loads calls cost seconds.
                cast(AssessmentScore.dimensions, Text).label("dimensions_json"),
                cast(AssessmentScore.normalised, Text).label("normalised_json"),
            )
            .where(AssessmentScore.year == year, AssessmentScore.framework_version_id == version_id)
            .order_by(AssessmentScore.city_id)
        )
    ).all()
    dimension_codes = [d.code for d in framework.dimensions]
    indicator_codes = framework.indicator_codes
    n = len(rows)
    # Lists first, one conversion each: assigning element by element into an array is ten times slower.
    # None (no value) becomes NaN with dtype=float.
    stored_dimensions = _decode_all([row.dimensions_json for row in rows])
    stored_normalised = _decode_all([row.normalised_json for row in rows])
    dimensions = np.array(
        [[stored.get(code) for code in dimension_codes] for stored in stored_dimensions], dtype=np.float64
    ).reshape(n, len(dimension_codes))
    normalised = np.array(
        [[stored.get(code) for code in indicator_codes] for stored in stored_normalised], dtype=np.float64
    ).reshape(n, len(indicator_codes))
    response_row = {row.response_id: i for i, row in enumerate(rows)}
    practices = np.zeros(n)
    practice_codes = [i.code for i in framework.indicators_by_source_event(PRACTICES_EVENT)]
    if practice_codes:
        answered = await session.execute(
            select(Answer.response_id, func.sum(Answer.value))
            .where(
                Answer.indicator_code.in_(practice_codes),
                Answer.response_id.in_(
                    select(AssessmentScore.response_id).where(
                        AssessmentScore.year == year, AssessmentScore.framework_version_id == version_id
                    )
                ),
            )
            .group_by(Answer.response_id)
        )
        for response_id, total in answered:
            if response_id in response_row and total is not None:
                practices[response_row[response_id]] = float(total)
    cohort = Cohort(
        year=year,
        version=VersionInfo(version.id, version.code, version.version, version.title),
        framework=framework,
        token=token,
        city_ids=[row.city_id for row in rows],
        row_of={row.city_id: i for i, row in enumerate(rows)},
        response_ids=[row.response_id for row in rows],
        size_class=np.array([row.size_class for row in rows], dtype=str),
        country=np.array([row.country_code for row in rows], dtype=str),
        dimensions=dimensions,
        index=np.array([_nan(row.score_index) for row in rows], dtype=np.float64),
        coverage=np.array([_nan(row.coverage) for row in rows], dtype=np.float64),
        normalised=normalised,
        practices=practices,
    )
    _cohorts[key] = cohort
    while len(_cohorts) > CACHE_SIZE:
        _cohorts.popitem(last=False)
    return cohort


def _decode_all(texts: Sequence[str | None]) -> list[dict[str, Any]]:
    """JSON objects stored as text, decoded as one array (None or null → an empty object)."""
    decoded = msgspec.json.decode("[" + ",".join(text or "null" for text in texts) + "]")
    return [item if isinstance(item, dict) else {} for item in decoded]


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _value(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# -- what a page shows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearScore:
    year: int
    version_id: UUID
    index: float | None
    coverage: float
    dimensions: dict[str, float | None]
    computed_at: datetime


@dataclass
class Benchmark:
    """Everything the dashboard shows for one city, year and peer group."""

    city: City
    cohort: Cohort
    same_country: bool
    years: list[YearScore]
    peer_mask: NDArray[np.bool_]
    rows: list[benchmarking.ProfileRow]
    index_row: benchmarking.ProfileRow
    strengths: list[benchmarking.IndicatorGap]
    weaknesses: list[benchmarking.IndicatorGap]

    @property
    def framework(self) -> Framework:
        return self.cohort.framework

    @property
    def me(self) -> int:
        return self.cohort.row_of[self.city.id]

    @property
    def peer_count(self) -> int:
        return int(self.peer_mask.sum())

    @property
    def size_class(self) -> str:
        return str(self.cohort.size_class[self.me])

    @property
    def coverage(self) -> float | None:
        return _value(self.cohort.coverage[self.me])

    @property
    def enough_peers(self) -> bool:
        return self.peer_count >= benchmarking.MIN_PEERS

    @property
    def query(self) -> str:
        params: dict[str, Any] = {"year": self.cohort.year}
        if self.same_country:
            params["country"] = "true"
        return urlencode(params)


async def city_years(session: AsyncSession, city_id: UUID) -> list[YearScore]:
    rows = await session.execute(
        select(
            AssessmentScore.year,
            AssessmentScore.framework_version_id,
            AssessmentScore.index.label("score_index"),
            AssessmentScore.coverage,
            AssessmentScore.dimensions,
            AssessmentScore.computed_at,
        )
        .where(AssessmentScore.city_id == city_id)
        .order_by(AssessmentScore.year)
    )
    return [
        YearScore(
            row.year,
            row.framework_version_id,
            row.score_index,
            row.coverage,
            dict(row.dimensions or {}),
            row.computed_at,
        )
        for row in rows
    ]


async def benchmark_of(session: AsyncSession, city: City, year: int | None, same_country: bool) -> Benchmark | None:
    """The city's benchmark for ``year`` (its latest scored year when None); None when it has no score."""
    years = await city_years(session, city.id)
    if not years:
        return None
    chosen = years[-1] if year is None else next((y for y in years if y.year == year), None)
    if chosen is None:
        return None
    cohort = await cohort_for(session, chosen.year, chosen.version_id, chosen.computed_at)
    if cohort is None or city.id not in cohort.row_of:
        return None
    mask = cohort.peers(city.id, same_country=same_country)
    me = cohort.row_of[city.id]
    key = ("stats", cohort.size_class[me], cohort.country[me] if same_country else "", city.id)
    if key not in cohort.derived:
        codes = [d.code for d in cohort.framework.dimensions]
        peers = cohort.dimensions[mask]
        statistics = benchmarking.peer_statistics(np.column_stack([peers, cohort.index[mask]]), [*codes, "index"])
        city_values = {code: _value(cohort.dimensions[me, j]) for j, code in enumerate(codes)}
        city_values["index"] = _value(cohort.index[me])
        profile = benchmarking.profile(city_values, statistics)
        mine = {
            code: float(cohort.normalised[me, j])
            for j, code in enumerate(cohort.framework.indicator_codes)
            if not math.isnan(cohort.normalised[me, j])
        }
        strengths, weaknesses = benchmarking.indicator_gaps(
            mine, cohort.normalised[mask], cohort.framework.indicator_codes
        )
        cohort.derived[key] = (profile, strengths, weaknesses)
    profile, strengths, weaknesses = cohort.derived[key]
    return Benchmark(
        city=city,
        cohort=cohort,
        same_country=same_country,
        years=years,
        peer_mask=mask,
        rows=profile[:-1],
        index_row=profile[-1],
        strengths=strengths,
        weaknesses=weaknesses,
    )


async def require_benchmark(session: AsyncSession, city_id: UUID, year: int | None, same_country: bool) -> Benchmark:
    city = await load_city(session, city_id)
    benchmark = await benchmark_of(session, city, year, same_country)
    if benchmark is None:
        raise NotFoundException(_("No scored self-assessment for that year yet."))
    return benchmark


@dataclass(frozen=True)
class PeerCity:
    city_id: UUID
    name: str
    practices: int = 0
    index: float | None = None
    dimensions: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class LearningGroup:
    """Peers strong in one dimension (at or above the peers' third quartile) that published practices."""

    dimension: str
    cities: list[PeerCity]
    more: int


async def learning_groups(session: AsyncSession, benchmark: Benchmark) -> list[LearningGroup]:
    """For the dimensions where the city is furthest below its peers' median (at most three): up to five
    peers that are strong there and published practice fiches that year. Which five is a stable draw per
    city, shown in alphabetical order: never an order by score."""
    if not benchmark.enough_peers:
        return []
    cohort = benchmark.cohort
    below = sorted(
        (row for row in benchmark.rows if row.difference is not None and row.difference < 0),
        key=lambda row: row.difference or 0.0,
    )[:LEARNING_DIMENSIONS]
    if not below:
        return []
    peer_rows = np.flatnonzero(benchmark.peer_mask)
    codes = [d.code for d in benchmark.framework.dimensions]
    strong = benchmarking.strong_peers(cohort.dimensions[peer_rows], codes, eligible=cohort.practices[peer_rows] > 0)
    chosen: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    for row in below:
        rows = peer_rows[strong[row.code]]
        totals[row.code] = len(rows)
        chosen[row.code] = sorted(
            rows.tolist(), key=lambda r: _stable(benchmark.city.id, row.code, cohort.city_ids[r])
        )[:LEARNING_PEERS]
    ids = {cohort.city_ids[r] for rows in chosen.values() for r in rows}
    names = await _names(session, ids)
    groups: list[LearningGroup] = []
    for row in below:
        cities = [
            PeerCity(cohort.city_ids[r], names.get(cohort.city_ids[r], ""), int(cohort.practices[r]))
            for r in chosen[row.code]
        ]
        cities.sort(key=lambda c: c.name.casefold())
        groups.append(LearningGroup(row.code, cities, totals[row.code] - len(cities)))
    return groups


def _stable(viewer: UUID, code: str, city_id: UUID) -> str:
    return hashlib.sha256(f"{viewer}:{code}:{city_id}".encode()).hexdigest()


async def _names(session: AsyncSession, ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(City.id, City.name).where(City.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def shared_peers(session: AsyncSession, benchmark: Benchmark) -> tuple[list[PeerCity], int]:
    """Peers that opted in to share their individual scores, in alphabetical order (at most 25), and how
    many opted in altogether."""
    cohort = benchmark.cohort
    shared = np.zeros(len(cohort.city_ids), dtype=bool)
    for city_id in await session.scalars(select(ScoreSharing.city_id).where(ScoreSharing.shared.is_(True))):
        row = cohort.row_of.get(city_id)
        if row is not None:
            shared[row] = True
    rows = np.flatnonzero(benchmark.peer_mask & shared).tolist()
    if not rows:
        return [], 0
    query = (
        select(City.id, City.name)
        .where(City.id.in_([cohort.city_ids[r] for r in rows]))
        .order_by(City.name)
        .limit(SHARED_PEERS_SHOWN)
    )
    codes = [d.code for d in benchmark.framework.dimensions]
    result = []
    for city_id, name in await session.execute(query):
        r = cohort.row_of[city_id]
        result.append(
            PeerCity(
                city_id,
                name,
                int(cohort.practices[r]),
                _value(cohort.index[r]),
                {code: _value(cohort.dimensions[r, j]) for j, code in enumerate(codes)},
            )
        )
    return result, len(rows)


# -- labels and charts ------------------------------------------------------------------------------------------


def dimension_names(framework: Framework) -> dict[str, str]:
    lang = current_locale()
    names = {d.code: d.text("name", lang) for d in framework.dimensions}
    names["index"] = _("Index")
    return names


def indicator_name(framework: Framework, code: str) -> str:
    return framework.indicator(code).text("name", current_locale())


def profile_svg(
    benchmark: Benchmark,
    rows: Sequence[benchmarking.ProfileRow],
    *,
    alternative: Mapping[str, float | None] | None = None,
    alternative_label: str = "",
) -> Markup:
    names = dimension_names(benchmark.framework)
    bars = [
        charts.Bar(
            names[row.code],
            row.value,
            row.peers.q1,
            row.peers.median,
            row.peers.q3,
            None if alternative is None else alternative.get(row.code),
        )
        for row in rows
    ]
    return charts.profile_chart(
        bars,
        scale=float(benchmark.framework.scale),
        title=_("Profile of %(city)s per dimension, %(year)s")
        % {"city": benchmark.city.name, "year": benchmark.cohort.year},
        description=_(
            "For each dimension, a bar shows the city's score, a grey band the range of the middle half of its "
            "%(count)s peers and a black line their median. The same figures are in the table below the chart."
        )
        % {"count": benchmark.peer_count},
        city_label=benchmark.city.name,
        peers_label=_("middle half of peers"),
        median_label=_("peer median"),
        alternative_label=alternative_label,
    )


def trend_svg(benchmark: Benchmark) -> Markup:
    years = [y.year for y in benchmark.years]
    return charts.trend_chart(
        years,
        [y.index for y in benchmark.years],
        scale=float(benchmark.framework.scale),
        title=_("Index of %(city)s over the years") % {"city": benchmark.city.name},
        description=_("One point per year with a submitted self-assessment; the table below lists every score."),
    )


def common_context(benchmark: Benchmark) -> dict[str, Any]:
    return {
        "b": benchmark,
        "city": benchmark.city,
        "framework": benchmark.framework,
        "names": dimension_names(benchmark.framework),
        "size_label": _(SIZE_LABELS.get(benchmark.size_class, benchmark.size_class)),
        "standing_labels": STANDING_LABELS,
        "base": f"{BASE}/cities/{benchmark.city.id}/benchmark",
        "min_peers": benchmarking.MIN_PEERS,
        "scale": benchmark.framework.scale,
    }


def is_htmx(request: AnyRequest) -> bool:
    return request.headers.get("hx-request") == "true"


# -- monitor and scenario computations -------------------------------------------------------------------------


def parse_weights(framework: Framework, data: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """Dimension weights from ``w_<code>`` fields (the framework's weight when absent); field → message."""
    weights: dict[str, float] = {}
    errors: dict[str, str] = {}
    for dimension in framework.dimensions:
        name = f"w_{dimension.code}"
        raw = str(data.get(name, "") or "").strip().replace(",", ".")
        if not raw:
            weights[dimension.code] = dimension.weight
            continue
        try:
            value = float(raw)
        except ValueError:
            errors[name] = _("Enter a number.")
            continue
        if not math.isfinite(value) or value < 0 or value > 100:
            errors[name] = _("Enter a weight from 0 to 100.")
            continue
        weights[dimension.code] = value
    if not errors and sum(weights.values()) <= 0:
        errors["form"] = _("Give at least one dimension a weight above 0.")
    return weights, errors


@dataclass(frozen=True)
class MonitorResult:
    weights: dict[str, float]
    shares: dict[str, float]
    default_row: benchmarking.ProfileRow
    custom_row: benchmarking.ProfileRow
    chart: Markup


def own_monitor(benchmark: Benchmark, weights: Mapping[str, float]) -> MonitorResult:
    """The index of the city and of its peers with the city's own dimension weights (nothing saved)."""
    cohort = benchmark.cohort
    framework = benchmark.framework
    rows = np.flatnonzero(benchmark.peer_mask)
    units = [str(cohort.city_ids[r]) for r in rows]
    peers_index = engine.combine_dimensions(framework, cohort.dimensions[rows], units, dimension_weights=weights)
    mine = engine.combine_dimensions(
        framework, cohort.dimensions[[benchmark.me]], [str(benchmark.city.id)], dimension_weights=weights
    )
    custom_stat = benchmarking.peer_statistics(peers_index[:, None], ["custom"])[0]
    custom_row = benchmarking.ProfileRow("custom", _value(mine[0]), custom_stat)
    default_row = benchmarking.ProfileRow("default", benchmark.index_row.value, benchmark.index_row.peers)
    total = sum(weights.values())
    chart = charts.profile_chart(
        [
            charts.Bar(_("Framework weights"), default_row.value, *_quartiles(default_row)),
            charts.Bar(_("Your weights"), custom_row.value, *_quartiles(custom_row)),
        ],
        scale=float(framework.scale),
        title=_("Index of %(city)s with the framework's weights and with yours") % {"city": benchmark.city.name},
        description=_(
            "Two bars: the index with the framework's dimension weights and with the weights you chose, each "
            "with the middle half and the median of the same peers computed the same way."
        ),
        city_label=benchmark.city.name,
        peers_label=_("middle half of peers"),
        median_label=_("peer median"),
    )
    return MonitorResult(
        weights=dict(weights),
        shares={code: weight / total for code, weight in weights.items()},
        default_row=default_row,
        custom_row=custom_row,
        chart=chart,
    )


def _quartiles(row: benchmarking.ProfileRow) -> tuple[float | None, float | None, float | None]:
    return row.peers.q1, row.peers.median, row.peers.q3


@dataclass(frozen=True)
class ScenarioChange:
    indicator: Indicator
    before: str
    after: str


@dataclass(frozen=True)
class ScenarioResult:
    changes: list[ScenarioChange]
    dimensions: dict[str, float | None]
    index: float | None
    chart: Markup


async def current_answers(session: AsyncSession, benchmark: Benchmark) -> dict[str, Answer]:
    response_id = benchmark.cohort.response_ids[benchmark.me]
    answers = await session.scalars(select(Answer).where(Answer.response_id == response_id))
    return {answer.indicator_code: answer for answer in answers}


async def run_scenario(
    session: AsyncSession,
    benchmark: Benchmark,
    values: Mapping[str, float | None],
    raws: Mapping[str, str],
    answers: Mapping[str, Answer],
) -> ScenarioResult:
    """The city's profile if the changed indicators had ``values`` (None = left empty). Changed indicators
    are normalised again against the same year's cohort (with the city's new value in it); the other
    indicators and every other city keep their stored scores. Nothing is saved."""
    cohort = benchmark.cohort
    framework = benchmark.framework
    codes = framework.indicator_codes
    changed = [
        code
        for code in codes
        if code in values and not _same(values[code], answers[code].value if code in answers else None)
    ]
    row = cohort.normalised[benchmark.me].copy()
    if changed:
        peers = await session.execute(
            select(Answer.response_id, Answer.indicator_code, Answer.value, AssessmentScore.size_class, City.population)
            .join(AssessmentScore, AssessmentScore.response_id == Answer.response_id)
            .join(City, City.id == AssessmentScore.city_id)
            .where(
                AssessmentScore.year == cohort.year,
                AssessmentScore.framework_version_id == cohort.version.id,
                Answer.indicator_code.in_(changed),
                Answer.value.is_not(None),
            )
        )
        my_response = cohort.response_ids[benchmark.me]
        columns: dict[str, list[tuple[float, float]]] = {code: [] for code in changed}
        for response_id, code, value, size_class, population in peers:
            if response_id != my_response and framework.indicator(code).applies_to(size_class):
                columns[code].append((float(value), float(population)))
        for code in changed:
            indicator = framework.indicator(code)
            j = codes.index(code)
            new = values[code]
            if new is None:
                row[j] = math.nan
                continue
            cohort_values = np.array([v for v, _p in columns[code]] + [new], dtype=np.float64)[:, None]
            population = [p for _v, p in columns[code]] + [float(benchmark.city.population)]
            units = [str(n) for n in range(len(population))]
            transformed = engine.transform([indicator], cohort_values, population, units)
            row[j] = engine.normalise([indicator], transformed, [indicator.normalisation])[-1, 0]
    dimensions, index = engine.aggregate(framework, row[None, :], [str(benchmark.city.id)])
    new_dimensions = {code: _value(values_[0]) for code, values_ in dimensions.items()}
    new_index = _value(index[0])
    chart = profile_svg(
        benchmark,
        [*benchmark.rows, benchmark.index_row],
        alternative={**new_dimensions, "index": new_index},
        alternative_label=_("scenario"),
    )
    changes = [
        ScenarioChange(framework.indicator(code), answers[code].raw if code in answers else "", raws.get(code, ""))
        for code in changed
    ]
    return ScenarioResult(changes, new_dimensions, new_index, chart)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def parse_scenario(
    benchmark: Benchmark, data: Mapping[str, Any]
) -> tuple[dict[str, float | None], dict[str, str], dict[str, str]]:
    """Values from ``v_<code>`` fields for the indicators of the city's size class: (values, raw texts,
    field → message)."""
    values: dict[str, float | None] = {}
    raws: dict[str, str] = {}
    errors: dict[str, str] = {}
    for indicator in benchmark.framework.indicators_for(benchmark.size_class):
        name = f"v_{indicator.code}"
        if name not in data:
            continue
        raw = str(data.get(name) or "").strip()
        raws[indicator.code] = raw
        try:
            values[indicator.code] = indicator.parse(raw)
        except ValueError as error:
            errors[name] = str(error)
    return values, raws, errors


async def uncertainty_band(session: AsyncSession, benchmark: Benchmark) -> tuple[float, float] | None:
    """The band (5th-95th percentile over 1,000 draws of weights and normalisation) of the share of peers
    below the city, computed within the peer group; cached with the cohort."""
    cohort = benchmark.cohort
    mask = benchmark.peer_mask.copy()
    mask[benchmark.me] = True
    group_key = (
        "uncertainty",
        cohort.size_class[benchmark.me],
        cohort.country[benchmark.me] if benchmark.same_country else "",
    )
    if group_key not in cohort.derived:
        rows = np.flatnonzero(mask)
        response_row = {cohort.response_ids[r]: n for n, r in enumerate(rows.tolist())}
        framework = benchmark.framework
        column = {code: j for j, code in enumerate(framework.indicator_codes)}
        values = np.full((len(rows), len(column)), np.nan)
        population = np.full(len(rows), np.nan)
        query = (
            select(Answer.response_id, Answer.indicator_code, Answer.value, City.population)
            .join(AssessmentScore, AssessmentScore.response_id == Answer.response_id)
            .join(City, City.id == AssessmentScore.city_id)
            .where(
                AssessmentScore.year == cohort.year,
                AssessmentScore.framework_version_id == cohort.version.id,
                AssessmentScore.size_class == str(cohort.size_class[benchmark.me]),
                Answer.value.is_not(None),
            )
        )
        if benchmark.same_country:
            query = query.where(AssessmentScore.country_code == str(cohort.country[benchmark.me]))
        for response_id, code, value, people in await session.execute(query):
            n = response_row.get(response_id)
            j = column.get(code)
            if n is not None and j is not None:
                values[n, j] = value
                population[n] = people
        units = [str(cohort.city_ids[r]) for r in rows]
        bands = engine.what_if(
            framework,
            units,
            values,
            peer_groups=["peers"] * len(units),
            draws=UNCERTAINTY_DRAWS,
            seed=cohort.year,
            size_classes=[str(cohort.size_class[r]) for r in rows],
            population=population,
        )
        cohort.derived[group_key] = bands
    band: dict[str, tuple[float, float]] = cohort.derived[group_key]
    return band.get(str(benchmark.city.id))


# -- pages --------------------------------------------------------------------------------------------------


def no_scores_page(city: City) -> Template:
    return page("assessment/dashboard_empty.html", city=city)


class BenchmarkController(Controller):
    """A city's benchmarking pages (its editors and the admins only). Nothing here is saved."""

    path = "/cities/{city_id:uuid}/benchmark"
    guards = [edit_guard]
    include_in_schema = False

    @get("/", name="assessment:benchmark")
    async def dashboard(
        self, db_session: AsyncSession, city_id: UUID, year: YearQ = None, country: CountryQ = False
    ) -> Template:
        city = await load_city(db_session, city_id)
        benchmark = await benchmark_of(db_session, city, year, country)
        if benchmark is None:
            if year is not None and await city_years(db_session, city.id):
                raise NotFoundException(_("No scored self-assessment for that year yet."))
            return no_scores_page(city)
        learning = await learning_groups(db_session, benchmark)
        shared, shared_total = await shared_peers(db_session, benchmark)
        return page(
            "assessment/dashboard.html",
            **common_context(benchmark),
            chart=profile_svg(benchmark, [*benchmark.rows, benchmark.index_row]),
            trend=trend_svg(benchmark) if len(benchmark.years) > 1 else None,
            learning=learning,
            shared=shared,
            shared_total=shared_total,
            indicator_name=lambda code: indicator_name(benchmark.framework, code),
        )

    @get("/monitor", name="assessment:benchmark_monitor")
    async def monitor(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        city_id: UUID,
        year: YearQ = None,
        country: CountryQ = False,
    ) -> Template:
        benchmark = await require_benchmark(db_session, city_id, year, country)
        query = {key: request.query_params.get(key) for key in request.query_params}
        weights, errors = parse_weights(benchmark.framework, query)
        result = None
        if not errors:
            try:
                result = own_monitor(benchmark, weights)
            except engine.EngineError as error:  # e.g. a geometric mean over a dimension scored 0
                errors["form"] = "; ".join(error.messages)
        context = common_context(benchmark) | {
            "weights": {
                d.code: str(query.get(f"w_{d.code}") or _plain(d.weight)) for d in benchmark.framework.dimensions
            },
            "errors": errors,
            "result": result,
        }
        status = 422 if errors else 200
        template = "assessment/monitor_result.html" if is_htmx(request) else "assessment/monitor.html"
        return page(template, status, **context)

    @get("/scenario", name="assessment:benchmark_scenario")
    async def scenario_form(
        self, db_session: AsyncSession, city_id: UUID, year: YearQ = None, country: CountryQ = False
    ) -> Template:
        benchmark = await require_benchmark(db_session, city_id, year, country)
        answers = await current_answers(db_session, benchmark)
        return page("assessment/scenario.html", **self._scenario_context(benchmark, answers, {}, {}, None))

    @post("/scenario", name="assessment:benchmark_scenario_run")
    async def scenario(
        self,
        db_session: AsyncSession,
        city_id: UUID,
        data: FormData,
        year: YearQ = None,
        country: CountryQ = False,
    ) -> Template:
        benchmark = await require_benchmark(db_session, city_id, year, country)
        answers = await current_answers(db_session, benchmark)
        values, raws, errors = parse_scenario(benchmark, data)
        if errors:
            return page(
                "assessment/scenario.html", 422, **self._scenario_context(benchmark, answers, raws, errors, None)
            )
        try:
            result = await run_scenario(db_session, benchmark, values, raws, answers)
        except engine.EngineError as error:
            context = self._scenario_context(benchmark, answers, raws, {"form": "; ".join(error.messages)}, None)
            return page("assessment/scenario.html", 422, **context)
        return page("assessment/scenario.html", **self._scenario_context(benchmark, answers, raws, {}, result))

    @staticmethod
    def _scenario_context(
        benchmark: Benchmark,
        answers: Mapping[str, Answer],
        raws: Mapping[str, str],
        errors: Mapping[str, str],
        result: ScenarioResult | None,
    ) -> dict[str, Any]:
        lang = current_locale()
        groups = []
        for dimension in benchmark.framework.dimensions:
            items = [
                {
                    "indicator": indicator,
                    "name": indicator.text("name", lang),
                    "value": raws.get(indicator.code, answers[indicator.code].raw if indicator.code in answers else ""),
                    "error": errors.get(f"v_{indicator.code}", ""),
                    "choices": [(c.value, indicator.text(f"choice.{c.value}", lang)) for c in indicator.choices],
                }
                for indicator in dimension.all_indicators
                if indicator.applies_to(benchmark.size_class)
            ]
            groups.append((dimension.text("name", lang), items))
        return common_context(benchmark) | {
            "groups": groups,
            "errors": dict(errors),
            "result": result,
            "chart": result.chart if result else profile_svg(benchmark, [*benchmark.rows, benchmark.index_row]),
        }

    @get("/uncertainty", name="assessment:benchmark_uncertainty")
    async def uncertainty(
        self, db_session: AsyncSession, city_id: UUID, year: YearQ = None, country: CountryQ = False
    ) -> Template:
        benchmark = await require_benchmark(db_session, city_id, year, country)
        band, problem = None, ""
        if benchmark.enough_peers:
            try:
                band = await uncertainty_band(db_session, benchmark)
            except engine.EngineError as error:
                problem = "; ".join(error.messages)
        chart = None
        if band is not None:
            low, high = band
            chart = charts.band_chart(
                low,
                high,
                title=_("Where the position of %(city)s among its peers moves") % {"city": benchmark.city.name},
                description=_(
                    "Share of peers with a lower index: between %(low)s %% and %(high)s %% in nine draws out of ten."
                )
                % {"low": round(low), "high": round(high)},
                low_label=_("fewer peers below"),
                high_label=_("more peers below"),
            )
        return page(
            "assessment/uncertainty.html",
            **common_context(benchmark),
            band=band,
            problem=problem,
            chart=chart,
            draws=UNCERTAINTY_DRAWS,
        )


def _plain(weight: float) -> str:
    return f"{weight:g}"


@get("/indices", name="assessment:indices")
async def index_catalogue() -> Template:
    """The catalogue of existing indices and the gap view (public)."""
    framework = default_framework()
    catalogue = indices.catalogue()
    lang = current_locale()
    return page(
        "assessment/indices.html",
        catalogue=catalogue,
        gaps=indices.gap_view(framework, catalogue),
        names={d.code: d.text("name", lang) for d in framework.dimensions},
        strength_labels=STRENGTH_LABELS,
        action_labels=ACTION_LABELS,
    )


# -- JSON ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticOut:
    code: str
    name: str
    value: float | None
    peer_count: int
    peer_q1: float | None
    peer_median: float | None
    peer_q3: float | None
    standing: str


@dataclass(frozen=True)
class IndicatorGapOut:
    code: str
    name: str
    value: float
    peer_median: float
    difference: float


@dataclass(frozen=True)
class YearOut:
    year: int
    index: float | None
    coverage: float
    dimensions: dict[str, float | None]


@dataclass(frozen=True)
class BenchmarkOut:
    city_id: UUID
    year: int
    framework_version: str
    size_class: str
    same_country: bool
    peer_count: int
    min_peers: int
    coverage: float | None
    dimensions: list[StatisticOut]
    index: StatisticOut
    strengths: list[IndicatorGapOut]
    weaknesses: list[IndicatorGapOut]
    trend: list[YearOut]


@dataclass(frozen=True)
class PeerCityOut:
    city_id: UUID
    name: str
    practices: int
    index: float | None = None
    dimensions: dict[str, float | None] | None = None


@dataclass(frozen=True)
class LearningOut:
    dimension: str
    cities: list[PeerCityOut]
    more: int


@dataclass(frozen=True)
class PeersOut:
    year: int
    size_class: str
    same_country: bool
    peer_count: int
    statistics: list[StatisticOut]
    shared_peers: list[PeerCityOut]
    shared_total: int
    learning: list[LearningOut]


@dataclass(frozen=True)
class CoverageOut:
    index: str
    strength: str
    indicators: list[str]


@dataclass(frozen=True)
class GapOut:
    dimension: str
    best: str
    is_gap: bool
    covered_for_small_cities: bool
    covered_as_action: bool
    indices: list[CoverageOut]


@dataclass(frozen=True)
class ExistingIndexOut:
    code: str
    name: str
    publisher: str
    url: str
    scope: str
    method: str
    covers_small_cities: bool
    ranks_cities: bool
    measures_action: str


@dataclass(frozen=True)
class CatalogueOut:
    indices: list[ExistingIndexOut]
    gaps: list[GapOut]


def statistic_out(row: benchmarking.ProfileRow, names: Mapping[str, str]) -> StatisticOut:
    return StatisticOut(
        code=row.code,
        name=names.get(row.code, row.code),
        value=row.value,
        peer_count=row.peers.count,
        peer_q1=row.peers.q1,
        peer_median=row.peers.median,
        peer_q3=row.peers.q3,
        standing=row.standing,
    )


def gap_out(benchmark: Benchmark, gap: benchmarking.IndicatorGap) -> IndicatorGapOut:
    return IndicatorGapOut(
        gap.code, indicator_name(benchmark.framework, gap.code), gap.value, gap.peer_median, gap.difference
    )


class BenchmarkApi(Controller):
    path = "/cities/{city_id:uuid}"
    tags = ["Self-assessment"]
    guards = [edit_guard]

    @get("/benchmark", name="api:assessment:benchmark", cache=False)
    async def benchmark(
        self, db_session: AsyncSession, city_id: UUID, year: YearQ = None, country: CountryQ = False
    ) -> BenchmarkOut:
        """The city's profile against its peer group: per dimension and for the index, the city's score and
        the peers' median and interquartile range (none below ``min_peers`` peers); the indicators where it
        differs most; its trend. Never a rank."""
        b = await require_benchmark(db_session, city_id, year, country)
        names = dimension_names(b.framework)
        return BenchmarkOut(
            city_id=b.city.id,
            year=b.cohort.year,
            framework_version=f"{b.cohort.version.code} {b.cohort.version.version}",
            size_class=b.size_class,
            same_country=b.same_country,
            peer_count=b.peer_count,
            min_peers=benchmarking.MIN_PEERS,
            coverage=_value(b.cohort.coverage[b.me]),
            dimensions=[statistic_out(row, names) for row in b.rows],
            index=statistic_out(b.index_row, names),
            strengths=[gap_out(b, g) for g in b.strengths],
            weaknesses=[gap_out(b, g) for g in b.weaknesses],
            trend=[YearOut(y.year, y.index, y.coverage, y.dimensions) for y in b.years],
        )

    @get("/peers", name="api:assessment:peers", cache=False)
    async def peers(
        self, db_session: AsyncSession, city_id: UUID, year: YearQ = None, country: CountryQ = False
    ) -> PeersOut:
        """The peer group in aggregate; the individual scores of peers that opted in to share them; peers
        strong in the city's weaker dimensions that published practices (names only, no scores)."""
        b = await require_benchmark(db_session, city_id, year, country)
        names = dimension_names(b.framework)
        shared, shared_total = await shared_peers(db_session, b)
        learning = await learning_groups(db_session, b)
        return PeersOut(
            year=b.cohort.year,
            size_class=b.size_class,
            same_country=b.same_country,
            peer_count=b.peer_count,
            statistics=[statistic_out(row, names) for row in [*b.rows, b.index_row]],
            shared_peers=[PeerCityOut(p.city_id, p.name, p.practices, p.index, dict(p.dimensions)) for p in shared],
            shared_total=shared_total,
            learning=[
                LearningOut(g.dimension, [PeerCityOut(c.city_id, c.name, c.practices) for c in g.cities], g.more)
                for g in learning
            ],
        )


@get("/indices", name="api:assessment:indices", cache=False)
async def index_catalogue_api() -> CatalogueOut:
    """The catalogue of existing indices mapped to the framework's dimensions, and the gap view."""
    catalogue = indices.catalogue()
    return CatalogueOut(
        indices=[
            ExistingIndexOut(
                i.code,
                i.name,
                i.publisher,
                i.url,
                i.scope,
                i.method,
                i.covers_small_cities,
                i.ranks_cities,
                i.measures_action,
            )
            for i in catalogue
        ],
        gaps=[
            GapOut(
                row.dimension.code,
                row.best,
                row.is_gap,
                row.covered_for_small_cities,
                row.covered_as_action,
                [CoverageOut(i.code, c.strength, list(c.indicators)) for i, c in row.entries],
            )
            for row in indices.gap_view(default_framework(), catalogue)
        ],
    )


route_handlers: list[ControllerRouterHandler] = [BenchmarkController, index_catalogue]
api_route_handlers: list[ControllerRouterHandler] = [BenchmarkApi, index_catalogue_api]
