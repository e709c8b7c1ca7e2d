"""The shared-data study (ACLED extract, Geo-PKO, GADM cercles) end to end, checked by second methods."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import entangle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory, shared_data):
    """Run the study once for the module (the CLI fixture is function-scoped, so call the API)."""
    from entangle.pipeline import run_study
    from entangle.study import load_study

    base = tmp_path_factory.mktemp("shared")
    mp = pytest.MonkeyPatch()
    mp.setenv("ENTANGLE_DATA", str(shared_data))
    mp.setenv("ENTANGLE_CACHE", str(base / "cache"))
    mp.setenv("ENTANGLE_OFFLINE", "1")
    try:
        study_path = resources.files(entangle) / "studies" / "mali_shared.toml"
        study = load_study(str(study_path))
        result = run_study(study, base / "out")
        second = run_study(study, base / "out")
    finally:
        mp.undo()
    return shared_data, base / "out", result, second


def test_outputs_and_provenance(shared_run):
    data, out, _, _ = shared_run
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "report.html",
            "brief.html",
            "panel.parquet",
            "estimates.json",
            "network.graphml",
            "provenance.json",
            "hrddp.json",
        ]
    )
    assert (out / "report.html").stat().st_size < 15_000_000
    provenance = json.loads((out / "provenance.json").read_text())
    by_file = {s["path"].rsplit("/", 1)[-1]: s for s in provenance["sources"]}
    for rel in ("acled_mali_extract/Processed_Acled_Mali.csv", "geopko/geopko_v1_2020_ccode.csv"):
        digest = hashlib.sha256((data / rel).read_bytes()).hexdigest()
        assert by_file[rel.rsplit("/", 1)[-1]]["sha256"] == digest
    acled = by_file["Processed_Acled_Mali.csv"]
    assert acled["rows_in"] == 4318 and acled["rows_loaded"] + acled["rows_rejected"] == 4318


def test_second_run_is_all_cached(shared_run):
    _, _, first, second = shared_run
    assert not first.all_cached and second.all_cached
    assert second.seconds < 15


def test_report_numbers_match_the_panel(shared_run):
    _, out, _, _ = shared_run
    panel = pq.read_table(out / "panel.parquet")
    html = (out / "report.html").read_text(encoding="utf-8")
    units = len(pc.unique(panel["unit_id"]))
    assert units == 50 and panel.num_rows == 50 * 106  # 50 cercles × Jan 2012..Oct 2020
    civilian = int(pc.sum(panel["civilian_fatalities"]).as_py())
    events = int(pc.sum(panel["events"]).as_py())
    assert f"counted {events:,} events with {civilian:,} civilian fatalities" in " ".join(html.split())
    # by-perpetrator columns add up to the total (the timeline stacks them)
    by_perpetrator = [c for c in panel.column_names if c.startswith("civilian_fatalities_")]
    parts = sum(int(pc.sum(panel[c]).as_py()) for c in by_perpetrator)
    assert parts == civilian
    assert "Mopti" in html  # admin names, not only GADM ids, label the units


def test_twfe_estimate_matches_pyfixest_directly(shared_run):
    _, out, _, _ = shared_run
    import pyfixest as pf

    results = json.loads((out / "estimates.json").read_text())
    twfe = next(r for r in results if r["design"] == "twfe" and r["inference"] == "cluster")
    ours = next(e for e in twfe["estimates"] if e["term"] == "copresence_50km")
    frame = pq.read_table(out / "panel.parquet").to_pandas()
    formula = "civilian_fatalities ~ copresence_50km | unit_id + period"
    fit = pf.feols(formula, data=frame, vcov={"CRV1": "unit_id"})
    assert ours["estimate"] == pytest.approx(fit.coef()["copresence_50km"], rel=1e-8)
    assert ours["std_error"] == pytest.approx(fit.se()["copresence_50km"], rel=1e-6)
    # and the report states it with its interval
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"95% CI {ours['ci_low']:.3g} to {ours['ci_high']:.3g}" in html
