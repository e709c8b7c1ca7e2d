"""Run the panel SQL on Apache Spark (PySpark, optional extra ``entangle[spark]``).

Uses the active Spark session when there is one (a cluster, Databricks), else starts a local one.
"""

from __future__ import annotations

import shutil

import pyarrow as pa

from entangle.errors import PanelError


def session():
    """The active SparkSession, or a local one (all cores, UI off)."""
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        raise PanelError(
            "engine spark", "pyspark is not installed", "pip install 'entangle[spark]'"
        ) from None
    if int(pyspark.__version__.split(".")[0]) < 4:
        # createDataFrame(pyarrow.Table) and DataFrame.toArrow() arrived in PySpark 4.0
        raise PanelError("engine spark", f"needs pyspark >= 4.0 (found {pyspark.__version__})", "upgrade it")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if shutil.which("java") is None:
        raise PanelError("engine spark", "Spark needs Java 17+ and none was found", "install a JRE 17")
    return (
        SparkSession.builder.master("local[*]")
        .appName("entangle-panel")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def run(tables: dict[str, pa.Table], queries: dict[str, str]) -> dict[str, pa.Table]:
    """Register ``tables`` as temp views, run ``queries`` in order, collect each result as Arrow."""
    spark = session()
    for name, table in tables.items():
        spark.createDataFrame(table).createOrReplaceTempView(name)
    out = {}
    for name, sql in queries.items():
        frame = spark.sql(sql).cache()
        frame.createOrReplaceTempView(name)
        out[name] = frame.toArrow()
    return out
