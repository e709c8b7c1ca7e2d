"""The study file (TOML): what to measure, where, when, from which data, with which models.

A study is validated into a frozen ``Study``; its content hash keys every cache. Relative paths
resolve against the study file's directory; ``${ENTANGLE_DATA}`` (or any ``${VAR}``) expands from the
environment, so a study can point at data a user keeps elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from entangle.errors import StudyError
from entangle.registry.schema import InterventionKind, SiteType

EventSource = Literal["ucdp", "acled", "csv"]
DeploymentSource = Literal["geopko", "radpko", "csv"]
ImpreciseRule = Literal["drop", "point", "spread"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFile(_Model):
    source: str
    path: Path
    columns: dict[str, str] = Field(default_factory=dict, description="csv only: canonical=raw")


class Sources(_Model):
    events: list[SourceFile] = Field(default_factory=list)
    deployments: list[SourceFile] = Field(default_factory=list)
    fetch: list[Literal["ucdp", "acled"]] = Field(
        default_factory=list, description="sources to download when no file or cache has them"
    )


class Imprecision(_Model):
    """How events with imprecise location or date enter the panel (stated in the report)."""

    rule: ImpreciseRule = "drop"
    ucdp_max_where_prec: int = Field(default=2, ge=1, le=7)
    acled_max_geo_precision: int = Field(default=2, ge=1, le=3)
    max_date_precision_days: int = Field(default=31, ge=1)
    spread_over: str | None = Field(
        default=None, description="FILE:IDCOL admin polygons the spread rule uses on grid/H3 units"
    )


class Exposure(_Model):
    radii_km: list[float] = Field(default_factory=lambda: [25.0, 50.0], min_length=1)
    exclude_site_types: list[SiteType] = Field(
        default_factory=list, description='site types left out of every exposure, e.g. ["hq"]'
    )
    interventions: list[str] = Field(
        default_factory=list, description='named interventions with their own columns, e.g. ["minusma"]'
    )
    exposure_from: Literal["boundary", "centroid", "area_share"] | None = Field(
        default=None, description="admin units: boundary (default), centroid or area_share"
    )
    pairs: list[tuple[InterventionKind, InterventionKind]] = Field(
        default_factory=list,
        description='kind pairs with a co-presence column, e.g. [["peacekeeping", "private_military"]]',
    )

    @field_validator("radii_km")
    @classmethod
    def _positive(cls, radii: list[float]) -> list[float]:
        if any(r <= 0 for r in radii):
            raise ValueError("every radius must be > 0 km")
        return sorted(set(radii))


def _check_terms(names: list[str]) -> list[str]:
    """Columns or formula terms (``log1p(l(x, 1))``); a bad term fails here, before any data loads."""
    if any("(" in name or ")" in name for name in names):
        from entangle.errors import EstimateError
        from entangle.estimate.terms import parse

        for name in names:
            try:
                parse(name)
            except EstimateError as exc:
                raise ValueError(str(exc)) from None
    return names


class Deployments(_Model):
    """How long a deployment map's row holds (docs/panel.md, "Deployment time rule")."""

    rule: Literal["carry_forward", "map_month", "interpolate"] = "carry_forward"
    max_gap_months: int = Field(default=12, ge=1, le=120)


class Outcomes(_Model):
    """What counts as civilian harm (docs/panel.md, "Civilian harm")."""

    civilian: Literal["targeting", "any_civilian_victim"] = "targeting"


class Model(_Model):
    design: Literal["twfe", "event-study", "did", "dose", "spillover"]
    outcome: str
    treatment: str
    inference: Literal["cluster", "conley", "ri"] = "cluster"
    family: Literal["linear", "poisson"] = "linear"
    controls: list[str] = Field(default_factory=list)
    options: dict[str, float | int | str | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _terms(self) -> Model:
        _check_terms([self.outcome, self.treatment, *self.controls])
        return self


class Grid(_Model):
    """A specification grid: every combination is estimated (for a specification curve)."""

    designs: list[str] = Field(min_length=1)
    outcomes: list[str] = Field(min_length=1)
    treatments: list[str] = Field(min_length=1, description="'{r}' in a name is filled from radii")
    lags: list[int] = Field(default_factory=lambda: [0])
    controls: list[list[str]] = Field(default_factory=lambda: [[]], description="control sets")
    radii: list[float] = Field(default_factory=list, description="km, fills '{r}' in column names")
    families: list[str] = Field(default_factory=lambda: ["linear"])
    estimators: list[str] = Field(default_factory=list, description="event-study/did estimators")
    samples: list[Literal["exclude_censored", "keep_censored"]] = Field(
        default_factory=lambda: ["exclude_censored"], description="left-censored onsets (event-study, did)"
    )
    inference: list[Literal["cluster", "conley"]] = Field(default_factory=lambda: ["cluster"])

    @model_validator(mode="after")
    def _terms(self) -> Grid:
        _check_terms([*self.outcomes, *self.treatments])
        return self


class Report(_Model):
    """What the report shows where a choice is needed."""

    network_years: list[int] = Field(
        default_factory=list, description="years of the network panels (default: four, evenly spaced)"
    )
    exposure: str | None = Field(
        default=None,
        description="panel column the harm-beside-exposure map sets against civilian harm "
        "(default: peacekeeping-counterterrorism co-presence at the largest radius)",
    )


class Study(_Model):
    name: str
    theatre: str = "mali"
    registry: Path | None = None
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    unit: str = "priogrid"
    period: Literal["month", "quarter", "year"] = "month"
    extent: list[str] = Field(default_factory=list, description="ISO3 codes whose outline bounds the study")
    sources: Sources = Field(default_factory=Sources)
    imprecision: Imprecision = Field(default_factory=Imprecision)
    exposure: Exposure = Field(default_factory=Exposure)
    deployments: Deployments = Field(default_factory=Deployments)
    outcomes: Outcomes = Field(default_factory=Outcomes)
    models: list[Model] = Field(default_factory=list)
    grid: Grid | None = None
    report: Report = Field(default_factory=Report)
    path: Path | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        if unit == "priogrid" or re.fullmatch(r"h3:\d{1,2}", unit) or re.fullmatch(r"admin:.+:.+", unit):
            return unit
        raise ValueError("unit must be 'priogrid', 'h3:RES' or 'admin:FILE:IDCOL'")

    @model_validator(mode="after")
    def _ordered(self) -> Study:
        if self.end < self.start:
            raise StudyError(
                "study.to", f"{self.end} is before 'from' ({self.start})", "make 'to' later than 'from'"
            )
        outside = [y for y in self.report.network_years if not self.start.year <= y <= self.end.year]
        if outside:
            raise StudyError(
                "study.report.network_years",
                f"{outside[0]} is outside the study's years {self.start.year}-{self.end.year}",
                "choose years within 'from' and 'to'",
            )
        return self

    def content_hash(self) -> str:
        """SHA-256 of the study's settings (not of the data files; those have their own hashes)."""
        payload = self.model_dump(mode="json", by_alias=True)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


_VAR = re.compile(r"\$\{(\w+)\}")


def _expand(value: str, where: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise StudyError(where, f"${{{name}}} is not set", f"export {name}=DIR")
        return os.environ[name]

    return _VAR.sub(sub, value)


def _resolve_paths(data: dict, base: Path, where: str) -> dict:
    def anchor(text: str) -> Path:
        path = Path(_expand(text, where))
        return path if path.is_absolute() else base / path

    sources = data.get("sources", {})
    for group in ("events", "deployments"):
        for entry in sources.get(group, []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                entry["path"] = anchor(entry["path"])
    if isinstance(data.get("registry"), str):
        data["registry"] = anchor(data["registry"])
    unit = data.get("unit")
    if isinstance(unit, str) and unit.startswith("admin:"):
        _, file, col = unit.split(":", 2) if unit.count(":") >= 2 else (None, unit, "")
        data["unit"] = f"admin:{anchor(file)}:{col}"
    imprecision = data.get("imprecision")
    if isinstance(imprecision, dict) and isinstance(imprecision.get("spread_over"), str):
        file, sep, col = imprecision["spread_over"].rpartition(":")
        if sep:
            data["imprecision"] = {**imprecision, "spread_over": f"{anchor(file)}:{col}"}
    return data


def parse_study(text: str, where: str, base: Path) -> Study:
    """Validate study TOML text; ``where`` names it in errors, ``base`` anchors relative paths."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(where, f"not valid TOML: {exc}") from None
    body = raw.get("study")
    if not isinstance(body, dict) or len(raw) != 1:
        extra = sorted(set(raw) - {"study"})
        raise StudyError(where, "expected a single [study] table", f"unexpected: {extra}" if extra else None)
    body = _resolve_paths(dict(body), base, where)
    try:
        study = Study.model_validate(body)
    except StudyError as exc:  # raised by a validator with its own key
        raise StudyError(f"{where}: {exc.where}", exc.what, exc.hint) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _key(err["loc"])
        hint = "remove it or check its spelling" if err["type"] == "extra_forbidden" else _hint(err)
        raise StudyError(f"{where}: {key}", err["msg"].removeprefix("Value error, "), hint) from None
    for group_name in ("events", "deployments"):
        for k, entry in enumerate(getattr(study.sources, group_name)):
            if not entry.path.is_file():
                raise StudyError(
                    f"{where}: study.sources.{group_name}[{k}].path",
                    f"file {entry.path} does not exist",
                    "fix the path (relative paths start at the study file's folder)",
                )
    return study.model_copy(update={"path": Path(where)})


def _key(loc: tuple) -> str:
    """Pydantic's error location as the TOML key a user writes: study.sources.events[0].path."""
    key = "study"
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _hint(err: dict) -> str | None:
    kind = err["type"]
    if kind.startswith("date"):
        return "write a date as YYYY-MM-DD"
    if kind == "missing":
        return "add this key"
    if kind in ("literal_error", "enum"):
        return None  # the message already lists the allowed values
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"expected a {kind.split('_')[0]}"
    return None


def load_study(path: str | os.PathLike[str] | None = None) -> Study:
    """Read a study file; with no path, the bundled Mali study."""
    if path is None:
        ref = resources.files("entangle") / "studies" / "mali.toml"
        return parse_study(ref.read_text(encoding="utf-8"), "mali.toml (bundled)", Path(str(ref)).parent)
    path = Path(path)
    if not path.is_file():
        raise StudyError(str(path), "study file not found", "give the path to a .toml study file")
    return parse_study(path.read_text(encoding="utf-8"), str(path), path.parent)
