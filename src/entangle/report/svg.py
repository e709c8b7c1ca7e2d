"""Tiny helpers to write inline SVG by hand: escaped text, scales, colours, axis ticks.

Figures are plain SVG strings so the report stays one small offline file; hover text uses SVG
``<title>`` elements, which every browser shows without script.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape

# Three palettes that share no colour, so a perpetrator is never read as a deployed force:
# intervention kinds take the Okabe-Ito colours (distinguishable with the common colour-vision
# deficiencies); perpetrator categories take Paul Tol's "muted" scheme (also colour-blind safe);
# tie types take Tol's "light" scheme, drawn with a dark casing so pale lines stay visible.
KIND_COLOURS = {
    "peacekeeping": "#0072B2",
    "counterterrorism": "#D55E00",
    "training": "#009E73",
    "state_forces": "#E69F00",
    "private_military": "#CC79A7",
    "regional": "#56B4E9",
    "other": "#000000",
}
CATEGORY_COLOURS = {
    "state_and_allied": "#999933",
    "international": "#332288",
    "jihadist": "#882255",
    "militia": "#DDCC77",
    "rebel": "#44AA99",
    "other": "#AA4499",
    "unknown": "#BBBBBB",
}
TIE_COLOURS = {
    "authorization": "#77AADD",
    "logistical_support": "#EE8866",
    "intelligence_sharing": "#EEDD88",
    "joint_operations": "#FFAABB",
    "co_location": "#99DDFF",
    "training": "#44BB99",
    "financing": "#BBCC33",
    "medevac": "#AAAA00",
    "coordination": "#DDDDDD",
    "command": "#666666",
}
# Civilian harm (rows) × exposure (columns), each none / low / high: Joshua Stevens' 3×3 scheme.
BIVARIATE_COLOURS = (
    ("#e8e8e8", "#ace4e4", "#5ac8c8"),
    ("#dfb0d6", "#a5add3", "#5698b9"),
    ("#be64ac", "#8c62aa", "#3b4994"),
)
# Smallest SVG font size in user units (report.css): figures never shrink below their own width,
# so on a phone no chart text renders under 10 px; a wide figure scrolls inside its box instead.
MIN_FONT = 10


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def title(text: str) -> str:
    """A hover tooltip for the enclosing SVG element."""
    return f"<title>{esc(text)}</title>"


def fmt(value: float) -> str:
    """Short coordinate text: SVG size matters in a multi-thousand-shape map."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.0f}"


def linear(d0: float, d1: float, r0: float, r1: float):
    """A linear scale from domain [d0, d1] to range [r0, r1]."""
    span = (d1 - d0) or 1.0
    return lambda v: r0 + (v - d0) * (r1 - r0) / span


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * step:
            step *= mult
            break
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def sequential(value: float, vmax: float) -> str:
    """White → dark red ramp (for harm and exposure maps); zero stays white."""
    if vmax <= 0 or value <= 0:
        return "#ffffff"
    t = min(1.0, math.sqrt(value / vmax))
    r = int(255 - t * (255 - 165))
    g = int(255 - t * 255 * 0.9)
    b = int(255 - t * 255 * 0.85)
    return f"#{r:02x}{g:02x}{b:02x}"


def svg(width: int, height: int, body: str, label: str, cls: str = "fig", min_scale: float = 1.0) -> str:
    """An inline SVG in a box that scrolls sideways when the screen is narrower than
    ``width × min_scale`` px (text drawn at ``MIN_FONT / min_scale`` user units stays ≥ 10 px)."""
    return (
        f'<div class="figscroll"><svg class="{cls}" viewBox="0 0 {width} {height}" width="100%" '
        f'style="min-width:{round(width * min_scale)}px" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg></div>'
    )
