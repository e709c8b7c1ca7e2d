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


def _study(name: str, args: list[str], env: dict[str, str], limit: float) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="entangle-bench-") as tmp:
        out = Path(tmp) / "out"
        env = {**env, "ENTANGLE_CACHE": str(Path(tmp) / "cache"), "ENTANGLE_OFFLINE": "1"}
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


def bench_run_shared() -> list[dict]:
    """The shared-data study: ACLED extract, Geo-PKO, GADM cercles, four models."""
    if not SHARED.is_dir():
        return [row("run_shared_fresh", float("nan"), "s", None, "shared data missing", False)]
    study = str(ROOT / "src" / "entangle" / "studies" / "mali_shared.toml")
    return _study("shared", [study], {"ENTANGLE_DATA": str(SHARED)}, 120)


BENCHMARKS = [bench_run_bundled, bench_run_shared]
