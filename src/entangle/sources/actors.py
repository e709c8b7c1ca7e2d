"""Map raw actor names and ids to registry interventions or perpetrator categories.

The rules are data shipped with each theatre (``registry/theatres/<theatre>/actors.yaml``): ordered
lists per source, then an ``any`` list tried for every source. A rule matches a *normalised* name
(ACLED period suffixes such as "(2013-2020)" removed, spaces collapsed) by ``exact`` text
(case-insensitive) or a ``pattern`` (case-insensitive regular expression, searched), or a UCDP side id
by ``side_id``. It names an ``intervention`` (a registry id) and/or a ``category``; with
``while_active: true`` (or explicit ``from``/``to`` dates) it applies only on the days the
intervention is active in the registry, so "Military Forces of France" becomes Serval, then Barkhane.
The first rule that matches an actor on the event's start date wins.

Mapping is computed once per distinct (name, id) pair and joined back in SQL, so it costs the same
for 4,000 events as for 2,000,000.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import re2
import yaml

from entangle.errors import InputError
from entangle.sources import CATEGORIES
from entangle.sources.readers import memory_db

if TYPE_CHECKING:
    from entangle.registry import Registry

ACTORS_FILE = "actors.yaml"
_PERIOD = re.compile(r"\s*\(\s*\d{4}\s*-\s*(?:\d{4})?\s*\)")
_MIN_DATE = dt.date(1, 1, 1)
_MAX_DATE = dt.date(9999, 12, 31)
_KEYS = {"exact", "pattern", "side_id", "intervention", "category", "while_active", "from", "to", "note"}


@functools.cache
def compile_pattern(pattern: str) -> re2._Regexp:
    """A rule's pattern, case-insensitive, compiled by RE2: matching takes time linear in the name's
    length whatever the pattern (``^(a+)+$`` cannot backtrack for ever, as it would with ``re``)."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print parse errors on stderr; the InputError says it
    options.max_mem = 8 << 20  # a pattern whose automaton needs more is refused, not built
    return re2.compile(pattern, options)


def normalise_actor(name: str) -> str:
    """An actor name without period suffixes and with single spaces: the text rules match."""
    return " ".join(_PERIOD.sub(" ", name).split())


@dataclass(frozen=True)
class Rule:
    """One line of the mapping: how a raw actor becomes a registry actor or a category."""

    index: int  # position in the file, 1-based; the ``rule`` stored with each mapped event
    source: str  # 'acled', 'ucdp', 'csv' or 'any'
    match: str  # 'exact' | 'pattern' | 'side_id'
    value: str
    intervention: str | None
    category: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    line: int

    def matches(self, name: str | None, ident: str | None) -> bool:
        if self.match == "side_id":
            return ident is not None and ident == self.value
        if name is None:
            return False
        clean = normalise_actor(name)
        if self.match == "exact":
            return clean.casefold() == self.value.casefold()
        return compile_pattern(self.value).search(clean) is not None

    def active(self, lo: dt.date, hi: dt.date) -> bool:
        """True when the rule applies on every day of [lo, hi)."""
        return (self.valid_from is None or self.valid_from <= lo) and (
            self.valid_to is None or hi - dt.timedelta(days=1) <= self.valid_to
        )


@dataclass(frozen=True)
class ActorRules:
    version: str
    rules: tuple[Rule, ...]
    path: Path

    def for_source(self, source: str) -> list[Rule]:
        """The rules tried for a source, in order: its own list, then ``any``."""
        family = source.split(":")[0]
        return [r for r in self.rules if r.source == family] + [r for r in self.rules if r.source == "any"]

    def table(self) -> pa.Table:
        """The ``actor_map`` rows: one per rule."""
        return pa.table(
            {
                "source": [r.source for r in self.rules],
                "pattern": [r.value for r in self.rules],
                "intervention_id": pa.array([r.intervention for r in self.rules], pa.string()),
                "category": [r.category for r in self.rules],
                "rule": pa.array([r.index for r in self.rules], pa.int32()),
                "match": [r.match for r in self.rules],
                "valid_from": pa.array([r.valid_from for r in self.rules], pa.date32()),
                "valid_to": pa.array([r.valid_to for r in self.rules], pa.date32()),
                "version": [self.version] * len(self.rules),
            }
        )


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records each mapping's line as ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def rules_path(registry: Registry | None = None) -> Path:
    """The actor rules of a registry's theatre directory (the bundled Mali theatre by default)."""
    if registry is not None and registry.path is not None:
        return Path(registry.path) / ACTORS_FILE
    from entangle.registry import bundled_path

    return Path(bundled_path()) / ACTORS_FILE


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(where, f"{value!r} is not a date", "write YYYY-MM-DD") from None


def _rule(entry: Any, index: int, source: str, path: Path, registry: Registry | None) -> Rule:
    if not isinstance(entry, dict):
        raise InputError(str(path), f"rule {index} under {source!r} is not a mapping", "see docs/sources.md")
    where = f"{path}:{entry['__line__']}"
    unknown = set(entry) - _KEYS - {"__line__"}
    if unknown:
        raise InputError(
            where, f"unknown key(s) {', '.join(sorted(unknown))}", f"allowed: {', '.join(sorted(_KEYS))}"
        )
    given = [k for k in ("exact", "pattern", "side_id") if k in entry]
    if len(given) != 1:
        raise InputError(
            where, "a rule needs exactly one of exact, pattern, side_id", f"found {given or 'none'}"
        )
    match = given[0]
    value = str(entry[match]).strip()
    if match == "pattern":
        try:
            compile_pattern(value)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise InputError(
                where,
                f"invalid regular expression {value!r}: {reason}",
                "patterns use RE2 syntax (no backreferences or lookaround)",
            ) from None
    intervention = entry.get("intervention")
    category = entry.get("category")
    if category not in CATEGORIES:
        raise InputError(
            where, f"category {category!r} is not one of {', '.join(CATEGORIES)}", "fix the rule"
        )
    valid_from, valid_to = _date(entry.get("from"), where), _date(entry.get("to"), where)
    if intervention is not None and registry is not None:
        try:
            known = registry.intervention(intervention)
        except Exception as exc:  # RegistryError naming close matches
            raise InputError(
                where, f"unknown intervention {intervention!r}", getattr(exc, "hint", None)
            ) from None
        if entry.get("while_active"):
            valid_from = max(filter(None, [valid_from, known.start]))
            valid_to = min(filter(None, [valid_to, known.end]), default=None)
    elif entry.get("while_active"):
        raise InputError(where, "while_active needs an intervention and a registry", "add intervention: <id>")
    return Rule(index, source, match, value, intervention, category, valid_from, valid_to, entry["__line__"])


def load_actor_rules(path: str | Path | None = None, registry: Registry | None = None) -> ActorRules:
    """Read and check ``actors.yaml`` (intervention ids are checked against ``registry`` when given)."""
    path = Path(path) if path is not None else rules_path(registry)
    if not path.is_file():
        raise InputError(str(path), "no actor rules file", f"a theatre ships its rules as {ACTORS_FILE}")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise InputError(
            f"{path}:{line}", f"invalid YAML: {getattr(exc, 'problem', exc)}", "fix the syntax"
        ) from None
    if not isinstance(doc, dict) or "version" not in doc or not isinstance(doc.get("rules"), dict):
        raise InputError(
            f"{path}:1", "expected 'version:' and 'rules:' (a mapping of source -> list)", "see docs"
        )
    rules: list[Rule] = []
    for source, entries in doc["rules"].items():
        if source == "__line__":
            continue
        if not isinstance(entries, list):
            raise InputError(str(path), f"rules for {source!r} must be a list", "see docs/sources.md")
        for entry in entries:
            rules.append(_rule(entry, len(rules) + 1, source, path, registry))
    return ActorRules(str(doc["version"]), tuple(rules), path)


def _segments(candidates: list[Rule]) -> list[tuple[dt.date, dt.date, Rule]]:
    """Split time at every rule boundary; each piece [lo, hi) goes to the first rule active on it."""
    cuts = {_MIN_DATE, _MAX_DATE}
    for rule in candidates:
        if rule.valid_from is not None:
            cuts.add(rule.valid_from)
        if rule.valid_to is not None and rule.valid_to < _MAX_DATE:
            cuts.add(rule.valid_to + dt.timedelta(days=1))
    bounds = sorted(cuts)
    pieces: list[tuple[dt.date, dt.date, Rule]] = []
    for lo, hi in itertools.pairwise(bounds):
        winner = next((r for r in candidates if r.active(lo, hi)), None)
        if winner is None:
            continue
        if pieces and pieces[-1][2] is winner and pieces[-1][1] == lo:
            pieces[-1] = (pieces[-1][0], hi, winner)
        else:
            pieces.append((lo, hi, winner))
    return pieces


def _distinct(table: pa.Table, name: str, ident: str) -> list[tuple[str, str | None]]:
    con = memory_db()
    try:
        con.register("t", table.select([name, ident]))
        rows = con.sql(f"SELECT DISTINCT {name}, {ident} FROM t").to_arrow_table().to_pylist()
    finally:
        con.close()
    return [(r[name], r[ident]) for r in rows if r[name] is not None or r[ident] is not None]


def _elements(assoc: str) -> Iterable[str]:
    return (part.strip() for part in assoc.split(";") if part.strip())


def map_actors(table: pa.Table, source: str, rules: ActorRules, peacekeeping: Iterable[str]) -> pa.Table:
    """Add perpetrator, perpetrator_category, target_peacekeepers, actor1_rule and actor2_rule.

    ``table`` needs actor1, actor2, actor1_id, actor2_id, assoc_actor2 and date_start. The
    perpetrator is actor1 (ACLED's initiator, UCDP's side A); target_peacekeepers is true when actor2
    or one of the associated actors of side 2 maps to a peacekeeping intervention and actor1 does not.
    """

    applicable = rules.for_source(source)
    pk_ids = sorted(set(peacekeeping))
    seg_rows: dict[str, list] = {
        k: [] for k in ("name", "ident", "lo", "hi", "rule", "intervention", "category")
    }
    pairs = set(_distinct(table, "actor1", "actor1_id")) | set(_distinct(table, "actor2", "actor2_id"))
    for name, ident in pairs:
        candidates = [r for r in applicable if r.matches(name, ident)]
        for lo, hi, rule in _segments(candidates):
            for key, value in zip(
                seg_rows,
                (name or "", ident or "", lo, hi, rule.index, rule.intervention, rule.category),
                strict=True,
            ):
                seg_rows[key].append(value)
    segments = pa.table(
        {
            "name": pa.array(seg_rows["name"], pa.string()),
            "ident": pa.array(seg_rows["ident"], pa.string()),
            "lo": pa.array(seg_rows["lo"], pa.date32()),
            "hi": pa.array(seg_rows["hi"], pa.date32()),
            "rule": pa.array(seg_rows["rule"], pa.int32()),
            "intervention": pa.array(seg_rows["intervention"], pa.string()),
            "category": pa.array(seg_rows["category"], pa.string()),
        }
    )
    # Only the rules of peacekeeping interventions can make a name peacekeeping: try those alone
    # (the same answer as trying every rule, with a fraction of the pattern searches).
    pk_rules = [r for r in applicable if r.intervention in pk_ids]
    pk_names = {name for name, _ in pairs if any(r.matches(name, None) for r in pk_rules)}
    assoc_values = [v for v in table.column("assoc_actor2").unique().to_pylist() if v is not None]
    assoc = pa.table(
        {
            "assoc": pa.array(assoc_values, pa.string()),
            "pk": pa.array(
                [
                    any(e in pk_names or any(r.matches(e, None) for r in pk_rules) for e in _elements(v))
                    for v in assoc_values
                ],
                pa.bool_(),
            ),
        }
    )
    pk_list = ", ".join("'" + i.replace("'", "''") + "'" for i in pk_ids) or "NULL"
    inputs = ["actor1", "actor1_id", "actor2", "actor2_id", "assoc_actor2", "date_start"]
    narrow = table.select(inputs).append_column("_i", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con = memory_db()
    try:
        con.register("t", narrow)
        con.register("seg", segments)
        con.register("assoc", assoc)
        # Only the new columns travel through SQL; they are appended to the caller's table in order.
        mapped = con.sql(
            f"""
            SELECT
                coalesce(a1.intervention, a1.category, 'unknown') AS perpetrator,
                coalesce(a1.category, 'unknown') AS perpetrator_category,
                (coalesce(a2.intervention IN ({pk_list}), false) OR coalesce(ap.pk, false))
                    AND NOT coalesce(a1.intervention IN ({pk_list}), false) AS target_peacekeepers,
                a1.rule AS actor1_rule,
                a2.rule AS actor2_rule
            FROM t
            LEFT JOIN seg a1 ON a1.name = coalesce(t.actor1, '') AND a1.ident = coalesce(t.actor1_id, '')
                AND t.date_start >= a1.lo AND t.date_start < a1.hi
            LEFT JOIN seg a2 ON a2.name = coalesce(t.actor2, '') AND a2.ident = coalesce(t.actor2_id, '')
                AND t.date_start >= a2.lo AND t.date_start < a2.hi
            LEFT JOIN assoc ap ON ap.assoc = t.assoc_actor2
            ORDER BY t._i
            """
        ).to_arrow_table()
    finally:
        con.close()
    out = table.drop_columns([c for c in mapped.column_names if c in table.column_names])
    for name in mapped.column_names:
        out = out.append_column(name, mapped.column(name))
    return out


def peacekeeping_ids(registry: Registry) -> set[str]:
    """Ids of the registry's peacekeeping interventions (attacks on them set target_peacekeepers)."""
    return {i.id for i in registry.interventions if i.kind == "peacekeeping"}
