"""Every MINUSMA location in Geo-PKO (v1 and v2.3) maps to a MINUSMA site of the bundled registry.

The Geo-PKO files are read in place from the shared data directory (never copied). A location
maps when its name equals a site's name or alias after ``normalize_place``, the site lies within
25 km of every coordinate Geo-PKO gives for it, and the site is active whenever Geo-PKO observed it
while the mission existed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from entangle.registry.places import normalize_place
from entangle.registry.schema import Site

SITES_YAML = Path(__file__).resolve().parents[2] / "src/entangle/registry/theatres/mali/sites.yaml"
MAX_KM = 25.0
MISSION_END = dt.date(2023, 12, 31)  # S/RES/2690 (2023); Geo-PKO keeps 2024 liquidation entries
V23_FILES = ("FrontMap_v.2.3.csv", "TTMap_v.2.3.csv", "TCCMap_v.2.3.csv")
# The locations PROVENANCE.md lists for MINUSMA, spelled as in the files.
EXPECTED_LOCATIONS = {
    "Aguelhok",
    "Ansongo",
    "Bamako",
    "Ber",
    "Douentza",
    "Dyabali",
    "Gao",
    "Gossi",
    "Goundam",
    "Kidal",
    "Leré",
    "Mopti/Sevare",
    "Ménaka",
    "Tessalit",
    "Tombouctou (Timbuktu)",
}


def _read_mixed(path: Path) -> pd.DataFrame:
    """Geo-PKO mixes UTF-8 and cp1252 lines: decode each line with the first that works."""
    lines = []
    for raw in path.read_bytes().splitlines():
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252"))
    return pd.read_csv(io.StringIO("\n".join(lines)), low_memory=False)


def _minusma_rows(frame: pd.DataFrame, mission_col: str, source: str) -> pd.DataFrame:
    rows = frame[frame[mission_col].astype(str).str.strip() == "MINUSMA"]
    return rows.assign(source=source)


@pytest.fixture
def geopko(shared_data: Path) -> pd.DataFrame:
    return _observations(shared_data / "geopko")


@functools.cache
def _observations(folder: Path) -> pd.DataFrame:
    """One row per MINUSMA observation: source file, location, lat, lon, period first/last day."""
    v1 = _minusma_rows(_read_mixed(folder / "geopko_v1_2020_ccode.csv"), "Mission", "v1")
    month = pd.to_datetime(dict(year=v1["year"], month=v1["month"], day=1))
    parts = [v1.assign(first=month.dt.date, last=(month + pd.offsets.MonthEnd(0)).dt.date)]
    for name in V23_FILES:
        rows = _minusma_rows(_read_mixed(folder / name), "mission", name)
        years = rows["year"].astype(int)
        first, last = [dt.date(y, 1, 1) for y in years], [dt.date(y, 12, 31) for y in years]
        parts.append(rows.assign(first=first, last=last))
    columns = ["source", "location", "latitude", "longitude", "first", "last"]
    return pd.concat([part[columns] for part in parts], ignore_index=True)


@pytest.fixture(scope="module")
def minusma_sites() -> dict[str, list[Site]]:
    """MINUSMA sites keyed by every normalised name and alias."""
    entries = yaml.safe_load(SITES_YAML.read_text(encoding="utf-8"))
    index: dict[str, list[Site]] = {}
    for entry in entries:
        site = Site.model_validate(entry)
        if site.intervention_id != "minusma":
            continue
        for key in {normalize_place(label) for label in (site.name, *site.aliases)}:
            index.setdefault(key, []).append(site)
    return index


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_geopko_minusma_locations_are_the_documented_fifteen(geopko):
    for source, rows in geopko.groupby("source"):
        assert set(rows["location"]) == EXPECTED_LOCATIONS, source


def test_every_geopko_location_maps_to_one_nearby_minusma_site(geopko, minusma_sites):
    for location, rows in geopko.groupby("location"):
        matches = minusma_sites.get(normalize_place(location), [])
        assert len(matches) == 1, f"{location!r} matches {[s.id for s in matches]}"
        site = matches[0]
        for lat, lon in rows[["latitude", "longitude"]].drop_duplicates().itertuples(index=False):
            km = _haversine_km(site.lat, site.lon, float(lat), float(lon))
            assert km <= MAX_KM, f"{location!r}: {site.id} is {km:.1f} km from Geo-PKO ({lat}, {lon})"


def test_matched_site_is_active_whenever_geopko_observed_it(geopko, minusma_sites):
    during_mission = geopko[geopko["first"] <= MISSION_END]
    for row in during_mission.itertuples(index=False):
        site = minusma_sites[normalize_place(row.location)][0]
        seen = f"{row.source} observation {row.first}..{row.last}"
        active = f"{site.id} ({site.start}..{site.end})"
        assert site.active_between(row.first, row.last), f"{active} inactive in {seen}"


def test_geopko_2024_entries_are_the_liquidation_sites(geopko, minusma_sites):
    after = geopko[geopko["first"] > MISSION_END]
    ids = {minusma_sites[normalize_place(name)][0].id for name in after["location"]}
    assert ids == {"minusma_bamako", "minusma_gao"}


def test_haversine_on_a_known_distance():
    # One degree of latitude on the mean-radius sphere is 2 * pi * 6371.0088 / 360 km.
    assert _haversine_km(16.0, -3.0, 17.0, -3.0) == pytest.approx(111.195, abs=1e-3)
