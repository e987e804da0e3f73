"""Peer statistics for the benchmarking dashboard: pure NumPy over plain arrays, no database, no web.

The dashboard compares a city with its peer group (same size class, optionally same country) through
aggregates only: the median and the interquartile range per dimension, and the indicators where the city
differs most from the peers' median. It never orders cities. Individual scores of other cities appear only
for cities that opted in, and no statistic is shown for fewer than :data:`MIN_PEERS` peers, because the
median of one or two peers would disclose their scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MIN_PEERS = 5
"""Fewest peers (the city itself excluded) with a value before a median or range is shown."""

Standing = Literal["below", "within", "above", "unknown"]


@dataclass(frozen=True)
class PeerStatistic:
    """The peers' distribution of one score (a dimension, the index or a normalised indicator)."""

    code: str
    count: int
    q1: float | None
    median: float | None
    q3: float | None

    @property
    def shown(self) -> bool:
        return self.median is not None


@dataclass(frozen=True)
class ProfileRow:
    """The city's score on one dimension next to its peers' median and interquartile range."""

    code: str
    value: float | None
    peers: PeerStatistic

    @property
    def difference(self) -> float | None:
        if self.value is None or self.peers.median is None:
            return None
        return self.value - self.peers.median

    @property
    def standing(self) -> Standing:
        """Below the peers' first quartile, within the interquartile range, or above the third quartile."""
        if self.value is None or self.peers.q1 is None or self.peers.q3 is None:
            return "unknown"
        if self.value < self.peers.q1:
            return "below"
        if self.value > self.peers.q3:
            return "above"
        return "within"


@dataclass(frozen=True)
class IndicatorGap:
    """An indicator where the city's normalised value (0-1) differs from the peers' median."""

    code: str
    value: float
    peer_median: float
    peer_count: int

    @property
    def difference(self) -> float:
        return self.value - self.peer_median


def peer_statistics(matrix: FloatArray, codes: Sequence[str], *, min_peers: int = MIN_PEERS) -> list[PeerStatistic]:
    """Quartiles of each column over the rows that have a value (NaN = none). Columns with fewer than
    ``min_peers`` values get a count but no statistics."""
    data = np.asarray(matrix, dtype=np.float64).reshape(-1, len(codes))
    counts = (~np.isnan(data)).sum(axis=0)
    result: list[PeerStatistic] = []
    enough = counts >= max(min_peers, 1)
    quartiles = np.full((3, len(codes)), np.nan)
    if enough.any():
        quartiles[:, enough] = np.nanpercentile(data[:, enough], [25, 50, 75], axis=0)
    for j, code in enumerate(codes):
        if enough[j]:
            q1, median, q3 = (float(quartiles[k, j]) for k in range(3))
            result.append(PeerStatistic(code, int(counts[j]), q1, median, q3))
        else:
            result.append(PeerStatistic(code, int(counts[j]), None, None, None))
    return result


def profile(values: Mapping[str, float | None], statistics: Sequence[PeerStatistic]) -> list[ProfileRow]:
    """The city's profile: one row per statistic's code, with the city's value (None when it has none)."""
    return [ProfileRow(stat.code, _finite(values.get(stat.code)), stat) for stat in statistics]


def indicator_gaps(
    city: Mapping[str, float],
    peers: FloatArray,
    codes: Sequence[str],
    *,
    limit: int = 5,
    min_peers: int = MIN_PEERS,
) -> tuple[list[IndicatorGap], list[IndicatorGap]]:
    """(strengths, weaknesses): the indicators where the city's normalised value is furthest above and
    below the peers' median, at most ``limit`` each, largest difference first. Only indicators the city
    answered and at least ``min_peers`` peers answered count."""
    statistics = peer_statistics(peers, codes, min_peers=min_peers)
    gaps = [
        IndicatorGap(stat.code, float(city[stat.code]), stat.median, stat.count)
        for stat in statistics
        if stat.median is not None and _finite(city.get(stat.code)) is not None
    ]
    above = sorted((g for g in gaps if g.difference > 0), key=lambda g: (-g.difference, g.code))[:limit]
    below = sorted((g for g in gaps if g.difference < 0), key=lambda g: (g.difference, g.code))[:limit]
    return above, below


def strong_peers(
    matrix: FloatArray,
    codes: Sequence[str],
    *,
    eligible: BoolArray,
    min_peers: int = MIN_PEERS,
) -> dict[str, BoolArray]:
    """Per code, which rows are strong: at or above the column's third quartile over all rows (the peer
    group) and ``eligible`` (e.g. active: they published practices). Empty when the group is too small."""
    data = np.asarray(matrix, dtype=np.float64).reshape(-1, len(codes))
    result: dict[str, BoolArray] = {}
    for j, code in enumerate(codes):
        column = data[:, j]
        present = ~np.isnan(column)
        if present.sum() < min_peers:
            result[code] = np.zeros(len(column), dtype=bool)
            continue
        q3 = np.percentile(column[present], 75)
        with np.errstate(invalid="ignore"):
            result[code] = present & (column >= q3) & eligible
    return result


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else number
