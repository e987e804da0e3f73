"""Charts drawn on the server as SVG: no script, readable in print and in the PDF, each with a title for
screen readers (the page shows the same numbers in a data table beside it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from covenant.i18n import format_number, format_percent

PALETTE: dict[str, str] = {
    "not_started": "#c9ced6",
    "in_progress": "#f0b429",
    "returned": "#b3261e",
    "submitted": "#4a90d9",
    "validated": "#1e6b35",
}
BAR = "#0b4f9c"
WIDTH = 640


LABEL_WIDTH = 250


def _label(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, percent: bool = False, maximum: float | None = None
) -> Markup:
    """Horizontal bars, one per item (a share when ``percent``: values are fractions from 0 to 1)."""
    if not items:
        return Markup("")
    top = maximum if maximum is not None else max((v for _, v in items), default=0) or 1
    label_w, row_h = LABEL_WIDTH, 26
    bar_w = WIDTH - label_w - 90
    height = row_h * len(items) + 10
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        w = 0 if top <= 0 else max(0.0, min(1.0, value / top)) * bar_w
        shown = format_percent(value) if percent else format_number(value)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(_label(label))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="13">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above is escaped


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, int]]], order: Sequence[str], labels: Mapping[str, str], *, title: str
) -> Markup:
    """One bar per row, split by status (each bar is 100 % of the row's sections), with a legend."""
    if not rows:
        return Markup("")
    label_w, row_h, legend_h = LABEL_WIDTH, 26, 30
    bar_w = WIDTH - label_w - 20
    height = row_h * len(rows) + legend_h + 10
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, counts) in enumerate(rows):
        y = 5 + i * row_h
        total = sum(counts.values()) or 1
        x = float(label_w)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(_label(label))}</text>'
        )
        for status in order:
            w = bar_w * counts.get(status, 0) / total
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE.get(status, BAR)}">'
                f"<title>{escape(labels.get(status, status))}: {counts.get(status, 0)}</title></rect>"
            )
            x += w
    y = 10 + len(rows) * row_h
    x = 10.0
    for status in order:
        parts.append(
            f'<rect x="{x:.0f}" y="{y}" width="12" height="12" fill="{PALETTE.get(status, BAR)}"/>'
            f'<text x="{x + 16:.0f}" y="{y + 11}" font-size="12">{escape(labels.get(status, status))}</text>'
        )
        x += 16 + 7 * len(labels.get(status, status)) + 16
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above is escaped


def column_chart(items: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """Vertical columns over time (e.g. signatories per year, cumulative)."""
    if not items:
        return Markup("")
    height, bottom, top_pad = 220, 30, 20
    chart_h = height - bottom - top_pad
    step = (WIDTH - 40) / len(items)
    col_w = max(4.0, min(40.0, step * 0.7))
    top = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="20" y1="{height - bottom}" x2="{WIDTH - 20}" y2="{height - bottom}" stroke="#4a5563"/>',
    ]
    for i, (label, value) in enumerate(items):
        h = chart_h * value / top
        x = 20 + i * step + (step - col_w) / 2
        y = height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" fill="{BAR}"/>'
            f'<text x="{x + col_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">'
            f"{escape(format_number(value))}</text>"
            f'<text x="{x + col_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above is escaped
