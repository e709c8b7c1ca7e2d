"""The report from hand-made data: sections, figures, numbers, escaping and self-containment."""

from __future__ import annotations

import datetime as dt
import json
import re

from _report_sample import sample_panel, sample_records, sample_result

from entangle.report import assemble
from entangle.report.build import build_html, describe_result, main_term, write_report
from entangle.report.data import ReportData
from entangle.report.svg import nice_ticks, sequential

STUDY = {
    "name": "Sample study",
    "start": dt.date(2013, 1, 1),
    "end": dt.date(2014, 12, 31),
    "unit": "priogrid",
    "period": "month",
    "hash": "0" * 64,
    "radii_km": ["25", "50"],
}


def sample_events() -> list[dict]:
    """Two named events behind the sample panel's bars (as report.stage.civilian_events gives them)."""
    return [
        {
            "event_id": "acled:X1",
            "date_start": dt.date(2013, 1, 5),
            "actor1": "Group J",
            "actor2": "Civilians",
            "perpetrator_category": "jihadist",
            "civilian_fatalities": 3,
            "unit_id": "150000",
            "period": dt.date(2013, 1, 1),
        },
        {
            "event_id": "acled:X2",
            "date_start": dt.date(2014, 3, 9),
            "actor1": "Army of Elsewhere",
            "actor2": "Civilians",
            "perpetrator_category": "state_and_allied",
            "civilian_fatalities": 2,
            "unit_id": "150001",
            "period": dt.date(2014, 3, 1),
        },
    ]


def make_data(**overrides) -> ReportData:
    panel = sample_panel()
    records = sample_records()
    events = sample_events()
    fields = {
        "study": STUDY,
        "theatre": {"id": "x", "name": "Testland", "country_iso3": ["MLI"]},
        **records,
        "harm": assemble.harm_series(panel),
        "units": assemble.unit_shapes(panel, "priogrid"),
        "unit_rows": assemble.unit_table(panel, records["sites"], events, [25.0, 50.0]),
        "harm_events": assemble.harm_event_tips(events),
        "bivariate": assemble.bivariate_choice(panel, [25.0, 50.0]),
        "places": [{"name": "Base Town", "lat": 14.3, "lon": -3.7}],
        # a long column name in running text must wrap on a phone, not widen the page
        "rules": assemble.panel_rules(
            {"onsets": {"left_censored": {"copresence_peacekeeping__counterterrorism_50km": ["150000"]}}}
        ),
        "layers": assemble.map_layers(panel, [25.0, 50.0]),
        "estimates": [sample_result(), sample_result("event-study")],
        "panel": assemble.panel_summary(panel),
        "imprecision": "events located less precisely than X are left out.",
        "network_years": [2013, 2014],
    }
    fields.update(overrides)
    return ReportData(**fields)


def test_harm_series_sums_by_month_and_category():
    harm = assemble.harm_series(sample_panel())
    # By hand: jihadist 3 in months 0, 6, 12, 18 of cell 150000; state 2 in each 2014 month of cell 150001.
    jihadist = {r["period"]: r["civilian_fatalities"] for r in harm if r["category"] == "jihadist"}
    assert jihadist == {
        dt.date(2013, 1, 1): 3,
        dt.date(2013, 7, 1): 3,
        dt.date(2014, 1, 1): 3,
        dt.date(2014, 7, 1): 3,
    }
    state = [r for r in harm if r["category"] == "state_and_allied"]
    assert len(state) == 12 and all(r["civilian_fatalities"] == 2 for r in state)


def test_map_layers_totals_and_years():
    layers = {layer["id"]: layer for layer in assemble.map_layers(sample_panel(), [25.0, 50.0])}
    assert layers["harm"]["total"] == {"150000": 12.0, "150001": 24.0}
    assert layers["harm"]["years"][2013] == {"150000": 6.0}
    assert layers["harm"]["years"][2014] == {"150000": 6.0, "150001": 24.0}
    assert layers["copresence"]["total"] == {"150000": 12.0}
    # mean over 24 months of an index that is 2.0 in 12 of them
    assert layers["entanglement"]["total"] == {"150000": 1.0}


def test_panel_summary_counts():
    summary = assemble.panel_summary(sample_panel())
    assert summary == {
        "rows": 48,
        "units": 2,
        "periods": 24,
        "events": 16,
        "fatalities": 36,
        "civilian_fatalities": 36,
    }


def test_priogrid_shapes_are_half_degree_boxes():
    shapes = {s["unit_id"]: s for s in assemble.unit_shapes(sample_panel(), "priogrid")}
    ring = shapes["150000"]["rings"][0]
    assert min(p[0] for p in ring) == -4.0 and max(p[0] for p in ring) == -3.5
    assert min(p[1] for p in ring) == 14.0 and max(p[1] for p in ring) == 14.5


def test_main_term_and_sentence():
    result = sample_result()
    assert main_term(result)["term"] == "copresence_50km"
    text = describe_result(result, "month")
    # plain words only; the column name is shown beside the sentence as small code text
    assert text.startswith(
        "Two-way fixed effects, unit-clustered errors: Having peacekeeping and counterterrorism sites both "
        "within 50 km is associated with 1.5 more civilian fatalities per unit and month"
    )
    assert "copresence_50km" not in text
    assert (
        "1.5 more civilian fatalities" in text and "95% CI 0.52 to 2.48" in text and "excludes zero" in text
    )
    did = {
        **result,
        "design": "did",
        "estimates": [{**result["estimates"][0], "term": "ATT", "ci_low": -1.0}],
    }
    assert main_term(did)["term"] == "ATT"
    assert "includes zero" in describe_result(did)


def test_report_has_every_section_and_no_external_reference():
    html = build_html(make_data())
    for section in ("summary", "harm", "timeline", "network", "maps", "estimates", "data", "citations"):
        assert f'<section id="{section}">' in html
    # self-contained: no URL that a browser would fetch, no external script or stylesheet
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "@import" not in html
    assert "docs/" not in html  # an offline file cannot follow a link into the repository
    assert "id column" not in html  # plain words for the unit of analysis
    assert html.count("<svg") >= 8  # timeline, 2 networks, metrics, sites map, 3 layer maps, estimates
    # every mandate and tie appears with its document in the timeline hover text
    assert "S/RES/0001 (2013)" in html and "S/RES/0002 (2014)" in html
    assert "Peace Mission → National Army: logistical support" in html
    # plain-language summary reports the estimate with its interval, and the warning as a caveat
    assert "95% CI 0.52 to 2.48" in html
    assert "only 2 clusters" in html


def test_report_escapes_registry_text():
    records = sample_records()
    records["interventions"][0] = {**records["interventions"][0], "name": "<script>alert(1)</script>"}
    html = build_html(make_data(interventions=records["interventions"]))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_synthetic_label_everywhere():
    html = build_html(make_data(synthetic=True))
    assert "<title>[SYNTHETIC]" in html
    assert "SYNTHETIC DATA" in html.split("<main>")[0]  # banner at the top
    assert "SYNTHETIC DATA" in html.split("</main>")[1]  # and in the footer


def test_no_events_report_says_so():
    data = make_data(
        harm=[], units=[], layers=[], estimates=[], panel={}, notices=["No event data was available."]
    )
    html = build_html(data)
    assert "No event data was available" in html
    assert "No event data: there is no series of civilian fatalities" in html
    assert "there was no event data to estimate on" in html
    # the parts that need no events are still there
    assert "S/RES/0001 (2013)" in html and "Base A" in html


def test_no_events_report_with_exposure_maps():
    """Without events the panel holds exposures only: exposure maps, no harm map, no harm legend."""
    panel = sample_panel()
    exposures = panel.select(
        [c for c in panel.column_names if not c.startswith(("events", "fatalities", "civilian_", "splag_"))]
    )
    data = make_data(
        harm=[],
        layers=assemble.map_layers(exposures, [25.0, 50.0]),
        estimates=[],
        panel=assemble.panel_summary(exposures),
        facts=assemble.headline_facts(exposures, [25.0, 50.0]),
        notices=["No event data was available."],
    )
    html = build_html(data)
    assert 'data-layer="copresence"' in html and 'data-layer="harm"' not in html
    assert "there is no map of civilian harm" in html
    assert "Perpetrators of civilian fatalities" not in html
    # co-presence in cell 150000 during 2014 only: 12 of 48 unit-months, 1 of 2 units
    assert data.facts == [
        "Peacekeeping and counterterrorism sites were both within 50 km in 25.0% of unit-periods; "
        "1 of 2 units saw it at least once."
    ]


def test_column_labels_and_metric_units():
    from entangle.report.labels import column_label, metric_label

    assert column_label("copresence_50km") == "PK–CT co-presence within 50 km"
    assert column_label("entanglement_12p5km") == "Entanglement index within 12.5 km"
    assert column_label("civilian_fatalities_militia") == "Civilian fatalities by militias"
    assert column_label("present_state_forces_25km") == "State-force site within 25 km"
    assert column_label("dist_km_peacekeeping") == "Distance to the nearest peacekeeping site (km)"
    assert column_label("splag_civilian_fatalities") == (
        "Civilian fatalities in neighbouring units (spatial lag)"
    )
    assert column_label("made_up_column") == "made up column"
    assert metric_label("density") == ("Network density", "share of possible ties, 0–1")
    html = build_html(make_data())
    # the raw name stays reachable: as small code text beside the label, or a hover title
    assert "PK–CT co-presence within 50 km" in html and '<code class="col">copresence_50km</code>' in html
    from entangle.report.figures import metrics

    rows = [{"period": dt.date(2014, m, 1), "pk_ct_ties": m % 3, "density": 0.5} for m in (1, 2, 3)]
    chart = metrics(rows)
    assert ">PK–counterterrorism ties<title>pk_ct_ties</title>" in chart
    assert ">share of possible ties, 0–1</text>" in chart
    # a 0-to-max y axis per panel, in METRIC_ORDER: density (max 0.5), then PK–CT ties (max 2)
    assert re.findall(r'text-anchor="end">([\d.]+)</text>', chart) == ["0.5", "0", "2", "0"]


def test_identical_warnings_are_grouped_with_a_count():
    from entangle.report.build import model_caveats

    lagged = "treatment lagged 1 period; 50 rows without a lagged value dropped"
    results = []
    for k in range(20):
        result = sample_result()
        result["treatment"] = f"copresence_{25 * (1 + k % 2)}km"
        result["warnings"] = [lagged]
        results.append(result)
    results[0]["warnings"].append("1 unit stops being treated after onset")
    notes = model_caveats(results)
    assert notes == [
        "20 of 20 models: treatment lagged 1 period; 50 rows without a lagged value dropped",
        "PK–CT co-presence within 25 km → civilian fatalities (fixed effects, clustered SE): "
        "1 unit stops being treated after onset",
    ]


def test_layers_json_is_script_safe():
    data = make_data()
    data.layers[0]["total"]["</script><b>"] = 1.0
    html = build_html(data)
    payload = html.split('<script type="application/json" id="layers">')[1].split("</script>")[0]
    assert json.loads(payload)["harm"]["total"]["</script><b>"] == 1.0


def test_write_report_is_atomic_and_small(tmp_path):
    path = write_report(make_data(), tmp_path / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert path.stat().st_size < 200_000


def test_svg_helpers():
    # raw step 10/4 = 2.5 rounds up to 5
    assert nice_ticks(0, 10) == [0, 5, 10]
    assert nice_ticks(0, 0.9) == [0, 0.5]  # raw 0.225 rounds up to 0.5
    assert sequential(0, 10) == "#ffffff"
    # t = 1: (255-90, 255-229.5, 255-216.75) truncated = (165, 25, 38)
    assert sequential(10, 10) == "#a51926"


def test_specification_curve_when_a_grid_ran():
    grid = []
    for k, estimate in enumerate((-0.5, 0.2, 1.0)):
        result = sample_result()
        result["treatment"] = f"treat_{k}"
        result["estimates"] = [
            {
                "term": f"treat_{k}",
                "estimate": estimate,
                "std_error": 0.1,
                "ci_low": estimate - 0.2,
                "ci_high": estimate + 0.2,
                "p_value": 0.01,
            }
        ]
        result["grid"] = True
        grid.append(result)
    html = build_html(make_data(estimates=grid))
    assert "Specification curve" in html
    curve = html.split('aria-label="Specification curve"')[1].split("</svg>")[0]
    # sorted by estimate; the interval of 0.2 (0.0 to 0.4) touches zero so only two are filled
    tips = re.findall(r'class="pt[^"]*"><title>([^<]+)</title>', curve)
    assert [t.split(": ")[1] for t in tips] == ["-0.5", "0.2", "1"]
    assert curve.count('class="pt sig"') == 2
    # only the treatment varies, so one indicator row per treatment with one mark each
    assert (
        curve.count('class="mark"') == 3 and ">Treatment</text>" in curve and ">Outcome</text>" not in curve
    )
    assert "3 grid specifications" in html
    listed = [{**r, "grid": False} for r in grid]  # the same models listed one by one: no curve
    assert "Specification curve" not in build_html(make_data(estimates=listed))


def test_too_many_units_are_not_drawn(monkeypatch):
    import entangle.report.build as build

    monkeypatch.setattr(build, "MAX_MAP_UNITS", 1)
    html = build_html(make_data())
    assert "The panel has 2 units, too many to draw inline" in html
    assert 'class="unit"' not in html


def test_headline_facts_by_hand():
    facts = assemble.headline_facts(sample_panel(), [25.0, 50.0])
    # 36 in all: state and allied 24 (67%), jihadist 12 (33%)
    assert facts[0] == "36 civilian fatalities in all; by perpetrator: state and allied 67%, jihadist 33%."
    # Jan and Jul 2014 both have 3 + 2 = 5; the earliest is named
    assert facts[1] == "The deadliest month for civilians was January 2014 (5 civilian fatalities)."
    # co-presence in cell 150000 during 2014: 12 of 48 unit-months, with 6 of the 36 fatalities
    assert facts[2] == (
        "Peacekeeping and counterterrorism sites were both within 50 km in 25.0% of unit-periods, "
        "which saw 16.7% of civilian fatalities."
    )


def test_short_names_for_lanes_and_nodes():
    from entangle.report.figures import _short

    assert (
        _short("United Nations Multidimensional Integrated Stabilization Mission in Mali (MINUSMA)")
        == "MINUSMA"
    )
    assert _short("Opération Barkhane", 12) == "Barkhane"  # generic prefix dropped only when too long
    assert _short("Opération Barkhane", 26) == "Opération Barkhane"
    assert _short("Wagner Group / Africa Corps", 12) == "Wagner Grou…"


def test_exposure_caveats_flag_missing_troop_numbers():
    sites = [{"id": "a", "troops": 900}, {"id": "b", "troops": None}, {"id": "c", "troops": 0}]
    notes = assemble.exposure_caveats(sites, deployment_files=False)
    assert notes[0].startswith("Exposure is measured from the registry's sites (main bases")
    assert notes[1].startswith("2 of 3 sites have no troop number in any source")
    notes = assemble.exposure_caveats(sites[:1], deployment_files=True)
    assert len(notes) == 1 and "the deployment files loaded" in notes[0]
    html = build_html(make_data(exposure_notes=notes))
    assert "patrols, temporary posts and air operations are not sites" in html


def test_palettes_share_no_colour():
    from entangle.report.svg import BIVARIATE_COLOURS, CATEGORY_COLOURS, KIND_COLOURS, TIE_COLOURS

    palettes = [
        set(KIND_COLOURS.values()),
        set(CATEGORY_COLOURS.values()),
        set(TIE_COLOURS.values()),
        {c for row in BIVARIATE_COLOURS for c in row},
    ]
    for k, a in enumerate(palettes):
        assert len(a) == len({c.lower() for c in a})
        for b in palettes[k + 1 :]:
            assert not {c.lower() for c in a} & {c.lower() for c in b}


def test_unit_table_by_hand():
    rows = assemble.unit_table(sample_panel(), sample_records()["sites"], sample_events(), [25.0, 50.0])
    # cell 150001: 12 months x 2 (state) = 24; cell 150000: 4 months x 3 (jihadist) = 12
    assert [r["unit_id"] for r in rows] == ["150001", "150000"]
    first, second = rows
    assert first["deaths"] == 24 and first["by_category"] == {"state_and_allied": 24}
    assert second["by_category"] == {"jihadist": 12}
    # co-presence: cell 150000 in each 2014 month; the index is 2.0 there, so its mean is 1.0
    assert second["copresence"] == [
        {"column": "copresence_50km", "a": "peacekeeping", "b": "counterterrorism", "periods": 12}
    ]
    assert second["entanglement"] == 1.0 and first["entanglement"] == 0.0
    # nearest place to cell 150001's centre (14.25, -3.25) is Camp B (14.2, -3.3):
    # hypot(0.05 * 111.19, 0.05 * cos(14.2°) * 111.19) = hypot(5.56, 5.39) = 7.7 km
    assert first["nearest"][0]["name"] == "Camp B" and first["nearest"][0]["km"] == 8
    assert first["events"][0]["event_id"] == "acled:X2"
    assert first["first_site"] is None  # the sample panel has no present_* column


def test_bivariate_classes_split_at_the_median():
    choice = assemble.bivariate_choice(sample_panel(), [25.0, 50.0])
    assert choice["column"] == "copresence_50km"
    # harm 12 and 24: median 18, so 150000 is low (1), 150001 high (2); exposure 12 and 0
    assert choice["harm_cut"] == 18 and choice["classes"] == {"150000": (1, 1), "150001": (2, 0)}


def test_harm_tips_name_actors_and_event_ids():
    tips = assemble.harm_event_tips(sample_events())
    assert tips["2013-01-01|jihadist"] == {"events": 1, "top": [("acled:X1", "Group J", 3)]}
    html = build_html(make_data())
    assert "Group J, 3 [acled:X1]" in html


def test_copresence_pairs_prefer_the_pairwise_columns():
    columns = [
        "copresence_50km",
        "copresence_peacekeeping__counterterrorism_50km",
        "copresence_peacekeeping__private_military_50km",
        "copresence_peacekeeping__state_forces_25km",
    ]
    assert assemble.copresence_pairs(columns, "50") == [
        ("copresence_peacekeeping__counterterrorism_50km", "peacekeeping", "counterterrorism"),
        ("copresence_peacekeeping__private_military_50km", "peacekeeping", "private_military"),
    ]


def test_accounting_and_rules_in_words():
    meta = {
        "counts": {"events_in": 10, "dropped_imprecise_location": 3, "events_assigned": 7},
        "exposure_from": "polygon",
    }
    rows = assemble.accounting(meta)
    assert [(r["key"], r["count"]) for r in rows] == [
        ("events_in", 10),
        ("dropped_imprecise_location", 3),
        ("events_assigned", 7),
    ]
    rules = assemble.panel_rules(meta)
    assert rules[0]["rule"] == "Admin exposure rule" and "boundary" in rules[0]["text"]
    meta = {
        "deployments": {"rule": "carry_forward", "max_gap_months": 12},
        "civilian": "any_civilian_victim",
        "exclude_site_types": ["hq"],
        "onsets": {
            "coverage_start": {"geopko": "2014-03-01"},
            "left_censored": {"copresence_50km": ["a", "b"]},
        },
    }
    words = {r["rule"]: r["text"] for r in assemble.panel_rules(meta)}
    assert words["Deployment time rule"].startswith("'carry_forward': a deployment map's row holds")
    assert words["Deployment time rule"].endswith("at most 12 months")
    assert words["Civilian fatalities"].startswith("'any_civilian_victim': every event")
    assert words["Excluded site types"] == "hq"
    assert words["Treatment onsets"].startswith("geopko deployment data start 2014-03-01")
    assert "copresence_50km in 2 unit(s)" in words["Treatment onsets"]


def test_civilian_definition_follows_the_rule():
    from entangle.report.labels import definition

    assert "Civilians killed in battles between armed groups are not counted" in definition(
        "civilian_fatalities", civilian="targeting"
    )
    assert "in any type of violence" in definition("civilian_fatalities", civilian="any_civilian_victim")


def test_units_outline_dissolves_the_cells():
    shapes = assemble.unit_shapes(sample_panel(), "priogrid")
    rings = assemble.units_outline(shapes)
    # two adjacent half-degree cells: one ring spanning lon -4.0..-3.0, lat 14.0..14.5
    assert len(rings) == 1
    lons, lats = [p[0] for p in rings[0]], [p[1] for p in rings[0]]
    assert min(lons) == -4.0 and max(lons) == -3.0 and min(lats) == 14.0 and max(lats) == 14.5


def test_conley_settings_are_stated():
    from entangle.report.build import inference_words

    result = {
        **sample_result(),
        "inference": "conley",
        "extra": {"conley": {"conley_km": 100.0, "conley_kernel": "bartlett", "conley_lag": 0}},
    }
    assert inference_words(result) == (
        "Conley spatial errors: cutoff 100 km, bartlett kernel, no serial correlation across periods"
    )


def test_effect_scale_in_the_sentence():
    result = {
        **sample_result(),
        "scale": {"outcome_mean": 2.0, "effect_pct_of_mean": 75.0, "mde": 1.2, "mde_pct_of_mean": 60.0},
    }
    text = describe_result(result, "month")
    assert "75% of the mean outcome (2 per unit and period)" in text
    assert "would detect (80% power) is 1.2 (60% of the mean)" in text


def test_brief_is_self_contained_and_names_the_most_harmed_unit():
    from entangle.report.build import build_brief

    tie = {
        "provider": "pko",
        "recipient": "army",
        "tie_type": "logistical_support",
        "during": {"flagged_months": 2, "events": 5, "civilian_fatalities": 24},
    }
    unflagged = {**tie, "recipient": "ct", "during": {"flagged_months": 0}}
    html = build_brief(make_data(mechanisms={"hrddp": {"ties": [tie, unflagged]}}))
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert (
        "Peace Mission → National Army (logistical support): 2 flagged month(s) while the support was "
        "active; 5 events and 24 civilian fatalities by the supported force." in html
    )
    assert "Peace Mission → CT Operation" not in html
    table = html.split("data-unittable", 1)[1]
    assert table.index('data-unit="150001"') < table.index('data-unit="150000"')


def test_event_study_labels_counts_and_twfe_comparison():
    from entangle.report import figures

    result = sample_result("event-study")
    result["extra"] = {
        "estimator": "imputation",
        "event_time": [
            {"term": "e=-3", "label": "≤−3", "treated_units": 2, "observations": 9},
            {"term": "e=3", "label": "≥3", "treated_units": 1, "observations": 4},
        ],
        "comparison": {"estimates": [{"term": "e=0", "estimate": 0.05, "ci_low": -0.1, "ci_high": 0.2}]},
    }
    drawn = figures.event_study(result)
    assert ">≤−3<" in drawn and ">≥3<" in drawn  # binned end points labelled as estimated
    assert "2 treated units, 9 observations" in drawn
    assert "imputation (Borusyak, Jaravel &amp; Spiess); grey diamond: two-way fixed effects" in drawn
    assert drawn.count('class="pt twfe"') == 1


def test_lagged_terms_in_words():
    from entangle.report.labels import column_label

    assert column_label("l(copresence_25km, 1)") == "PK–CT co-presence within 25 km, 1 period earlier"
    assert column_label("l(entanglement_50km,2)") == "Entanglement index within 50 km, 2 periods earlier"
