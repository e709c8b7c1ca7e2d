"""One specification: a plain dict (it travels to Dask workers as is), its lag written as a term, and
its estimation by itself. Shared by the grid (grid.py) and the multiverse (multiverse.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pandas as pd

from entangle.errors import EntangleError, EstimateError
from entangle.estimate.api import MODEL_KEYS, estimate
from entangle.estimate.result import Result

Spec = dict[str, Any]


def lagged(treatment: str, lag: int) -> str:
    """A lag is a term: ``l(treatment, lag)`` (the Result and its formula show it)."""
    return f"l({treatment}, {int(lag)})" if lag else treatment


def lag_as_term(spec: Spec) -> Spec:
    """A spec whose ``lag`` option (an int) has become its treatment term ``l(treatment, lag)``."""
    options = dict(spec.get("options", {}))
    if type(options.get("lag")) is not int or options["lag"] <= 0:
        return spec  # no lag, or a value estimate() will check and refuse
    return spec | {"treatment": lagged(spec["treatment"], options.pop("lag")), "options": options}


def run_one(frame: pd.DataFrame, spec: Spec, metadata: dict | None = None) -> Result:
    """Estimate one spec by itself (top-level so Dask can ship it to workers)."""
    kwargs = {k: spec[k] for k in MODEL_KEYS if k in spec}
    try:
        return estimate(
            frame,
            spec["design"],
            spec["outcome"],
            spec["treatment"],
            controls=tuple(spec.get("controls", ())),
            inference=spec.get("inference", "cluster"),
            metadata=metadata,
            **kwargs,
            **spec.get("options", {}),  # with "family" when not linear
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


def progress_bar(total: int, enabled: bool):
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


@contextlib.contextmanager
def dask_client(dask: Any) -> Iterator[Any]:
    """A ``distributed.Client``: connected to an address (and closed afterwards), or the one given."""
    try:
        from distributed import Client
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
        yield client
    finally:
        if own:
            client.close()


def run_on_dask(
    frame: pd.DataFrame, specs: list[Spec], metadata: dict | None, dask: Any, progress: bool
) -> list[Result]:
    """Every spec by itself on a Dask scheduler (an address or a ``distributed.Client``), in order."""
    with dask_client(dask) as client:
        from distributed import as_completed

        shared = client.scatter(frame, broadcast=True)
        futures = client.map(run_one, [shared] * len(specs), specs, metadata=metadata, pure=False)
        with progress_bar(len(specs), progress) as bar:
            task = bar.add_task("estimating on dask", total=len(specs))
            for _ in as_completed(futures):
                bar.advance(task)
        # A user error on a worker is re-raised here as itself (EntangleError pickles).
        return client.gather(futures)
