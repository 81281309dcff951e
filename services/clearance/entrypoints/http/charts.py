"""Charts drawn on the server as SVG: bars (stacked when there are several series) with both axes
titled, ticks at round values and a legend. No script, no library, nothing fetched.

Every chart is an image with a title for screen readers (``role="img"``); the pages put the same
numbers in a table beside it. Texts are escaped here (they may come from data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from markupsafe import Markup, escape

__all__ = ["CHANNEL_COLOURS", "Series", "bar_chart", "nice_step"]

#: Channel colours, each at least 4.5:1 against white (WCAG), as in the tables' text.
CHANNEL_COLOURS = {"green": "#0a6b2a", "yellow": "#8a6100", "red": "#a00000"}


@dataclass(frozen=True)
class Series:
    """One series of bars: a name for the legend, a colour, one value per label."""

    name: str
    colour: str
    values: Sequence[Decimal]


def nice_step(top: Decimal, ticks: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that reaches ``top`` in about ``ticks``."""
    if top <= 0:
        return Decimal(1)
    raw = top / ticks
    power = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, 5, 10):
        step = power * factor
        if step >= raw:
            return step
    return power * 10  # unreachable: 10 x power >= raw always


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 96
    right: int = 16
    top: int = 16
    bottom: int = 64

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def y(self, value: Decimal, top: Decimal) -> float:
        return self.top + self.plot_height * (1 - float(value / top))


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    tick_text: Callable[[Decimal], str],
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Bars per label (stacked over ``series``), a y axis with round ticks written by
    ``tick_text``, the x labels (thinned to fit), both axis titles, and a legend."""
    legend = 22 if len(series) > 1 else 0
    frame = _Frame(width, height + legend, bottom=56 + legend)
    totals = [sum((s.values[i] for s in series), Decimal(0)) for i in range(len(labels))]
    highest = max(totals, default=Decimal(0))
    step = nice_step(highest)
    # the first tick at or above the highest bar
    top = step * max(Decimal(1), (highest / step).to_integral_value(rounding=ROUND_CEILING))
    axis = frame.top + frame.plot_height
    parts = [
        f'<svg role="img" aria-labelledby="{chart_id}-title" width="{frame.width}" '
        f'height="{frame.height}" viewBox="0 0 {frame.width} {frame.height}" class="chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        *_y_axis(frame, top, step, tick_text),
        *_bars(frame, labels, series, top),
        *_x_axis(frame, labels),
        f'<text x="{frame.left + frame.plot_width / 2:.0f}" y="{axis + 40}" '
        f'text-anchor="middle" class="axis-title">{escape(x_title)}</text>',
        f'<text transform="translate(16 {frame.top + frame.plot_height / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" class="axis-title">{escape(y_title)}</text>',
    ]
    if len(series) > 1:
        parts.extend(_legend(frame, series))
    parts.append("</svg>")
    return Markup("".join(parts))


def _y_axis(
    frame: _Frame, top: Decimal, step: Decimal, tick_text: Callable[[Decimal], str]
) -> list[str]:
    parts = []
    value = Decimal(0)
    while value <= top:
        y = frame.y(value, top)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.plot_width}" '
            f'y2="{y:.1f}" stroke="#d0d0d0"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'class="tick">{escape(tick_text(value))}</text>'
        )
        value += step
    parts.append(
        f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" '
        f'y2="{frame.top + frame.plot_height}" stroke="#1a1a1a"/>'
    )
    return parts


def _bars(
    frame: _Frame, labels: Sequence[str], series: Sequence[Series], top: Decimal
) -> list[str]:
    parts = []
    slot = frame.plot_width / max(1, len(labels))
    bar_width = max(1.0, min(48.0, slot * 0.7))
    for index, label in enumerate(labels):
        x = frame.left + slot * index + (slot - bar_width) / 2
        base = Decimal(0)
        for one in series:
            value = one.values[index]
            if value <= 0:
                continue
            y_top, y_base = frame.y(base + value, top), frame.y(base, top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_width:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{one.colour}">'
                f"<title>{escape(label)} · {escape(one.name)}: {escape(str(value))}</title></rect>"
            )
            base += value
    return parts


def _x_axis(frame: _Frame, labels: Sequence[str]) -> list[str]:
    y = frame.top + frame.plot_height
    parts = [
        f'<line x1="{frame.left}" y1="{y}" x2="{frame.left + frame.plot_width}" y2="{y}" '
        f'stroke="#1a1a1a"/>'
    ]
    slot = frame.plot_width / max(1, len(labels))
    every = max(1, -(-len(labels) // 12))  # at most about 12 labels
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = frame.left + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{y + 18}" text-anchor="middle" class="tick">'
            f"{escape(label)}</text>"
        )
    return parts


def _legend(frame: _Frame, series: Sequence[Series]) -> list[str]:
    parts = []
    x, y = frame.left, frame.top + frame.plot_height + 64
    for one in series:
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{one.colour}"/>'
            f'<text x="{x + 18}" y="{y}" class="tick">{escape(one.name)}</text>'
        )
        x += 30 + 8 * len(one.name)
    return parts
