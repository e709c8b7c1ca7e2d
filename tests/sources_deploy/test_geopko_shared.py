"""The real Geo-PKO files in ../shared/data (read in place, never copied): complete, honest loads.

Expected figures are computed here a second way (pandas, or raw bytes), not copied from the loader.
"""

from __future__ import annotations

import pandas as pd
import pytest
from deploy_fixtures import registry

from entangle.sources.geopko import read_geopko

pytestmark = pytest.mark.shared
FILES = ["geopko_v1_2020_ccode.csv", "FrontMap_v.2.3.csv", "TTMap_v.2.3.csv", "TCCMap_v.2.3.csv"]
_loaded: dict = {}


def load(shared_data, name, reg=None):
    key = (name, reg is None)
    if key not in _loaded:
        _loaded[key] = read_geopko(shared_data / "geopko" / name, reg or registry())
    return _loaded[key]


def pandas_rows(shared_data, name) -> pd.DataFrame:
    return pd.read_csv(shared_data / "geopko" / name, encoding_errors="replace", low_memory=False)


@pytest.mark.parametrize("name", FILES)
def test_every_row_loaded_or_rejected(shared_data, name):
    result = load(shared_data, name)
    assert result.rows_in == len(pandas_rows(shared_data, name))
    assert result.rows_in == result.rows_loaded + result.rows_rejected
    assert len(result.table.column("site_id").unique()) == result.rows_loaded


def test_v1_counts_encoding_fallbacks_and_troop_text(shared_data):
    raw = (shared_data / "geopko" / "geopko_v1_2020_ccode.csv").read_bytes()
    not_utf8 = 0
    for line in raw.split(b"\n"):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8 += 1
    frame = pandas_rows(shared_data, "geopko_v1_2020_ccode.csv")
    na_troops = int(pd.to_numeric(frame["No.troops"], errors="coerce").isna().sum())
    result = load(shared_data, "geopko_v1_2020_ccode.csv")
    assert f"{not_utf8} lines were not valid UTF-8 and were decoded as cp1252" in result.notes
    assert any(n.startswith(f"{na_troops} No.troops cells were not numeric") for n in result.notes)
    no_coords = int((frame["latitude"].isna() | frame["longitude"].isna()).sum())
    assert result.rows_rejected == no_coords


def test_v1_minusma_troops_match_the_file(shared_data):
    frame = pandas_rows(shared_data, "geopko_v1_2020_ccode.csv")
    minusma = frame[frame["Mission"] == "MINUSMA"]
    expected = minusma.groupby(["year", "location"])["No.troops"].max().astype(int).to_dict()
    table = load(shared_data, "geopko_v1_2020_ccode.csv").table.to_pandas()
    got = table[table["mission"] == "MINUSMA"]
    got = got.assign(year=got["start"].map(lambda d: d.year)).groupby(["year", "name"])["troops"].max()
    assert {k: int(v) for k, v in got.to_dict().items()} == expected
    assert set(got.index.get_level_values("year")) == set(range(2014, 2019))


def test_frontmap_keeps_one_row_per_location_year_with_the_yearly_mean(shared_data):
    frame = pandas_rows(shared_data, "FrontMap_v.2.3.csv")
    groups = frame.groupby(["mission", "year", "location", "latitude", "longitude"], dropna=False)
    result = load(shared_data, "FrontMap_v.2.3.csv")
    assert result.rows_loaded == groups.ngroups
    means = groups["ave.no.troops"].first()
    table = result.table.to_pandas()
    gao = table[(table["mission"] == "MINUSMA") & (table["name"] == "Gao")]
    for _, row in gao.iterrows():
        mean = means[("MINUSMA", row["start"].year, "Gao", row["lat"], row["lon"])]
        assert row["troops"] == round(mean)


def test_every_minusma_location_maps_to_a_registry_site(shared_data):
    """Needs the bundled Mali sites.yaml (written in parallel by the registry owner)."""
    from entangle.registry import load_registry

    bundled = load_registry()
    for name in ("geopko_v1_2020_ccode.csv", "FrontMap_v.2.3.csv"):
        table = read_geopko(shared_data / "geopko" / name, bundled).table.to_pandas()
        minusma = table[table["mission"] == "MINUSMA"]
        assert len(minusma) > 0
        assert set(minusma["intervention_id"]) == {"minusma"}
        unmatched = sorted(set(minusma.loc[minusma["registry_site_id"].isna(), "name"]))
        assert unmatched == [], f"{name}: MINUSMA locations with no registry site: {unmatched}"


@pytest.mark.parametrize("name", FILES)
def test_every_real_file_ingests_with_the_default_reject_share(shared_data, tmp_path, name):
    """Folded per-map duplicates (FrontMap) are accounted for in rejects but are not errors."""
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    with open_store(tmp_path / "store.duckdb") as store:
        result = ingest(store, "geopko", shared_data / "geopko" / name)
        info = store.info()
    frame = pandas_rows(shared_data, name)
    assert result.rows_in == len(frame)
    assert info["tables"]["sites"] == result.rows_loaded
    assert result.rows_loaded + result.rows_rejected == len(frame)
    folded = sum(r.startswith("folded into line") for r in result.rejects.column("reason").to_pylist())
    assert result.rows_folded == folded
