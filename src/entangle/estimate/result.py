"""The common, JSON-serialisable result of every design."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy import stats


@dataclass(frozen=True)
class Estimate:
    term: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float

    @classmethod
    def normal(cls, term: str, estimate: float, std_error: float, level: float = 0.95) -> Estimate:
        """Wald interval and two-sided p-value from the normal approximation."""
        z = stats.norm.ppf(0.5 + level / 2)
        p = float(2 * stats.norm.sf(abs(estimate / std_error))) if std_error > 0 else math.nan
        return cls(term, estimate, std_error, estimate - z * std_error, estimate + z * std_error, p)


@dataclass
class Result:
    design: str
    outcome: str
    treatment: str
    inference: str
    n_obs: int
    n_units: int
    n_clusters: int
    estimates: list[Estimate]
    formula: str
    panel_hash: str
    entangle_version: str
    warnings: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    scale: dict[str, Any] = field(default_factory=dict)  # see estimate.scale: outcome mean, % effect, MDE

    def term(self, name: str) -> Estimate:
        for est in self.estimates:
            if est.term == name:
                return est
        raise KeyError(f"no term {name!r}; terms are {[e.term for e in self.estimates]}")

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        ests = [
            Estimate(**{k: math.nan if v is None else v for k, v in e.items()}) for e in data["estimates"]
        ]
        return cls(**{**data, "estimates": ests})


def _clean(value: Any) -> Any:
    """NaN and infinities become null: strict JSON has no spelling for them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value
