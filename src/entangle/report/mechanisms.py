"""The report section "What the ties did": the HRDDP monitor, distance profiles, withdrawal event
studies and the monthly series, in plain language for a Protection-of-Civilians analyst.

Input: the dict of ``entangle.mechanisms.api.study_mechanisms`` (``ReportData.mechanisms``).
Output: one HTML ``<section>`` (empty string when there is nothing to show).
"""

from __future__ import annotations

from collections import defaultdict

from entangle.report import figures
from entangle.report.svg import esc, fmt, linear, nice_ticks, svg, title

SERIES = (
    ("attacks_on_peacekeepers", "attacks on peacekeepers", "#D55E00"),
    ("civilian_fatalities_near_pk", "civilian fatalities near peacekeeping sites", "#0072B2"),
    ("units_entangled", "units with entanglement > 0", "#009E73"),
)


def _n(value, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{digits}f}"


def _name(data, intervention_id: str) -> str:
    return data.name_of(intervention_id) if data is not None else intervention_id


def _conditioned_words(tie: dict) -> str:
    if tie["conditioned"] == "hrddp":
        return f"yes: a mandate in force named the HRDDP for {tie['hrddp_months']} of the months"
    if tie["conditioned"] == "human_rights":
        return "only general human-rights provisions in the mandates in force (no HRDDP term recorded)"
    return "no human-rights condition recorded in the mandates in force"


def _hrddp(mon: dict, data) -> str:
    meaning = mon["thresholds"]["meaning"]
    parts = [
        "<h3>Are the forces we support harming civilians?</h3>",
        f"<p>The UN's Human Rights Due Diligence Policy ({esc(mon['policy'])}) asks a UN entity that "
        "supports a non-UN security force to assess the risk that the force commits grave violations, "
        "to monitor it and to intervene. The policy sets no numbers; this report flags a month when "
        f"<strong>scale</strong>: {esc(meaning['scale'])}, or <strong>frequency</strong>: "
        f"{esc(meaning['frequency'])}. Counts are events coded as targeting civilians in which the "
        "supported force is the perpetrator; events where it is only an associated actor of the "
        "perpetrator are counted apart.</p>",
    ]
    if mon.get("note"):
        return "".join(parts) + f'<p class="empty">{esc(mon["note"])}</p>'
    rows = []
    for tie in mon["ties"]:
        during, before = tie["during"], tie["before"]
        rows.append(
            "<tr>"
            f"<td>{esc(_name(data, tie['provider']))} → {esc(_name(data, tie['recipient']))}"
            f" <span class='small'>({esc(tie['tie_type'].replace('_', ' '))}, "
            f"{esc(tie['start'])} to {esc(tie['end'] or 'open')})</span></td>"
            f"<td>{during['months']}</td><td>{during['events']}</td><td>{during['civilian_fatalities']}</td>"
            f"<td>{_n(during['civilian_fatalities_per_month'], 2)}</td>"
            f"<td>{_n(before['civilian_fatalities_per_month'], 2)}</td>"
            f"<td>{_n(tie['after']['civilian_fatalities_per_month'], 2)}</td>"
            f"<td>{during['assoc_events']}</td><td>{during['flagged_months']}</td>"
            f"<td class='small'>{esc(_conditioned_words(tie))}</td></tr>"
        )
    parts.append(
        "<div class='tablewrap'>"
        "<table><thead><tr><th>support tie</th><th>months active</th><th>events while active</th>"
        "<th>civilian deaths while active</th><th>deaths / month while active</th>"
        "<th>deaths / month before</th><th>after</th><th>as associated actor</th>"
        "<th>flagged months</th><th>conditioned?</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    incidents = mon.get("incidents") or []
    if incidents:
        lines = [
            "<tr>"
            f"<td>{esc(i['date'])}</td><td>{esc(i['location'] or '')}"
            f"<span class='small'> {esc(i.get('admin1') or '')}</span></td>"
            f"<td>{esc(_name(data, i['recipient']))}</td><td>{i['fatalities']}</td>"
            f"<td class='small'>{esc(i.get('event_type') or '')}</td>"
            f"<td>{esc(i.get('nearest_provider_site') or 'none active')}"
            f"{'' if i.get('nearest_provider_km') is None else ', ' + _n(i['nearest_provider_km']) + ' km'}"
            f"</td><td class='small'><code>{esc(i['event_id'])}</code> {esc(i.get('source_version') or '')}"
            "</td></tr>"
            for i in incidents
        ]
        parts.append(
            "<p>The largest incidents by a supported force while the support was active (civilian deaths "
            "as the event source codes them):</p><div class='tablewrap'>"
            "<table><thead><tr><th>date</th><th>place</th>"
            "<th>perpetrator</th><th>civilians killed</th><th>event type</th>"
            "<th>nearest site of the supporting mission</th><th>source</th></tr></thead><tbody>"
            + "".join(lines)
            + "</tbody></table></div>"
        )
    else:
        parts.append(
            '<p class="empty">No civilian-harm event by a supported force while support was active.</p>'
        )
    return "".join(parts)


def _profile_figure(profile: list[dict], width: int = 1000, row_h: int = 26) -> str:
    """Civilian fatalities per band, all years together, as horizontal bars."""
    totals: dict[str, float] = defaultdict(float)
    for row in profile:
        totals[row["band"]] += row["civilian_fatalities"]
    bands = list(totals)
    top = max(totals.values(), default=0) or 1
    x = linear(0, top, 160, width - 80)
    parts = []
    for k, band in enumerate(bands):
        y = 24 + k * row_h
        value = totals[band]
        parts.append(
            f'<text x="152" y="{fmt(y + 15)}" class="lane" text-anchor="end">{esc(band)}</text>'
            f'<rect x="160" y="{fmt(y + 4)}" width="{fmt(x(value) - 160)}" height="{row_h - 8}" '
            f'fill="#0072B2">{title(f"{band}: {value:,.0f} civilian fatalities")}</rect>'
            f'<text x="{fmt(x(value) + 6)}" y="{fmt(y + 15)}" class="tick">{value:,.0f}</text>'
        )
    parts.append('<text x="160" y="14" class="head">Civilian fatalities by distance band, all years</text>')
    return svg(width, 30 + row_h * len(bands), "".join(parts), "Civilian fatalities by distance band")


def _profile(mech: dict) -> str:
    profile = mech.get("profile") or []
    settings = mech.get("settings", {})
    if not profile:
        return ""
    of = settings.get("profile_of", "peacekeeping")
    by_year: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    bands: list[str] = []
    for row in profile:
        by_year[row["year"]][row["band"]] += row["civilian_fatalities"]
        if row["band"] not in bands:
            bands.append(row["band"])
    head = "".join(f"<th>{esc(b)}</th>" for b in bands)
    body = "".join(
        f"<tr><td>{year}</td>" + "".join(f"<td>{_n(by_year[year][b])}</td>" for b in bands) + "</tr>"
        for year in sorted(by_year)
    )
    parts = [
        "<h3>How far from the camps does harm happen?</h3>",
        f"<p>Each civilian fatality the panel counts, placed in a band of distance from the nearest "
        f"{esc(of)} site active in its month (great-circle km from the event's reported point). The bands "
        "of a year add up to the panel's civilian fatalities for that year.</p>",
        _profile_figure(profile),
        "<details><summary>Civilian fatalities per year and band</summary><div class='tablewrap'>"
        "<table><thead><tr>"
        f"<th>year</th>{head}</tr></thead><tbody>{body}</tbody></table></div></details>",
    ]
    changes = mech.get("changes") or []
    if changes:
        mean: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        sites: dict[str, set] = defaultdict(set)
        for row in changes:
            mean[(row["change"], row["band"], row["side"])].append(row["civilian_fatalities_per_month"])
            sites[row["change"]].add((row["site"], row["month"]))
        lines = []
        for change in ("opening", "closure"):
            if not sites[change]:
                continue
            for band in [b for b in bands if (change, b, "before") in mean]:
                before = sum(mean[(change, band, "before")]) / len(mean[(change, band, "before")])
                after = sum(mean[(change, band, "after")]) / len(mean[(change, band, "after")])
                lines.append(
                    f"<tr><td>{change} ({len(sites[change])} sites)</td><td>{esc(band)}</td>"
                    f"<td>{before:.2f}</td><td>{after:.2f}</td><td>{after - before:+.2f}</td></tr>"
                )
        parts.append(
            "<p>Around each site that opened or closed during the study: civilian fatalities per month "
            "in each band of distance from that site, in the 12 months before and after (averaged over "
            "sites). Harm that falls near a site and rises in the next band is displaced, not "
            "prevented. These are descriptive comparisons, not effects.</p>"
            "<div class='tablewrap'>"
            "<table><thead><tr><th>change</th><th>distance from the site</th><th>before</th>"
            "<th>after</th><th>difference</th></tr></thead><tbody>"
            + "".join(lines)
            + "</tbody></table></div>"
        )
    return "".join(parts)


def _designs(mech: dict) -> str:
    designs = mech.get("designs") or []
    notes = [n for n in mech.get("notes", []) if n.startswith("site design")]
    if not designs and not notes:
        return ""
    parts = ["<h3>What happened to civilians when camps opened or closed?</h3>"]
    for result in designs:
        site = result.get("extra", {}).get("site_design", {})
        att = next((e for e in result["estimates"] if e["term"] == "ATT"), None)
        what = "opened" if site.get("design") == "site-opening" else "closed"
        sentence = (
            f"Units where a site of {esc(site.get('of'))} {what} within {site.get('radius_km'):g} km "
            f"({site.get('treated_units')} of {site.get('units')} units): "
        )
        if att is not None:
            sentence += (
                f"{esc(result['outcome'].replace('_', ' '))} changed by {att['estimate']:.3g} per unit and "
                f"period on average (95% interval {att['ci_low']:.3g} to {att['ci_high']:.3g}; "
                f"{esc(result.get('extra', {}).get('estimator', ''))} estimator). "
            )
            base = site.get("treated_mean_before")
            if base:
                sentence += (
                    f"Before the change these units averaged {base:.3g}, so the estimate is "
                    f"{100 * att['estimate'] / base:+.0f}% of that level. "
                )
            if att["ci_low"] <= 0 <= att["ci_high"]:
                sentence += "The interval includes zero: the data cannot tell an effect from none."
        parts.append(f"<p>{sentence}</p>")
        if result.get("warnings"):
            parts.append(f"<p class='small'>Caveats: {esc('; '.join(result['warnings']))}</p>")
        parts.append(figures.event_study(result))
    parts += [f"<p class='small'>{esc(n)}</p>" for n in notes]
    return "".join(parts)


def _series_figure(rows: list[dict], width: int = 1000, panel_h: int = 80) -> str:
    parts = []
    n = len(rows)
    x = linear(0, max(n - 1, 1), 70, width - 20)
    for k, (key, label, colour) in enumerate(SERIES):
        top = 20 + k * (panel_h + 24)
        values = [float(r.get(key) or 0) for r in rows]
        high = max(values, default=0) or 1
        y = linear(0, high, top + panel_h, top)
        points = " ".join(f"{fmt(x(i))},{fmt(y(v))}" for i, v in enumerate(values))
        parts.append(
            f'<text x="70" y="{top - 4}" class="head">{esc(label)} per month</text>'
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'<line x1="70" x2="{width - 20}" y1="{fmt(y(0))}" y2="{fmt(y(0))}" class="zero"/>'
        )
        for t in nice_ticks(0, high, 2):
            parts.append(f'<text x="64" y="{fmt(y(t) + 4)}" class="tick" text-anchor="end">{t:g}</text>')
    bottom = 20 + len(SERIES) * (panel_h + 24)
    for i, row in enumerate(rows):
        if str(row["period"])[5:7] == "01":
            parts.append(
                f'<text x="{fmt(x(i))}" y="{bottom - 4}" class="tick" text-anchor="middle">'
                f"{str(row['period'])[:4]}</text>"
            )
    return svg(
        width, bottom + 4, "".join(parts), "Monthly attacks on peacekeepers, harm near sites, entanglement"
    )


def _series(mech: dict) -> str:
    rows = mech.get("series") or []
    if not rows:
        return ""
    radius = mech.get("series_radius_km")
    return (
        "<h3>Attacks on peacekeepers beside harm to civilians</h3>"
        f"<p>Per month: attacks on peacekeepers (all units), civilian fatalities in units with a "
        f"peacekeeping site within {radius:g} km, and the number of units where peacekeeping and other "
        "interventions with ties between them were present together (entanglement exposure).</p>"
        + _series_figure(rows)
    )


def mechanisms_section(mech: dict, data=None) -> str:
    """The section's HTML ('' when the run computed no mechanisms)."""
    if not mech:
        return ""
    body = _hrddp(mech["hrddp"], data) + _profile(mech) + _designs(mech) + _series(mech)
    notes = [n for n in mech.get("notes", []) if not n.startswith("site design")]
    body += "".join(f"<p class='empty'>{esc(n)}</p>" for n in notes)
    return f'<section id="ties">\n<h2>What the ties did</h2>\n{body}\n</section>'
