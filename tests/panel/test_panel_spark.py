"""The Spark engine gives the same panel as DuckDB on the same inputs (local Spark, slow)."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest

from entangle.geo.assign import ImprecisionRule
from entangle.geo.units import priogrid_gid
from entangle.panel import PanelSpec, build_panel, registry_sites

pytestmark = pytest.mark.slow
D = dt.date


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("entangle-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_and_duckdb_panels_identical(spark, helpers):
    rng = np.random.default_rng(5)
    n = 400
    rows = [
        {
            "date_start": D(2013, 1, 1) + dt.timedelta(days=int(rng.integers(0, 360))),
            "lat": float(rng.uniform(13, 17)),
            "lon": float(rng.uniform(-5, 0)),
            "fatalities_best": int(rng.poisson(4)),
            "civilian_fatalities": int(rng.poisson(1)),
            "violence_type": ["state_based", "non_state", "one_sided", "O'Brien type"][i % 4],
            "perpetrator_category": ["jihadist", "militia", None, "state_and_allied"][i % 4],
            "target_peacekeepers": bool(i % 7 == 0),
            "geo_precision": int(rng.integers(1, 4)),
        }
        for i in range(n)
    ]
    ev = helpers.events(rows)
    reg = helpers.registry(
        interventions=[
            helpers.intervention("un", "peacekeeping"),
            helpers.intervention("fr", "counterterrorism"),
        ],
        ties=[helpers.tie("t", "un", "fr", 1.5, start=D(2013, 4, 1))],
        sites=[
            helpers.site("a", "un", 14.5, -4.2, start=D(2013, 2, 1), troops=500),
            helpers.site("b", "fr", 14.6, -4.0, start=D(2013, 1, 10), end=D(2013, 8, 1)),
        ],
    )
    spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 12, 31), imprecision=ImprecisionRule(rule="point"))
    duck = build_panel(ev, registry_sites(reg), reg, spec, engine="duckdb")
    spark_panel = build_panel(ev, registry_sites(reg), reg, spec, engine="spark")
    assert duck.schema.remove_metadata() == spark_panel.schema.remove_metadata()
    assert duck.replace_schema_metadata(None).equals(spark_panel.replace_schema_metadata(None))
    cells = set(duck.column("unit_id").to_pylist())
    inside = [r for r in rows if priogrid_gid(np.array([r["lat"]]), np.array([r["lon"]]))[0] in cells]
    assert duck.column("fatalities").to_numpy().sum() == sum(r["fatalities_best"] for r in inside)
