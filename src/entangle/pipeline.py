"""``entangle run``: registry → sources → store → panel → estimates → mechanisms → report, cached stage
by stage.

Each stage has a key: the SHA-256 of everything it depends on (the study's settings, the registry
files, the input files' checksums, the previous stage's key and entangle's version). A stage whose
key is in the cache is read back instead of recomputed, so a second run with nothing changed takes
seconds and says so. Outputs go to OUT only at the very end, each file atomically; a study that
does not validate writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entangle import __version__
from entangle.atomic import atomic_path
from entangle.errors import EntangleError, FetchError, StudyError
from entangle.sources.readers import sha256_file
from entangle.study import SITE_DESIGNS, Study

OUTPUTS = (
    "report.html",
    "brief.html",
    "panel.parquet",
    "estimates.json",
    "network.graphml",
    "provenance.json",
    "hrddp.json",
)
STAGES = ("registry", "sources", "panel", "estimates", "mechanisms", "report")
# Exposures need sites only; without events the panel keeps them and drops every outcome and lag,
# so no zero can be read as "no violence".
NO_EVENTS_NOTE = "no event data: outcomes omitted"
PANEL_KEYS = ("unit_id", "period", "unit_lat", "unit_lon")


@dataclass
class StageRun:
    name: str
    key: str
    cached: bool
    seconds: float
    detail: str = ""


@dataclass
class RunResult:
    out: Path
    outputs: dict[str, Path]
    stages: list[StageRun]
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_cached(self) -> bool:
        return all(s.cached for s in self.stages)


def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def tree_sha256(root: Path) -> str:
    """Checksum of every file under ``root`` (names and contents), e.g. a registry directory."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


@functools.cache
def code_sha256() -> str:
    """Checksum of entangle's own files: part of every stage key, so a changed layer is never served
    from a cache built by older code (the version number alone does not change between commits)."""
    return tree_sha256(Path(__file__).parent)


def run_cache_dir() -> Path:
    """Where stage results live: ``$ENTANGLE_CACHE/runs`` or the user cache directory."""
    from entangle.sources.fetch import cache_dir

    return cache_dir() / "runs"


# --- validation: everything that can be checked before any work ---------------------------------


def validate(study: Study):
    """Check the study against its theatre; return the loaded registry. Raises ``StudyError``."""
    from entangle.registry import bundled_path, load_registry

    where = str(study.path or "study")
    if study.registry is not None:
        if not Path(study.registry).is_dir():
            raise StudyError(
                f"{where}: study.registry", f"{study.registry} is not a directory", "fix the path"
            )
        registry = load_registry(study.registry)
    else:
        root = bundled_path(study.theatre)
        if not root.is_dir():
            known = sorted(p.name for p in root.parent.iterdir() if p.is_dir())
            raise StudyError(
                f"{where}: study.theatre",
                f"unknown theatre {study.theatre!r}",
                f"bundled theatres: {', '.join(known)}; or set registry = DIR",
            )
        registry = load_registry(root)
    theatre = registry.theatre
    if theatre.id != study.theatre:
        raise StudyError(
            f"{where}: study.theatre",
            f"the registry describes theatre {theatre.id!r}, not {study.theatre!r}",
            f"set theatre = {theatre.id!r}",
        )
    if study.end < theatre.start or study.start > theatre.end:
        raise StudyError(
            f"{where}: study.from",
            f"{study.start}..{study.end} lies outside the theatre's {theatre.start}..{theatre.end}",
            "choose dates that overlap the theatre",
        )
    _check_model_options(study, where)
    _check_model_columns(study, registry, where)
    from entangle.mechanisms.api import check_study

    check_study(study, registry)  # site designs and profiles name interventions or kinds
    if study.unit.startswith("admin:"):
        path = study.unit[len("admin:") :].rsplit(":", 1)[0]
        if not Path(path).is_file():
            raise StudyError(f"{where}: study.unit", f"polygon file {path} does not exist", "fix the path")
    return registry


def _check_model_columns(study: Study, registry, where: str) -> None:
    """Every column a model or the grid names must be one the panel will have (study keys named)."""
    import difflib

    from entangle.measures import radius_label
    from entangle.panel.columns import column_names, known_columns, unknown_column

    radii = study.exposure.radii_km
    listed = known_columns([i.kind for i in registry.interventions], radii)
    known = set(listed)
    named: list[tuple[str, str]] = []
    for k, model in enumerate(study.models):
        named += [
            (f"study.models[{k}].outcome", model.outcome),
            (f"study.models[{k}].treatment", model.treatment),
        ]
        named += [(f"study.models[{k}].controls[{j}]", c) for j, c in enumerate(model.controls)]
    if study.grid is not None:
        for field in ("outcomes", "treatments"):
            named += [(f"study.grid.{field}[{j}]", t) for j, t in enumerate(getattr(study.grid, field))]
    for key, expression in named:
        for name in column_names(expression):
            if not unknown_column(name, known):
                continue
            close = difflib.get_close_matches(name, listed, n=3, cutoff=0.75)
            km = re.search(r"_(\d+(?:p\d+)?)km$", name)
            family = name[: km.start()] if km else None
            if family and any(f"{family}_{radius_label(r)}km" in known for r in radii):
                hint = f"study.exposure.radii_km is {[float(r) for r in radii]}: add this radius there"
            else:
                hint = f"did you mean {', '.join(close)}?" if close else "see docs/panel.md for the columns"
            raise StudyError(f"{where}: {key}", f"the panel has no column {name!r}", hint)


def _check_model_options(study: Study, where: str) -> None:
    """Model options are the one part of a model checkable before the panel exists. The estimators
    take seconds to import, so a set of options once found valid is remembered in the cache."""
    options = [(m.design, dict(m.options)) for m in study.models if m.options]
    if not options:
        return
    memo = run_cache_dir() / f"options-ok-{_sha(options, code_sha256())[:24]}"
    if memo.exists():
        memo.touch()  # last use, for pruning
        return
    from entangle.estimate.api import resolve_options
    from entangle.mechanisms.sites import SITE_OPTIONS

    for k, model in enumerate(study.models):
        if model.options:
            try:
                if model.design in SITE_DESIGNS:  # estimated as staggered DiD (entangle.mechanisms.sites)
                    resolve_options("did", {n: v for n, v in model.options.items() if n not in SITE_OPTIONS})
                else:
                    resolve_options(model.design, dict(model.options))
            except EntangleError as exc:
                option = exc.where.removeprefix("--option ")
                raise StudyError(f"{where}: study.models[{k}].options.{option}", exc.what, exc.hint) from None
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.touch()


# --- event data: files, then the cache, then a download -----------------------------------------


def _online(url: str, timeout: float = 3.0) -> bool:
    """A quick reachability probe of the host serving ``url``, so an offline run never waits on long
    HTTP timeouts (a mirror set with ENTANGLE_UCDP_URL is probed, not the default host)."""
    if os.environ.get("ENTANGLE_OFFLINE") == "1":
        return False
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    result = {"ok": False}

    def probe() -> None:
        try:
            with socket.create_connection(address, timeout=timeout):
                result["ok"] = True
        except OSError:
            pass

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return result["ok"]


def event_inputs(study: Study) -> tuple[list[tuple[str, Path, dict]], list[str]]:
    """The event files to load as (source, path, columns), and notices on where they came from."""
    files = [(e.source, Path(e.path), dict(e.columns)) for e in study.sources.events]
    if files or not study.sources.fetch:
        return files, []
    from entangle.sources import fetch

    notices: list[str] = []
    for source in study.sources.fetch:
        if source != "ucdp":
            notices.append(f"{source}: downloads need credentials and a country query; name a file instead.")
            continue
        cached = sorted((fetch.cache_dir() / "ucdp").glob("ged*-csv.zip"))
        cached = [p for p in cached if p.with_name(p.name + ".sha256").is_file()]
        if cached:
            files.append(("ucdp", cached[-1], {}))
            notices.append(f"UCDP GED events from the local cache ({cached[-1].name}).")
        elif _online(os.environ.get("ENTANGLE_UCDP_URL", fetch.UCDP_DEFAULT_URL)):
            try:
                got = fetch.fetch_ucdp()
                files.append(("ucdp", got.path, {}))
                notices.append(f"UCDP GED events downloaded from {got.url}.")
            except FetchError as exc:
                notices.append(f"UCDP GED could not be downloaded ({exc}).")
        else:
            notices.append("UCDP GED is not in the local cache and this machine is offline.")
    return files, notices


# --- the run ---------------------------------------------------------------------------------------


class _Stages:
    """Runs stages with a progress line each, reading and writing the per-stage cache."""

    def __init__(self, cache: Path, console) -> None:
        self.cache = cache
        self.console = console
        self.runs: list[StageRun] = []

    def run(
        self, name: str, key: str, exists: Callable[[Path], bool], compute: Callable[[Path], str]
    ) -> Path:
        folder = self.cache / f"{name}-{key[:24]}"
        t0 = time.perf_counter()
        cached = folder.is_dir() and exists(folder)
        detail = ""
        if not cached:
            tmp = self.cache / f".{name}-{key[:24]}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                # A plain line, not a live spinner: stages show their own progress bars.
                self.console.print(f"  [bold]…[/] {name:<10} working")
                detail = compute(tmp)
                (tmp / "detail.txt").write_text(detail, encoding="utf-8")
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(tmp, folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            marker = folder / "detail.txt"
            detail = marker.read_text(encoding="utf-8") if marker.exists() else ""
            os.utime(folder)  # last use, for pruning
        seconds = time.perf_counter() - t0
        self.runs.append(StageRun(name, key, cached, seconds, detail))
        state = "[dim]cached[/]" if cached else "[green]done[/]"
        self.console.print(f"  {state} {name:<10} {seconds:6.2f} s  {detail}")
        return folder


def run_study(study: Study, out: str | os.PathLike[str], console=None) -> RunResult:
    """Run the whole flow for ``study`` and write the five outputs to ``out``."""
    from rich.console import Console

    console = console or Console(stderr=True)
    t_start = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StudyError(str(out), "the output path exists and is not a directory", "choose another --out")
    registry = validate(study)
    registry_root = Path(registry.path) if registry.path else None
    registry_hash = (
        tree_sha256(registry_root) if registry_root and registry_root.is_dir() else _sha(repr(registry))
    )
    study_hash = study.content_hash()
    cache = run_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    stages = _Stages(cache, console)
    console.print(
        f"[bold]entangle run[/] {study.name}  (theatre {study.theatre}, {study.start} to {study.end})"
    )

    # registry: network metrics and graph
    code = code_sha256()
    reg_key = _sha("registry", registry_hash, str(study.start), str(study.end), code)
    reg_dir = stages.run(
        "registry",
        reg_key,
        lambda d: (d / "metrics.json").exists(),
        lambda d: _registry_stage(registry, study, d),
    )

    # sources → store
    files, notices = event_inputs(study)
    deployments = [(e.source, Path(e.path), dict(e.columns)) for e in study.sources.deployments]
    inputs = [(s, str(p), c, sha256_file(p)) for s, p, c in files + deployments]
    src_key = _sha("sources", [(s, c, h) for s, _, c, h in inputs], registry_hash, code)
    src_dir = stages.run(
        "sources",
        src_key,
        lambda d: (d / "provenance.json").exists(),
        lambda d: _sources_stage(files, deployments, registry, d, [(p, h) for _, p, _, h in inputs]),
    )
    summary = json.loads((src_dir / "summary.json").read_text())
    has_events = summary["events"] > 0
    if len(summary.get("event_sources", [])) > 1:
        notices.append(
            f"Events from {len(summary['event_sources'])} sources ({', '.join(summary['event_sources'])}) "
            "are added together; UCDP and ACLED record many of the same events, so counts may include "
            "the same event twice. Use one event source per study to avoid it."
        )
    if not has_events:
        why = (
            "the event files loaded no event"
            if files
            else "the study names no event file, none is in the local cache, and none could be downloaded"
        )
        notices.insert(
            0,
            f"No event data was available: {why}. Civilian-harm outcomes, the map of harm and estimates "
            "are therefore missing. Everything that needs no events is shown in full: the registry, "
            "mandates, deployments, network and each unit's entanglement exposure.",
        )

    # panel (exposures only, when there are no events)
    panel_key = _sha("panel", src_key, study_hash, registry_hash, code)
    panel_dir = stages.run(
        "panel",
        panel_key,
        lambda d: (d / "panel.parquet").exists(),
        lambda d: _panel_stage(study, registry, src_dir, d, has_events),
    )

    # estimates
    models = [m.model_dump(mode="json") for m in study.models]
    grid = study.grid.model_dump(mode="json") if study.grid else None
    est_key = _sha("estimates", panel_key if has_events else None, models, grid, code)
    est_dir = stages.run(
        "estimates",
        est_key,
        lambda d: (d / "estimates.json").exists(),
        lambda d: _estimates_stage(study, panel_dir if has_events else None, d),
    )

    # mechanisms: HRDDP monitor, distance profiles, site designs (entangle.mechanisms)
    site_models = [m.model_dump(mode="json") for m in study.models if m.design in SITE_DESIGNS]
    mech_settings = [study.mechanisms.model_dump(mode="json"), site_models, str(study.start), str(study.end)]
    mech_key = _sha(
        "mechanisms", src_key, panel_key if has_events else None, mech_settings, registry_hash, code
    )
    mech_dir = stages.run(
        "mechanisms",
        mech_key,
        lambda d: (d / "mechanisms.json").exists(),
        lambda d: _mechanisms_stage(study, registry, src_dir, panel_dir if has_events else None, d),
    )

    # report
    rep_key = _sha(
        "report",
        reg_key,
        src_key,
        panel_key,
        est_key,
        mech_key,
        notices,
        study_hash,
        code,
    )
    rep_dir = stages.run(
        "report",
        rep_key,
        lambda d: all((d / f).exists() for f in ("report.html", "brief.html", "labels.json")),
        lambda d: _report_stage(study, registry, reg_dir, src_dir, panel_dir, est_dir, notices, d, mech_dir),
    )

    written = _publish(
        out,
        {
            "report.html": rep_dir / "report.html",
            "brief.html": rep_dir / "brief.html",
            "panel.parquet": panel_dir / "panel.parquet",
            "estimates.json": est_dir / "estimates.json",
            "network.graphml": reg_dir / "network.graphml",
            "provenance.json": src_dir / "provenance.json",
            "hrddp.json": mech_dir / "hrddp.json",
        },
        {
            "study": study.name,
            "study_hash": study_hash,
            "registry_sha256": registry_hash,
            "synthetic": json.loads((rep_dir / "labels.json").read_text())["synthetic"],
            "panel": {
                "outcomes": "included" if has_events else NO_EVENTS_NOTE,
                "rules": _panel_rules(panel_dir),
            },
        },
    )
    prune_cache(cache)
    result = RunResult(out, written, stages.runs, notices, time.perf_counter() - t_start)
    _final_message(console, result)
    return result


CACHE_KEEP_DAYS = 30


def prune_cache(cache: Path, keep_days: float = CACHE_KEEP_DAYS) -> list[Path]:
    """Delete stage results (and option checks) not used for ``keep_days`` days; every run touches
    what it uses."""
    cutoff = time.time() - keep_days * 86400
    removed = []
    for entry in cache.iterdir():
        if entry.name.startswith(".") or entry.stat().st_mtime >= cutoff:
            continue  # in use, or a stage still being written
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _final_message(console, result: RunResult) -> None:
    if result.all_cached:
        console.print(
            f"[bold]Nothing changed[/] since the last run: every stage came from the cache "
            f"({result.seconds:.1f} s)."
        )
    else:
        redone = ", ".join(s.name for s in result.stages if not s.cached)
        console.print(f"Recomputed: {redone} ({result.seconds:.1f} s).")
    for notice in result.notices:
        console.print(f"[yellow]note[/]: {notice}")
    console.print(f"Report: {result.outputs['report.html']}")


def _publish(out: Path, files: dict[str, Path | None], run_info: dict) -> dict[str, Path]:
    """Copy each stage artifact to OUT atomically; drop a stale panel when this run has none."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, source in files.items():
        target = out / name
        if source is None:
            target.unlink(missing_ok=True)
            continue
        if name == "provenance.json":
            payload = json.loads(source.read_text(encoding="utf-8"))
            payload.update(run_info)
            with atomic_path(target) as tmp:
                tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        else:
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        written[name] = target
    return written


# --- stages (each writes its artifacts into a fresh folder and returns a one-line detail) ---------


def _registry_stage(registry, study: Study, folder: Path) -> str:
    from entangle.registry import network

    metrics = network.period_metrics(registry, "month", study.start, study.end)
    (folder / "metrics.json").write_text(json.dumps(metrics, default=str), encoding="utf-8")
    graph = network.graph_between(registry, study.start, study.end)
    (folder / "network.graphml").write_text(network.graph_text(graph, "graphml"), encoding="utf-8")
    counts = f"{len(registry.interventions)} interventions, {len(registry.ties)} ties"
    return f"{counts}, {len(metrics)} months of metrics"


def _load_store(inputs, registry, folder: Path) -> tuple[dict, list]:
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    with open_store(folder / "store.duckdb") as store:
        for source, path, columns in inputs:
            ingest(store, source, path, registry, mapping=columns or None)
        tables = {name: store.table(name) for name in ("events", "sites", "rejects", "provenance")}
        return tables, store.unmapped_actors()


def _sources_stage(files, deployments, registry, folder: Path, keyed: list[tuple[str, str]] = ()) -> str:
    import pyarrow.parquet as pq

    from entangle.errors import InputError

    # With nothing to load the store is still opened: its empty tables carry the canonical schema
    # the panel needs (an untyped empty events table is refused).
    tables, unmapped = _load_store(files + deployments, registry, folder)
    loaded = set(tables["provenance"].column("sha256").to_pylist())
    for path, sha in keyed:
        if sha not in loaded:  # the stage key would name other bytes than those loaded
            raise InputError(path, "the file changed while the run read it; nothing was kept", "run again")
    (folder / "store.duckdb").unlink(missing_ok=True)  # the Parquet tables below are what later stages read

    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    unmapped_rows = _rows(unmapped)
    (folder / "unmapped.json").write_text(json.dumps(unmapped_rows, default=str), encoding="utf-8")
    from entangle.report.assemble import jsonable

    provenance = {
        "entangle": __version__,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": jsonable(tables["provenance"].to_pylist()),
        "rejected_rows": tables["rejects"].num_rows,
        "unmapped_actors": jsonable(unmapped_rows),
    }
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2), encoding="utf-8")
    events = tables["events"].num_rows
    event_sources = sorted(set(tables["events"].column("source").to_pylist())) if events else []
    summary = {"events": events, "event_sources": event_sources}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    sites, rejected = tables["sites"].num_rows, tables["rejects"].num_rows
    return f"{events:,} events, {sites:,} deployment sites, {rejected:,} rejected rows"


def _rows(value) -> list[dict]:
    if value is None:
        return []
    if hasattr(value, "to_pylist"):
        return value.to_pylist()
    if hasattr(value, "to_dict"):
        return value.to_dict("records")
    return list(value)


def _panel_stage(study: Study, registry, src_dir: Path, folder: Path, has_events: bool) -> str:
    import pyarrow.parquet as pq

    from entangle.panel import PanelSpec, iter_panel, registry_sites, write_batches, write_panel
    from entangle.panel.io import stack_sites

    events = pq.read_table(src_dir / "events.parquet")
    loaded = pq.read_table(src_dir / "sites.parquet")
    sites = registry_sites(registry)
    if loaded.num_rows:
        sites = stack_sites(sites, loaded)
    spec = PanelSpec.from_study(study)
    spec.validate()
    provenance = pq.read_table(src_dir / "provenance.parquet")
    cols = [c for c in ("source", "path", "sha256", "rows_loaded") if c in provenance.column_names]
    meta = {
        "study_hash": study.content_hash(),
        "study": study.name,
        "theatre": registry.theatre.id,
        "sources": json.loads(json.dumps(provenance.select(cols).to_pylist(), default=str)),
    }
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("  panel: periods", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if has_events:
            meta = write_panel(
                events, sites, registry, spec, folder / "panel.parquet", metadata=meta, progress=progress
            )
        else:
            meta, batches = iter_panel(events, sites, registry, spec, metadata=meta, progress=progress)
            meta, batches = exposures_only(meta, batches)
            write_batches(batches, folder / "panel.parquet", meta)
    what = "unit-periods" if has_events else "unit-periods of exposures (no event data: outcomes omitted)"
    return f"{meta['rows']:,} {what}"


def exposures_only(meta: dict, batches):
    """Keep the unit, the period and the exposure columns; say in the metadata why outcomes are gone."""
    keep = list(PANEL_KEYS) + list(meta["columns"]["exposures"])
    meta = {
        **meta,
        "columns": {**meta["columns"], "outcomes": [], "lags": []},
        "outcomes": NO_EVENTS_NOTE,
    }
    return meta, (batch.select(keep) for batch in batches)


def _estimates_stage(study: Study, panel_dir: Path | None, folder: Path) -> str:
    results: list[dict] = []
    listed = [m for m in study.models if m.design not in SITE_DESIGNS]  # site designs: mechanisms stage
    if panel_dir is not None and (listed or study.grid):
        from entangle.estimate.grid import estimate_study

        results = [r.to_dict() for r in estimate_study(study, panel_dir / "panel.parquet")]
        # estimate_study returns the listed models first, then the grid's cells
        for k, result in enumerate(results):
            result["grid"] = k >= len(listed)
    (folder / "estimates.json").write_text(
        json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return f"{len(results)} model(s)"


def _mechanisms_stage(study: Study, registry, src_dir: Path, panel_dir: Path | None, folder: Path) -> str:
    import pyarrow.parquet as pq

    from entangle.mechanisms.api import study_mechanisms

    panel, meta = None, {}
    if panel_dir is not None:
        from entangle.estimate.data import read_panel

        panel, meta = read_panel(panel_dir / "panel.parquet")
    events = pq.read_table(src_dir / "events.parquet")
    sites = pq.read_table(src_dir / "sites.parquet").to_pandas()
    result = study_mechanisms(study, registry, events, sites, panel, meta)
    (folder / "mechanisms.json").write_text(json.dumps(result, default=str), encoding="utf-8")
    (folder / "hrddp.json").write_text(
        json.dumps(result["hrddp"], indent=2, default=str) + "\n", encoding="utf-8"
    )
    ties = len(result["hrddp"]["ties"])
    return f"{ties} support tie(s) monitored, {len(result['designs'])} site design(s)"


def _report_stage(
    study, registry, reg_dir, src_dir, panel_dir, est_dir, notices, folder: Path, mech_dir: Path | None = None
) -> str:
    from entangle.report.stage import report_data, write_outputs

    data = report_data(study, registry, reg_dir, src_dir, panel_dir, est_dir, notices)
    if mech_dir is not None:  # the section "What the ties did" (report/mechanisms.py)
        data.mechanisms = json.loads((mech_dir / "mechanisms.json").read_text())
    return write_outputs(data, folder)


def _panel_rules(panel_dir: Path | None) -> dict:
    """The rules that changed the panel's numbers (provenance.json ``panel.rules``)."""
    import pyarrow.parquet as pq

    from entangle.panel.metadata import panel_metadata
    from entangle.panel.rules import panel_rules

    if panel_dir is None or not (panel_dir / "panel.parquet").exists():
        return {}
    return panel_rules(panel_metadata(pq.read_schema(panel_dir / "panel.parquet")))
