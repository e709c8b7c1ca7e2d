"""Render ``ReportData`` into one self-contained HTML file (inline CSS, JS and SVG; no requests).

The summary is written in plain language from the estimates: what was measured, the main effects
with their 95% intervals, and the caveats a Protection-of-Civilians analyst must keep in mind.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from importlib import resources
from pathlib import Path

import jinja2

from entangle import __version__
from entangle.atomic import write_text
from entangle.report import figures
from entangle.report.data import ReportData
from entangle.report.labels import column_label, unit_words
from entangle.report.mechanisms import mechanisms_section
from entangle.report.svg import CATEGORY_COLOURS, KIND_COLOURS, TIE_COLOURS

DESIGN_NAMES = {
    "twfe": "two-way fixed effects",
    "event-study": "event study",
    "did": "staggered difference-in-differences (Callaway–Sant'Anna)",
    "dose": "continuous treatment (dose-response)",
    "spillover": "distance-ring spillover",
}
# Beyond this many units, inline vector maps would make the report heavy for a laptop (and 15 MB);
# the panel file has every value.
MAX_MAP_UNITS = 15_000
INFERENCE_NAMES = {
    "cluster": "unit-clustered errors",
    "conley": "Conley spatial errors",
    "ri": "randomization inference",
}
# Short forms for plot labels and table rows, where the full names would not fit.
DESIGN_SHORT = {
    "twfe": "fixed effects",
    "event-study": "event study",
    "did": "staggered DiD",
    "dose": "dose-response",
    "spillover": "spillover rings",
}
INFERENCE_SHORT = {"cluster": "clustered SE", "conley": "Conley SE", "ri": "randomization inference"}


def main_term(result: dict) -> dict | None:
    """The estimate a reader looks for first: the ATT, else the treatment's own term."""
    estimates = result.get("estimates") or []
    for wanted in ("ATT", result.get("treatment")):
        for est in estimates:
            if est.get("term") == wanted:
                return est
    non_dynamic = [e for e in estimates if not str(e.get("term", "")).startswith("e=")]
    return non_dynamic[0] if non_dynamic else None


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def _lower_first(text: str) -> str:
    """Lower-case a label's first letter inside a sentence, unless it starts an acronym (PK–CT)."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def result_code(result: dict) -> str:
    """The model as panel columns and option names: what to look for in estimates.json."""
    inference = result.get("inference", "cluster")
    return f"{result['outcome']} ~ {result['treatment']} ({result['design']}, {inference})"


def model_words(result: dict) -> str:
    """Treatment → outcome in plain words (no design)."""
    return f"{column_label(result['treatment'])} → {_lower_first(column_label(result['outcome']))}"


def design_words(result: dict) -> str:
    inference = result.get("inference", "cluster")
    lag = (result.get("options") or {}).get("lag")
    words = [DESIGN_SHORT.get(result["design"], result["design"]), INFERENCE_SHORT.get(inference, inference)]
    if lag:
        words.append(f"treatment lagged {lag} {_plural(lag, 'period')}")
    return ", ".join(words)


def term_label(term: str, result: dict, period: str = "period") -> str:
    """An estimate's term in words: the treatment's label, the ATT, or event time ("2 months after onset")."""
    if term == result.get("treatment"):
        return column_label(term)
    if term == "ATT":
        return "Average effect on the treated (ATT)"
    match = re.fullmatch(r"e=(-?\d+)", term)
    if match:
        k = int(match[1])
        if k == 0:
            return f"the {period} of onset"
        return f"{abs(k)} {_plural(abs(k), period)} {'before' if k < 0 else 'after'} onset"
    return term


def result_label(result: dict) -> str:
    """A model in plain words: treatment → outcome (design, errors)."""
    return f"{model_words(result)} ({design_words(result)})"


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else noun + "s"


# Plain words for the panel's column families (docs/architecture.md); anything else keeps its name.
_TREATMENT_WORDS = (
    (re.compile(r"copresence_(\w+)km"), "Having peacekeeping and counterterrorism sites both within {0} km"),
    (re.compile(r"entanglement_(\w+)km"), "Each extra point of the entanglement index within {0} km"),
    (re.compile(r"present_(\w+)_(\w+)km"), "Having a {0} site within {1} km"),
    (re.compile(r"troops_(\w+)_(\w+)km"), "Each extra {0} soldier within {1} km"),
    (re.compile(r"dist_km_(\w+)"), "Each extra km to the nearest {0} site"),
)


def treatment_words(column: str) -> str:
    for pattern, words in _TREATMENT_WORDS:
        match = pattern.fullmatch(column)
        if match:
            parts = [
                g.replace("_", " ").replace("p", ".") if g[0].isdigit() else g.replace("_", " ")
                for g in match.groups()
            ]
            return words.format(*parts)
    return column_label(column)


def outcome_words(column: str) -> str:
    return _lower_first(column_label(column))


def describe_result(result: dict, period: str = "period") -> str:
    """One plain-language sentence for a model's main estimate."""
    est = main_term(result)
    design = DESIGN_NAMES.get(result["design"], result["design"])
    inference = INFERENCE_NAMES.get(result.get("inference", "cluster"), result.get("inference", ""))
    if est is None:
        what = f"{outcome_words(result['outcome'])} on {_lower_first(column_label(result['treatment']))}"
        return f"{design.capitalize()} of {what}: see the event-study plot."
    lo, hi = est.get("ci_low"), est.get("ci_high")
    direction = "more" if est["estimate"] >= 0 else "fewer"
    text = (
        f"{design.capitalize()}, {inference}: {treatment_words(result['treatment'])} is associated with "
        f"{_num(abs(est['estimate']))} {direction} {outcome_words(result['outcome'])} per unit and {period} "
        f"(95% CI {_num(lo)} to {_num(hi)}"
        + (f", p = {_num(est.get('p_value'), 2)}" if est.get("p_value") is not None else "")
        + f"; {result.get('n_obs', 0):,} observations, {result.get('n_units', 0):,} units)."
    )
    if lo is not None and hi is not None:
        text += (
            " The interval includes zero: the data do not distinguish this from no effect."
            if lo <= 0 <= hi
            else " The interval excludes zero."
        )
    return text


def caveats(data: ReportData) -> list[str]:
    notes = []
    if data.synthetic:
        notes.append(
            "SYNTHETIC DATA: every number in this report comes from simulated data, not real events."
        )
    # data.notices (e.g. no event data) are shown above the summary already, not repeated here
    if data.has_events():
        notes.append(
            "These are observational associations. Interventions deploy where violence is expected, so "
            "exposure is not random; the designs adjust for fixed differences between places and common "
            "shocks over time, not for every reason a force goes where it goes."
        )
        notes.append(f"Imprecise events: {data.imprecision}")
        notes.append(
            "Event counts are what the sources recorded; reporting is thinner in remote areas and in "
            "periods with fewer observers, and sources revise their data."
        )
    notes.extend(data.exposure_notes)
    notes.extend(model_caveats(data.estimates))
    return notes


def model_caveats(results: list[dict]) -> list[str]:
    """Estimator warnings, one line per distinct warning: shared by several models, it is counted
    ("20 models: ...") rather than repeated; a pre-trend failure is named per model."""
    by_warning: dict[str, list[dict]] = {}
    for result in results:
        for warning in result.get("warnings") or []:
            by_warning.setdefault(warning, []).append(result)
    notes = []
    for warning, models in by_warning.items():
        if len(models) == 1:
            notes.append(f"{result_label(models[0])}: {warning}")
        else:
            notes.append(f"{len(models)} of {len(results)} models: {warning}")
    for result in results:
        pre = (result.get("extra") or {}).get("pretrend") or {}
        if pre.get("p_value") is not None and pre["p_value"] < 0.1:
            notes.append(
                f"{result_label(result)}: before onset the leads already differ from zero "
                f"(p = {_num(pre['p_value'], 2)}), so the parallel-trends assumption behind it is in doubt."
            )
    return notes


def _layer_max(layer: dict) -> dict[str, float]:
    """The darkest colour's value: over the whole period, and in the highest single year."""
    return {
        "total": max(layer["total"].values(), default=0),
        "year": max([max(v.values(), default=0) for v in layer["years"].values()] + [0]),
    }


def _layers_json(data: ReportData) -> str:
    payload = {}
    for layer in data.layers:
        top = _layer_max(layer)
        payload[layer["id"]] = {
            "years": {str(y): v for y, v in layer["years"].items()},
            "total": layer["total"],
            "max": top["year"],
            "maxTotal": top["total"],
        }
    # "</" must not appear inside an inline script.
    return json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")


def _estimate_rows(results: list[dict]) -> list[dict]:
    rows = []
    for result in results:
        est = main_term(result)
        if est is not None:
            lag = (result.get("options") or {}).get("lag")
            rows.append(
                {
                    **est,
                    "label": model_words(result),
                    "detail": design_words(result),
                    "code": result_code(result) + (f", lag {lag}" if lag else ""),
                    "outcome": result["outcome"],
                    "treatment": result["treatment"],
                    "design": result["design"],
                    "lag": lag or 0,
                }
            )
    return rows


def _bbox(data: ReportData) -> tuple[float, float, float, float] | None:
    """The box that holds the outline, every unit and every site (units may spill over the border)."""
    points = [p for ring in data.outline for p in ring]
    points += [p for unit in data.units for ring in unit["rings"] for p in ring]
    points += [(s["lon"], s["lat"]) for s in data.sites]
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    pad = 0.3
    return min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad


def _citations(data: ReportData) -> list[dict]:
    """Every registry fact with its sources, grouped by table."""
    out = []
    for item in data.interventions:
        out.append(
            {"table": "intervention", "fact": f"{item['name']} ({item['kind']})", "sources": item["sources"]}
        )
    for m in data.mandates:
        out.append(
            {
                "table": "mandate",
                "fact": f"{m['document']} — {data.name_of(m['intervention_id'])}",
                "sources": m["sources"],
            }
        )
    for t in data.ties:
        fact = f"{data.name_of(t['source_id'])} → {data.name_of(t['target_id'])}: {t['type']}"
        out.append({"table": "tie", "fact": fact, "sources": t["sources"]})
    for s in data.sites:
        if s.get("sources"):
            out.append(
                {
                    "table": "site",
                    "fact": f"{s['name']} ({data.name_of(s['intervention_id'])})",
                    "sources": s["sources"],
                }
            )
    return out


def build_html(data: ReportData) -> str:
    """The report as one HTML string."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("entangle.report") / "templates")),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    bbox = _bbox(data)
    proj = figures.Projection(bbox) if bbox else None
    draw_units = len(data.units) <= MAX_MAP_UNITS
    assets = resources.files("entangle.report") / "templates"
    years = list(range(data.study["start"].year, data.study["end"].year + 1))
    # Models the study lists get a sentence, a plot and a table each; a grid's cells form the curve.
    models = [r for r in data.estimates if not r.get("grid")]
    grid_rows = _estimate_rows([r for r in data.estimates if r.get("grid")])
    coef_rows = _estimate_rows(models)
    kinds_present = {i["kind"] for i in data.interventions}
    context = {
        "d": data,
        "version": data.versions.get("entangle", __version__),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": [
            (describe_result(r, data.study.get("period", "period")), result_code(r))
            for r in models
            if main_term(r) is not None
        ][:6],
        "caveats": caveats(data),
        "timeline": figures.timeline(data),
        "kind_legend": figures.legend(KIND_COLOURS, kinds_present, "Intervention kinds"),
        "tie_legend": figures.legend(TIE_COLOURS, {t["type"] for t in data.ties}, "Tie types"),
        "cat_legend": figures.legend(CATEGORY_COLOURS, caption="Perpetrators of civilian fatalities"),
        "network": figures.network(data, data.network_years),
        "metrics": figures.metrics(data.metrics),
        "sites_map": figures.sites_map(data, proj) if proj else "",
        "layer_maps": [(layer, figures.choropleth(data, proj, layer)) for layer in data.layers]
        if proj and draw_units
        else [],
        "too_many_units": 0 if draw_units else len(data.units),
        "layers_json": _layers_json(data) if draw_units else "{}",
        "layer_max": {layer["id"]: _layer_max(layer) for layer in data.layers},
        "years": years,
        "kinds": sorted(kinds_present),
        "coef": figures.coefficients(coef_rows) if coef_rows else "",
        "event_studies": [
            (figures.event_study(r), (r.get("extra") or {}).get("pretrend"))
            for r in models
            if r["design"] == "event-study"
        ],
        "models": models,
        "grid_rows": sorted(grid_rows, key=lambda r: r["estimate"]),
        "spec": figures.spec_curve(grid_rows) if len(grid_rows) > 1 else "",
        # the section "What the ties did": report/mechanisms.py (issue 11) renders data.mechanisms here
        "mechanisms": mechanisms_section(data.mechanisms, data),
        "citations": _citations(data),
        "result_label": result_label,
        "result_code": result_code,
        "term_label": term_label,
        "column_label": column_label,
        "unit_words": unit_words,
        "num": _num,
        "css": (assets / "report.css").read_text(encoding="utf-8"),
        "js": (assets / "report.js").read_text(encoding="utf-8"),
    }
    return env.get_template("report.html.j2").render(**context)


def write_report(data: ReportData, path: str | os.PathLike[str]) -> Path:
    """Write the report atomically; return its path."""
    path = Path(path)
    write_text(path, build_html(data))
    return path
