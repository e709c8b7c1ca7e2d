"""``entangle run`` end to end, as a user runs it: a fresh process, a fresh cache, then a cached rerun.

Targets (issue 6): the bundled study under 60 s, the shared-data study under 120 s including
estimates, the report under 15 MB, and a rerun with nothing changed in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import row

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENTANGLE_SHARED_DATA", ROOT.parent / "shared" / "data"))
ENTANGLE = [str(Path(sys.executable).parent / "entangle")]  # the installed console script


def _run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([*ENTANGLE, "run", *args], env={**os.environ, **env}, check=True, capture_output=True)
    return time.perf_counter() - t0


def _study(name: str, args: list[str], env: dict[str, str], limit: float, prepare_cache=None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="entangle-bench-") as tmp:
        out = Path(tmp) / "out"
        env = {**env, "ENTANGLE_CACHE": str(Path(tmp) / "cache"), "ENTANGLE_OFFLINE": "1"}
        if prepare_cache is not None:
            prepare_cache(Path(tmp) / "cache")
        first = _run([*args, "--out", str(out)], env)
        again = _run([*args, "--out", str(out)], env)
        size = (out / "report.html").stat().st_size / 1e6
    return [
        row(f"run_{name}_fresh", first, "s", None, f"< {limit:g} s", first < limit),
        row(f"run_{name}_cached_rerun", again, "s", first, "< 10 s", again < 10),
        row(f"run_{name}_report_size", size, "MB", None, "< 15 MB", size < 15),
    ]


def bench_run_bundled() -> list[dict]:
    """The bundled Mali study (offline: no event data on this machine)."""
    return _study("bundled", [], {}, 60)


def synthetic_ged(cache: Path, rows: int = 400_000, seed: int = 1) -> Path:
    """A SYNTHETIC file in UCDP GED's CSV layout, GED-sized (about 400k events worldwide, 2% in Mali),
    placed in the download cache as if `entangle fetch ucdp` had run. Benchmark input only."""
    import hashlib
    import zipfile

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    header = (ROOT / "tests" / "sources" / "fixtures" / "ucdp_ged_v22_1.csv").read_text().splitlines()[0]
    mali = rng.random(rows) < 0.02
    lat = np.where(mali, rng.uniform(11, 24, rows), rng.uniform(-35, 38, rows)).round(4)
    lon = np.where(mali, rng.uniform(-11, 4, rows), rng.uniform(-20, 52, rows)).round(4)
    day = pd.Timestamp("1989-01-01") + pd.to_timedelta(rng.integers(0, 35 * 365, rows), unit="D")
    day = day.where(
        ~mali, pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 12 * 365, rows), unit="D")
    )
    kind = rng.integers(1, 4, rows)
    best = rng.negative_binomial(1, 0.3, rows)
    stamp = day.strftime("%Y-%m-%d 00:00:00.000")
    frame = pd.DataFrame({c: "" for c in header.split(",")}, index=range(rows))
    frame["id"] = np.arange(1, rows + 1)
    frame["type_of_violence"] = kind
    frame["side_a"] = np.where(mali, "Government of Mali", "Government of X")
    frame["side_b"] = np.where(kind == 3, "Civilians", "JNIM")
    frame["where_prec"] = rng.integers(1, 5, rows)
    frame["latitude"], frame["longitude"] = lat, lon
    frame["country"] = np.where(mali, "Mali", "Elsewhere")
    frame["date_prec"] = rng.integers(1, 3, rows)
    frame["date_start"] = frame["date_end"] = stamp
    frame["deaths_civilians"] = np.where(kind == 3, best, 0)
    frame["best"], frame["low"], frame["high"] = best, best, best + 2
    frame["year"] = day.year
    frame["source_article"] = "SYNTHETIC benchmark row, not UCDP data"
    target = cache / "ucdp" / "ged251-csv.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GEDEvent_v25_1.csv", frame.to_csv(index=False))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    return target


def bench_run_bundled_with_events() -> list[dict]:
    """The bundled study when UCDP GED is in the cache (a SYNTHETIC GED-sized file stands in)."""
    rows = _study("bundled_ged", [], {}, 60, prepare_cache=synthetic_ged)
    return rows


def bench_run_shared() -> list[dict]:
    """The shared-data study: ACLED extract, Geo-PKO, GADM cercles, four models."""
    if not SHARED.is_dir():
        return [row("run_shared_fresh", float("nan"), "s", None, "shared data missing", False)]
    study = str(ROOT / "src" / "entangle" / "studies" / "mali_shared.toml")
    return _study("shared", [study], {"ENTANGLE_DATA": str(SHARED)}, 120)


BENCHMARKS = [bench_run_bundled, bench_run_bundled_with_events, bench_run_shared]
