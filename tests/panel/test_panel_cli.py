"""``entangle panel`` end to end on a small store, and its one-line errors on bad input."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from entangle.store import open_store
from entangle.study import load_study

D = dt.date


@pytest.fixture
def store_path(tmp_path, helpers):
    path = tmp_path / "store.duckdb"
    events = helpers.events(
        [
            {
                "date_start": D(2013, 2, 3),
                "lat": 16.27,
                "lon": -0.04,
                "fatalities_best": 7,
                "civilian_fatalities": 2,
            },
            {"date_start": D(2013, 5, 9), "lat": 14.49, "lon": -4.19, "fatalities_best": 4},
            {
                "date_start": D(2014, 5, 9),
                "lat": 14.49,
                "lon": -4.19,
                "fatalities_best": 100,
            },  # outside the window
        ]
    )
    provenance = pa.table({"source": ["acled"], "path": ["/data/acled.csv"], "sha256": ["ab" * 32]})
    with open_store(path) as store:
        store.con.register("incoming", events)
        store.con.execute("INSERT INTO events BY NAME SELECT * FROM incoming")
        store.con.register("prov", provenance)
        store.con.execute("INSERT INTO provenance BY NAME SELECT * FROM prov")
    return path


def test_panel_from_flags(cli, store_path, tmp_path):
    out = tmp_path / "panel.parquet"
    code, stdout, stderr = cli(
        "panel",
        "--store",
        store_path,
        "--from",
        "2013-01-01",
        "--to",
        "2013-06-30",
        "--out",
        out,
        "--radius",
        "30",
        "--period",
        "quarter",
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    table = pq.read_table(out)
    assert summary["rows"] == table.num_rows
    assert table.column("fatalities").to_numpy().sum() == 11
    assert sorted(set(table.column("period").to_pylist())) == [D(2013, 1, 1), D(2013, 4, 1)]
    assert "present_peacekeeping_30km" in table.column_names
    meta = json.loads(table.schema.metadata[b"entangle"])
    assert meta["sources"] == [
        {"source": "acled", "path": "/data/acled.csv", "sha256": "ab" * 32, "rows_loaded": None}
    ]
    assert meta["theatre"] == "mali" and meta["radii_km"] == [30.0] and meta["period"] == "quarter"


def test_panel_from_study(cli, store_path, tmp_path):
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "t"\nfrom = 2013-01-01\nto = 2013-03-31\nunit = "priogrid"\nextent = ["MLI"]\n'
        '[study.exposure]\nradii_km = [10.0]\n[study.imprecision]\nrule = "point"\n'
    )
    out = tmp_path / "p.parquet"
    code, _, stderr = cli("panel", "--study", study, "--store", store_path, "--out", out)
    assert code == 0, stderr
    meta = json.loads(pq.read_schema(out).metadata[b"entangle"])
    assert meta["study_hash"] == load_study(study).content_hash()
    assert meta["imprecision"]["rule"] == "point" and meta["radii_km"] == [10.0]
    assert pq.read_table(out).column("fatalities").to_numpy().sum() == 7


def _polygons(tmp_path, geoms, ids, crs="EPSG:4326"):
    import geopandas as gpd

    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame({"code": ids}, geometry=geoms, crs=crs).to_file(path)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--radius", "0"], "error: radius: every radius must be > 0 km"),
        (["--radius", "-5"], "error: radius: every radius must be > 0 km"),
        (["--from", "2013-06-01", "--to", "2013-01-31"], "error: period: empty period range"),
        (["--from", "2013-13-01"], "error: --from: '2013-13-01' is not a date"),
        (["--unit", "hexagons"], "error: unit hexagons: unknown unit"),
        (["--engine", "spark", "--radius", "0"], "error: radius"),
        (["--extent", "XYZ"], "error: extent: no outline for XYZ"),
    ],
)
def test_bad_options_one_line_nothing_written(cli, store_path, tmp_path, args, message):
    out = tmp_path / "panel.parquet"
    code, stdout, stderr = cli("panel", "--store", store_path, "--out", out, *args)
    assert stdout == ""
    assert code == 2
    assert stderr.startswith(message) and stderr.count("\n") == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["store.duckdb"]


def test_bad_polygon_files(cli, store_path, tmp_path):
    import shapely

    out = tmp_path / "panel.parquet"
    bowtie = shapely.Polygon([(0, 14), (1, 15), (1, 14), (0, 15), (0, 14)])
    bad = _polygons(tmp_path, [bowtie, shapely.box(-1, 14, 0, 15)], ["A", "B"])
    cases = [
        (f"admin:{bad}:code", "invalid geometry"),
        (f"admin:{bad}:GID_2", "no id column 'GID_2'"),
        (f"admin:{tmp_path / 'nope.gpkg'}:code", "polygon file not found"),
    ]
    for unit, message in cases:
        code, _, stderr = cli("panel", "--store", store_path, "--out", out, "--unit", unit)
        assert code == 2 and message in stderr and stderr.count("\n") == 1, stderr
        assert not out.exists()
    dup = _polygons(tmp_path, [shapely.box(0, 14, 1, 15), shapely.box(-1, 14, 0, 15)], ["A", "A"])
    code, _, stderr = cli("panel", "--store", store_path, "--out", out, "--unit", f"admin:{dup}:code")
    assert code == 2 and "is not unique ('A' repeats)" in stderr and not out.exists()


def test_projected_polygons_are_reprojected(cli, store_path, tmp_path):
    import shapely

    out = tmp_path / "panel.parquet"
    # Gao and Mopti cercle stand-ins, written in Web Mercator
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"code": ["gao", "mopti"]},
        geometry=[shapely.box(-1, 15.5, 1, 17), shapely.box(-5, 14, -3.5, 15)],
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    path = tmp_path / "merc.gpkg"
    frame.to_file(path)
    code, _, stderr = cli(
        "panel",
        "--store",
        store_path,
        "--out",
        out,
        "--unit",
        f"admin:{path}:code",
        "--from",
        "2013-01-01",
        "--to",
        "2013-12-31",
    )
    assert code == 0, stderr
    df = pq.read_table(out).to_pandas().groupby("unit_id").fatalities.sum()
    assert df.to_dict() == {"gao": 7, "mopti": 4}


def test_panel_period_bounds_as_year_or_month(cli, store_path, tmp_path):
    out = tmp_path / "panel.parquet"
    code, _, stderr = cli(
        "panel", "--store", store_path, "--from", "2013-02", "--to", "2013-03", "--out", out
    )
    assert code == 0, stderr
    meta = json.loads(pq.read_schema(out).metadata[b"entangle"])
    assert (meta["from"], meta["to"]) == ("2013-02-01", "2013-03-31")
    assert sorted(set(pq.read_table(out).column("period").to_pylist())) == [D(2013, 2, 1), D(2013, 3, 1)]
    code, _, stderr = cli("panel", "--store", store_path, "--from", "2013", "--to", "2013", "--out", out)
    assert code == 0, stderr
    meta = json.loads(pq.read_schema(out).metadata[b"entangle"])
    assert (meta["from"], meta["to"]) == ("2013-01-01", "2013-12-31")
    code, _, stderr = cli("panel", "--store", store_path, "--from", "2013-02-30", "--out", out)
    assert (
        code == 2 and "error: --from: '2013-02-30' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)" in stderr
    )


def test_parse_bound_leap_february():
    from entangle.panel.periods import parse_bound

    assert parse_bound("2020-02", "--to", last=True) == D(2020, 2, 29)
    assert parse_bound("2019-02", "--to", last=True) == D(2019, 2, 28)
    assert parse_bound("2019-02", "--from") == D(2019, 2, 1)
