"""Registry benchmarks: loading the bundled theatre, and monthly network metrics 2012-2023.

Targets are absolute (issue 2: each under 1 s). Loading also reports, as reference, a bare
``yaml.safe_load`` of the same five files (pure-Python PyYAML); the loader parses with libyaml when
PyYAML has it, so validation and line tracking still come out faster than the bare pure-Python parse.
"""

from __future__ import annotations

import datetime as dt

import yaml

from _util import row, timed
from entangle.registry import bundled_path, load_registry
from entangle.registry.load import FILE_ORDER
from entangle.registry.network import period_metrics

TARGET_S = 1.0


def _bare_yaml() -> list:
    root = bundled_path()
    return [yaml.safe_load((root / name).read_text(encoding="utf-8")) for name in FILE_ORDER]


def bench_registry_load() -> list[dict]:
    reference, _ = timed(_bare_yaml, repeat=5)
    seconds, _ = timed(load_registry, repeat=5)
    return [row("registry_load_mali", seconds, "s", reference, TARGET_S, seconds < TARGET_S)]


def bench_registry_metrics_monthly() -> list[dict]:
    registry = load_registry()
    seconds, rows = timed(
        lambda: period_metrics(registry, "month", dt.date(2012, 1, 1), dt.date(2023, 12, 31)), repeat=3
    )
    assert len(rows) == 144
    return [row("registry_metrics_monthly_2012_2023", seconds, "s", None, TARGET_S, seconds < TARGET_S)]


BENCHMARKS = [bench_registry_load, bench_registry_metrics_monthly]
