"""``entangle run`` on the bundled study offline: the no-event report, the five outputs, the cache."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from entangle.registry import load_registry


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    return tmp_path


def test_bundled_study_offline_without_events(cli, offline):
    out = offline / "out"
    code, _, stderr = cli("run", "--out", out)
    assert code == 0, stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "brief.html",
        "estimates.json",
        "hrddp.json",
        "network.graphml",
        "panel.parquet",
        "provenance.json",
        "report.html",
    ]
    # no events: the HRDDP monitor says it cannot count, rather than showing zeros
    hrddp = json.loads((out / "hrddp.json").read_text())
    assert hrddp["records"] == [] and "no event data" in hrddp["note"]
    assert json.loads((out / "estimates.json").read_text()) == []
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No event data was available" in html
    assert "UCDP GED is not in the local cache and this machine is offline." in html
    # exposures need no events: their maps are drawn, the harm map is not
    assert 'data-layer="copresence"' in html and 'data-layer="entanglement"' in html
    assert 'data-layer="harm"' not in html

    # The report shows the whole bundled registry for 2012-2023, each fact with its citation.
    registry = load_registry()
    for mandate in registry.mandates:
        assert mandate.document in html
    from markupsafe import escape  # what the template engine uses

    for item in registry.interventions:
        assert str(escape(item.sources[0].ref)) in html

    # network.graphml: every intervention and tie in force in the study window, by networkx's reader
    root = ET.parse(out / "network.graphml").getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = {n.get("id") for n in root.iterfind(".//g:node", ns)}
    assert nodes == {i.id for i in registry.interventions}
    assert len(root.findall(".//g:edge", ns)) == len(registry.ties)

    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["sources"] == [] and provenance["study"].startswith("Mali 2012-2023")
    assert len(provenance["study_hash"]) == 64 and provenance["synthetic"] is False
    assert provenance["panel"]["outcomes"] == "no event data: outcomes omitted"
    rules = provenance["panel"]["rules"]
    assert rules["deployments"] == {"rule": "carry_forward", "max_gap_months": 12}
    assert rules["civilian"] == "targeting" and rules["exposure_from"] == "centroid"
    assert rules["pairs"][1] == ["peacekeeping", "private_military"]


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_panel_without_events_has_exposures_and_no_outcome(cli, offline):
    import datetime as dt

    import pyarrow.parquet as pq

    out = offline / "out"
    assert cli("run", "--out", out)[0] == 0
    panel = pq.read_table(out / "panel.parquet")
    meta = json.loads(panel.schema.metadata[b"entangle"])
    assert meta["outcomes"] == "no event data: outcomes omitted"
    assert meta["columns"]["outcomes"] == [] and meta["columns"]["lags"] == []
    # nothing that could read as "no violence": no event, fatality, attack or lag column
    names = panel.column_names
    assert not [c for c in names if c.startswith(("events", "fatalities", "civilian_", "attacks_", "splag_"))]
    assert {"copresence_25km", "copresence_50km", "entanglement_50km", "dist_km_peacekeeping"} <= set(names)
    # 488 PRIO-GRID cells of Mali × 144 months (2012-2023)
    assert panel.num_rows == 488 * 144

    # By hand from sites.yaml: MINUSMA (minusma_gao, from 2014-03-01) and Barkhane (barkhane_gao,
    # 2014-08-01 to 2022-08-15) share a camp at Gao, 16.27 N 0.04 W. PRIO-GRID cell 153000
    # (row 212, column 359) spans 16.0-16.5 N, 0.5-0.0 W, centroid 16.25 N 0.25 W. In June 2015
    # both were open, so the cell has peacekeeping and counterterrorism within 25 and 50 km.
    june_2015 = [r for r in panel.to_pylist() if r["period"] == dt.date(2015, 6, 1)]
    rows = [r for r in june_2015 if str(r["unit_id"]) == "153000"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["unit_lat"], row["unit_lon"]) == (16.25, -0.25)
    gao = _haversine_km(16.25, -0.25, 16.27, -0.04)  # 22.5 km; no other such site is closer
    assert row["dist_km_peacekeeping"] == pytest.approx(gao, abs=0.1)
    assert row["dist_km_counterterrorism"] == pytest.approx(gao, abs=0.1)
    assert row["present_peacekeeping_25km"] == row["present_counterterrorism_25km"] == 1
    assert row["copresence_25km"] == row["copresence_50km"] == 1
    # a cell with no site of either kind within 50 km: Kayes region, far south-west (14.25 N 11.25 W)
    far = [r for r in june_2015 if (r["unit_lat"], r["unit_lon"]) == (14.25, -11.25)]
    assert far and far[0]["copresence_50km"] == 0 and far[0]["entanglement_50km"] == 0


def test_second_run_is_cached_and_says_so(cli, offline):
    out = offline / "out"
    assert cli("run", "--out", out)[0] == 0
    first = (out / "report.html").read_bytes()
    code, _, stderr = cli("run", "--out", out)
    assert code == 0
    assert "Nothing changed since the last run" in stderr
    assert stderr.count("cached") >= 4
    assert (out / "report.html").read_bytes() == first


def test_changed_study_recomputes_only_what_depends_on_it(cli, offline):
    import entangle

    bundled = offline / "study.toml"
    from importlib import resources

    text = (resources.files(entangle) / "studies" / "mali.toml").read_text()
    bundled.write_text(text)
    assert cli("run", bundled, "--out", offline / "out")[0] == 0
    bundled.write_text(text.replace('name = "Mali 2012-2023', 'name = "Renamed Mali 2012-2023'))
    code, _, stderr = cli("run", bundled, "--out", offline / "out")
    assert code == 0
    # registry, sources and estimates came from the cache; the panel's metadata names the study
    assert "Recomputed: panel, report" in stderr
    assert "Renamed Mali" in (offline / "out" / "report.html").read_text(encoding="utf-8")


def test_prune_cache_removes_only_stale_stage_results(tmp_path):
    import os
    import time

    from entangle.pipeline import prune_cache

    old, fresh, working = tmp_path / "panel-old", tmp_path / "panel-new", tmp_path / ".panel-x.tmp"
    for folder in (old, fresh, working):
        folder.mkdir()
    long_ago = time.time() - 31 * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(working, (long_ago, long_ago))
    assert prune_cache(tmp_path, keep_days=30) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".panel-x.tmp", "panel-new"]
