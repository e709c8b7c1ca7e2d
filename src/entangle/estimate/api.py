"""Public entry points: ``estimate`` (one model on a panel frame) and ``estimate_study``."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from entangle import __version__
from entangle.errors import EstimateError
from entangle.estimate import did, dose, event_study, spillover, twfe
from entangle.estimate.data import Panel, prepare, read_panel
from entangle.estimate.design import DesignFit, fixef_columns
from entangle.estimate.inference.conley import DEFAULT_CUTOFF_KM
from entangle.estimate.inference.ri import DEFAULT_DRAWS, DEFAULT_SEED
from entangle.estimate.result import Result
from entangle.estimate.scale import effect_scale
from entangle.estimate.terms import MAX_SHIFT, canonical, materialize, parse
from entangle.estimate.timing import exclude_censored

DESIGNS = {"twfe": twfe, "event-study": event_study, "did": did, "dose": dose, "spillover": spillover}
INFERENCE = ("cluster", "conley", "ri")
COMMON_OPTIONS: dict[str, Any] = {
    "lag": 0,  # an alias: the treatment becomes l(treatment, lag), and the formula shows it
    "fixef": "",
    "conley_km": DEFAULT_CUTOFF_KM,
    "conley_kernel": "bartlett",
    "conley_lag": -1,  # -1: every period, uniform weights (the time part is clustering by unit)
    "conley_lag_kernel": "uniform",
    "ri_draws": DEFAULT_DRAWS,
    "ri_pool": "treated",
    "seed": DEFAULT_SEED,
    "family": "linear",  # also the keyword argument of estimate(); a study model's `family`
}
KERNELS = ("bartlett", "uniform")
FAMILIES = ("linear", "poisson")
POISSON_DESIGNS = ("twfe", "dose", "spillover")  # one regression each; the others are linear only
MAX_RI_DRAWS = 100_000  # p-values to 1e-5; more is a typo, and each draw is a refit
WINDOW_OPTIONS = ("leads", "lags")  # event windows: bounded by MAX_SHIFT and the panel's periods
MODEL_KEYS = ("unit", "time", "cluster")  # a study model may name these columns in its options


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Options from the command line arrive as strings; give them the type of their default."""
    if isinstance(default, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise EstimateError(f"--option {name}", f"{value!r} is not true/false", f"e.g. {name}=true")
            return value.lower() in ("true", "1", "yes")
        return bool(value)
    if isinstance(default, (int, float)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise EstimateError(
                f"--option {name}", f"{value!r} is not a number", f"e.g. {name}={default}"
            ) from None
        if isinstance(default, int) and not number.is_integer():
            raise EstimateError(
                f"--option {name}", f"{value!r} is not a whole number", f"e.g. {name}={default}"
            )
        return int(number) if isinstance(default, int) else number
    return str(value)


def resolve_options(design: str, options: dict[str, Any]) -> dict[str, Any]:
    """Defaults for the design, overridden by ``options``; unknown names are an error."""
    if design not in DESIGNS:
        raise EstimateError("--design", f"unknown design {design!r}", f"one of {', '.join(DESIGNS)}")
    defaults = COMMON_OPTIONS | DESIGNS[design].OPTIONS
    options = {k: v for k, v in options.items() if k not in MODEL_KEYS}  # a study model's columns
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise EstimateError(
            f"--option {unknown[0]}",
            f"not an option of the {design} design",
            f"options: {', '.join(sorted(defaults))}",
        )
    resolved = defaults | {k: _coerce(k, v, defaults[k]) for k, v in options.items()}
    if resolved["family"] not in FAMILIES:
        raise EstimateError(
            "--family", f"unknown family {resolved['family']!r}", f"one of {', '.join(FAMILIES)}"
        )
    for key in ("conley_kernel", "conley_lag_kernel"):
        if resolved[key] not in KERNELS:
            raise EstimateError(f"--option {key}", f"unknown kernel {resolved[key]!r}", "bartlett or uniform")
    if resolved["ri_draws"] < 19:
        raise EstimateError("--option ri_draws", "too few draws for a p-value", "use ri_draws >= 99")
    if resolved["ri_draws"] > MAX_RI_DRAWS:
        raise EstimateError(
            "--option ri_draws",
            f"{resolved['ri_draws']} draws is above the limit {MAX_RI_DRAWS}",
            "use fewer",
        )
    for key in ("lag", *WINDOW_OPTIONS):
        if key in resolved and not 0 <= resolved[key] <= MAX_SHIFT:
            raise EstimateError(
                f"--option {key}",
                f"{resolved[key]} is outside 0..{MAX_SHIFT} periods",
                "use a shorter window",
            )
    return resolved


def _check_window(resolved: dict[str, Any], given: dict[str, Any], n_periods: int) -> None:
    """Leads and lags asked for beyond the panel cannot be observed: refuse them rather than fit
    nothing (defaults on a short panel only lose the event times it cannot reach, with a warning)."""
    for key in WINDOW_OPTIONS:
        if key in given and resolved[key] >= n_periods:
            raise EstimateError(
                f"--option {key}",
                f"{resolved[key]} periods but the panel has {n_periods}",
                f"use {key} < {n_periods}",
            )


def estimate(
    panel_df: pd.DataFrame,
    design: str,
    outcome: str,
    treatment: str,
    unit: str = "unit_id",
    time: str = "period",
    cluster: str | None = None,
    controls: tuple[str, ...] | list[str] = (),
    inference: str = "cluster",
    *,
    family: str = "linear",
    metadata: dict | None = None,
    progress: bool = False,
    **options: Any,
) -> Result:
    """Estimate one model on a panel (one row per unit × period) and return a ``Result``.

    ``metadata`` is the panel's ``entangle`` Parquet metadata when known (marks synthetic panels).
    ``options`` are design options (see docs/estimation.md), e.g. ``leads=4``, ``conley_km=50``.
    ``outcome``, ``treatment`` and ``controls`` may be formula terms (``estimate.terms``), e.g.
    ``log1p(l(troops_peacekeeping_50km, 1))``; the Result records their canonical spelling.
    ``family="poisson"`` fits a Poisson pseudo-likelihood (PPML) model with pyfixest's ``fepois``.
    """
    if inference not in INFERENCE:
        raise EstimateError("--inference", f"unknown method {inference!r}", f"one of {', '.join(INFERENCE)}")
    resolved = resolve_options(design, {"family": family} | options)  # a `family` option wins
    family = resolved["family"]
    if family == "poisson" and design not in POISSON_DESIGNS:
        raise EstimateError(
            "--family poisson", f"not available for the {design} design", f"use {', '.join(POISSON_DESIGNS)}"
        )
    if family == "poisson" and inference != "cluster":
        raise EstimateError(
            "--family poisson", f"supports cluster inference, not {inference}", "--inference cluster"
        )
    module = DESIGNS[design]
    if resolved["lag"]:
        treatment = f"l({treatment}, {int(resolved['lag'])})"
    outcome, treatment = canonical(outcome), canonical(treatment)
    controls = [canonical(c) for c in controls]
    panel_df, _ = materialize(panel_df, [outcome, treatment, *controls], unit=unit, period=time)
    extra_cols = tuple(c for c in fixef_columns(resolved["fixef"]) if c not in (unit, time))
    if inference == "ri" and resolved["ri_pool"] not in ("treated", "all"):
        extra_cols += (resolved["ri_pool"],)
    synthetic = bool((metadata or {}).get("synthetic"))
    censored = None
    if "censored_onsets" in resolved:  # designs that read onsets (event-study, did)
        panel_df, censored = exclude_censored(
            panel_df, treatment, unit, metadata, str(resolved["censored_onsets"])
        )
    panel = prepare(
        panel_df,
        outcome,
        treatment,
        unit=unit,
        time=time,
        cluster=cluster,
        controls=tuple(controls),
        need_coordinates=inference == "conley" or getattr(module, "NEEDS_COORDINATES", False),
        extra_columns=extra_cols,
        synthetic=synthetic,
    )
    _check_window(resolved, options, panel.n_periods)
    fit = module.fit(panel, inference, resolved, progress)
    return assemble(panel, fit, design, inference, resolved, censored)


def assemble(
    panel: Panel, fit: DesignFit, design: str, inference: str, resolved: dict[str, Any], censored: dict | None
) -> Result:
    """The ``Result`` of a fitted design (shared by ``estimate`` and the multiverse)."""
    family = str(resolved.get("family", "linear"))
    if family == "linear" and parse(panel.outcome).binary:
        fit.extra["model"] = "linear probability model"
    warnings = [*panel.warnings, *fit.warnings]
    if censored is not None:
        fit.extra["censored_onsets"] = censored
        if censored.get("excluded_units"):
            warnings.append(
                f"{censored['excluded_units']} units with a left-censored onset of {panel.treatment} "
                "excluded (treated when coverage began; -o censored_onsets=keep keeps them)"
            )
    separation = fit.extra.get("separation", {})
    if panel.synthetic:
        warnings.insert(0, "synthetic panel (entangle simulate): not real data")
    return Result(
        design=design,
        outcome=panel.outcome,
        treatment=panel.treatment,
        inference=inference,
        n_obs=panel.n_obs - int(separation.get("obs_dropped", 0)),
        n_units=panel.n_units - int(separation.get("units_dropped", 0)),
        n_clusters=panel.n_clusters - int(separation.get("clusters_dropped", 0)),
        estimates=fit.estimates,
        formula=fit.formula,
        panel_hash=panel.panel_hash,
        entangle_version=__version__,
        warnings=warnings,
        options={"unit": panel.unit, "time": panel.time, "cluster": panel.cluster}
        | {"controls": list(panel.controls)}
        | resolved,
        extra=fit.extra,
        synthetic=panel.synthetic,
        scale=effect_scale(panel, fit.estimates, family),
    )


def estimate_file(path: str | os.PathLike[str], **kwargs: Any) -> Result:
    """``estimate`` on a Parquet panel file (its metadata marks synthetic panels)."""
    frame, meta = read_panel(path)
    return estimate(frame, metadata=meta, **kwargs)
