"""Cluster-robust inference (CRV1, by unit unless told otherwise) through pyfixest.

p-values and intervals use pyfixest's conventions: t distribution with G − 1 degrees of freedom and
the small-sample factor G/(G − 1) · (N − 1)/(N − K), as R's fixest does by default.
"""

from __future__ import annotations

from entangle.estimate.data import Panel
from entangle.estimate.result import Estimate


def vcov_spec(panel: Panel) -> dict[str, str]:
    """The pyfixest ``vcov=`` argument for the panel's cluster variable (internal column names)."""
    return {"CRV1": "unit" if panel.cluster == panel.unit else "cluster"}


def estimates_from_fit(fit, terms: dict[str, str]) -> list[Estimate]:
    """One ``Estimate`` per regressor in ``terms`` (internal name -> term), from a pyfixest fit."""
    tidy = fit.tidy()
    out = []
    for name, term in terms.items():
        row = tidy.loc[name]
        out.append(
            Estimate(
                term=term,
                estimate=float(row["Estimate"]),
                std_error=float(row["Std. Error"]),
                ci_low=float(row["2.5%"]),
                ci_high=float(row["97.5%"]),
                p_value=float(row["Pr(>|t|)"]),
            )
        )
    return out
