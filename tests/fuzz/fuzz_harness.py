"""What every fuzz case checks: the exit code, one ``error:`` line, no traceback, nothing lost.

A command either succeeds (exit 0, and every input row is accounted for in the store: loaded or
rejected) or refuses (exit 2 with exactly one line ``error: <where>: <what>``, and the store exactly
as before). Exit 1 (a bug) and 130 (interrupted) never happen on bad input.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from entangle.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "sources" / "fixtures"
ENTANGLE = [sys.executable, "-m", "entangle.cli"]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip() and not line.startswith("warning:")]


def invoke(capsys, *args: object) -> Outcome:
    """``entangle ARGS`` in-process."""
    code = run_cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def spawn(*args: object, env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
    """``entangle ARGS`` in a fresh interpreter (for signals, kill -9 and a clean environment)."""
    try:
        done = subprocess.run(
            [*ENTANGLE, *map(str, args)],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:  # a hang is a failure of the case, reported as such
        return Outcome(-1, "", f"no answer within {timeout} s (a hang)")
    return Outcome(done.returncode, done.stdout, done.stderr)


NOISE = ("Traceback", "WARNING: All log messages", "re2.cc", "Error parsing", "internal:")


def assert_refused(result: Outcome, *words: str) -> str:
    """Exit 2, a single ``error:`` line, last on stderr (with ``words`` in it), no traceback and no
    library noise. Returns the line. (``run`` may print its progress lines before it.)"""
    for noise in NOISE:
        assert noise not in result.err, result.err
    assert result.code == 2, f"exit {result.code}: {result.err}{result.out}"
    errors = [line for line in result.lines if line.startswith("error")]
    assert len(errors) == 1 and result.lines[-1] == errors[0], result.err
    line = errors[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def store_state(path: Path) -> tuple:
    """Everything a load can change: row counts and the provenance of every loaded file (a store not
    yet created and an empty one are the same state)."""
    if not Path(path).exists():
        return (), ()
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        counts = tuple(
            (t, n) for t in sorted(tables) if (n := con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
        )
        prov = (
            con.execute(
                "SELECT source, sha256, rows_in, rows_loaded, rows_rejected FROM provenance ORDER BY 1, 2"
            ).fetchall()
            if "provenance" in tables
            else []
        )
    finally:
        con.close()
    return counts, tuple(prov)


def assert_accounted(path: Path) -> None:
    """Every file in the store has all of its rows: loaded + rejected = rows in, and the rows are there."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        for sha, kind, rows_in, loaded, rejected in con.execute(
            "SELECT sha256, kind, rows_in, rows_loaded, rows_rejected FROM provenance"
        ).fetchall():
            assert loaded + rejected == rows_in, (sha, rows_in, loaded, rejected)
            held = con.execute(f"SELECT count(*) FROM {kind} WHERE load_sha256 = ?", [sha]).fetchone()[0]
            assert held == loaded, (sha, held, loaded)
    finally:
        con.close()


def check_load(result: Outcome, store: Path, before: tuple) -> None:
    """The fuzz property of one ingest: loaded whole (exit 0) or refused with the store unchanged."""
    assert "Traceback" not in result.err, result.err
    if result.code == 0:
        assert_accounted(store)
        return
    assert_refused(result)
    assert store_state(store) == before


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _deploy_fixtures():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "deploy_fixtures", REPO / "tests" / "sources_deploy" / "deploy_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CSV_MAP = ["--map", "date=Date", "--map", "lat=Lat", "--map", "lon=Long", "--map", "fatalities=Killed"]


def base_files(folder: Path) -> dict[str, tuple[str, Path, list[str]]]:
    """One valid file per source and format: name -> (source, path, extra ingest arguments)."""
    deploy = _deploy_fixtures()
    folder.mkdir(parents=True, exist_ok=True)
    geopko = folder / "geopko_v1.csv"
    geopko.write_bytes(deploy.v1_bytes())
    radpko = folder / "radpko_m.csv"
    deploy.write(radpko, deploy.RADPKO_M_HEADER, deploy.RADPKO_M_ROWS)
    return {
        "acled": ("acled", FIXTURES / "acled_current_schema.csv", []),
        "acled_json": ("acled", FIXTURES / "acled_api_page.json", []),
        "ucdp": ("ucdp", FIXTURES / "ucdp_ged_v22_1.csv", []),
        "ucdp_json": ("ucdp", FIXTURES / "ucdp_api_page.json", []),
        "csv": ("csv", FIXTURES / "generic_events.csv", CSV_MAP),
        "geopko": ("geopko", geopko, ["--max-reject-share", "0.5"]),
        "radpko": ("radpko", radpko, ["--max-reject-share", "0.5"]),
    }


def big_acled(target: Path, rows: int) -> Path:
    """An ACLED file of ``rows`` valid records: the fixture's records repeated with fresh event ids."""
    lines = (FIXTURES / "acled_current_schema.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], [line.split(",", 1)[1] for line in lines[1:]]
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        for start in range(0, rows, 10_000):
            block = (f"MLX{n},{body[n % len(body)]}\n" for n in range(start, min(rows, start + 10_000)))
            handle.write("".join(block))
    return target
