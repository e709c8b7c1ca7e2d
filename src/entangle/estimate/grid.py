"""Specification grids (designs × families × outcomes × treatments × controls × radii × lags ×
samples × estimators × inference), run locally or on Dask.

Every specification is a plain dict, so it travels to Dask workers as is. ``run_specs`` hands the
list to the multiverse (``multiverse.py``): linear designs share their demeaning and are solved by
Frisch–Waugh–Lovell, the rest run one ``estimate`` call each; every random draw is seeded, so local
and Dask runs give identical results. A grid cell that cannot be estimated (e.g. a treatment that is
not 0/1 in a spillover design) becomes a ``Result`` without estimates whose warning says why;
models the study lists explicitly fail loudly instead.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pandas as pd

from entangle.errors import EstimateError
from entangle.estimate.api import DESIGNS
from entangle.estimate.api import MODEL_KEYS as _MODEL_KEYS
from entangle.estimate.data import read_panel
from entangle.estimate.multiverse import run_multiverse
from entangle.estimate.result import Result
from entangle.estimate.specs import Spec, lag_as_term, lagged, progress_bar, run_on_dask, run_one


def spec_from_model(model) -> Spec:
    """A study ``Model`` as a spec; ``unit``, ``time`` and ``cluster`` may sit in its options."""
    options = dict(model.options)
    spec = {k: options.pop(k) for k in _MODEL_KEYS if k in options}
    return lag_as_term(
        spec
        | {
            "design": model.design,
            "outcome": model.outcome,
            "treatment": model.treatment,
            "inference": model.inference,
            "controls": list(model.controls),
            "options": options | ({"family": model.family} if model.family != "linear" else {}),
            "strict": False,  # a model that cannot be estimated is listed with its reason; the rest still run
        }
    )


def _fill(name: str, radius: float | None) -> str:
    return name if radius is None else name.replace("{r}", f"{radius:g}")


def expand_grid(grid) -> list[Spec]:
    """Every combination of the grid's dimensions, each once. A dimension that does not apply to a
    design (an estimator for twfe, a sample for a design that does not read onsets, radii for names
    without ``{r}``) collapses instead of repeating the same model."""
    radii = list(grid.radii) or [None]
    specs: list[Spec] = []
    seen: set[str] = set()
    dims = itertools.product(
        grid.designs,
        getattr(grid, "families", ["linear"]),
        grid.outcomes,
        grid.treatments,
        getattr(grid, "controls", [[]]),
        radii,
        grid.lags,
        getattr(grid, "samples", ["exclude_censored"]),
        getattr(grid, "estimators", []) or [None],
        getattr(grid, "inference", ["cluster"]),
    )
    for design, family, outcome, treatment, controls, radius, lag, sample, estimator, inference in dims:
        own = DESIGNS[design].OPTIONS if design in DESIGNS else {}
        options: dict[str, Any] = {"family": family} if family != "linear" else {}
        if estimator is not None and "estimator" in own:
            options["estimator"] = estimator
        if "censored_onsets" in own and sample == "keep_censored":
            options["censored_onsets"] = "keep"
        spec = {
            "design": design,
            "outcome": _fill(outcome, radius),
            "treatment": lagged(_fill(treatment, radius), lag),
            "inference": inference,
            "controls": [_fill(c, radius) for c in controls],
            "options": options,
            "strict": False,
        }
        key = repr(sorted(spec.items()))
        if key not in seen:
            seen.add(key)
            specs.append(spec)
    return specs


def estimate_study(
    study, panel_path: str | os.PathLike[str], dask: str | None = None, progress: bool = True
) -> list[Result]:
    """Run every model the study lists, then its grid (locally or on Dask), on one panel file."""
    specs = [spec_from_model(model) for model in study.models]
    if study.grid is not None:
        specs += expand_grid(study.grid)
    if not specs:
        raise EstimateError(str(study.path or "study"), "lists no models and no grid", "add [[study.models]]")
    frame, meta = read_panel(Path(panel_path))
    return run_specs(frame, specs, metadata=meta, dask=dask, progress=progress)


def run_specs(
    frame: pd.DataFrame,
    specs: list[Spec],
    metadata: dict | None = None,
    dask: Any = None,
    progress: bool = True,
) -> list[Result]:
    """Estimate every spec, in order, by the multiverse (shared demeaning where the design allows).
    ``dask``: a scheduler address or a ``distributed.Client``."""
    return run_multiverse(frame, specs, metadata=metadata, dask=dask, progress=progress)


def run_each(
    frame: pd.DataFrame,
    specs: list[Spec],
    metadata: dict | None = None,
    dask: Any = None,
    progress: bool = True,
) -> list[Result]:
    """The per-model loop: one full ``estimate`` call per spec (the multiverse's reference)."""
    if dask is None:
        return _run_local(frame, specs, metadata, progress)
    return run_on_dask(frame, specs, metadata, dask, progress)


def _run_local(frame: pd.DataFrame, specs: list[Spec], metadata: dict | None, progress: bool) -> list[Result]:
    results = []
    with progress_bar(len(specs), progress) as bar:
        task = bar.add_task("estimating", total=len(specs))
        for spec in specs:
            results.append(run_one(frame, spec, metadata))
            bar.advance(task)
    return results
