"""Specification grids (designs × outcomes × treatments × lags), run locally or on Dask.

Every specification is a plain dict, so it travels to Dask workers as is; each one is estimated by
the same ``estimate`` call either way, and every random draw is seeded, so local and Dask runs give
identical results. A grid cell that cannot be estimated (e.g. a treatment that is not 0/1 in a
spillover design) becomes a ``Result`` without estimates whose warning says why; models the study
lists explicitly fail loudly instead.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from entangle.errors import EntangleError, EstimateError
from entangle.estimate.api import MODEL_KEYS as _MODEL_KEYS
from entangle.estimate.result import Result

Spec = dict[str, Any]


def spec_from_model(model) -> Spec:
    """A study ``Model`` as a spec; ``unit``, ``time`` and ``cluster`` may sit in its options."""
    options = dict(model.options)
    spec = {k: options.pop(k) for k in _MODEL_KEYS if k in options}
    return spec | {
        "design": model.design,
        "outcome": model.outcome,
        "treatment": model.treatment,
        "inference": model.inference,
        "family": model.family,
        "controls": list(model.controls),
        "options": options,
        "strict": False,  # a model that cannot be estimated is listed with its reason; the rest still run
    }


def expand_grid(grid) -> list[Spec]:
    """Every combination of the grid's designs, outcomes, treatments and lags."""
    return [
        {
            "design": design,
            "outcome": outcome,
            "treatment": treatment,
            "inference": "cluster",
            "controls": [],
            "options": {"lag": lag} if lag else {},
            "strict": False,
        }
        for design, outcome, treatment, lag in itertools.product(
            grid.designs, grid.outcomes, grid.treatments, grid.lags
        )
    ]


def run_one(frame: pd.DataFrame, spec: Spec, metadata: dict | None = None) -> Result:
    """Estimate one spec (top-level so Dask can ship it to workers)."""
    from entangle.estimate.api import estimate

    kwargs = {k: spec[k] for k in _MODEL_KEYS if k in spec}
    try:
        return estimate(
            frame,
            spec["design"],
            spec["outcome"],
            spec["treatment"],
            controls=tuple(spec.get("controls", ())),
            inference=spec.get("inference", "cluster"),
            family=spec.get("family", "linear"),
            metadata=metadata,
            **kwargs,
            **spec.get("options", {}),
        )
    except EntangleError as exc:
        if spec.get("strict", True):
            raise
        from entangle import __version__

        return Result(
            design=spec["design"],
            outcome=spec["outcome"],
            treatment=spec["treatment"],
            inference=spec.get("inference", "cluster"),
            n_obs=0,
            n_units=0,
            n_clusters=0,
            estimates=[],
            formula="",
            panel_hash="",
            entangle_version=__version__,
            warnings=[f"not estimated: {exc}"],
            options=dict(spec.get("options", {})),
        )


def run_specs(
    frame: pd.DataFrame,
    specs: list[Spec],
    metadata: dict | None = None,
    dask: Any = None,
    progress: bool = True,
) -> list[Result]:
    """Estimate every spec, in order. ``dask``: a scheduler address or a ``distributed.Client``."""
    if dask is None:
        return _run_local(frame, specs, metadata, progress)
    return _run_dask(frame, specs, metadata, dask, progress)


def _progress(total: int, enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )


def _run_local(frame: pd.DataFrame, specs: list[Spec], metadata: dict | None, progress: bool) -> list[Result]:
    results = []
    with _progress(len(specs), progress) as bar:
        task = bar.add_task("estimating", total=len(specs))
        for spec in specs:
            results.append(run_one(frame, spec, metadata))
            bar.advance(task)
    return results


def _run_dask(
    frame: pd.DataFrame, specs: list[Spec], metadata: dict | None, dask: Any, progress: bool
) -> list[Result]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise EstimateError(
            "--dask", "dask.distributed is not installed", "pip install 'entangle[dask]'"
        ) from None
    own = isinstance(dask, str)
    try:
        client = Client(dask, timeout="10s") if own else dask
    except OSError as exc:
        raise EstimateError(
            f"--dask {dask}", f"cannot reach the scheduler ({exc})", "check the address"
        ) from None
    try:
        shared = client.scatter(frame, broadcast=True)
        futures = client.map(run_one, [shared] * len(specs), specs, metadata=metadata, pure=False)
        with _progress(len(specs), progress) as bar:
            task = bar.add_task("estimating on dask", total=len(specs))
            for _ in as_completed(futures):
                bar.advance(task)
        # A user error on a worker is re-raised here as itself (EntangleError pickles).
        return client.gather(futures)
    finally:
        if own:
            client.close()
