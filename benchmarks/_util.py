"""Helpers shared by the benchmark modules."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time in seconds over ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_rss_mb(code: str) -> tuple[float, dict]:
    """Run Python ``code`` in a fresh process; return its peak RSS in MB and the JSON it prints last."""
    # VmHWM is the peak RSS of this process image alone; getrusage's ru_maxrss would also count the
    # pages the child shared with a large parent before exec.
    wrapper = (
        code
        + "\nimport json as _j, re as _re\n"
        + "_hwm = _re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
        + "print(_j.dumps({'__peak_kb': int(_hwm)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    payload = json.loads(lines[-1])
    extra = json.loads(lines[-2]) if len(lines) > 1 else {}
    return payload["__peak_kb"] / 1024, extra


def row(
    name: str,
    value: float,
    unit: str,
    reference: float | None,
    target: float | str,
    ok: bool,
) -> dict:
    """One result row; ``ratio`` is value / reference when there is a reference."""
    ratio = None if reference in (None, 0) else value / reference
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference,
        "ratio": ratio,
        "target": target,
        "ok": bool(ok),
    }
