"""Server-rendered SVG charts for the benchmarking pages. Every chart has a ``<title>`` and a ``<desc>`` and
is marked ``role="img"``; the page always shows the same numbers in a table next to it, so the chart is a
reading aid, never the only way to the data. Labels arrive already translated.

No chart library is used: the three charts are a few rectangles and lines, and server-side SVG needs no
JavaScript (the vendored-library route would add a client dependency for the same result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

WIDTH = 680
LABEL_WIDTH = 230
RIGHT_MARGIN = 24
ROW_HEIGHT = 34
TOP = 34
BOTTOM = 30

CITY = "#1d4ed8"  # blue 700: 7:1 on white
ALTERNATIVE = "#b45309"  # amber 700
BAND = "#d1d5db"  # grey 300: the peers' interquartile range
MEDIAN = "#111827"
AXIS = "#6b7280"

_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One row of the profile chart."""

    label: str
    value: float | None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    alternative: float | None = None


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(title: str, description: str, width: int, height: int) -> tuple[str, list[str]]:
    ident = f"chart-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(description)}</desc>',
    ]
    return ident, parts


def profile_chart(
    bars: Sequence[Bar],
    *,
    scale: float,
    title: str,
    description: str,
    city_label: str,
    peers_label: str,
    median_label: str,
    alternative_label: str = "",
) -> Markup:
    """Horizontal bars: per row the city's value (a bar from 0), the peers' interquartile range (a grey
    band) and median (a black tick); optionally a second value (scenario or own monitor) as a thinner bar."""
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    height = TOP + ROW_HEIGHT * len(bars) + BOTTOM + 22

    def x(value: float) -> float:
        return LABEL_WIDTH + max(0.0, min(value, scale)) / scale * plot

    _, parts = _open(title, description, WIDTH, height)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        tx = x(tick * scale)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{TOP + ROW_HEIGHT * len(bars)}" '
            f'stroke="{BAND}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{tx:.1f}" y="{TOP - 10}" font-size="11" text-anchor="middle" fill="{AXIS}">'
            f"{_fmt(tick * scale)}</text>"
        )
    for row, bar in enumerate(bars):
        top = TOP + row * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle + 4:.1f}" font-size="12" text-anchor="end">'
            f"{escape(_shorten(bar.label))}</text>"
        )
        if bar.q1 is not None and bar.q3 is not None:
            parts.append(
                f'<rect x="{x(bar.q1):.1f}" y="{top + 4}" width="{max(x(bar.q3) - x(bar.q1), 1.5):.1f}" '
                f'height="{ROW_HEIGHT - 8}" fill="{BAND}"/>'
            )
        if bar.value is not None:
            thickness = 8 if bar.alternative is not None else 12
            offset = -5 if bar.alternative is not None else -thickness / 2
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{middle + offset:.1f}" width="{x(bar.value) - LABEL_WIDTH:.1f}" '
                f'height="{thickness}" fill="{CITY}"/>'
            )
        if bar.alternative is not None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{middle + 3:.1f}" width="{x(bar.alternative) - LABEL_WIDTH:.1f}" '
                f'height="6" fill="{ALTERNATIVE}"/>'
            )
        if bar.median is not None:
            mx = x(bar.median)
            parts.append(
                f'<line x1="{mx:.1f}" y1="{top + 2}" x2="{mx:.1f}" y2="{top + ROW_HEIGHT - 2}" '
                f'stroke="{MEDIAN}" stroke-width="2.5"/>'
            )
    legend_y = TOP + ROW_HEIGHT * len(bars) + BOTTOM
    legend = [(CITY, city_label, "rect"), (BAND, peers_label, "rect"), (MEDIAN, median_label, "line")]
    if alternative_label:
        legend.insert(1, (ALTERNATIVE, alternative_label, "rect"))
    lx = LABEL_WIDTH
    for colour, label, shape in legend:
        if shape == "rect":
            parts.append(f'<rect x="{lx}" y="{legend_y - 10}" width="14" height="10" fill="{colour}"/>')
        else:
            parts.append(
                f'<line x1="{lx + 7}" y1="{legend_y - 12}" x2="{lx + 7}" y2="{legend_y + 1}" '
                f'stroke="{colour}" stroke-width="2.5"/>'
            )
        parts.append(f'<text x="{lx + 20}" y="{legend_y}" font-size="11">{escape(label)}</text>')
        lx += 28 + 7 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def trend_chart(
    years: Sequence[int],
    values: Sequence[float | None],
    *,
    scale: float,
    title: str,
    description: str,
) -> Markup:
    """A line of one score over the years (gaps where a year has no value), with a dot per year."""
    height = 200
    left, right, top, bottom = 48, 20, 16, 30
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    _, parts = _open(title, description, WIDTH, height)

    def x(position: int) -> float:
        return left + (plot_w / 2 if len(years) == 1 else position / (len(years) - 1) * plot_w)

    def y(value: float) -> float:
        return top + plot_h - max(0.0, min(value, scale)) / scale * plot_h

    for tick in (0, 0.5, 1.0):
        ty = y(tick * scale)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{WIDTH - right}" y2="{ty:.1f}" stroke="{BAND}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" fill="{AXIS}">'
            f"{_fmt(tick * scale)}</text>"
        )
    segment: list[str] = []
    for position, (year, value) in enumerate(zip(years, values, strict=True)):
        parts.append(
            f'<text x="{x(position):.1f}" y="{height - 10}" font-size="11" text-anchor="middle" fill="{AXIS}">'
            f"{year}</text>"
        )
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{CITY}" stroke-width="2"/>')
            segment = []
            continue
        segment.append(f"{x(position):.1f},{y(value):.1f}")
        parts.append(f'<circle cx="{x(position):.1f}" cy="{y(value):.1f}" r="4" fill="{CITY}"/>')
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{CITY}" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def band_chart(low: float, high: float, *, title: str, description: str, low_label: str, high_label: str) -> Markup:
    """A 0-100 axis with the band [low, high] shaded: where the city's position among its peers moves."""
    height = 86
    left, right = 24, 24
    plot = WIDTH - left - right

    def x(value: float) -> float:
        return left + max(0.0, min(value, 100.0)) / 100.0 * plot

    _, parts = _open(title, description, WIDTH, height)
    parts.append(f'<line x1="{left}" y1="40" x2="{WIDTH - right}" y2="40" stroke="{AXIS}" stroke-width="1.5"/>')
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{x(tick):.1f}" y1="35" x2="{x(tick):.1f}" y2="45" stroke="{AXIS}"/>')
        parts.append(
            f'<text x="{x(tick):.1f}" y="62" font-size="11" text-anchor="middle" fill="{AXIS}">{tick} %</text>'
        )
    parts.append(
        f'<rect x="{x(low):.1f}" y="28" width="{max(x(high) - x(low), 3):.1f}" height="24" fill="{CITY}" '
        f'fill-opacity="0.55"/>'
    )
    parts.append(f'<text x="{left}" y="80" font-size="11" fill="{AXIS}">{escape(low_label)}</text>')
    parts.append(
        f'<text x="{WIDTH - right}" y="80" font-size="11" text-anchor="end" fill="{AXIS}">{escape(high_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _shorten(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"
