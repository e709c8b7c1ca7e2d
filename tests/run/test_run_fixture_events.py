"""A run with event files (the loaders' hand-made UCDP and ACLED fixtures): needs no shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "fixtures"

STUDY = f"""[study]
name = "Fixture events"
theatre = "mali"
from = 2012-01-01
to = 2020-12-31
unit = "priogrid"
extent = ["MLI"]

[[study.sources.events]]
source = "ucdp"
path = "{FIXTURES / "ucdp_ged_v22_1.csv"}"

[[study.sources.events]]
source = "acled"
path = "{FIXTURES / "acled_old_schema.csv"}"
"""


def test_two_event_sources_build_a_panel_and_say_they_may_overlap(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    out = tmp_path / "out"
    code, _, stderr = cli("run", study, "--out", out)
    assert code == 0, stderr
    assert (out / "panel.parquet").exists()
    assert json.loads((out / "estimates.json").read_text()) == []  # the study lists no model
    panel = pq.read_table(out / "panel.parquet")
    html = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    events = int(pc.sum(panel["events"]).as_py())
    civilian = int(pc.sum(panel["civilian_fatalities"]).as_py())
    assert 0 < events <= 6 + 9  # at most every fixture row
    assert f"counted {events:,} events with {civilian:,} civilian fatalities" in html
    assert "Events from 2 sources (acled, ucdp) are added together" in html
    provenance = json.loads((out / "provenance.json").read_text())
    assert sorted(s["source"] for s in provenance["sources"]) == ["acled", "ucdp"]
    assert sum(s["rows_in"] for s in provenance["sources"]) == 6 + 9
