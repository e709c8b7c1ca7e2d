"""Estimation: credible designs on any unit × period panel, with honest uncertainty.

``estimate(panel_df, design, outcome, treatment, ...) -> Result`` and
``estimate_study(study, panel_path) -> list[Result]``; see docs/estimation.md.
"""

from entangle.estimate.api import estimate, estimate_file
from entangle.estimate.grid import estimate_study
from entangle.estimate.result import Estimate, Result

__all__ = ["Estimate", "Result", "estimate", "estimate_file", "estimate_study"]
