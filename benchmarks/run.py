"""Run the benchmark suite and write ``benchmarks/results.json``.

Each ``benchmarks/bench_*.py`` module exposes ``BENCHMARKS``: a list of callables returning a list
of result rows ``{"name", "value", "unit", "reference", "ratio", "target", "ok"}``. ``value`` is our
time (or memory), ``reference`` the same work done by a minimal reference in the same process,
``ratio = value / reference`` and ``target`` the ratio (or absolute bound) the issue asks for.

Usage: ``python benchmarks/run.py [-k SUBSTRING]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def _modules() -> list:
    mods = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        mods.append(module)
    return mods


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-k", default="", help="run only benchmarks whose function name contains this")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    console = Console(stderr=True)
    rows: list[dict] = []
    for module in _modules():
        for bench in module.BENCHMARKS:
            if args.k and args.k not in bench.__name__:
                continue
            console.log(f"running {module.__name__}.{bench.__name__}")
            rows.extend(bench())
    out = HERE / "results.json"
    if args.k and out.exists():
        # A partial run updates its own rows and keeps the others.
        previous = [r for r in json.loads(out.read_text()) if r["name"] not in {x["name"] for x in rows}]
        rows = previous + rows
    out.write_text(json.dumps(rows, indent=2) + "\n")
    table = Table("name", "value", "unit", "reference", "ratio", "target", "ok")
    for r in rows:
        table.add_row(
            r["name"],
            f"{r['value']:.4g}",
            r["unit"],
            "" if r["reference"] is None else f"{r['reference']:.4g}",
            "" if r["ratio"] is None else f"{r['ratio']:.3f}",
            str(r["target"]),
            "yes" if r["ok"] else "NO",
        )
    Console().print(table)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
