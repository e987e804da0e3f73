"""The engine against values computed by hand: each transform, normalisation and aggregation, missing values,
size classes, the output scale, and the Monte Carlo of the uncertainty analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modules.assessment.engine import (
    EngineError,
    aggregate,
    combine_dimensions,
    normalise,
    peer_positions,
    score,
    transform,
    what_if,
)
from modules.assessment.framework import Framework, Indicator, default_framework

NAN = float("nan")


def one_indicator(**fields: object) -> Indicator:
    spec = {"code": "X", "name": "x", "definition": "x", "type": "number", "normalisation": "minmax"} | fields
    inner = ", ".join(f"{key}: {value}" for key, value in spec.items())
    text = (
        "code: t\nversion: '1'\ntitle: T\ndimensions:\n  - code: D\n    name: D\n    indicators:\n"
        f"      - {{{inner}}}\n"
    )
    return Framework.from_yaml(text).indicators[0]


def normalised(values: list[float], **fields: object) -> list[float]:
    indicator = one_indicator(**fields)
    column = np.array(values, dtype=float)[:, None]
    column = transform([indicator], column, None, [str(i) for i in range(len(values))])
    result = normalise([indicator], column, [indicator.normalisation])[:, 0]
    return [round(float(v), 10) if not math.isnan(v) else v for v in result]


def same(actual: list[float], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e) for a, e in zip(actual, expected, strict=True)
    )


# -- normalisations ----------------------------------------------------------------------------------------------


def test_minmax() -> None:
    assert normalised([2, 4, 6]) == [0.0, 0.5, 1.0]
    assert normalised([2, 4, 6], direction="lower") == [1.0, 0.5, 0.0]
    # Missing values take no part in the min and max and stay missing.
    assert same(normalised([2, NAN, 6, 3]), [0.0, NAN, 1.0, 0.25])
    # Everyone equal: no comparison possible, everyone in the middle.
    assert normalised([3, 3]) == [0.5, 0.5]


def test_goalposts_are_fixed_and_clipped() -> None:
    assert normalised([-5, 5, 12, 2.5], normalisation="goalposts", goalposts="[0, 10]") == [0.0, 0.5, 1.0, 0.25]
    assert normalised([-5, 5, 12], normalisation="goalposts", goalposts="[0, 10]", direction="lower") == [
        1.0,
        0.5,
        0.0,
    ]


def test_zscore_uses_the_sample_standard_deviation() -> None:
    # mean 2, sample sd sqrt(((1-2)^2 + 0 + (3-2)^2) / 2) = 1
    assert normalised([1, 2, 3], normalisation="zscore") == [-1.0, 0.0, 1.0]
    assert normalised([1, 2, 3], normalisation="zscore", direction="lower") == [1.0, 0.0, -1.0]
    # mean 5, sd sqrt((9 + 1 + 1 + 9) / 3) = sqrt(20/3)
    sd = math.sqrt(20 / 3)
    assert same(normalised([2, 4, 6, 8], normalisation="zscore"), [-3 / sd, -1 / sd, 1 / sd, 3 / sd])
    assert same(normalised([7, NAN], normalisation="zscore"), [0.0, NAN])


def test_percentile_rank_is_mid_rank() -> None:
    # n = 4: 10 → (0 + ½·1)/4; 20 → (1 + ½·2)/4; 40 → (3 + ½·1)/4
    assert normalised([10, 20, 20, 40], normalisation="percentile") == [0.125, 0.5, 0.5, 0.875]
    assert normalised([10, 20, 20, 40], normalisation="percentile", direction="lower") == [0.875, 0.5, 0.5, 0.125]
    assert same(normalised([NAN, 5], normalisation="percentile"), [NAN, 0.5])


def test_distance_to_target() -> None:
    assert normalised([40, 80, 100, 0], normalisation="target", target=80) == [0.5, 1.0, 1.0, 0.0]
    # Lower is better: target / value, capped at 1 (0 is at or below any target).
    assert normalised([20, 10, 5, 0], normalisation="target", target=10, direction="lower") == [0.5, 1.0, 1.0, 1.0]


# -- transforms ------------------------------------------------------------------------------------------------


def test_log_transforms_then_minmax() -> None:
    assert normalised([10, 100, 1000], transform="log10", minimum=1) == [0.0, 0.5, 1.0]
    # ln(e) = 1, ln(e^3) = 3, ln(e^2) = 2
    assert normalised([math.e, math.e**3, math.e**2], transform="ln", minimum=0.1) == [0.0, 1.0, 0.5]


def test_per_1000_divides_by_population() -> None:
    indicator = one_indicator(transform="per_1000", minimum=0)
    raw = np.array([[5.0], [20.0], [3.0], [NAN]])
    rates = transform([indicator], raw, [10_000, 20_000, 1_000, None], ["a", "b", "c", "d"])
    assert same(list(rates[:, 0]), [0.5, 1.0, 3.0, NAN])
    with pytest.raises(EngineError, match="X: per_1000 needs the population"):
        transform([indicator], raw, None, ["a", "b", "c", "d"])
    with pytest.raises(EngineError, match="X: per_1000 needs a population above 0 for unit b"):
        transform([indicator], raw, [10_000, 0, 1_000, None], ["a", "b", "c", "d"])


def test_log_of_a_non_positive_value_names_indicator_and_unit() -> None:
    indicator = one_indicator(transform="log10", minimum=1)
    with pytest.raises(EngineError, match=r"X: the log10 transform needs values above 0 \(unit b has 0\)"):
        transform([indicator], np.array([[1.0], [0.0]]), None, ["a", "b"])


# -- aggregation -----------------------------------------------------------------------------------------------

TWO_DIMENSIONS = """
code: t
version: '1'
title: T
scale: {scale}
aggregation: {top}
dimensions:
  - code: A
    name: A
    weight: 1
    aggregation: {inner}
    indicators:
      - {{code: A1, name: a1, definition: a1, type: number, normalisation: goalposts, goalposts: [0, 10], weight: 1}}
      - {{code: A2, name: a2, definition: a2, type: number, normalisation: goalposts, goalposts: [0, 10], weight: 3}}
  - code: B
    name: B
    weight: 1
    aggregation: {inner}
    indicators:
      - {{code: B1, name: b1, definition: b1, type: number, normalisation: goalposts, goalposts: [0, 10],
          size_classes: [above_1m]}}
"""


def two_dimensions(scale: int = 1, top: str = "arithmetic", inner: str = "arithmetic") -> Framework:
    return Framework.from_yaml(TWO_DIMENSIONS.format(scale=scale, top=top, inner=inner))


def test_weighted_arithmetic_mean_per_level() -> None:
    # A = (1·0.2 + 3·0.6) / 4 = 0.5; B = 0.8; index = (0.5 + 0.8) / 2 = 0.65
    scores = score(two_dimensions(), ["u"], [[2, 6, 8]])
    assert scores.row("u") == pytest.approx({"index": 0.65, "coverage": 1.0, "A": 0.5, "B": 0.8})
    assert scores.normalised.tolist()[0] == pytest.approx([0.2, 0.6, 0.8])


def test_weighted_geometric_mean_per_level() -> None:
    scores = score(two_dimensions(top="geometric", inner="geometric"), ["u"], [[2, 6, 8]])
    a = 0.2**0.25 * 0.6**0.75  # exp((1·ln 0.2 + 3·ln 0.6) / 4) ≈ 0.4559
    assert scores.row("u")["A"] == pytest.approx(a)
    assert scores.row("u")["index"] == pytest.approx(math.sqrt(a * 0.8))


def test_aggregation_override() -> None:
    scores = score(two_dimensions(), ["u"], [[2, 6, 8]], aggregation="geometric")
    assert scores.row("u")["A"] == pytest.approx(0.2**0.25 * 0.6**0.75)
    with pytest.raises(EngineError, match="unknown aggregation 'median'"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], aggregation="median")


def test_geometric_mean_over_zero_is_an_error_naming_indicator_and_unit() -> None:
    with pytest.raises(EngineError) as caught:
        score(two_dimensions(inner="geometric"), ["u", "v"], [[2, 6, 8], [0, 6, 8]])
    message = caught.value.messages[0]
    assert message.startswith("A1: the geometric mean of dimension A needs values above 0")
    assert "unit v has 0" in message


def test_output_scale_100() -> None:
    scores = score(two_dimensions(scale=100), ["u"], [[2, 6, 8]])
    assert scores.row("u") == pytest.approx({"index": 65.0, "coverage": 1.0, "A": 50.0, "B": 80.0})
    # Normalised values stay on 0 to 1.
    assert scores.normalised.tolist()[0] == pytest.approx([0.2, 0.6, 0.8])


def test_missing_values_are_reweighted_within_the_level_and_reported() -> None:
    scores = score(two_dimensions(), ["u", "v", "w"], [[NAN, 6, 8], [2, 6, NAN], [NAN, NAN, NAN]])
    # u: A has only A2 (0.6); index (0.6 + 0.8) / 2. Never 0 for the missing A1.
    assert scores.row("u") == pytest.approx({"index": 0.7, "coverage": 2 / 3, "A": 0.6, "B": 0.8})
    # v: B has no value → B is None and the index re-weights over A alone.
    assert scores.row("v") == pytest.approx({"index": 0.5, "coverage": 2 / 3, "A": 0.5, "B": None})
    assert scores.row("w") == {"index": None, "coverage": 0.0, "A": None, "B": None}
    assert scores.missing == {"u": ("A1",), "v": ("B1",), "w": ("A1", "A2", "B1")}


def test_indicators_outside_the_size_class_do_not_count() -> None:
    # B1 applies only to cities above 1 million: for a small town its answer is ignored, B is None, and the
    # coverage is 2 of the 2 applicable indicators.
    scores = score(two_dimensions(), ["small", "big"], [[2, 6, 8], [2, 6, 8]], size_classes=["below_50k", "above_1m"])
    assert scores.row("small") == pytest.approx({"index": 0.5, "coverage": 1.0, "A": 0.5, "B": None})
    assert scores.row("big") == pytest.approx({"index": 0.65, "coverage": 1.0, "A": 0.5, "B": 0.8})
    assert scores.missing["small"] == ()


def test_dimension_weights_create_your_own_monitor() -> None:
    scores = score(two_dimensions(), ["u"], [[2, 6, 8]], dimension_weights={"A": 3, "B": 1})
    assert scores.row("u")["index"] == pytest.approx((3 * 0.5 + 0.8) / 4)
    scores = score(two_dimensions(), ["u"], [[2, 6, 8]], dimension_weights={"B": 0})
    assert scores.row("u")["index"] == pytest.approx(0.5)
    with pytest.raises(EngineError, match="Z: not a dimension"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], dimension_weights={"Z": 1})
    with pytest.raises(EngineError, match="A: weight must be a number of 0 or more"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], dimension_weights={"A": -1})
    with pytest.raises(EngineError, match="the dimension weights sum to zero"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], dimension_weights={"A": 0, "B": 0})


def test_normalisation_override_over_the_cohort() -> None:
    # minmax over the cohort of three units: A1 2,4,6 → 0,.5,1 ; A2 6,6,6 → .5 ; B1 8,9,10 → 0,.5,1
    scores = score(two_dimensions(), ["u", "v", "w"], [[2, 6, 8], [4, 6, 9], [6, 6, 10]], normalisation="minmax")
    assert scores.dimensions["A"].tolist() == pytest.approx([(0 + 1.5) / 4, (0.5 + 1.5) / 4, (1 + 1.5) / 4])
    assert scores.dimensions["B"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    scores = score(
        two_dimensions(), ["u", "v", "w"], [[2, 6, 8], [4, 6, 9], [6, 6, 10]], normalisation={"B1": "minmax"}
    )
    assert scores.dimensions["B"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert scores.dimensions["A"].tolist() == pytest.approx([0.5, 0.55, 0.6])
    with pytest.raises(EngineError, match="unknown normalisation 'rank'"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], normalisation="rank")
    with pytest.raises(EngineError, match="A1: target normalisation needs a target above 0"):
        score(two_dimensions(), ["u"], [[2, 6, 8]], normalisation={"A1": "target"})


def test_subdimensions_aggregate_bottom_up() -> None:
    text = """
code: t
version: '1'
title: T
dimensions:
  - code: G
    name: G
    indicators:
      - {code: G1, name: g, definition: g, type: percentage, normalisation: goalposts, goalposts: [0, 100], weight: 1}
    subdimensions:
      - code: S
        name: S
        weight: 2
        indicators:
          - {code: S1, name: s, definition: s, type: percentage, normalisation: goalposts, goalposts: [0, 100]}
          - {code: S2, name: s, definition: s, type: percentage, normalisation: goalposts, goalposts: [0, 100]}
"""
    framework = Framework.from_yaml(text)
    # S = (0.4 + 0.8) / 2 = 0.6; G = (1·0.1 + 2·0.6) / 3 = 1.3 / 3; scale 100 by default
    scores = score(framework, ["u"], [[10, 40, 80]])
    assert scores.row("u")["G"] == pytest.approx(130 / 3)
    assert scores.indicator_codes == ("G1", "S1", "S2")


def test_bad_values_shape_and_infinity() -> None:
    with pytest.raises(EngineError, match=r"values must be 1 units x 3 indicators, got shape \(1, 2\)"):
        score(two_dimensions(), ["u"], [[1, 2]])
    with pytest.raises(EngineError, match="values must be finite"):
        score(two_dimensions(), ["u"], [[1, 2, float("inf")]])
    with pytest.raises(EngineError, match="size_classes has 1 entries for 2 units"):
        score(two_dimensions(), ["u", "v"], [[1, 2, 3], [1, 2, 3]], size_classes=["below_50k"])


def test_default_framework_scores_a_cohort() -> None:
    framework = default_framework()
    rng = np.random.default_rng(7)
    n = 50
    values = np.column_stack([_plausible(indicator, rng, n) for indicator in framework.indicators])
    sizes = ["below_50k"] * 25 + ["above_1m"] * 25
    scores = score(
        framework, [f"c{i}" for i in range(n)], values, size_classes=sizes, population=[40_000] * 25 + [2e6] * 25
    )
    assert np.all((scores.index >= 0) & (scores.index <= 100))
    assert set(scores.dimensions) == {d.code for d in framework.dimensions}
    assert np.allclose(scores.coverage, 1.0)


def _plausible(indicator: Indicator, rng: np.random.Generator, n: int) -> np.ndarray:
    if indicator.choices:
        return rng.choice([c.score for c in indicator.choices], n)
    low, high = indicator.bounds
    return rng.uniform(max(low or 0, 1.0), high or 100, n)


# -- uncertainty -----------------------------------------------------------------------------------------------


def test_peer_positions_count_peers_below_with_ties_half() -> None:
    index = np.array([[1.0, 3.0], [1.0, 2.0], [2.0, 1.0], [NAN, 1.0], [5.0, 5.0]])
    groups = np.array([0, 0, 0, 0, 1])
    positions = peer_positions(index, groups)
    # draw 0: three units with values 1, 1, 2 → 0 + ½ of 1 tie out of 2 peers = 25; 2 → 2 of 2 = 100
    assert same(list(positions[:, 0]), [25.0, 25.0, 100.0, NAN, 50.0])
    # draw 1: 3, 2, 1, 1 → 3 has 3 below of 3 = 100; 2 → 2/3; the tied 1s → ½ / 3
    assert same(list(positions[:, 1]), [100.0, 200 / 3, 50 / 3, 50 / 3, 50.0])


def test_what_if_without_spread_gives_the_exact_position() -> None:
    framework = two_dimensions()
    values = [[2, 6, 8], [4, 6, 9], [6, 6, 10], [1, 1, 1]]
    bands = what_if(
        framework,
        ["u", "v", "w", "x"],
        values,
        peer_groups=["p", "p", "p", "q"],
        draws=50,
        weight_spread=0.0,
        normalisations=["minmax"],
    )
    # Index over minmax: u lowest, w highest of group p; x alone in q.
    assert bands == {"u": (0.0, 0.0), "v": (50.0, 50.0), "w": (100.0, 100.0), "x": (50.0, 50.0)}


def test_what_if_is_seeded_and_bands_are_within_0_100() -> None:
    framework = default_framework()
    rng = np.random.default_rng(3)
    n = 40
    values = np.column_stack([_plausible(indicator, rng, n) for indicator in framework.indicators])
    units = [f"c{i}" for i in range(n)]
    kwargs = {"peer_groups": dict.fromkeys(units, "all"), "draws": 200, "population": [1e5] * n}
    first = what_if(framework, units, values, seed=11, **kwargs)  # type: ignore[arg-type]
    again = what_if(framework, units, values, seed=11, **kwargs)  # type: ignore[arg-type]
    other = what_if(framework, units, values, seed=12, **kwargs)  # type: ignore[arg-type]
    assert first == again
    assert first != other
    assert all(0 <= low <= high <= 100 for low, high in first.values())
    assert any(high > low for low, high in first.values())  # weights and methods do move positions


def test_what_if_keeps_a_dominant_unit_on_top_in_every_draw() -> None:
    framework = two_dimensions()
    values = [[10, 10, 10], [2, 6, 8], [4, 3, 9], [6, 1, 2]]
    bands = what_if(framework, ["best", "a", "b", "c"], values, peer_groups=["g"] * 4, draws=300, seed=5)
    assert bands["best"] == (100.0, 100.0)


def test_what_if_leaves_out_units_without_data_and_checks_input() -> None:
    framework = two_dimensions()
    bands = what_if(framework, ["u", "v"], [[2, 6, 8], [NAN, NAN, NAN]], peer_groups=["g", "g"], draws=10)
    assert set(bands) == {"u"}
    with pytest.raises(EngineError, match="unit v has no peer group"):
        what_if(framework, ["u", "v"], [[2, 6, 8], [1, 1, 1]], peer_groups={"u": "g"})
    with pytest.raises(EngineError, match="unknown normalisation 'rank'"):
        what_if(framework, ["u"], [[2, 6, 8]], peer_groups=["g"], normalisations=["rank"])
    with pytest.raises(EngineError, match="draws must be at least 1"):
        what_if(framework, ["u"], [[2, 6, 8]], peer_groups=["g"], draws=0)


def test_aggregate_from_normalised_values() -> None:
    # The scenario path: normalised values straight to dimensions and the index (scale 100).
    dimensions, index = aggregate(two_dimensions(scale=100), np.array([[0.2, NAN, 0.8]]), ["u"])
    assert dimensions["A"].tolist() == pytest.approx([20.0])  # A2 missing: A1 alone
    assert dimensions["B"].tolist() == pytest.approx([80.0])
    assert index.tolist() == pytest.approx([50.0])


def test_combine_dimensions_with_other_weights() -> None:
    framework = two_dimensions(scale=100)
    stored = np.array([[20.0, 80.0], [50.0, NAN]])
    assert combine_dimensions(framework, stored, ["u", "v"]).tolist() == pytest.approx([50.0, 50.0])
    weighted = combine_dimensions(framework, stored, ["u", "v"], dimension_weights={"A": 3, "B": 1})
    assert weighted.tolist() == pytest.approx([(3 * 20 + 80) / 4, 50.0])
