"""The statistics checked against values computed independently (by hand and with SciPy directly)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from modules.cohesion import stats


def test_change_matches_welch_t_test() -> None:
    before, after = stats.Summary(3.2, 0.9, 240), stats.Summary(2.8, 1.1, 231)
    est = stats.change(before, after)
    t, _p = sps.ttest_ind_from_stats(2.8, 1.1, 231, 3.2, 0.9, 240, equal_var=False)
    assert est.value == pytest.approx(-0.4)
    assert est.value / est.se == pytest.approx(t)
    se = math.sqrt(0.81 / 240 + 1.21 / 231)
    assert est.se == pytest.approx(se)
    # Interval from the raw data's own Welch CI (SciPy ≥ 1.10 computes it).
    rng = np.random.default_rng(1)
    a, b = rng.normal(3, 1, 50), rng.normal(3.5, 1.2, 40)
    res = sps.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(0.95)
    mine = stats.change(stats.summarise(a), stats.summarise(b))
    assert mine.low == pytest.approx(ci.low)
    assert mine.high == pytest.approx(ci.high)


def test_hedges_g_by_hand() -> None:
    est = stats.change(stats.Summary(10, 2, 20), stats.Summary(11, 2, 20))
    # pooled SD = 2, d = 0.5, J = 1 - 3/(4*38-1) = 0.98013
    assert est.effect_size == pytest.approx(0.5 * (1 - 3 / 151))
    assert stats.magnitude(est.effect_size) == "small"


def test_difference_in_differences_by_hand() -> None:
    t0, t1 = stats.Summary(3.2, 0.9, 240), stats.Summary(2.8, 0.9, 231)
    c0, c1 = stats.Summary(3.1, 0.9, 210), stats.Summary(3.05, 0.9, 205)
    est = stats.difference_in_differences(t0, t1, c0, c1)
    assert est.value == pytest.approx(-0.35)
    se = math.sqrt(0.81 * (1 / 240 + 1 / 231 + 1 / 210 + 1 / 205))
    assert est.se == pytest.approx(se)
    assert est.high == pytest.approx(-0.35 + 1.959964 * se, rel=1e-5)
    assert est.effect_size == pytest.approx(-0.35 / 0.9 * (1 - 3 / (4 * 882 - 1)))
    assert stats.improvement(est, higher_is_better=False) == "improved"


def test_bad_summaries_are_refused() -> None:
    with pytest.raises(ValueError, match="standard deviation"):
        stats.Summary(1, 0, 10)
    with pytest.raises(ValueError, match="n must"):
        stats.Summary(1, 1, 1)
