"""The composite-indicator engine: pure, vectorised NumPy, no database and no web.

It follows the steps of the OECD-JRC Handbook on Constructing Composite Indicators (as implemented by the
JRC's COINr): transform → normalise over the cohort → aggregate level by level (weighted arithmetic or
geometric means) → scale. Every choice below is a documented convention, listed in the README ("Engine and
CLI"):

* Not applicable (the indicator does not apply to the unit's size class) and missing values are NaN. A level
  aggregates the children that have a value and re-weights them (the weights of the present children are
  renormalised to sum to one); a level with no child present is NaN, never 0. ``coverage`` is the share of
  the applicable indicators answered and ``missing`` lists the applicable ones left empty.
* Normalisations (per indicator, over the units that answered it), all oriented so that higher is better:
  ``minmax`` (x - min) / (max - min), 0.5 for everyone when max = min;
  ``goalposts`` (x - low) / (high - low) clipped to [0, 1];
  ``zscore`` (x - mean) / sample standard deviation, 0 when it is 0 or fewer than two values;
  ``percentile`` mid-rank (below + ½ · equal) / n, in (0, 1);
  ``target`` x / target capped at 1 (higher is better), target / x capped at 1 (lower is better).
  For ``lower`` indicators ``minmax``, ``goalposts`` and ``percentile`` use 1 - score and ``zscore`` -z.
* Transforms before normalising: ``log10``, ``ln`` (values must be > 0), ``per_1000`` (value / population x
  1,000; needs the unit's population).
* A geometric mean over a value ≤ 0 is an error naming the unit and the child: it is not shifted, because a
  shift changes the result in a way users cannot see. Use normalisations that stay positive (percentile,
  target, goalposts whose low post lies below every answer) with geometric aggregation.
* Scores of dimensions and of the index are multiplied by the framework's ``scale`` (1 or 100).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modules.assessment.framework import (
    AGGREGATIONS,
    NORMALISATIONS,
    SIZE_CLASSES,
    Dimension,
    Framework,
    Indicator,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Normalisations the uncertainty analysis draws from: those that need nothing but the cohort.
WHAT_IF_NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore", "percentile")


class EngineError(ValueError):
    """Input the engine cannot score. ``messages`` name the indicator (and unit) concerned."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages: list[str] = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Scores:
    """The result of scoring a cohort: one row per unit."""

    units: tuple[str, ...]
    indicator_codes: tuple[str, ...]
    normalised: FloatArray
    dimensions: dict[str, FloatArray]
    index: FloatArray
    coverage: FloatArray
    missing: dict[str, tuple[str, ...]]

    def position(self, unit: str) -> int:
        return self.units.index(unit)

    def row(self, unit: str) -> dict[str, float | None]:
        """``{"index": …, "coverage": …, <dimension code>: …}`` for one unit; None where there is no value."""
        i = self.position(unit)
        out: dict[str, float | None] = {"index": _none(self.index[i]), "coverage": _none(self.coverage[i])}
        for code, values in self.dimensions.items():
            out[code] = _none(values[i])
        return out


def _missing(units: tuple[str, ...], codes: list[str], gaps: BoolArray) -> dict[str, tuple[str, ...]]:
    """unit -> codes of its gaps, built from one nonzero() instead of a mask per unit."""
    rows, columns = np.nonzero(gaps)
    names = [codes[c] for c in columns.tolist()]
    edges = np.searchsorted(rows, np.arange(len(units) + 1)).tolist()
    return {unit: tuple(names[edges[i] : edges[i + 1]]) for i, unit in enumerate(units)}


def _none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


# -- public entry points ----------------------------------------------------------------------------------------


def score(
    framework: Framework,
    units: Sequence[str],
    values: FloatArray | Sequence[Sequence[float]],
    *,
    size_classes: Sequence[str | None] | None = None,
    population: Sequence[float | None] | FloatArray | None = None,
    dimension_weights: Mapping[str, float] | None = None,
    normalisation: str | Mapping[str, str] | None = None,
    aggregation: str | None = None,
) -> Scores:
    """Score a cohort.

    ``values`` is a units x ``len(framework.indicators)`` array in the framework's indicator order, NaN where
    there is no answer. ``size_classes`` (per unit) decides which indicators apply; ``population`` (per unit)
    feeds ``per_1000`` transforms. ``dimension_weights`` replaces the weights of top-level dimensions (the
    "create your own monitor" view), ``normalisation`` replaces the method of every indicator (a name) or of
    some (a mapping code → name), ``aggregation`` replaces the method of every level. Normalisation is over
    the cohort given, so score the whole peer cohort at once.
    """
    unit_tuple = tuple(str(unit) for unit in units)
    indicators = framework.indicators
    raw = _as_matrix(values, len(unit_tuple), len(indicators))
    applicable = applicability(framework, size_classes, len(unit_tuple))
    raw = np.where(applicable, raw, np.nan)
    methods = _methods(indicators, normalisation)
    if aggregation is not None and aggregation not in AGGREGATIONS:
        raise EngineError([f"unknown aggregation {aggregation!r} (allowed: {', '.join(AGGREGATIONS)})"])
    weights_override = _dimension_weights(framework, dimension_weights)

    transformed = transform(indicators, raw, population, unit_tuple)
    normalised = normalise(indicators, transformed, methods)

    dimension_scores, index = aggregate(
        framework, normalised, unit_tuple, dimension_weights=weights_override, aggregation=aggregation
    )

    answered = ~np.isnan(raw)
    applicable_count = applicable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(applicable_count > 0, answered.sum(axis=1) / applicable_count, np.nan)
    codes = [indicator.code for indicator in indicators]
    missing = _missing(unit_tuple, codes, applicable & ~answered)

    return Scores(
        units=unit_tuple,
        indicator_codes=tuple(codes),
        normalised=normalised,
        dimensions=dimension_scores,
        index=index,
        coverage=coverage.astype(np.float64),
        missing=missing,
    )


def aggregate(
    framework: Framework,
    normalised: FloatArray,
    units: Sequence[str],
    *,
    dimension_weights: Mapping[str, float] | None = None,
    aggregation: str | None = None,
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Dimension scores and the index, on the framework's scale, from normalised values (units x indicators
    in the framework's order, NaN where missing or not applicable). Used by :func:`score`, and directly to
    recompute one city's profile in a scenario without scoring the cohort again."""
    if aggregation is not None and aggregation not in AGGREGATIONS:
        raise EngineError([f"unknown aggregation {aggregation!r} (allowed: {', '.join(AGGREGATIONS)})"])
    weights_override = _dimension_weights(framework, dimension_weights)
    position = {indicator.code: column for column, indicator in enumerate(framework.indicators)}
    dimension_scores = {
        dimension.code: _aggregate_dimension(dimension, normalised, position, units, aggregation)
        for dimension in framework.dimensions
    }
    stacked = np.column_stack([dimension_scores[d.code] for d in framework.dimensions])
    top_weights = np.array([weights_override.get(d.code, d.weight) for d in framework.dimensions], dtype=np.float64)
    index = _weighted_mean(
        stacked,
        top_weights,
        aggregation or framework.aggregation,
        [d.code for d in framework.dimensions],
        units,
        "the index",
    )
    scale = float(framework.scale)
    return {code: values * scale for code, values in dimension_scores.items()}, index * scale


def combine_dimensions(
    framework: Framework,
    dimension_scores: FloatArray,
    units: Sequence[str],
    *,
    dimension_weights: Mapping[str, float] | None = None,
) -> FloatArray:
    """The index from stored dimension scores (units x top-level dimensions, framework order, NaN = none) with
    other dimension weights: the "create your own monitor" view. The framework's aggregation applies; the
    scale carries through (a weighted mean of scaled values is the scaled mean)."""
    weights_override = _dimension_weights(framework, dimension_weights)
    weights = np.array([weights_override.get(d.code, d.weight) for d in framework.dimensions], dtype=np.float64)
    matrix = np.asarray(dimension_scores, dtype=np.float64).reshape(len(units), len(framework.dimensions))
    return _weighted_mean(
        matrix, weights, framework.aggregation, [d.code for d in framework.dimensions], units, "the index"
    )


def what_if(
    framework: Framework,
    units: Sequence[str],
    values: FloatArray | Sequence[Sequence[float]],
    *,
    peer_groups: Mapping[str, str] | Sequence[str],
    draws: int = 1000,
    seed: int = 0,
    size_classes: Sequence[str | None] | None = None,
    population: Sequence[float | None] | FloatArray | None = None,
    weight_spread: float = 0.25,
    normalisations: Sequence[str] = WHAT_IF_NORMALISATIONS,
    band: tuple[float, float] = (5.0, 95.0),
) -> dict[str, tuple[float, float]]:
    """Uncertainty of each unit's position in its peer group (Monte Carlo, reproducible with ``seed``).

    Each draw multiplies every indicator, sub-dimension and dimension weight by an independent factor drawn
    uniformly from [1 - ``weight_spread``, 1 + ``weight_spread``] and picks one normalisation method from
    ``normalisations`` for every indicator. The index is recomputed with weighted arithmetic means at every
    level (missing children re-weighted as in :func:`score`); the unit's position is the share of its peers
    (same ``peer_groups`` key) whose index is below its own, ties counting half, from 0 to 100. The result is
    the ``band`` percentiles (5th and 95th by default) of that position over the draws; units without an
    index are left out. All draws are computed together as matrix products (units x draws).
    """
    unit_tuple = tuple(str(unit) for unit in units)
    n_units = len(unit_tuple)
    if draws < 1:
        raise EngineError(["draws must be at least 1"])
    if not 0 <= weight_spread < 1:
        raise EngineError(["weight_spread must be in [0, 1)"])
    if not normalisations:
        raise EngineError(["give at least one normalisation to draw from"])
    for method in normalisations:
        if method not in WHAT_IF_NORMALISATIONS:
            raise EngineError(
                [
                    f"unknown normalisation {method!r} for the uncertainty analysis "
                    f"(allowed: {', '.join(WHAT_IF_NORMALISATIONS)})"
                ]
            )
    groups = _peer_groups(peer_groups, unit_tuple)
    if n_units == 0:
        return {}

    indicators = framework.indicators
    raw = _as_matrix(values, n_units, len(indicators))
    applicable = applicability(framework, size_classes, n_units)
    raw = np.where(applicable, raw, np.nan)
    transformed = transform(indicators, raw, population, unit_tuple)
    present = (~np.isnan(transformed)).astype(np.float32)
    column = {indicator.code: i for i, indicator in enumerate(indicators)}
    rng = np.random.default_rng(seed)

    # The order of draws does not matter for percentiles, so draws are grouped by method: each method's
    # draws are one contiguous slice and every product below works on views. float32 halves the memory
    # traffic, which dominates; positions only need the order of the index.
    per_method = np.bincount(rng.integers(0, len(normalisations), size=draws), minlength=len(normalisations))
    bounds = np.concatenate([[0], np.cumsum(per_method)])

    def factors(size: int) -> NDArray[np.float32]:
        return rng.uniform(1 - weight_spread, 1 + weight_spread, size=(size, draws)).astype(np.float32)

    base_indicator = np.array([i.weight for i in indicators], dtype=np.float32)
    indicator_weights = base_indicator[:, None] * factors(len(indicators))
    node_weights: dict[str, NDArray[np.float32]] = {}
    for top in framework.dimensions:
        for node in top.walk():
            if node.subdimensions:
                base = np.array([sub.weight for sub in node.subdimensions], dtype=np.float32)
                node_weights[node.code] = base[:, None] * factors(len(node.subdimensions))
    base_top = np.array([d.weight for d in framework.dimensions], dtype=np.float32)
    top_weights = base_top[:, None] * factors(len(framework.dimensions))

    # Whether a level has a value does not depend on the draw (perturbed weights stay positive): it has one
    # when a child with a positive weight has one. Computed once per node as a unit vector.
    has_value: dict[str, NDArray[np.bool_]] = {}

    def presence(node: Dimension) -> NDArray[np.bool_]:
        columns = [column[i.code] for i in node.indicators]
        total = present[:, columns] @ base_indicator[columns]
        for sub in node.subdimensions:
            total = total + presence(sub) * np.float32(sub.weight)
        has_value[node.code] = total > 0
        return has_value[node.code]

    has_dimension = np.column_stack([presence(d) for d in framework.dimensions]).astype(np.float32)

    index = np.empty((n_units, draws), dtype=np.float32)
    for m, method in enumerate(normalisations):
        draws_m = slice(int(bounds[m]), int(bounds[m + 1]))
        if draws_m.start == draws_m.stop:
            continue
        filled = np.nan_to_num(normalise(indicators, transformed, [method] * len(indicators)), nan=0.0)
        filled32 = filled.astype(np.float32)

        def node_mean(node: Dimension, filled32: NDArray[np.float32] = filled32, draws_m: slice = draws_m) -> Any:
            """Units x draws of this method: the node's score, 0 where it has no value."""
            columns = [column[i.code] for i in node.indicators]
            weights = indicator_weights[columns, draws_m]
            numerator = filled32[:, columns] @ weights
            denominator = present[:, columns] @ weights
            for s, sub in enumerate(node.subdimensions):
                sub_weight = node_weights[node.code][s, draws_m]
                numerator += node_mean(sub) * sub_weight
                denominator += has_value[sub.code][:, None] * sub_weight
            denominator[~has_value[node.code]] = 1.0
            numerator /= denominator
            return numerator

        total = np.zeros((n_units, draws_m.stop - draws_m.start), dtype=np.float32)
        for d, dimension in enumerate(framework.dimensions):
            dimension_score = node_mean(dimension)
            dimension_score *= top_weights[d, draws_m]
            total += dimension_score
        index[:, draws_m] = total
    weight_sum = has_dimension @ top_weights  # units x draws
    scored = has_dimension.any(axis=1)
    weight_sum[~scored] = 1.0
    index /= weight_sum
    index[~scored] = np.nan

    positions = peer_positions(index, groups)
    result: dict[str, tuple[float, float]] = {}
    missing_position = np.isnan(positions)
    complete = ~missing_position.any(axis=1)
    partial = ~complete & ~missing_position.all(axis=1)
    bands: FloatArray = np.full((n_units, 2), np.nan)
    if complete.any():
        bands[complete] = np.percentile(positions[complete], band, axis=1).T
    if partial.any():  # only when some weights are 0 and a level has nothing else
        bands[partial] = np.nanpercentile(positions[partial], band, axis=1).T
    for i in np.flatnonzero(complete | partial):
        result[unit_tuple[i]] = (float(bands[i, 0]), float(bands[i, 1]))
    return result


def peer_positions(index: NDArray[np.floating[Any]], groups: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
    """For each unit (row) and draw (column), the share of its group's other units with a lower index (ties
    count half), 0-100; 50 for a unit alone in its group; NaN where the unit has no index."""
    positions = np.full(index.shape, np.nan, dtype=index.dtype)
    by_draw = np.ascontiguousarray(index.T)  # draws x units: sorting along contiguous rows is faster
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        block = by_draw[:, rows]
        valid = ~np.isnan(block)
        n = block.shape[1]
        order = np.argsort(block, axis=1)  # NaN sorts last
        ordered = np.take_along_axis(block, order, axis=1)
        rank = np.arange(n, dtype=index.dtype)[None, :]
        new_run = np.ones(ordered.shape, dtype=bool)
        new_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        if new_run.all():  # no ties (the usual case): values below = rank
            below = np.broadcast_to(rank, ordered.shape)
        else:
            rank_int = np.arange(n)[None, :]
            first = np.maximum.accumulate(np.where(new_run, rank_int, 0), axis=1)  # run start = values below
            run_end = np.ones(ordered.shape, dtype=bool)
            run_end[:, :-1] = new_run[:, 1:]
            last = (n - 1) - np.maximum.accumulate(np.where(run_end, n - 1 - rank_int, 0)[:, ::-1], axis=1)[:, ::-1]
            below = (first + 0.5 * (last - first)).astype(index.dtype)
        others = valid.sum(axis=1, keepdims=True).astype(index.dtype) - 1
        share = np.full(ordered.shape, 50.0, dtype=index.dtype)
        np.divide(below * np.asarray(100.0, dtype=index.dtype), others, out=share, where=others > 0)
        unsorted = np.empty_like(share)
        np.put_along_axis(unsorted, order, share, axis=1)
        unsorted[~valid] = np.nan
        positions[rows] = unsorted.T
    return positions


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, NaN where the denominator is 0 (nothing to average)."""
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


# -- steps ------------------------------------------------------------------------------------------------


def applicability(framework: Framework, size_classes: Sequence[str | None] | None, n_units: int) -> BoolArray:
    """units x indicators: whether the indicator applies to the unit's size class (an unknown class: all)."""
    indicators = framework.indicators
    if size_classes is None:
        return np.ones((n_units, len(indicators)), dtype=bool)
    if len(size_classes) != n_units:
        raise EngineError([f"size_classes has {len(size_classes)} entries for {n_units} units"])
    class_ids = {size: position for position, size in enumerate(SIZE_CLASSES, start=1)}
    ids = np.fromiter((class_ids.get(size or "", 0) for size in size_classes), dtype=np.int64, count=n_units)
    table = np.ones((len(indicators), len(SIZE_CLASSES) + 1), dtype=bool)  # column 0: unknown class
    for row, indicator in enumerate(indicators):
        if indicator.size_classes:
            table[row, 1:] = [size in indicator.size_classes for size in SIZE_CLASSES]
    return np.ascontiguousarray(table[:, ids].T)


def transform(
    indicators: Sequence[Indicator],
    raw: FloatArray,
    population: Sequence[float | None] | FloatArray | None,
    units: Sequence[str],
) -> FloatArray:
    """Apply each indicator's transform (log10, ln, per 1,000 inhabitants) column by column."""
    result = raw.astype(np.float64, copy=True)
    errors: list[str] = []
    people: FloatArray | None = None
    if population is not None:
        people = np.array([np.nan if p is None else p for p in population], dtype=np.float64)
        if people.shape != (raw.shape[0],):
            raise EngineError([f"population has {people.shape[0]} entries for {raw.shape[0]} units"])
    for column, indicator in enumerate(indicators):
        if indicator.transform == "none":
            continue
        values = result[:, column]
        present = ~np.isnan(values)
        if indicator.transform in ("log10", "ln"):
            bad = present & (values <= 0)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                errors.append(
                    f"{indicator.code}: the {indicator.transform} transform needs values above 0 "
                    f"(unit {units[first]} has {values[first]:g})"
                )
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                result[:, column] = np.log10(values) if indicator.transform == "log10" else np.log(values)
        elif indicator.transform == "per_1000":
            if people is None:
                if present.any():
                    errors.append(f"{indicator.code}: per_1000 needs the population of every unit that answered")
                continue
            bad = present & ~(people > 0)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                errors.append(f"{indicator.code}: per_1000 needs a population above 0 for unit {units[first]}")
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                result[:, column] = values / people * 1000.0
    if errors:
        raise EngineError(errors)
    return result


def normalise(indicators: Sequence[Indicator], values: FloatArray, methods: Sequence[str]) -> FloatArray:
    """Normalise each column with its method over the units that have a value; higher is always better."""
    result = np.full(values.shape, np.nan)
    n_columns = values.shape[1]
    if n_columns == 0:
        return result
    present = ~np.isnan(values)
    counts = present.sum(axis=0)
    higher = np.array([indicator.direction == "higher" for indicator in indicators])
    method_array = np.array(methods, dtype=object)

    # Column statistics for all columns at once; columns without values give ±inf (masked out below).
    with np.errstate(invalid="ignore", divide="ignore"):
        lows = np.where(present, values, np.inf).min(axis=0)
        highs = np.where(present, values, -np.inf).max(axis=0)
        means = np.where(present, values, 0.0).sum(axis=0) / np.where(counts > 0, counts, 1)
        deviations = np.where(present, values - means, 0.0)
        stds = np.sqrt((deviations**2).sum(axis=0) / np.where(counts > 1, counts - 1, 1))

    def orient(column: NDArray[np.int64], scores: FloatArray) -> FloatArray:
        return np.where(higher[column], scores, 1.0 - scores)

    # minmax
    cols = np.flatnonzero(method_array == "minmax")
    if cols.size:
        span = highs[cols] - lows[cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.where(span > 0, (values[:, cols] - lows[cols]) / np.where(span > 0, span, 1), 0.5)
        result[:, cols] = orient(cols, scaled)
    # goalposts
    cols = np.flatnonzero(method_array == "goalposts")
    if cols.size:
        posts = np.array([_goalposts(indicators[int(c)]) for c in cols], dtype=np.float64)
        scaled = np.clip((values[:, cols] - posts[:, 0]) / (posts[:, 1] - posts[:, 0]), 0.0, 1.0)
        result[:, cols] = orient(cols, scaled)
    # zscore
    cols = np.flatnonzero(method_array == "zscore")
    if cols.size:
        spread = stds[cols]
        usable = (counts[cols] > 1) & (spread > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(usable, (values[:, cols] - means[cols]) / np.where(usable, spread, 1), 0.0)
        result[:, cols] = np.where(higher[cols], z, -z)
    # percentile (mid-rank)
    cols = np.flatnonzero(method_array == "percentile")
    for c in cols:
        column_values = values[:, c]
        mask = present[:, c]
        if not mask.any():
            continue
        ordered = np.sort(column_values[mask])
        below = np.searchsorted(ordered, column_values[mask], side="left")
        equal = np.searchsorted(ordered, column_values[mask], side="right") - below
        share = (below + 0.5 * equal) / ordered.size
        result[mask, c] = share if higher[c] else 1.0 - share
    # distance to target
    cols = np.flatnonzero(method_array == "target")
    if cols.size:
        targets = np.array([_target(indicators[int(c)]) for c in cols], dtype=np.float64)
        block = values[:, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            up = np.minimum(block / targets, 1.0)
            down = np.where(block <= 0, 1.0, np.minimum(targets / np.where(block <= 0, 1, block), 1.0))
        result[:, cols] = np.where(higher[cols], up, down)
    return np.where(present, result, np.nan)


# -- aggregation ----------------------------------------------------------------------------------------------


def _aggregate_dimension(
    dimension: Dimension,
    normalised: FloatArray,
    position: Mapping[str, int],
    units: Sequence[str],
    aggregation: str | None,
) -> FloatArray:
    children = [normalised[:, position[indicator.code]] for indicator in dimension.indicators]
    codes = [indicator.code for indicator in dimension.indicators]
    weights = [indicator.weight for indicator in dimension.indicators]
    for sub in dimension.subdimensions:
        children.append(_aggregate_dimension(sub, normalised, position, units, aggregation))
        codes.append(sub.code)
        weights.append(sub.weight)
    matrix = np.column_stack(children) if children else np.empty((len(units), 0))
    return _weighted_mean(
        matrix,
        np.array(weights, dtype=np.float64),
        aggregation or dimension.aggregation,
        codes,
        units,
        f"dimension {dimension.code}",
    )


def _weighted_mean(
    matrix: FloatArray,
    weights: FloatArray,
    method: str,
    codes: Sequence[str],
    units: Sequence[str],
    where: str,
) -> FloatArray:
    """Weighted mean of the columns per row, over the columns that have a value (weights renormalised)."""
    present = ~np.isnan(matrix)
    denominator = present.astype(np.float64) @ weights
    if method == "geometric":
        bad = present & (matrix <= 0)
        if bad.any():
            row, col = (int(axis[0]) for axis in np.nonzero(bad))
            raise EngineError(
                [
                    f"{codes[col]}: the geometric mean of {where} needs values above 0, but unit {units[row]} "
                    f"has {matrix[row, col]:g} after normalisation — use arithmetic aggregation or a "
                    "normalisation that stays positive (percentile, target)"
                ]
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.where(present, np.log(np.where(present, matrix, 1.0)), 0.0)
            mean_log = logs @ weights / np.where(denominator > 0, denominator, 1)
        return np.where(denominator > 0, np.exp(mean_log), np.nan)
    filled = np.where(present, matrix, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, filled @ weights / np.where(denominator > 0, denominator, 1), np.nan)


# -- input checks -----------------------------------------------------------------------------------------------


def _as_matrix(values: FloatArray | Sequence[Sequence[float]], n_units: int, n_indicators: int) -> FloatArray:
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise EngineError([f"values must be numbers (NaN for missing): {error}"]) from None
    if n_units == 0:
        return np.empty((0, n_indicators))
    if matrix.shape != (n_units, n_indicators):
        raise EngineError(
            [f"values must be {n_units} units x {n_indicators} indicators, got shape {tuple(matrix.shape)}"]
        )
    if np.isinf(matrix).any():
        raise EngineError(["values must be finite (use NaN for missing)"])
    return matrix


def _methods(indicators: Sequence[Indicator], override: str | Mapping[str, str] | None) -> list[str]:
    errors: list[str] = []
    codes = {indicator.code for indicator in indicators}
    if isinstance(override, str):
        if override not in NORMALISATIONS:
            raise EngineError([f"unknown normalisation {override!r} (allowed: {', '.join(NORMALISATIONS)})"])
        methods = [override] * len(indicators)
    else:
        mapping = dict(override or {})
        for code, method in mapping.items():
            if code not in codes:
                errors.append(f"{code}: not an indicator of this framework")
            elif method not in NORMALISATIONS:
                errors.append(f"{code}: unknown normalisation {method!r} (allowed: {', '.join(NORMALISATIONS)})")
        methods = [mapping.get(indicator.code, indicator.normalisation) for indicator in indicators]
    for indicator, method in zip(indicators, methods, strict=True):
        if method == "goalposts" and _goalposts_or_none(indicator) is None:
            errors.append(f"{indicator.code}: goalposts normalisation needs goalposts or a minimum and maximum")
        if method == "target" and (indicator.target is None or indicator.target <= 0):
            errors.append(f"{indicator.code}: target normalisation needs a target above 0")
    if errors:
        raise EngineError(errors)
    return methods


def _dimension_weights(framework: Framework, weights: Mapping[str, float] | None) -> dict[str, float]:
    if not weights:
        return {}
    errors: list[str] = []
    known = {dimension.code for dimension in framework.dimensions}
    result: dict[str, float] = {}
    for code, weight in weights.items():
        if code not in known:
            errors.append(f"{code}: not a dimension of this framework")
            continue
        try:
            value = float(weight)
        except (TypeError, ValueError):
            errors.append(f"{code}: weight must be a number")
            continue
        if not np.isfinite(value) or value < 0:
            errors.append(f"{code}: weight must be a number of 0 or more")
            continue
        result[code] = value
    if not errors and sum(result.get(d.code, d.weight) for d in framework.dimensions) <= 0:
        errors.append("the dimension weights sum to zero")
    if errors:
        raise EngineError(errors)
    return result


def _peer_groups(groups: Mapping[str, str] | Sequence[str], units: Sequence[str]) -> NDArray[np.int64]:
    if isinstance(groups, Mapping):
        missing = [unit for unit in units if unit not in groups]
        if missing:
            raise EngineError([f"unit {missing[0]} has no peer group"])
        keys = [str(groups[unit]) for unit in units]
    else:
        if len(groups) != len(units):
            raise EngineError([f"peer_groups has {len(groups)} entries for {len(units)} units"])
        keys = [str(group) for group in groups]
    _, codes = np.unique(np.array(keys, dtype=object), return_inverse=True)
    return codes.astype(np.int64)


def _goalposts_or_none(indicator: Indicator) -> tuple[float, float] | None:
    if indicator.goalposts is not None:
        return indicator.goalposts
    low, high = indicator.bounds
    if low is not None and high is not None and low < high:
        return (low, high)
    return None


def _goalposts(indicator: Indicator) -> tuple[float, float]:
    posts = _goalposts_or_none(indicator)
    assert posts is not None  # checked by _methods
    return posts


def _target(indicator: Indicator) -> float:
    assert indicator.target is not None  # checked by _methods
    return indicator.target
