"""The study file (TOML): what to measure, where, when, from which data, with which models.

A study is validated into a frozen ``Study``; its content hash keys every cache. Relative paths
resolve against the study file's directory; ``${ENTANGLE_DATA}`` (or any ``${VAR}``) expands from the
environment, so a study can point at data a user keeps elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from entangle.bounds import EARLIEST, LATEST, MAX_RADIUS_KM
from entangle.errors import StudyError
from entangle.mechanisms import SITE_DESIGNS
from entangle.registry.schema import InterventionKind, SiteType

__all__ = ["SITE_DESIGNS", "Study", "load_study", "parse_study"]

EventSource = Literal["ucdp", "acled", "csv"]
# A theatre is named by an identifier (it becomes a directory name: no path may hide in it).
THEATRE_ID = r"^[a-z][a-z0-9_]{0,63}$"
# The study window: a panel of months from year 1 to 9999 would not fit in memory; these years hold
# every dataset entangle reads.
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
        bad = [r for r in radii if not 0 < r <= MAX_RADIUS_KM]  # also NaN and inf
        if bad:
            raise ValueError(f"every radius must be > 0 km and at most {MAX_RADIUS_KM:g} km (got {bad[0]})")
        return sorted(set(radii))


class Deployments(_Model):
    """How long a deployment map's row holds (docs/panel.md, "Deployment time rule")."""

    rule: Literal["carry_forward", "map_month", "interpolate"] = "carry_forward"
    max_gap_months: int = Field(default=12, ge=1, le=120)


class Outcomes(_Model):
    """What counts as civilian harm (docs/panel.md, "Civilian harm")."""

    civilian: Literal["targeting", "any_civilian_victim"] = "targeting"


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


class Model(_Model):
    design: Literal["twfe", "event-study", "did", "dose", "spillover", "site-opening", "site-closure"]
    outcome: str
    treatment: str = Field(default="", description="a panel column; site designs build their own")
    inference: Literal["cluster", "conley", "ri"] = "cluster"
    family: Literal["linear", "poisson"] = "linear"
    controls: list[str] = Field(default_factory=list)
    options: dict[str, float | int | str | bool] = Field(default_factory=dict)
    # Site opening/closure designs (entangle.mechanisms.sites): whose sites, within what distance.
    intervention: str | None = None
    kind: str | None = None
    radius_km: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _design_keys(self) -> Model:
        if self.design in SITE_DESIGNS:
            if (self.intervention is None) == (self.kind is None):
                raise ValueError(f"a {self.design} model names exactly one of 'intervention' or 'kind'")
            if self.radius_km is None:
                raise ValueError(f"a {self.design} model needs radius_km")
        elif not self.treatment:
            raise ValueError(f"a {self.design} model needs a treatment column")
        elif self.intervention or self.kind or self.radius_km:
            raise ValueError("intervention, kind and radius_km belong to site-opening/site-closure models")
        _check_terms([self.outcome, self.treatment, *self.controls])
        return self

    @field_validator("options")
    @classmethod
    def _finite(cls, options: dict) -> dict:
        for name, value in options.items():
            problem = option_problem(name, value)
            if problem:
                raise ValueError(f"option {name}: {problem}")
        return options


def _default_bands() -> list[float]:
    return [0.0, 10.0, 25.0, 50.0, 100.0]


class Mechanisms(_Model):
    """The HRDDP monitor's thresholds and the distance profile's bands (entangle.mechanisms)."""

    bands_km: list[float] = Field(
        default_factory=_default_bands, description="band edges; the last band is open (> last edge)"
    )
    profile_of: str = Field(default="peacekeeping", description="an intervention kind or id")
    scale_deaths: int = Field(default=10, ge=1, description="HRDDP scale flag: civilian deaths in one event")
    frequency_events: int = Field(default=3, ge=1, description="HRDDP frequency flag: events in the window")
    window_months: int = Field(default=3, ge=1, description="rolling window of the frequency flag")

    @field_validator("bands_km")
    @classmethod
    def _bands(cls, edges: list[float]) -> list[float]:
        from entangle.mechanisms.bands import check_edges

        return check_edges(edges)


# Options that are distances or counts: a NaN, an infinity or a negative value is never meant.
POSITIVE_OPTIONS = ("conley_km",)
NON_NEGATIVE_OPTIONS = ("lag", "leads", "lags", "conley_lag", "ri_draws", "seed")


def option_problem(name: str, value: object) -> str | None:
    """Why a design option's value cannot be right (NaN, infinite, out of range), or None.
    Shared by study models and ``--option NAME=VALUE``."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # not a number: the design checks its own text options
    if not math.isfinite(number):
        return f"{value} is not a finite number"
    if name in POSITIVE_OPTIONS and number <= 0:
        return f"{value} must be > 0"
    if name in NON_NEGATIVE_OPTIONS and number < 0:
        return f"{value} must be >= 0"
    return None


class Grid(_Model):
    """A specification grid: every combination is estimated (for a specification curve)."""

    designs: list[str] = Field(min_length=1)
    outcomes: list[str] = Field(min_length=1)
    treatments: list[str] = Field(min_length=1, description="'{r}' in a name is filled from radii")
    lags: list[int] = Field(default_factory=lambda: [0])
    controls: list[list[str]] = Field(default_factory=lambda: [[]], description="control sets")
    radii: list[float] = Field(default_factory=list, description="km, fills '{r}' in column names")
    families: list[Literal["linear", "poisson"]] = Field(default_factory=lambda: ["linear"])
    estimators: list[str] = Field(default_factory=list, description="event-study/did estimators")
    samples: list[Literal["exclude_censored", "keep_censored"]] = Field(
        default_factory=lambda: ["exclude_censored"], description="left-censored onsets (event-study, did)"
    )
    inference: list[Literal["cluster", "conley"]] = Field(default_factory=lambda: ["cluster"])

    @model_validator(mode="after")
    def _terms(self) -> Grid:
        names = [*self.outcomes, *self.treatments, *(c for group in self.controls for c in group)]
        if any("{r}" in n for n in names) and not self.radii:
            raise ValueError("'{r}' in a column name needs radii = [...] to fill it")
        radii = self.radii or [0.0]
        _check_terms([n.replace("{r}", f"{r:g}") for n in names for r in radii])
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
    theatre: str = Field(default="mali", pattern=THEATRE_ID)
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
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    path: Path | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        h3 = re.fullmatch(r"h3:(\d{1,2})", unit)
        if h3 and int(h3.group(1)) > 15:
            raise ValueError("H3 resolution must be 0..15")
        if unit == "priogrid" or h3 or re.fullmatch(r"admin:.+:.+", unit):
            return unit
        raise ValueError("unit must be 'priogrid', 'h3:RES' or 'admin:FILE:IDCOL'")

    @field_validator("extent")
    @classmethod
    def _iso3(cls, codes: list[str]) -> list[str]:
        import pycountry

        for code in codes:
            if not (re.fullmatch(r"[A-Z]{3}", code) and pycountry.countries.get(alpha_3=code)):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-3 country code (e.g. 'MLI')")
        return codes

    @model_validator(mode="after")
    def _ordered(self) -> Study:
        for key, day in (("from", self.start), ("to", self.end)):
            if not EARLIEST <= day <= LATEST:
                raise StudyError(
                    f"study.{key}", f"{day} is outside {EARLIEST}..{LATEST}", "give a date in that range"
                )
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
    except RecursionError:
        raise StudyError(
            where, "not a study: TOML nested too deeply", "a study is one flat [study] table"
        ) from None
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
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StudyError(f"{path}:{line}", "not UTF-8 text", "save the study file as UTF-8") from None
    if "\x00" in text:
        raise StudyError(str(path), "binary content (NUL bytes), not a TOML study", "is this the right file?")
    return parse_study(text, str(path), path.parent)
