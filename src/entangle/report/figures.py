"""The report's figures as inline SVG: timeline, network, metrics, maps and estimate plots.

Every function takes plain data (lists of dicts from ``ReportData``) and returns an SVG string.
Interactive parts (year slider, layer toggles) only add or remove a CSS class; with script off or
on paper every figure still shows its full content.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict

from entangle.report.labels import CATEGORY_WORDS, column_label, metric_label
from entangle.report.svg import (
    BIVARIATE_COLOURS,
    CATEGORY_COLOURS,
    KIND_COLOURS,
    TIE_COLOURS,
    esc,
    fmt,
    linear,
    month_index,
    nice_ticks,
    sequential,
    svg,
    title,
)

# The metrics worth a panel each, in reading order (others are in the registry metrics command).
METRIC_ORDER = (
    "nodes",
    "ties",
    "density",
    "pk_ct_ties",
    "pk_state_ties",
    "pk_private_ties",
    "pk_degree",
    "pk_betweenness",
)
METRICS_LEFT = 240  # room for a metric's label and unit left of its panel
PROVISION_ROWS = (
    ("protection_of_civilians", "Protection of civilians"),
    ("counterterrorism", "Counterterrorism"),
    ("support_to_partner", "Support to partner forces"),
    ("hrddp", "HRDDP (human rights due diligence)"),
)


def _year_axis(x, first: dt.date, last: dt.date, y0: float, y1: float) -> str:
    parts = []
    for year in range(first.year, last.year + 2):
        day = dt.date(year, 1, 1)
        if first <= day <= last + dt.timedelta(days=1):
            px = x(month_index(day))
            parts.append(f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{fmt(y0)}" y2="{fmt(y1)}" class="grid"/>')
            if day <= last:  # the line closing the last year gets no label of its own
                parts.append(f'<text x="{fmt(px + 2)}" y="{fmt(y1 + 12)}" class="tick">{year}</text>')
    return "".join(parts)


TIMELINE_LEFT = 300  # room for full lane labels ("MINUSMA → Barkhane") at 11 px


def _harm_tip(label: str, value: float, cat: str, tips: dict) -> str:
    words = CATEGORY_WORDS.get(cat, cat.replace("_", " "))
    text = f"{label}: {value:g} civilian fatalities by {words}"
    if tips:
        n = tips["events"]
        largest = "; ".join(f"{actor}, {deaths:g} [{eid}]" for eid, actor, deaths in tips["top"])
        text += f" in {n} event{'s' if n != 1 else ''}. Largest: {largest}"
    return text


def harm_timeline(data, left: int = TIMELINE_LEFT, width: int = 1000) -> str:
    """Civilian fatalities per period, stacked by perpetrator category; each bar's hover names the
    largest events' actors and source event ids."""
    first, last = data.study["start"], data.study["end"]
    x = linear(month_index(first), month_index(last) + 1, left, width - 10)
    period = data.study.get("period", "month")
    span_months = {"month": 1, "quarter": 3, "year": 12}.get(period, 1)
    parts: list[str] = [
        f'<text x="{left}" y="16" class="head">Civilian fatalities per {period}, by perpetrator</text>'
    ]
    y, harm_h = 26, 170
    months: dict[int, dict[str, float]] = defaultdict(dict)
    for row in data.harm:
        months[month_index(row["period"])][row["category"]] = row["civilian_fatalities"]
    top = max((sum(v.values()) for v in months.values()), default=0)
    if top <= 0:
        why = (
            "No civilian fatalities were recorded."
            if data.has_events()
            else "No event data: civilian fatalities cannot be shown."
        )
        parts.append(f'<text x="{left + 10}" y="{y + 20}" class="empty">{why}</text>')
        return svg(width, y + 40, "".join(parts), "Civilian fatalities by perpetrator")
    ticks = nice_ticks(0, top)
    yv = linear(0, max(ticks[-1], top), y + harm_h, y)
    for t in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{fmt(yv(t))}" y2="{fmt(yv(t))}" class="grid"/>'
            f'<text x="{left - 6}" y="{fmt(yv(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>'
        )
    parts.append(
        f'<text x="{left - 40}" y="{fmt(y + harm_h / 2)}" class="tick" text-anchor="end">civilian</text>'
        f'<text x="{left - 40}" y="{fmt(y + harm_h / 2 + 12)}" class="tick" '
        'text-anchor="end">fatalities</text>'
    )
    bar_w = max(x(span_months) - x(0) - 0.5, 0.8)
    for m, cats in sorted(months.items()):
        base = 0.0
        day = dt.date(m // 12, m % 12 + 1, 1)
        label = day.strftime("%b %Y")
        for cat in CATEGORY_COLOURS:
            value = cats.get(cat, 0)
            if value <= 0:
                continue
            y_top, y_bot = yv(base + value), yv(base)
            tip = _harm_tip(label, value, cat, data.harm_events.get(f"{day.isoformat()}|{cat}", {}))
            parts.append(
                f'<rect x="{fmt(x(m))}" y="{fmt(y_top)}" width="{fmt(bar_w)}" '
                f'height="{fmt(y_bot - y_top)}" fill="{CATEGORY_COLOURS[cat]}" data-cat="{cat}">'
                f"{title(tip)}</rect>"
            )
            base += value
    y += harm_h + 6
    parts.insert(0, _year_axis(x, first, last, 26, y))
    y += 24
    present = {row["category"] for row in data.harm}
    y = _swatch_key(parts, CATEGORY_COLOURS, present, CATEGORY_WORDS, left, y, width, "Perpetrator:", "cat")
    return svg(width, int(y + 8), "".join(parts), "Civilian fatalities by perpetrator")


def _swatch_key(parts, colours, present, words, left, y, width, caption, attr) -> float:
    """A colour key inside a figure (so it prints with it), wrapping to new lines as needed."""
    parts.append(
        f'<text x="{left - 6}" y="{fmt(y + 1)}" class="lane" text-anchor="end">{esc(caption)}</text>'
    )
    legend_x = left
    for key, colour in colours.items():
        if key not in present:
            continue
        text = words.get(key, key.replace("_", " "))
        step = 22 + 6.2 * len(text)
        if legend_x + step > width:
            legend_x, y = left, y + 16
        parts.append(
            f'<rect x="{fmt(legend_x)}" y="{fmt(y - 9)}" width="12" height="12" fill="{colour}" '
            f'stroke="#333" stroke-width="0.5" data-{attr}="{key}"/>'
            f'<text x="{fmt(legend_x + 16)}" y="{fmt(y + 1)}" class="tick">{esc(text)}</text>'
        )
        legend_x += step
    return y + 16


def timeline(data, left: int = TIMELINE_LEFT, width: int = 1000) -> str:
    """Mandate provisions per intervention (with their documents), interventions and ties as lanes."""
    first, last = data.study["start"], data.study["end"]
    x = linear(month_index(first), month_index(last) + 1, left, width - 10)
    parts: list[str] = []
    y = 8

    def lane_label(text: str, ypos: float, tip: str = "") -> None:
        parts.append(
            f'<text x="{left - 6}" y="{fmt(ypos + 9)}" class="lane" text-anchor="end">{esc(text)}'
            f"{title(tip) if tip else ''}</text>"
        )

    def span(start, end, ypos, h, colour, tip, attrs="") -> tuple[float, float] | None:
        s = max(start, first)
        e = min(end or last, last)
        if e < s:
            return None
        x0, x1 = x(month_index(s)), x(month_index(e) + 1)
        parts.append(
            f'<rect x="{fmt(x0)}" y="{fmt(ypos)}" width="{fmt(max(x1 - x0, 1.5))}" height="{fmt(h)}" '
            f'fill="{colour}"{attrs}>{title(tip)}</rect>'
        )
        return x0, x1

    kinds = {i["id"]: i["kind"] for i in data.interventions}
    # Mandate provisions, one row per intervention and provision; each bar is one document.
    parts.append(
        f'<text x="{left}" y="{y + 10}" class="head">Mandate provisions in force, by intervention</text>'
    )
    y += 20
    order = [i["id"] for i in data.interventions]
    for iid in order:
        mandates = [m for m in data.mandates if m["intervention_id"] == iid]
        for key, label in PROVISION_ROWS:
            chosen = sorted((m for m in mandates if key in m["provisions"]), key=lambda m: m["in_force_from"])
            if not chosen:
                continue
            lane_label(f"{_short(data.name_of(iid), 14)} · {label}", y, data.name_of(iid))
            label_end = -1e9
            for m in chosen:
                tip = (
                    f"{m['document']} ({data.name_of(iid)}), adopted {m['adopted']}, "
                    f"in force {m['in_force_from']} to {m['in_force_to'] or 'open'}; provisions: "
                    + ", ".join(p.replace("_", " ") for p in m["provisions"])
                )
                colour = KIND_COLOURS.get(kinds.get(iid, ""), "#777")
                got = span(m["in_force_from"], m["in_force_to"], y, 12, colour, tip, ' fill-opacity="0.35"')
                if got and got[0] >= label_end:
                    doc = _doc_label(m["document"])
                    parts.append(
                        f'<text x="{fmt(got[0] + 2)}" y="{y + 10}" class="tick doc">{esc(doc)}</text>'
                    )
                    label_end = got[0] + 6.2 * len(doc) + 6
                if first <= m["adopted"] <= last:
                    px = x(month_index(m["adopted"]))
                    parts.append(
                        f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{y - 2}" y2="{y + 14}" class="adopt"/>'
                    )
            y += 16
    y += 8

    parts.append(f'<text x="{left}" y="{y + 10}" class="head">Interventions present</text>')
    y += 20
    for item in data.interventions:
        lane_label(_short(item["name"], 40), y, item["name"])
        kind = item["kind"].replace("_", " ")
        tip = (
            f"{item['name']} ({kind}, {item['organization']}): {item['start']} to {item['end'] or 'ongoing'}"
        )
        colour = KIND_COLOURS.get(item["kind"], "#777")
        span(item["start"], item["end"], y, 12, colour, tip, f' data-kind="{esc(item["kind"])}"')
        y += 16
    y += 8

    parts.append(f'<text x="{left}" y="{y + 10}" class="head">Ties between interventions</text>')
    y += 20
    for tie in sorted(data.ties, key=lambda t: (t["type"], t["start"])):
        src, dst = data.name_of(tie["source_id"]), data.name_of(tie["target_id"])
        lane_label(f"{_short(src, 18)} → {_short(dst, 18)}", y, f"{src} → {dst}")
        tip = (
            f"{src} → {dst}: {tie['type'].replace('_', ' ')}, {tie['start']} to {tie['end'] or 'ongoing'}; "
            + "; ".join(s["ref"] for s in tie["sources"])
        )
        span(
            tie["start"],
            tie["end"],
            y + 1,
            10,
            TIE_COLOURS.get(tie["type"], "#777"),
            tip,
            f' class="tie" data-tie="{esc(tie["type"])}"',
        )
        y += 15
    y += 6
    parts.insert(0, _year_axis(x, first, last, 8, y))
    y += 24
    present = {t["type"] for t in data.ties}
    y = _swatch_key(parts, TIE_COLOURS, present, {}, left, y, width, "Tie type:", "tie")
    present = {i["kind"] for i in data.interventions}
    y = _swatch_key(parts, KIND_COLOURS, present, {}, left, y + 4, width, "Intervention kind:", "kind")
    return svg(width, int(y + 8), "".join(parts), "Timeline of mandates, interventions and ties")


def _doc_label(document: str) -> str:
    """A mandate document's short symbol: 'S/RES/2100 (2013)' -> 'S/RES/2100',
    'Council Decision (CFSP) 2013/87' -> 'CD 2013/87'."""
    number = re.search(r"\b(\d{4}/\d+)\b", document)
    if document.lower().startswith("council decision") and number:
        return f"CD {number[1]}"
    return re.sub(r"\s*\(.*\)$", "", document)[:14]


GENERIC_PREFIX = re.compile(r"^(Op[ée]ration|Operation|Task Force|Mission)\s+", re.IGNORECASE)


def _short(name: str, size: int = 14) -> str:
    """A name's own abbreviation when it gives one ('... (MINUSMA)' -> 'MINUSMA'), else truncated."""
    match = re.search(r"\(([^()]{2,24})\)\s*$", name)
    if match:
        name = match.group(1)
    elif len(name) > size:
        name = GENERIC_PREFIX.sub("", name)  # 'Opération Barkhane' -> 'Barkhane'
    return name if len(name) <= size else name[: size - 1] + "…"


def network_layout(interventions: list[dict]) -> dict[str, tuple[float, float]]:
    """Fixed circular positions grouped by kind, so years can be compared at a glance."""
    order = list(KIND_COLOURS)
    nodes = sorted(
        interventions, key=lambda i: (order.index(i["kind"]) if i["kind"] in order else 99, i["id"])
    )
    n = max(len(nodes), 1)
    return {
        node["id"]: (
            0.5 + 0.3 * math.cos(2 * math.pi * k / n - math.pi / 2),
            0.5 + 0.34 * math.sin(2 * math.pi * k / n - math.pi / 2),
        )
        for k, node in enumerate(nodes)
    }


NET_MARGIN = 90
# Below this many interventions, density and betweenness are arithmetic of a tiny graph (two
# tied nodes have density 1), not a finding.
TINY_GRAPH = 4
EDGE_KEY_WEIGHTS = (0.5, 1.0, 2.0)


def edge_width(weight: float) -> float:
    return 1.2 + 1.2 * float(weight)


def network_panel(data, year: int, pos: dict, size: int = 420) -> str:
    """The network of one year: nodes active that year, ties active that year, with the keys."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    active = {i["id"] for i in data.interventions if _overlaps(i, first, last)}
    ties = [t for t in data.ties if _overlaps(t, first, last)]
    n = len(active)
    possible = n * (n - 1)
    density = len({(t["source_id"], t["target_id"]) for t in ties}) / possible if possible else 0.0
    note = (
        f"density {density:.2f}: an artefact of a graph this small, not a finding"
        if n < TINY_GRAPH
        else f"density {density:.2f} (share of possible directed ties)"
    )
    body = [
        f'<defs><marker id="arr{year}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
        f'<text x="{-NET_MARGIN + 10}" y="18" class="head">{year}: {_count(n, "intervention")}, '
        f"{_count(len(ties), 'tie')}</text>",
        f'<text x="{-NET_MARGIN + 10}" y="34" class="tick">{esc(note)}</text>',
    ]
    pair_count: dict[tuple[str, str], int] = defaultdict(int)
    for tie in ties:
        a, b = tie["source_id"], tie["target_id"]
        if a not in pos or b not in pos:
            continue
        key = tuple(sorted((a, b)))
        bend = 0.06 * pair_count[key]
        pair_count[key] += 1
        (x0, y0), (x1, y1) = pos[a], pos[b]
        mx, my = (x0 + x1) / 2 + bend * (y1 - y0) * 3, (y0 + y1) / 2 - bend * (x1 - x0) * 3
        marker = f' marker-end="url(#arr{year})"' if tie.get("directed", True) else ""
        tip = (
            f"{data.name_of(a)} → {data.name_of(b)}: {tie['type'].replace('_', ' ')}, weight "
            f"{float(tie.get('weight', 1)):g} ({tie['start']} to {tie['end'] or 'ongoing'}); "
            + "; ".join(s["ref"] for s in tie["sources"])
        )
        dx, dy = x1 - mx, y1 - my
        norm = math.hypot(dx, dy) or 1
        ex, ey = x1 - dx / norm * 0.035, y1 - dy / norm * 0.035
        d = (
            f"M{fmt(x0 * size)},{fmt(y0 * size)} Q{fmt(mx * size)},{fmt(my * size)} "
            f"{fmt(ex * size)},{fmt(ey * size)}"
        )
        width = edge_width(tie.get("weight", 1))
        # a dark casing under the pale tie colour keeps every line visible on white and on paper
        body.append(f'<path d="{d}" fill="none" stroke="#555" stroke-width="{fmt(width + 1.4)}"/>')
        body.append(
            f'<path d="{d}" fill="none" stroke="{TIE_COLOURS.get(tie["type"], "#777")}" '
            f'stroke-width="{fmt(width)}"{marker} class="edge" data-tie="{esc(tie["type"])}">'
            f"{title(tip)}</path>"
        )
    for item in data.interventions:
        if item["id"] not in pos:
            continue
        px, py = pos[item["id"]]
        on = item["id"] in active
        anchor = "start" if px >= 0.5 else "end"
        dx = 15 if px >= 0.5 else -15
        kind = item["kind"]
        tip = f"{item['name']} ({kind.replace('_', ' ')})" + ("" if on else ": not present this year")
        fill = KIND_COLOURS.get(kind, "#777") if on else "#eeeeee"
        body.append(
            f'<g class="node{"" if on else " off"}"><circle cx="{fmt(px * size)}" cy="{fmt(py * size)}" '
            f'r="11" fill="{fill}" stroke="#333" data-kind="{esc(kind) if on else "off"}">'
            f"{title(tip)}</circle>"
            f'<text x="{fmt(px * size + dx)}" y="{fmt(py * size + 4)}" text-anchor="{anchor}" '
            f'class="lane">{esc(_short(item["name"], 16))}</text></g>'
        )
    # width key: what a line's thickness says
    ky = size + 12
    body.append(f'<text x="{-NET_MARGIN + 10}" y="{ky + 4}" class="tick">Line width = tie weight:</text>')
    kx = -NET_MARGIN + 150
    for weight in EDGE_KEY_WEIGHTS:
        body.append(
            f'<line x1="{kx}" x2="{kx + 34}" y1="{ky}" y2="{ky}" stroke="#555" '
            f'stroke-width="{fmt(edge_width(weight))}"/>'
            f'<text x="{kx + 40}" y="{ky + 4}" class="tick">{weight:g}</text>'
        )
        kx += 72
    body.append(
        f'<text x="{-NET_MARGIN + 10}" y="{ky + 20}" class="tick">Grey node: not present that year. Arrow: '
        "from the supporting or authorizing actor to the supported one.</text>"
    )
    return svg(
        size + 2 * NET_MARGIN,
        size + 40,
        f'<g transform="translate({NET_MARGIN},0)">' + "".join(body) + "</g>",
        f"Regime-complex network in {year}",
        "fig net",
    )


def network(data, years: list[int], size: int = 420) -> str:
    """A network panel for every year of the study (the page shows one at a time, through a
    control); the ``years`` given are the ones that print."""
    pos = network_layout(data.interventions)
    printed = set(years)
    panels = []
    for year in range(data.study["start"].year, data.study["end"].year + 1):
        cls = "netpanel" + (" print" if year in printed else "")
        panels.append(f'<div class="{cls}" data-year="{year}">{network_panel(data, year, pos, size)}</div>')
    return "".join(panels)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _overlaps(item: dict, first: dt.date, last: dt.date) -> bool:
    return item["start"] <= last and (item["end"] is None or item["end"] >= first)


def legend(
    colours: dict[str, str], present: set[str] | None = None, caption: str = "", words: dict | None = None
) -> str:
    """A colour key; the caption says what the colours stand for (kinds and tie types share some
    words, e.g. "training", never a colour)."""
    words = words or {}
    items = [
        f'<span class="key"><i style="background:{c}"></i>{esc(words.get(k, k.replace("_", " ")))}</span>'
        for k, c in colours.items()
        if present is None or k in present
    ]
    head = f'<span class="caption">{esc(caption)}:</span>' if caption else ""
    return '<p class="legend">' + head + "".join(items) + "</p>"


def metrics(rows: list[dict], width: int = 1000, panel_h: int = 90) -> str:
    """Small multiples: each numeric network metric over time, with its unit and a 0-to-max axis."""
    if not rows:
        return '<p class="empty">No network metrics were computed.</p>'
    left = METRICS_LEFT
    numeric = {
        k for row in rows for k, v in row.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    preferred = [k for k in METRIC_ORDER if k in numeric]
    keys = preferred or sorted(numeric)
    periods = [month_index(r["period"]) for r in rows]
    x = linear(min(periods), max(periods) + 1, left, width - 10)
    parts, y = [], 10
    first, last = rows[0]["period"], rows[-1]["period"]
    tiny = [r.get("nodes") is not None and r["nodes"] < TINY_GRAPH for r in rows]
    for key in keys:
        values = [float(r[key]) if r.get(key) is not None else math.nan for r in rows]
        if key in ("density", "pk_betweenness") and any(tiny):
            # shade the months where the metric is arithmetic of a graph of 1-3 nodes
            for p, small in zip(periods, tiny, strict=True):
                if small:
                    parts.append(
                        f'<rect x="{fmt(x(p))}" y="{y + 6}" width="{fmt(x(p + 1) - x(p))}" '
                        f'height="{panel_h - 16}" class="artefact"/>'
                    )
            parts.append(
                f'<text x="{left + 4}" y="{y + panel_h - 12}" class="tick">shaded: fewer than {TINY_GRAPH} '
                "interventions present, so the value is an artefact of a tiny graph</text>"
            )
        finite = [v for v in values if not math.isnan(v)]
        hi = max(finite, default=0) or 1
        yv = linear(0, hi, y + panel_h - 10, y + 6)
        label, unit = metric_label(key)
        parts.append(
            f'<text x="{left - 14}" y="{y + panel_h / 2}" class="lane" text-anchor="end">{esc(label)}'
            f"{title(key)}</text>"
        )
        if unit:
            parts.append(
                f'<text x="{left - 14}" y="{y + panel_h / 2 + 13}" class="tick" text-anchor="end">'
                f"{esc(unit)}</text>"
            )
        # y axis: 0 at the baseline, the panel's maximum at the top
        parts.append(
            f'<text x="{left - 4}" y="{fmt(yv(hi) + 4)}" class="tick" text-anchor="end">{hi:.3g}</text>'
        )
        parts.append(f'<text x="{left - 4}" y="{fmt(yv(0) + 3)}" class="tick" text-anchor="end">0</text>')
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{fmt(yv(hi))}" y2="{fmt(yv(hi))}" class="grid"/>'
        )
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{fmt(yv(0))}" y2="{fmt(yv(0))}" class="grid"/>'
        )
        points = " ".join(
            f"{fmt(x(p) + 0.5)},{fmt(yv(v))}"
            for p, v in zip(periods, values, strict=True)
            if not math.isnan(v)
        )
        parts.append(f'<polyline points="{points}" fill="none" stroke="#0072B2" stroke-width="1.5"/>')
        y += panel_h
    parts.insert(0, _year_axis(x, first, last, 10, y))
    return svg(width, y + 20, "".join(parts), "Network metrics over time")


class Projection:
    """Equirectangular projection scaled to a box, with longitude shrunk by cos(mid-latitude)."""

    def __init__(self, bbox: tuple[float, float, float, float], width: int = 640) -> None:
        lon0, lat0, lon1, lat1 = bbox
        self.kx = math.cos(math.radians((lat0 + lat1) / 2))
        self.scale = width / max((lon1 - lon0) * self.kx, 1e-6)
        self.lon0, self.lat1 = lon0, lat1
        self.width = width
        self.height = int((lat1 - lat0) * self.scale) + 1

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx * self.scale, (self.lat1 - lat) * self.scale

    def path(self, rings: list[list[tuple[float, float]]]) -> str:
        out = []
        for ring in rings:
            pts = [self(lon, lat) for lon, lat in ring]
            out.append("M" + "L".join(f"{fmt(px)},{fmt(py)}" for px, py in pts) + "Z")
        return "".join(out)


def outline_path(proj: Projection, outline: list, cls: str = "outline") -> str:
    if not outline:
        return ""
    return f'<path d="{proj.path(outline)}" class="{cls}"/>'


# Map text is drawn larger than chart text: a map may shrink to MAP_MIN_SCALE of its width on a
# phone, and its labels must still render at 10 px or more.
MAP_MIN_SCALE = 0.56
TROOP_KEY = (100, 1000, 5000)


def site_radius(troops: int | None) -> float:
    return min(3 + (math.sqrt(troops) / 8 if troops else 0), 14)


PLACE_FONT = 18  # svg.map .place in report.css


def place_layer(proj: Projection, places: list[dict]) -> str:
    """Town labels (from the registry's sites): static text with a white halo, so they print. A
    label that would overlap one already placed (in this map's pixels) is left out."""
    parts, boxes = [], []
    for place in places:
        px, py = proj(place["lon"], place["lat"])
        width = 0.7 * PLACE_FONT * len(place["name"])  # bold text with a halo
        # labels read to the right of their town unless that would run off the map
        anchor = "end" if px + 6 + width > proj.width else "start"
        x0 = px - 6 - width if anchor == "end" else px + 6
        box = (x0 - 2, py - 4 - PLACE_FONT, x0 + width + 2, py)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        boxes.append(box)
        dx = -6 if anchor == "end" else 6
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(py)}" r="2.5" class="town"/>'
            f'<text x="{fmt(px + dx)}" y="{fmt(py - 4)}" text-anchor="{anchor}" class="place">'
            f"{esc(place['name'])}</text>"
        )
    return '<g class="places">' + "".join(parts) + "</g>"


def _size_key(proj: Projection) -> str:
    """Circle sizes for troop numbers, drawn in the map's lower left corner."""
    x0, y0 = 10, proj.height - 12
    parts = [f'<text x="{x0}" y="{fmt(y0 - 52)}" class="maptext">Troops at a site:</text>']
    x = x0
    for troops in TROOP_KEY:
        r = site_radius(troops)
        parts.append(
            f'<circle cx="{fmt(x + r)}" cy="{fmt(y0 - 22)}" r="{fmt(r)}" fill="#fff" stroke="#222"/>'
            f'<text x="{fmt(x + r)}" y="{fmt(y0 + 2)}" class="maptext" text-anchor="middle">{troops:,}</text>'
        )
        x += 2 * r + 80
    parts.append(
        f'<circle cx="{fmt(x + 3)}" cy="{fmt(y0 - 22)}" r="3" fill="#fff" stroke="#222"/>'
        f'<text x="{fmt(x + 3)}" y="{fmt(y0 + 2)}" class="maptext">unknown</text>'
    )
    return '<g class="sizekey">' + "".join(parts) + "</g>"


def sites_map(data, proj: Projection) -> str:
    """Sites of every intervention kind; each circle carries its active years for the period control."""
    kinds = {i["id"]: i["kind"] for i in data.interventions}
    parts = [outline_path(proj, data.outline, "land")]
    for site in sorted(data.sites, key=lambda s: -(s.get("troops") or 0)):
        kind = kinds.get(site.get("intervention_id") or "", "other")
        px, py = proj(site["lon"], site["lat"])
        troops = site.get("troops")
        y0 = site["start"].year if site.get("start") else data.study["start"].year
        y1 = site["end"].year if site.get("end") else data.study["end"].year
        tip = (
            f"{site['name']}: {data.name_of(site.get('intervention_id')) or 'unmatched'} "
            f"({kind.replace('_', ' ')}), "
            f"{site.get('start') or '?'} to {site.get('end') or 'open'}"
            + (f", {troops:,} troops" if troops else ", troops unknown")
            + f" [{site.get('source', 'registry')}]"
        )
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(py)}" r="{fmt(site_radius(troops))}" '
            f'fill="{KIND_COLOURS.get(kind, "#777")}" data-kind="{kind}" '
            f'fill-opacity="0.75" stroke="#222" stroke-width="0.6" class="site k-{kind}" data-y0="{y0}" '
            f'data-y1="{y1}">{title(tip)}</circle>'
        )
    parts.append(place_layer(proj, data.places))
    parts.append(_size_key(proj))
    return svg(
        proj.width,
        proj.height,
        "".join(parts),
        "Sites of each intervention kind",
        "fig map sites",
        MAP_MIN_SCALE,
    )


def choropleth(data, proj: Projection, layer: dict) -> str:
    """Units coloured by a value (square-root scale); the per-year values ride along as JSON for
    the period control, which rewrites fills and hover text (``data-label`` keeps the unit)."""
    total = layer["total"]
    vmax = max(total.values(), default=0)
    parts = []
    for unit in data.units:
        value = total.get(unit["unit_id"], 0)
        tip = f"{unit['label']}: {value:,.3g} {layer['unit']} (whole period)"
        parts.append(
            f'<path d="{proj.path(unit["rings"])}" fill="{sequential(value, vmax)}" class="unit" '
            f'data-u="{esc(unit["unit_id"])}" data-label="{esc(unit["label"])}">{title(tip)}</path>'
        )
    parts.append(outline_path(proj, data.outline))
    parts.append(place_layer(proj, data.places))
    return svg(proj.width, proj.height, "".join(parts), layer["title"], "fig map choro", MAP_MIN_SCALE)


def bivariate_map(data, proj: Projection) -> str:
    """Civilian harm × exposure per unit over the whole period: 3 × 3 classes, with its key."""
    choice = data.bivariate
    parts = []
    exposure_words = column_label(choice["column"]).lower()
    for unit in data.units:
        uid = unit["unit_id"]
        h, e = choice["classes"].get(uid, (0, 0))
        harm = choice["harm"].get(uid, 0)
        exp = choice["exposure"].get(uid, 0)
        tip = (
            f"{unit['label']}: {harm:,.4g} civilian fatalities; "
            f"{exp:,.3g} {_exposure_unit(choice)} of {exposure_words}"
        )
        parts.append(
            f'<path d="{proj.path(unit["rings"])}" fill="{BIVARIATE_COLOURS[h][e]}" class="unit" '
            f'data-u="{esc(uid)}" data-h="{h}" data-e="{e}">{title(tip)}</path>'
        )
    parts.append(outline_path(proj, data.outline))
    parts.append(place_layer(proj, data.places))
    return svg(
        proj.width, proj.height, "".join(parts), "Civilian harm beside exposure", "fig map biv", MAP_MIN_SCALE
    )


def _exposure_unit(choice: dict) -> str:
    return "mean per period" if choice.get("how") == "mean" else "periods"


def bivariate_key(choice: dict, period: str = "period") -> str:
    """The 3 × 3 key: rows are civilian harm, columns exposure, with the class limits in numbers."""
    cell = 34
    left, top = 150, 30
    hcut, ecut = choice["harm_cut"], choice["exposure_cut"]
    unit = "mean" if choice.get("how") == "mean" else f"{period}s"
    harm_words = ("0", f"1–{hcut:,.4g}", f"> {hcut:,.4g}")
    exp_words = ("0", f"≤ {ecut:,.3g}", f"> {ecut:,.3g}")
    parts = [
        f'<text x="{left}" y="12" class="head">Exposure →</text>',
        f'<text x="{left}" y="25" class="tick">{esc(column_label(choice["column"]))} ({unit})</text>',
    ]
    for h in range(3):
        for e in range(3):
            parts.append(
                f'<rect x="{left + e * cell}" y="{top + (2 - h) * cell}" width="{cell}" height="{cell}" '
                f'fill="{BIVARIATE_COLOURS[h][e]}" stroke="#fff"/>'
            )
        parts.append(
            f'<text x="{left - 6}" y="{top + (2 - h) * cell + cell / 2 + 4}" class="tick" text-anchor="end">'
            f"{esc(harm_words[h])}</text>"
        )
    for e in range(3):
        parts.append(
            f'<text x="{left + e * cell + cell / 2}" y="{top + 3 * cell + 14}" class="tick" '
            f'text-anchor="middle">{esc(exp_words[e])}</text>'
        )
    parts.append(
        f'<text x="10" y="{top + 10}" class="head">↑ Civilian</text>'
        f'<text x="10" y="{top + 24}" class="head">fatalities</text>'
    )
    parts.append(
        f'<text x="{left + 3 * cell + 12}" y="{top + 20}" class="tick">Split at the median of the</text>'
        f'<text x="{left + 3 * cell + 12}" y="{top + 34}" class="tick">units with any (whole period).</text>'
        f'<text x="{left + 3 * cell + 12}" y="{top + 62}" class="tick">Dark purple: much harm and</text>'
        f'<text x="{left + 3 * cell + 12}" y="{top + 76}" class="tick">much exposure; pink: harm</text>'
        f'<text x="{left + 3 * cell + 12}" y="{top + 90}" class="tick">with little or none.</text>'
    )
    return svg(480, top + 3 * cell + 24, "".join(parts), "Key of the bivariate map", "fig key")


def ramp_key(layer_id: str, vmax: float, unit: str, width: int = 480) -> str:
    """The choropleth's colour key: white at 0 to the darkest colour at the highest unit, on a
    square-root scale (ticks at 0, 1/16, 1/4, 9/16 and all of the maximum); the period control
    rewrites the numbers."""
    left, bar_w, top = 10, width - 40, 8
    steps = 40
    parts = []
    for k in range(steps):
        t = (k + 0.5) / steps
        parts.append(
            f'<rect x="{fmt(left + k * bar_w / steps)}" y="{top}" width="{fmt(bar_w / steps + 0.5)}" '
            'height="14" '
            f'fill="{sequential(t * t, 1.0)}"/>'
        )
    parts.append(f'<rect x="{left}" y="{top}" width="{bar_w}" height="14" fill="none" stroke="#999"/>')
    anchors = ("start", "middle", "middle", "middle", "end")
    for k, t in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        px = left + t * bar_w
        value = vmax * t * t
        parts.append(
            f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{top + 14}" y2="{top + 19}" stroke="#555"/>'
            f'<text x="{fmt(px)}" y="{top + 31}" class="tick" text-anchor="{anchors[k]}" '
            f'data-key="{layer_id}" data-t="{t}">{value:,.3g}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{top + 47}" class="tick">{esc(unit)}; square-root scale (so a few very high '
        "units do not wash out the rest)</text>"
    )
    return svg(width, top + 54, "".join(parts), "Colour key", "fig key")


def _forest(
    rows: list[dict],
    label_w: int = 430,
    width: int = 1000,
    row_h: int = 32,
    title_text: str = "",
    x_label: str = "",
) -> str:
    lows = [r["ci_low"] for r in rows if r["ci_low"] is not None] + [0.0]
    highs = [r["ci_high"] for r in rows if r["ci_high"] is not None] + [0.0]
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.08 or 1
    x = linear(lo - pad, hi + pad, label_w, width - 20)
    bottom = 30 + row_h * len(rows)  # plot area ends here; tick labels and the axis label below
    height = bottom + (38 if x_label else 24)
    parts = [f'<line x1="{fmt(x(0))}" x2="{fmt(x(0))}" y1="20" y2="{bottom}" class="zero"/>']
    for t in nice_ticks(lo - pad, hi + pad, 6):
        parts.append(
            f'<text x="{fmt(x(t))}" y="{bottom + 16}" class="tick" '
            f'text-anchor="middle">{t:g}</text>'
            f'<line x1="{fmt(x(t))}" x2="{fmt(x(t))}" y1="20" y2="{bottom}" class="grid"/>'
        )
    for k, r in enumerate(rows):
        yy = 30 + row_h * k + row_h / 2
        code = title(r["code"]) if r.get("code") else ""
        parts.append(
            f'<text x="{label_w - 8}" y="{fmt(yy)}" class="lane" text-anchor="end">'
            f"{esc(r['label'])}{code}</text>"
        )
        if r.get("detail"):
            parts.append(
                f'<text x="{label_w - 8}" y="{fmt(yy + 11)}" class="tick" text-anchor="end">'
                f"{esc(r['detail'])}{code}</text>"
            )
        tip = (
            f"{r['label']}: {r['estimate']:.4g} (95% CI {r['ci_low']:.4g} to {r['ci_high']:.4g})"
            if r["ci_low"] is not None
            else f"{r['label']}: {r['estimate']:.4g}"
        )
        if r["ci_low"] is not None:
            parts.append(
                f'<line x1="{fmt(x(r["ci_low"]))}" x2="{fmt(x(r["ci_high"]))}" '
                f'y1="{fmt(yy)}" y2="{fmt(yy)}" class="ci"/>'
            )
        parts.append(
            f'<circle cx="{fmt(x(r["estimate"]))}" cy="{fmt(yy)}" r="4" class="pt">{title(tip)}</circle>'
        )
    if title_text:
        parts.append(f'<text x="{label_w}" y="14" class="head">{esc(title_text)}</text>')
    if x_label:
        parts.append(
            f'<text x="{fmt((label_w + width - 20) / 2)}" y="{height - 2}" class="tick" '
            f'text-anchor="middle">{esc(x_label)}</text>'
        )
    return svg(width, height, "".join(parts), title_text or "Estimates with 95% confidence intervals")


def coefficients(rows: list[dict]) -> str:
    """Forest plot of each model's main estimate with its 95% interval."""
    return _forest(
        rows,
        title_text="Main estimate of each model, with 95% confidence interval",
        x_label="change in the outcome per unit and period (0 = no association)",
    )


def _event_points(estimates: list[dict]) -> list[tuple[int, dict]]:
    pts = []
    for est in estimates:
        term = str(est.get("term", ""))
        if term.startswith("e="):
            try:
                pts.append((int(term[2:]), est))
            except ValueError:
                continue
    return sorted(pts, key=lambda p: p[0])


ESTIMATOR_WORDS = {
    "imputation": "imputation (Borusyak, Jaravel & Spiess)",
    "cs": "Callaway & Sant'Anna",
    "twfe": "two-way fixed effects",
}


def event_study(result: dict, width: int = 1000, height: int = 360) -> str:
    """Leads and lags (terms ``e=k``) with intervals, labelled as the estimator binned them
    (``≤−4``, ``≥8``), with the treated units behind each event time; a TWFE comparison, when the
    estimation gives one, is drawn beside each point as a grey diamond."""
    pts = _event_points(result["estimates"])
    if not pts:
        return ""
    extra = result.get("extra") or {}
    counts = {row["term"]: row for row in extra.get("event_time") or [] if "term" in row}
    comparison = extra.get("comparison") or {}
    other = dict(_event_points(comparison.get("estimates") or []))
    intervals = [e for _, e in pts] + list(other.values())
    lows = [e["ci_low"] for e in intervals if e.get("ci_low") is not None] + [0.0]
    highs = [e["ci_high"] for e in intervals if e.get("ci_high") is not None] + [0.0]
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.1 or 1
    ks_all = [k for k, _ in pts] + list(other)
    x = linear(min(ks_all) - 0.5, max(ks_all) + 0.5, 70, width - 20)
    base = height - 74  # plot bottom; tick labels, unit counts and the axis title below
    y = linear(lo - pad, hi + pad, base, 40)
    ks = {k for k, _ in pts}
    # The omitted period (the one before onset) is the reference every estimate is measured against.
    reference = max((k for k in range(min(ks_all), max(ks_all) + 1) if k < 0 and k not in ks), default=None)
    estimator = ESTIMATOR_WORDS.get(extra.get("estimator"), extra.get("estimator") or "")
    key = f"blue: {estimator}" if estimator else "blue: estimate"
    if other:
        key += "; grey diamond: two-way fixed effects for comparison"
    parts = [
        f'<text x="{fmt((70 + width - 20) / 2)}" y="{height - 4}" class="tick" text-anchor="middle">'
        "periods since onset of the treatment (hollow grey: the reference period, 0 by construction)</text>",
        f'<text x="70" y="14" class="head">{esc(column_label(result["outcome"]))} around the onset of: '
        f"{esc(column_label(result['treatment']).lower())}"
        f"{title(result['outcome'] + ' ~ ' + result['treatment'])}</text>",
        f'<text x="70" y="30" class="tick">{esc(key)}</text>',
        f'<line x1="70" x2="{width - 20}" y1="{fmt(y(0))}" y2="{fmt(y(0))}" class="zero"/>',
        f'<line x1="{fmt(x(-0.5))}" x2="{fmt(x(-0.5))}" y1="24" y2="{base}" class="grid"/>',
    ]
    if counts:
        parts.append(f'<text x="64" y="{base + 34}" class="tick" text-anchor="end">treated units</text>')
    if reference is not None:
        parts.append(
            f'<circle cx="{fmt(x(reference))}" cy="{fmt(y(0))}" r="4" class="ref">'
            f"{title(f'e={reference}: reference period')}</circle>"
            f'<text x="{fmt(x(reference))}" y="{base + 18}" class="tick" text-anchor="middle">'
            f"{reference}</text>"
        )
    for t in nice_ticks(lo - pad, hi + pad, 5):
        parts.append(f'<text x="64" y="{fmt(y(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>')
    parts.append(
        f'<text x="12" y="{fmt((24 + base) / 2)}" class="tick" text-anchor="middle" '
        f'transform="rotate(-90 12 {fmt((24 + base) / 2)})">'
        f"{esc(column_label(result['outcome']).lower())} per unit, vs. the reference period</text>"
    )
    for k, est in pts:
        px = x(k)
        row = counts.get(est["term"], {})
        label = row.get("label") or str(k)
        parts.append(
            f'<text x="{fmt(px)}" y="{base + 18}" class="tick" text-anchor="middle">{esc(label)}</text>'
        )
        if row.get("treated_units") is not None:
            observations = f"{row.get('observations', 0):,} observations"
            parts.append(
                f'<text x="{fmt(px)}" y="{base + 34}" class="tick" text-anchor="middle">'
                f"{row['treated_units']:,}{title(observations)}</text>"
            )
        if est["ci_low"] is not None:
            parts.append(
                f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{fmt(y(est["ci_low"]))}" '
                f'y2="{fmt(y(est["ci_high"]))}" class="ci"/>'
            )
        tip = f"e={label}: {est['estimate']:.4g}" + (
            f" (95% CI {est['ci_low']:.4g} to {est['ci_high']:.4g})" if est["ci_low"] is not None else ""
        )
        if row.get("treated_units") is not None:
            tip += f"; {row['treated_units']:,} treated units, {row.get('observations', 0):,} observations"
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(y(est["estimate"]))}" r="4" class="pt">{title(tip)}</circle>'
        )
    for k, est in other.items():
        px, py = x(k) + 9, y(est["estimate"])
        if est.get("ci_low") is not None:
            parts.append(
                f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{fmt(y(est["ci_low"]))}" '
                f'y2="{fmt(y(est["ci_high"]))}" class="ci twfe"/>'
            )
        tip = f"two-way fixed effects, {est.get('label') or est['term']}: {est['estimate']:.4g}"
        parts.append(
            f'<path d="M{fmt(px)},{fmt(py - 5)} L{fmt(px + 5)},{fmt(py)} L{fmt(px)},{fmt(py + 5)} '
            f'L{fmt(px - 5)},{fmt(py)}Z" class="pt twfe">{title(tip)}</path>'
        )
    return svg(width, height, "".join(parts), "Event-study estimates")


SPEC_DIMENSIONS = ("outcome", "treatment", "design", "lag")
SPEC_DIMENSION_WORDS = {
    "outcome": "Outcome",
    "treatment": "Treatment",
    "design": "Design",
    "lag": "Treatment lag (periods)",
}


def spec_curve(rows: list[dict], width: int = 1000, left: int = 300) -> str:
    """Specification curve: every grid estimate sorted by size, with its interval, and beneath it
    one row per choice (outcome, treatment, design, lag) marking which specifications made it."""
    rows = sorted(rows, key=lambda r: r["estimate"])
    if not rows:
        return ""
    curve_h = 240
    lows = [r["ci_low"] for r in rows if r["ci_low"] is not None] + [r["estimate"] for r in rows] + [0.0]
    highs = [r["ci_high"] for r in rows if r["ci_high"] is not None] + [r["estimate"] for r in rows] + [0.0]
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.08 or 1
    x = linear(-0.5, len(rows) - 0.5, left, width - 20)
    y = linear(lo - pad, hi + pad, curve_h - 20, 20)
    parts = [f'<line x1="{left}" x2="{width - 20}" y1="{fmt(y(0))}" y2="{fmt(y(0))}" class="zero"/>']
    for t in nice_ticks(lo - pad, hi + pad, 5):
        parts.append(f'<text x="{left - 6}" y="{fmt(y(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>')
    mid = fmt(curve_h / 2)
    parts.append(
        f'<text x="{left - 40}" y="{mid}" class="tick" text-anchor="middle" '
        f'transform="rotate(-90 {left - 40} {mid})">estimate (per unit and period)</text>'
    )
    for k, r in enumerate(rows):
        px = x(k)
        significant = r["ci_low"] is not None and (r["ci_low"] > 0 or r["ci_high"] < 0)
        if r["ci_low"] is not None:
            parts.append(
                f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{fmt(y(r["ci_low"]))}" '
                f'y2="{fmt(y(r["ci_high"]))}" class="ci"/>'
            )
        spec = f"{r['label']} ({r['detail']})" if r.get("detail") else r["label"]
        tip = f"{spec}: {r['estimate']:.4g}"
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(y(r["estimate"]))}" r="3" '
            f'class="pt{" sig" if significant else ""}">'
            f"{title(tip)}</circle>"
        )
    yy = curve_h + 6
    for dim in SPEC_DIMENSIONS:
        values = sorted({str(r.get(dim, "")) for r in rows})
        if len(values) < 2:
            continue  # a choice every specification shares says nothing
        parts.append(
            f'<text x="{left - 6}" y="{yy + 9}" class="head" text-anchor="end">'
            f"{esc(SPEC_DIMENSION_WORDS[dim])}</text>"
        )
        yy += 13
        for value in values:
            shown = column_label(value) if dim in ("outcome", "treatment") else value
            parts.append(
                f'<text x="{left - 6}" y="{yy + 8}" class="tick" text-anchor="end">{esc(shown)}'
                f"{title(value)}</text>"
            )
            for k, r in enumerate(rows):
                if str(r.get(dim, "")) == value:
                    parts.append(
                        f'<rect x="{fmt(x(k) - 2.5)}" y="{yy + 1}" width="5" height="8" class="mark"/>'
                    )
            yy += 11
        yy += 4
    return svg(width, yy + 6, "".join(parts), "Specification curve")
