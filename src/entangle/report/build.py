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
from entangle.report.labels import CATEGORY_WORDS, column_label, definition, unit_words
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
MAP_WIDTH = 640
BRIEF_MAP_WIDTH = 420
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
    if result.get("family") == "poisson":
        return _describe_poisson(result, est, design, inference, period)
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
    return text + scale_words(result)


def _describe_poisson(result: dict, est: dict, design: str, inference: str, period: str) -> str:
    """A Poisson model's main term as an incidence-rate ratio (exp of the coefficient)."""
    irr = math.exp(est["estimate"])
    lo, hi = est.get("ci_low"), est.get("ci_high")
    ci = (
        f" (95% CI {_num(math.exp(lo))} to {_num(math.exp(hi))})" if lo is not None and hi is not None else ""
    )
    text = (
        f"{design.capitalize()} (Poisson), {inference}: {treatment_words(result['treatment'])} "
        "multiplies the "
        f"expected {outcome_words(result['outcome'])} per unit and {period} by {_num(irr)}{ci}; "
        f"{result.get('n_obs', 0):,} observations, {result.get('n_units', 0):,} units."
    )
    if lo is not None and hi is not None:
        text += (
            " The interval includes 1: the data do not distinguish this from no effect."
            if lo <= 0 <= hi
            else " The interval excludes 1."
        )
    return text + scale_words(result)


def scale_words(result: dict) -> str:
    """The effect against the outcome's scale (``result["scale"]``, from estimation): its share of
    the mean and the minimum detectable effect, so a reader can tell small from large."""
    scale = result.get("scale") or {}
    parts = []
    mean, pct = scale.get("outcome_mean"), scale.get("effect_pct_of_mean")
    if mean is not None and pct is not None:
        parts.append(f"The effect is {_pct(pct)} of the mean outcome ({_num(mean)} per unit and period)")
    mde, mde_pct = scale.get("mde"), scale.get("mde_pct_of_mean")
    if mde is not None:
        share = f" ({_pct(mde_pct)} of the mean)" if mde_pct is not None else ""
        parts.append(f"the smallest effect this design would detect (80% power) is {_num(mde)}{share}")
    return (" " + "; ".join(parts) + ".") if parts else ""


def _pct(value: float) -> str:
    """A percentage for a sentence: whole numbers from 10 %, two significant digits below."""
    return f"{value:,.0f}%" if abs(value) >= 10 else f"{value:.2g}%"


def inference_words(result: dict) -> str:
    """The inference settings of a model, every one that changes its intervals."""
    inference = result.get("inference", "cluster")
    options = result.get("options") or {}
    conley = (result.get("extra") or {}).get("conley") or options
    if inference == "conley":
        lag = conley.get("conley_lag")
        serial = (
            "no serial correlation across periods"
            if lag in (None, 0)
            else "serial correlation over all periods of a unit"
            if lag == -1
            else f"serial correlation up to {lag} periods"
        )
        text = (
            f"Conley spatial errors: cutoff {_num(conley.get('conley_km'))} km, "
            f"{conley.get('conley_kernel', '?')} kernel, {serial}"
            + (f" ({conley.get('conley_lag_kernel')} weights)" if lag not in (None, 0) else "")
        )
    elif inference == "ri":
        text = (
            f"randomization inference: {options.get('ri_draws', '?')} permutations of the treatment "
            f"({options.get('ri_pool', '?')} pool), seed {options.get('seed', '?')}"
        )
    else:
        clusters = result.get("n_clusters", "?")
        text = f"errors clustered by {options.get('cluster') or 'unit'} ({clusters} clusters)"
    family = result.get("family")
    if family:
        text += f"; {family} model"
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


GRADE_ORDER = {"primary": 0, "research": 1, "press": 1, "aggregator": 2}
GRADE_WORDS = {
    "primary": "primary (UN, government, EU official)",
    "research": "research",
    "press": "press",
    "aggregator": "aggregator: re-published, check the original",
}


def _grade_rank(sources: list[dict]) -> int:
    return min((GRADE_ORDER.get(s.get("grade"), 3) for s in sources), default=3)


def graded_citations(data: ReportData) -> list[dict]:
    """Citations, primary sources first, then press and research, then facts resting on
    aggregators (marked), then ungraded; each fact's sources in the same order."""
    rows = []
    for row in _citations(data):
        sources = sorted(row["sources"], key=lambda s: GRADE_ORDER.get(s.get("grade"), 3))
        rows.append({**row, "sources": sources, "rank": _grade_rank(sources)})
    return sorted(rows, key=lambda r: r["rank"])


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


def definitions(data: ReportData, meta_from: str = "", civilian: str = "targeting") -> list[dict]:
    """Every outcome and exposure the report shows, defined in words (the definitions box)."""
    columns = ["civilian_fatalities"] if data.has_events() else []
    columns += [r[k] for r in data.estimates if not r.get("grid") for k in ("outcome", "treatment")]
    columns += [layer["column"] for layer in data.layers if layer.get("column")]
    if data.bivariate:
        columns.append(data.bivariate["column"])
    for row in data.unit_rows[:1]:
        columns += [pair["column"] for pair in row["copresence"]]
    seen, out = set(), []
    for column in columns:
        if column in seen:
            continue
        seen.add(column)
        text = definition(column, meta_from, civilian)
        out.append({"column": column, "label": column_label(column), "text": text})
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("entangle.report") / "templates")),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )


def _projection(data: ReportData, width: int = MAP_WIDTH) -> figures.Projection | None:
    bbox = _bbox(data)
    return figures.Projection(bbox, width) if bbox else None


def _summary(data: ReportData, models: list[dict]) -> list[tuple[str, str]]:
    period = data.study.get("period", "period")
    return [(describe_result(r, period), result_code(r)) for r in models if main_term(r) is not None][:6]


def _rule_value(data: ReportData, key: str) -> str:
    return next((r.get("key_value", "") for r in data.rules if r.get("key") == key), "")


def _shared_context(data: ReportData) -> dict:
    assets = resources.files("entangle.report") / "templates"
    exposure_from = _rule_value(data, "exposure_from")
    return {
        "d": data,
        "version": data.versions.get("entangle", __version__),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "caveats": caveats(data),
        "definitions": definitions(data, exposure_from, _rule_value(data, "civilian") or "targeting"),
        "column_label": column_label,
        "unit_words": unit_words,
        "num": _num,
        "category_words": CATEGORY_WORDS,
        "category_colours": CATEGORY_COLOURS,
        "css": (assets / "report.css").read_text(encoding="utf-8"),
        "js": (assets / "report.js").read_text(encoding="utf-8"),
    }


def build_html(data: ReportData) -> str:
    """The report as one HTML string."""
    proj = _projection(data)
    draw_units = len(data.units) <= MAX_MAP_UNITS
    years = list(range(data.study["start"].year, data.study["end"].year + 1))
    # Models the study lists get a sentence, a plot and a table each; a grid's cells form the curve.
    models = [r for r in data.estimates if not r.get("grid")]
    grid_rows = _estimate_rows([r for r in data.estimates if r.get("grid")])
    coef_rows = _estimate_rows(models)
    kinds_present = {i["kind"] for i in data.interventions}
    layer_max = {layer["id"]: _layer_max(layer) for layer in data.layers}
    context = {
        **_shared_context(data),
        "summary": _summary(data, models),
        "harm_timeline": figures.harm_timeline(data),
        "timeline": figures.timeline(data),
        "kind_legend": figures.legend(KIND_COLOURS, kinds_present, "Intervention kinds (who was deployed)"),
        "tie_legend": figures.legend(TIE_COLOURS, {t["type"] for t in data.ties}, "Tie types (line colour)"),
        "cat_legend": figures.legend(
            CATEGORY_COLOURS,
            {row["category"] for row in data.harm},
            "Perpetrators (who killed civilians)",
            CATEGORY_WORDS,
        ),
        "network": figures.network(data, data.network_years),
        "metrics": figures.metrics(data.metrics),
        "sites_map": figures.sites_map(data, proj) if proj else "",
        "layer_maps": [
            (
                layer,
                figures.choropleth(data, proj, layer),
                figures.ramp_key(layer["id"], layer_max[layer["id"]]["total"], layer["unit"]),
            )
            for layer in data.layers
        ]
        if proj and draw_units
        else [],
        "bivariate_map": figures.bivariate_map(data, proj) if proj and draw_units and data.bivariate else "",
        "bivariate_key": figures.bivariate_key(data.bivariate, data.study.get("period", "period"))
        if data.bivariate
        else "",
        "too_many_units": 0 if draw_units else len(data.units),
        "layers_json": _layers_json(data) if draw_units else "{}",
        "layer_max": layer_max,
        "years": years,
        "kinds": sorted(kinds_present),
        "coef": figures.coefficients(coef_rows) if coef_rows else "",
        "event_studies": [
            (figures.event_study(r), (r.get("extra") or {}).get("pretrend"), r)
            for r in models
            if r["design"] == "event-study"
        ],
        "models": models,
        "grid_rows": sorted(grid_rows, key=lambda r: r["estimate"]),
        "spec": figures.spec_curve(grid_rows) if len(grid_rows) > 1 else "",
        # the section "What the ties did": report/mechanisms.py (issue 11) renders data.mechanisms here
        "mechanisms": mechanisms_section(data.mechanisms, data),
        "citations": graded_citations(data),
        "grade_words": GRADE_WORDS,
        "result_label": result_label,
        "result_code": result_code,
        "inference_words": inference_words,
        "term_label": term_label,
    }
    return _environment().get_template("report.html.j2").render(**context)


def build_brief(data: ReportData) -> str:
    """The two-page brief: headline findings with uncertainty and scale, harm beside exposure
    (map and the most-harmed units), the HRDDP monitor's flags and the caveats that matter."""
    proj = _projection(data, BRIEF_MAP_WIDTH)
    models = [r for r in data.estimates if not r.get("grid")]
    context = {
        **_shared_context(data),
        "summary": _summary(data, models)[:4],
        "bivariate_map": figures.bivariate_map(data, proj)
        if proj and data.bivariate and len(data.units) <= MAX_MAP_UNITS
        else "",
        "bivariate_key": figures.bivariate_key(data.bivariate, data.study.get("period", "period"))
        if data.bivariate
        else "",
        "brief_caveats": caveats(data)[:5],
        "hrddp_flags": hrddp_flags(data),
    }
    return _environment().get_template("brief.html.j2").render(**context)


def hrddp_flags(data: ReportData) -> list[str]:
    """The HRDDP monitor's flagged support ties (``data.mechanisms["hrddp"]``), one line each."""
    monitor = (data.mechanisms or {}).get("hrddp") or {}
    lines = []
    for tie in monitor.get("ties") or []:
        during = tie.get("during") or {}
        if not during.get("flagged_months"):
            continue
        lines.append(
            f"{data.name_of(tie['provider'])} → {data.name_of(tie['recipient'])} "
            f"({str(tie.get('tie_type', '')).replace('_', ' ')}): {during['flagged_months']} flagged "
            f"month(s) while the support was active; {during.get('events', 0)} events and "
            f"{during.get('civilian_fatalities', 0)} civilian fatalities by the supported force."
        )
    return lines


def write_brief(data: ReportData, path: str | os.PathLike[str]) -> Path:
    """Write the brief atomically; return its path."""
    path = Path(path)
    write_text(path, build_brief(data))
    return path


def write_report(data: ReportData, path: str | os.PathLike[str]) -> Path:
    """Write the report atomically; return its path."""
    path = Path(path)
    write_text(path, build_html(data))
    return path
