"""Tiny helpers to write inline SVG by hand: escaped text, scales, colours, axis ticks.

Figures are plain SVG strings so the report stays one small offline file; hover text uses SVG
``<title>`` elements, which every browser shows without script.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies, and in greyscale print.
KIND_COLOURS = {
    "peacekeeping": "#0072B2",
    "counterterrorism": "#D55E00",
    "training": "#009E73",
    "state_forces": "#8C6D1F",
    "private_military": "#CC79A7",
    "regional": "#6A3D9A",
    "other": "#777777",
}
CATEGORY_COLOURS = {
    "state_and_allied": "#8C6D1F",
    "international": "#0072B2",
    "jihadist": "#D55E00",
    "militia": "#CC79A7",
    "rebel": "#E69F00",
    "other": "#999999",
    "unknown": "#BBBBBB",
}
TIE_COLOURS = {
    "authorization": "#0072B2",
    "logistical_support": "#E69F00",
    "intelligence_sharing": "#CC79A7",
    "joint_operations": "#D55E00",
    "co_location": "#56B4E9",
    "training": "#009E73",
    "financing": "#8C6D1F",
    "medevac": "#F0E442",
    "coordination": "#777777",
    "command": "#000000",
}


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


def svg(width: int, height: int, body: str, label: str, cls: str = "fig") -> str:
    return (
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )
