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

from entangle.report.labels import column_label, metric_label
from entangle.report.svg import (
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


def timeline(data, left: int = 170, width: int = 1000) -> str:
    """Mandates, interventions and ties as lanes over time, above monthly civilian fatalities."""
    first, last = data.study["start"], data.study["end"]
    x = linear(month_index(first), month_index(last) + 1, left, width - 10)
    parts: list[str] = []
    y = 18

    def lane_label(text: str, ypos: float, cls: str = "lane") -> None:
        parts.append(
            f'<text x="{left - 6}" y="{fmt(ypos + 8)}" class="{cls}" text-anchor="end">{esc(text)}</text>'
        )

    def span(start: dt.date, end: dt.date | None, ypos: float, h: float, colour: str, tip: str) -> None:
        s = max(start, first)
        e = min(end or last, last)
        if e < s:
            return
        x0, x1 = x(month_index(s)), x(month_index(e) + 1)
        parts.append(
            f'<rect x="{fmt(x0)}" y="{fmt(ypos)}" width="{fmt(max(x1 - x0, 1.5))}" height="{fmt(h)}" '
            f'fill="{colour}">{title(tip)}</rect>'
        )

    # Civilian fatalities by perpetrator: stacked monthly bars.
    harm_h = 150
    period = data.study.get("period", "month")
    span_months = {"month": 1, "quarter": 3, "year": 12}.get(period, 1)
    parts.append(
        f'<text x="{left}" y="{y}" class="head">Civilian fatalities per {period}, by perpetrator</text>'
    )
    y += 8
    months: dict[int, dict[str, float]] = defaultdict(dict)
    for row in data.harm:
        months[month_index(row["period"])][row["category"]] = row["civilian_fatalities"]
    top = max((sum(v.values()) for v in months.values()), default=0)
    if top <= 0:
        harm_h = 30  # a line saying why, not an empty chart
    if top > 0:
        ticks = nice_ticks(0, top)
        yv = linear(0, max(ticks[-1], top), y + harm_h, y)
        for t in ticks:
            parts.append(
                f'<line x1="{left}" x2="{width - 10}" y1="{fmt(yv(t))}" y2="{fmt(yv(t))}" class="grid"/>'
                f'<text x="{left - 6}" y="{fmt(yv(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>'
            )
        bar_w = max(x(span_months) - x(0) - 0.5, 0.8)
        for m, cats in sorted(months.items()):
            base = 0.0
            label = dt.date(m // 12, m % 12 + 1, 1).strftime("%b %Y")
            for cat in CATEGORY_COLOURS:
                value = cats.get(cat, 0)
                if value <= 0:
                    continue
                y_top, y_bot = yv(base + value), yv(base)
                tip = f"{label}: {value:g} civilian fatalities, {cat.replace('_', ' ')}"
                parts.append(
                    f'<rect x="{fmt(x(m))}" y="{fmt(y_top)}" width="{fmt(bar_w)}" '
                    f'height="{fmt(y_bot - y_top)}" fill="{CATEGORY_COLOURS[cat]}">{title(tip)}</rect>'
                )
                base += value
    else:
        why = (
            "No civilian fatalities were recorded."
            if data.has_events()
            else "No event data: civilian fatalities cannot be shown."
        )
        parts.append(f'<text x="{left + 10}" y="{y + harm_h / 2}" class="empty">{why}</text>')
    y += harm_h + 14
    if top > 0:  # the perpetrator key only where bars carry those colours
        legend_x = left
        for cat, colour in CATEGORY_COLOURS.items():
            parts.append(
                f'<rect x="{legend_x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
                f'<text x="{legend_x + 13}" y="{y + 1}" class="tick">{esc(cat.replace("_", " "))}</text>'
            )
            legend_x += 16 + 7 * len(cat)
        y += 16
    axis_top = 26

    # Mandate provisions: when a mandate with each provision was in force.
    parts.append(f'<text x="{left}" y="{y + 10}" class="head">Mandate provisions in force</text>')
    y += 18
    for key, label in PROVISION_ROWS:
        lane_label(label, y)
        for m in data.mandates:
            if key in m["provisions"]:
                tip = (
                    f"{m['document']} ({data.name_of(m['intervention_id'])}), adopted {m['adopted']}, "
                    f"in force {m['in_force_from']} to {m['in_force_to'] or 'open'}; provisions: "
                    + ", ".join(p.replace("_", " ") for p in m["provisions"])
                )
                span(m["in_force_from"], m["in_force_to"], y, 10, "#444444", tip)
        for m in data.mandates:
            if key in m["provisions"] and first <= m["adopted"] <= last:
                px = x(month_index(m["adopted"]))
                parts.append(
                    f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{y - 2}" y2="{y + 12}" class="adopt"/>'
                )
        y += 15
    y += 6

    parts.append(f'<text x="{left}" y="{y + 10}" class="head">Interventions present</text>')
    y += 18
    for item in data.interventions:
        lane_label(_short(item["name"], 26), y)
        kind = item["kind"].replace("_", " ")
        tip = (
            f"{item['name']} ({kind}, {item['organization']}): {item['start']} to {item['end'] or 'ongoing'}"
        )
        span(item["start"], item["end"], y, 10, KIND_COLOURS.get(item["kind"], "#777"), tip)
        y += 14
    y += 6

    parts.append(f'<text x="{left}" y="{y + 10}" class="head">Ties between interventions</text>')
    y += 18
    for tie in sorted(data.ties, key=lambda t: (t["type"], t["start"])):
        src, dst = data.name_of(tie["source_id"]), data.name_of(tie["target_id"])
        lane_label(f"{_short(src, 12)} → {_short(dst, 12)}", y, "lane small")
        tip = f"{src} → {dst}: {tie['type'].replace('_', ' ')}, {tie['start']} to {tie['end'] or 'ongoing'}"
        span(tie["start"], tie["end"], y + 1, 7, TIE_COLOURS.get(tie["type"], "#777"), tip)
        y += 11
    y += 6
    parts.insert(0, _year_axis(x, first, last, axis_top, y))
    return svg(
        width, int(y + 18), "".join(parts), "Timeline of mandates, interventions, ties and civilian harm"
    )


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


NET_MARGIN = 60


def network(data, years: list[int], size: int = 420) -> str:
    """One small network panel per chosen year: nodes active that year, ties active that year."""
    pos = network_layout(data.interventions)
    panels = []
    for year in years:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        active = {i["id"] for i in data.interventions if _overlaps(i, first, last)}
        ties = [t for t in data.ties if _overlaps(t, first, last)]
        body = [
            f'<defs><marker id="arr{year}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
            'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
            f'<text x="10" y="20" class="head">{year}: {_count(len(active), "intervention")}, '
            f"{_count(len(ties), 'tie')}</text>",
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
                f"{data.name_of(a)} → {data.name_of(b)}: {tie['type'].replace('_', ' ')} "
                f"({tie['start']} to {tie['end'] or 'ongoing'}); "
                + "; ".join(s["ref"] for s in tie["sources"])
            )
            # Shorten the end so the arrowhead stops at the node's edge.
            dx, dy = x1 - mx, y1 - my
            norm = math.hypot(dx, dy) or 1
            ex, ey = x1 - dx / norm * 0.035, y1 - dy / norm * 0.035
            body.append(
                f'<path d="M{fmt(x0 * size)},{fmt(y0 * size)} Q{fmt(mx * size)},{fmt(my * size)} '
                f'{fmt(ex * size)},{fmt(ey * size)}" fill="none" '
                f'stroke="{TIE_COLOURS.get(tie["type"], "#777")}" '
                f'stroke-width="{fmt(1.2 + 1.2 * float(tie.get("weight", 1)))}"{marker} class="edge">'
                f"{title(tip)}</path>"
            )
        for item in data.interventions:
            if item["id"] not in pos:
                continue
            px, py = pos[item["id"]]
            on = item["id"] in active
            anchor = "start" if px >= 0.5 else "end"
            dx = 14 if px >= 0.5 else -14
            kind = item["kind"]
            tip = f"{item['name']} ({kind.replace('_', ' ')})" + ("" if on else ": not present this year")
            fill = KIND_COLOURS.get(kind, "#777") if on else "#eeeeee"
            body.append(
                f'<g class="node{"" if on else " off"}"><circle cx="{fmt(px * size)}" cy="{fmt(py * size)}" '
                f'r="11" fill="{fill}" stroke="#333">{title(tip)}</circle>'
                f'<text x="{fmt(px * size + dx)}" y="{fmt(py * size + 4)}" text-anchor="{anchor}" '
                f'class="tick">{esc(_short(item["name"], 16))}</text></g>'
            )
        panels.append(
            f'<div class="netpanel" data-year="{year}">'
            # a margin on both sides leaves room for the labels of the leftmost and rightmost nodes
            + svg(
                size + 2 * NET_MARGIN,
                size,
                f'<g transform="translate({NET_MARGIN},0)">' + "".join(body) + "</g>",
                f"Regime-complex network in {year}",
                "fig net",
            )
            + "</div>"
        )
    return "".join(panels)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _overlaps(item: dict, first: dt.date, last: dt.date) -> bool:
    return item["start"] <= last and (item["end"] is None or item["end"] >= first)


def legend(colours: dict[str, str], present: set[str] | None = None, caption: str = "") -> str:
    """A colour key; the caption says what the colours stand for (kinds, tie types and perpetrators
    share some colours and words, e.g. "training")."""
    items = [
        f'<span class="key"><i style="background:{c}"></i>{esc(k.replace("_", " "))}</span>'
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
    for key in keys:
        values = [float(r[key]) if r.get(key) is not None else math.nan for r in rows]
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


def outline_path(proj: Projection, outline: list) -> str:
    if not outline:
        return ""
    return f'<path d="{proj.path(outline)}" class="outline"/>'


def sites_map(data, proj: Projection) -> str:
    """Sites of every intervention kind; each circle carries its active years for the slider."""
    kinds = {i["id"]: i["kind"] for i in data.interventions}
    parts = [outline_path(proj, data.outline)]
    for site in sorted(data.sites, key=lambda s: -(s.get("troops") or 0)):
        kind = kinds.get(site.get("intervention_id") or "", "other")
        px, py = proj(site["lon"], site["lat"])
        troops = site.get("troops")
        r = 3 + (math.sqrt(troops) / 8 if troops else 0)
        y0 = site["start"].year if site.get("start") else data.study["start"].year
        y1 = site["end"].year if site.get("end") else data.study["end"].year
        tip = (
            f"{site['name']}: {data.name_of(site.get('intervention_id')) or 'unmatched'} "
            f"({kind.replace('_', ' ')}), "
            f"{site.get('start') or '?'} to {site.get('end') or 'open'}"
            + (f", {troops:,} troops" if troops else "")
            + f" [{site.get('source', 'registry')}]"
        )
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(py)}" r="{fmt(min(r, 14))}" '
            f'fill="{KIND_COLOURS.get(kind, "#777")}" '
            f'fill-opacity="0.75" stroke="#222" stroke-width="0.6" class="site k-{kind}" data-y0="{y0}" '
            f'data-y1="{y1}">{title(tip)}</circle>'
        )
    return svg(proj.width, proj.height, "".join(parts), "Sites of each intervention kind", "fig map sites")


def choropleth(data, proj: Projection, layer: dict) -> str:
    """Units coloured by a value; the per-year values ride along as JSON for the slider."""
    total = layer["total"]
    vmax = max(total.values(), default=0)
    parts = []
    for unit in data.units:
        value = total.get(unit["unit_id"], 0)
        tip = f"{unit['label']}: {value:,.3g} {layer['unit']}"
        parts.append(
            f'<path d="{proj.path(unit["rings"])}" fill="{sequential(value, vmax)}" class="unit" '
            f'data-u="{esc(unit["unit_id"])}">{title(tip)}</path>'
        )
    parts.append(outline_path(proj, data.outline))
    return svg(proj.width, proj.height, "".join(parts), layer["title"], "fig map choro")


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


def event_study(result: dict, width: int = 1000, height: int = 320) -> str:
    """Leads and lags (terms ``e=k``) with intervals; the reference period sits at zero."""
    pts = []
    for est in result["estimates"]:
        term = est["term"]
        if term.startswith("e="):
            try:
                pts.append((int(term[2:]), est))
            except ValueError:
                continue
    pts.sort(key=lambda p: p[0])
    if not pts:
        return ""
    lows = [e["ci_low"] for _, e in pts if e["ci_low"] is not None] + [0.0]
    highs = [e["ci_high"] for _, e in pts if e["ci_high"] is not None] + [0.0]
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.1 or 1
    x = linear(pts[0][0] - 0.5, pts[-1][0] + 0.5, 70, width - 20)
    y = linear(lo - pad, hi + pad, height - 46, 24)
    ks = {k for k, _ in pts}
    # The omitted period (the one before onset) is the reference every estimate is measured against.
    reference = max((k for k in range(pts[0][0], pts[-1][0] + 1) if k < 0 and k not in ks), default=None)
    parts = [
        f'<text x="{fmt((70 + width - 20) / 2)}" y="{height - 4}" class="tick" text-anchor="middle">'
        "periods since onset of the treatment (hollow grey: the reference period, 0 by construction)</text>",
        f'<text x="70" y="14" class="head">{esc(column_label(result["outcome"]))} around the onset of: '
        f"{esc(column_label(result['treatment']).lower())}"
        f"{title(result['outcome'] + ' ~ ' + result['treatment'])}</text>",
        f'<line x1="70" x2="{width - 20}" y1="{fmt(y(0))}" y2="{fmt(y(0))}" class="zero"/>',
        f'<line x1="{fmt(x(-0.5))}" x2="{fmt(x(-0.5))}" y1="24" y2="{height - 46}" class="grid"/>',
    ]
    if reference is not None:
        parts.append(
            f'<circle cx="{fmt(x(reference))}" cy="{fmt(y(0))}" r="4" class="ref">'
            f"{title(f'e={reference}: reference period')}</circle>"
            f'<text x="{fmt(x(reference))}" y="{height - 28}" class="tick" text-anchor="middle">'
            f"{reference}</text>"
        )
    for t in nice_ticks(lo - pad, hi + pad, 5):
        parts.append(f'<text x="64" y="{fmt(y(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>')
    parts.append(
        f'<text x="12" y="{fmt((24 + height - 46) / 2)}" class="tick" text-anchor="middle" '
        f'transform="rotate(-90 12 {fmt((24 + height - 46) / 2)})">'
        f"{esc(column_label(result['outcome']).lower())} per unit, vs. the reference period</text>"
    )
    for k, est in pts:
        px = x(k)
        parts.append(f'<text x="{fmt(px)}" y="{height - 28}" class="tick" text-anchor="middle">{k}</text>')
        if est["ci_low"] is not None:
            parts.append(
                f'<line x1="{fmt(px)}" x2="{fmt(px)}" y1="{fmt(y(est["ci_low"]))}" '
                f'y2="{fmt(y(est["ci_high"]))}" class="ci"/>'
            )
        tip = f"e={k}: {est['estimate']:.4g}" + (
            f" (95% CI {est['ci_low']:.4g} to {est['ci_high']:.4g})" if est["ci_low"] is not None else ""
        )
        parts.append(
            f'<circle cx="{fmt(px)}" cy="{fmt(y(est["estimate"]))}" r="4" class="pt">{title(tip)}</circle>'
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
