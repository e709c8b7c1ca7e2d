"""The registry's data types: interventions, mandates, ties and sites, each with sources.

A theatre is a directory of YAML files (``theatre.yaml``, ``interventions.yaml``,
``mandates.yaml``, ``ties.yaml``, ``sites.yaml``) whose entries validate against these models.
Cross-references (a tie's ends, a site's intervention) are checked by ``Registry``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

InterventionKind = Literal[
    "peacekeeping",
    "counterterrorism",
    "training",
    "state_forces",
    "private_military",
    "regional",
    "other",
]
TieType = Literal[
    "authorization",
    "logistical_support",
    "intelligence_sharing",
    "joint_operations",
    "co_location",
    "training",
    "financing",
    "medevac",
    "coordination",
    "command",
]
# What a site is, for exposures that leave some types out (``exclude_site_types``): a headquarters
# in the capital is not a field deployment. Registry sites default to "camp".
SiteType = Literal["hq", "camp", "temporary_base", "liaison", "training", "other"]
SITE_TYPES: tuple[str, ...] = SiteType.__args__
Provision = Literal[
    "protection_of_civilians",
    "counterterrorism",
    "support_to_partner",
    "use_of_force",
    "stabilization",
    "political_process",
    "human_rights",
    "hrddp",
    "drawdown",
]
# What a provision makes support (or an authorisation) subject to.
Condition = Literal["hrddp", "compliance_framework"]
# A condition that is also a provision name counts as a provision of the document.
_CONDITION_PROVISIONS = set(get_args(Condition)) & set(get_args(Provision))
Precision = Literal["day", "month", "year"]
# How far a source can be cited, best first: the document itself (UN, EU Official Journal and Council,
# governments, courts); research (peer-reviewed, think tanks); a named news outlet; a repost, mirror or
# unknown host.
Grade = Literal["primary", "research", "press", "aggregator"]
GRADE_RANK: dict[str, int] = {"primary": 3, "research": 2, "press": 1, "aggregator": 0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """A public document a fact rests on: a UN symbol, a report, an article, a communiqué."""

    ref: str = Field(min_length=3, description="Citation, e.g. 'S/RES/2100 (2013)' or an article.")
    date: dt.date | None = None
    url: str | None = None
    note: str | None = None
    # Optional so that older theatres still load; the loader warns about a fact without a graded
    # source above `aggregator`.
    grade: Grade | None = None


def best_grade(sources: list[Source]) -> Grade | None:
    """The highest grade among ``sources`` (``None`` when none is graded)."""
    graded = [s.grade for s in sources if s.grade is not None]
    return max(graded, key=GRADE_RANK.__getitem__) if graded else None


class _Dated(_Model):
    start: dt.date
    end: dt.date | None = None
    start_precision: Precision = "day"
    end_precision: Precision = "day"
    # True when no source states the span itself (it is inferred from the facts around it); the note
    # says how. `entangle registry audit` lists these.
    inferred: bool = False
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def active_on(self, day: dt.date) -> bool:
        """True when ``day`` lies in [start, end] (an open end means still active)."""
        return self.start <= day and (self.end is None or day <= self.end)

    def active_between(self, first: dt.date, last: dt.date) -> bool:
        """True when [start, end] overlaps [first, last]."""
        return self.start <= last and (self.end is None or self.end >= first)


class Intervention(_Dated):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: InterventionKind
    organization: str
    theatre: str | None = None
    note: str | None = None


class ProvisionTerm(_Model):
    """A provision written as a mapping: who it concerns and what it is subject to.

    ``{provision: support_to_partner, recipient: g5s_jf, conditions: [hrddp, compliance_framework]}``
    reads "the document provides for support to the G5 Sahel Joint Force, subject to the HRDDP and
    the Joint Force's compliance framework".
    """

    provision: Provision
    recipient: str | None = Field(
        default=None, description="the intervention supported, authorised or addressed (an intervention id)"
    )
    conditions: list[Condition] = Field(default_factory=list)
    note: str | None = Field(default=None, description="the paragraph and what it says")


class Mandate(_Model):
    """A document (resolution, decision) that set an intervention's tasks for a period.

    In YAML each item of ``provisions`` is a name or a ``ProvisionTerm`` mapping. On the model,
    ``provisions`` holds the names only (a term's provision counts, and so does a condition that is
    also a provision name: the HRDDP condition makes ``hrddp`` a provision of the document) and
    ``provision_terms`` the mappings.
    """

    intervention_id: str
    document: str
    adopted: dt.date
    in_force_from: dt.date
    in_force_to: dt.date | None = None
    provisions: list[Provision] = Field(min_length=1)
    provision_terms: list[ProvisionTerm] = Field(default_factory=list)
    authorized_troops: int | None = Field(default=None, ge=0)
    summary: str | None = None
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _split_terms(cls, data: object) -> object:
        """Mapping items of ``provisions`` become ``provision_terms``; names stay, once each, in order."""
        if not isinstance(data, dict) or not isinstance(data.get("provisions"), list):
            return data
        terms = list(data.get("provision_terms") or [])
        names: list = []
        for item in data["provisions"]:
            if isinstance(item, dict):
                terms.append(item)
                conditions = [c for c in item.get("conditions") or [] if c in _CONDITION_PROVISIONS]
                names.extend(name for name in (item.get("provision"), *conditions) if isinstance(name, str))
            else:
                names.append(item)
        unique: list = []
        for name in names:
            if name not in unique:
                unique.append(name)
        return {**data, "provisions": unique, "provision_terms": terms}

    @model_validator(mode="after")
    def _ordered(self) -> Mandate:
        if self.in_force_to is not None and self.in_force_to < self.in_force_from:
            raise ValueError(f"in_force_to {self.in_force_to} is before in_force_from {self.in_force_from}")
        return self

    def active_on(self, day: dt.date) -> bool:
        return self.in_force_from <= day and (self.in_force_to is None or day <= self.in_force_to)

    def support_to(self, recipient: str) -> list[ProvisionTerm]:
        """The ``support_to_partner`` terms of this document whose recipient is ``recipient``."""
        terms = self.provision_terms
        return [t for t in terms if t.provision == "support_to_partner" and t.recipient == recipient]


class Tie(_Dated):
    """A typed, dated relation from ``source_id`` to ``target_id`` (A supports/authorizes B)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source_id: str
    target_id: str
    type: TieType
    weight: float = Field(default=1.0, gt=0)
    directed: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _not_self(self) -> Tie:
        if self.source_id == self.target_id:
            raise ValueError("a tie must join two different interventions")
        return self


class Site(_Dated):
    """A base or location where an intervention was deployed."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    intervention_id: str
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    troops: int | None = Field(default=None, ge=0)
    site_type: SiteType = Field(
        default="camp", description="hq, camp, temporary_base, liaison, training or other"
    )
    aliases: list[str] = Field(default_factory=list, description="other spellings used by data sources")
    note: str | None = None


class Theatre(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    country_iso3: list[str] = Field(min_length=1)
    start: dt.date
    end: dt.date
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Theatre:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @field_validator("country_iso3")
    @classmethod
    def _iso3(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if len(code) != 3 or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-3 code")
        return codes
