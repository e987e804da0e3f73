"""The statistics behind an impact measurement: pure functions over survey summaries (mean, SD, n).

Method (documented here because council members will ask how the figures were made):

* **Change** of an indicator between the baseline and a follow-up wave is the difference of the two wave
  means. The waves are independent samples of residents, so its 95 % confidence interval uses Welch's
  standard error ``sqrt(sd1²/n1 + sd2²/n2)`` and the Welch-Satterthwaite degrees of freedom (Student's t).
* **Difference-in-differences** (design "pre/post with a comparison area") is the change in the area of the
  measure minus the change in the comparison area. Its standard error adds the four wave variances
  (``Σ sd²/n``); the interval uses the normal distribution (large-sample approximation).
* **Standardised effect size** is Hedges' g: the change (or the difference-in-differences) divided by the
  pooled standard deviation of the waves involved, times the small-sample correction
  ``J = 1 - 3 / (4·df - 1)``. Rough reading (Cohen): 0.2 small, 0.5 medium, 0.8 large.
* Whether a change is good depends on the indicator: a *fall* in feelings of insecurity or victimisation is
  an improvement, a *rise* in social cohesion or trust is. :func:`improvement` turns a signed change into
  "improved / worsened / no clear change" using the confidence interval (a change whose interval includes
  zero is not clear).

SciPy supplies the distributions; nothing here touches the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

SMALL_SAMPLE = 30
"""Waves with fewer respondents than this get a warning: the interval is wide and the estimate fragile."""

Direction = Literal["improved", "worsened", "unclear"]


@dataclass(frozen=True)
class Summary:
    """One wave of one indicator in one area: mean, standard deviation and number of respondents."""

    mean: float
    sd: float
    n: int

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError("n must be at least 2")
        if not self.sd > 0:
            raise ValueError("the standard deviation must be greater than 0")


@dataclass(frozen=True)
class Estimate:
    """A signed difference with its standard error and 95 % confidence interval, and Hedges' g."""

    value: float
    se: float
    low: float
    high: float
    effect_size: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def summarise(values: list[float] | np.ndarray) -> Summary:
    """Mean, sample standard deviation (ddof=1) and n of respondent-level values."""
    array = np.asarray(values, dtype=float)
    if array.size < 2:
        raise ValueError("n must be at least 2")
    sd = float(np.std(array, ddof=1))
    return Summary(mean=float(np.mean(array)), sd=sd if sd > 0 else 1e-9, n=int(array.size))


def _pooled_sd(*groups: Summary) -> float:
    num = sum((g.n - 1) * g.sd**2 for g in groups)
    den = sum(g.n - 1 for g in groups)
    return math.sqrt(num / den)


def _distributions() -> Any:
    """SciPy's distributions, imported on first use: they weigh ~40 MB, and a web process that never
    shows an impact estimate should not carry them."""
    from scipy import stats

    return stats


def _hedges_j(df: float) -> float:
    return 1 - 3 / (4 * df - 1)


def change(before: Summary, after: Summary, confidence: float = 0.95) -> Estimate:
    """The change ``after.mean - before.mean`` between two independent waves (Welch interval, Hedges' g)."""
    va, vb = before.sd**2 / before.n, after.sd**2 / after.n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (before.n - 1) + vb**2 / (after.n - 1))
    t = float(_distributions().t.ppf(0.5 + confidence / 2, df))
    diff = after.mean - before.mean
    g = diff / _pooled_sd(before, after) * _hedges_j(before.n + after.n - 2)
    return Estimate(value=diff, se=se, low=diff - t * se, high=diff + t * se, effect_size=g)


def difference_in_differences(
    before: Summary, after: Summary, comparison_before: Summary, comparison_after: Summary, confidence: float = 0.95
) -> Estimate:
    """The measure area's change minus the comparison area's change (normal interval, Hedges' g)."""
    groups = (before, after, comparison_before, comparison_after)
    did = (after.mean - before.mean) - (comparison_after.mean - comparison_before.mean)
    se = math.sqrt(sum(g.sd**2 / g.n for g in groups))
    z = float(_distributions().norm.ppf(0.5 + confidence / 2))
    df = sum(g.n for g in groups) - 4
    g = did / _pooled_sd(*groups) * _hedges_j(df)
    return Estimate(value=did, se=se, low=did - z * se, high=did + z * se, effect_size=g)


def improvement(estimate: Estimate, higher_is_better: bool) -> Direction:
    """Improved, worsened or unclear (interval includes 0), given which way is good for the indicator."""
    if not estimate.significant:
        return "unclear"
    went_up = estimate.value > 0
    return "improved" if went_up == higher_is_better else "worsened"


def magnitude(effect_size: float) -> str:
    """Cohen's rough reading of a standardised effect: negligible, small, medium or large."""
    size = abs(effect_size)
    if size < 0.2:
        return "negligible"
    if size < 0.5:
        return "small"
    if size < 0.8:
        return "medium"
    return "large"
