"""Read a theatre directory into a validated ``Registry``, reporting every problem with its file and line.

A theatre directory holds ``theatre.yaml`` (one mapping) and four lists of mappings:
``interventions.yaml``, ``mandates.yaml``, ``ties.yaml``, ``sites.yaml``. Other files (e.g.
``actors.yaml``, read by the sources layer) are ignored. Loading collects all problems before
raising ``RegistryErrors``, so a user fixes a broken registry in one pass.

Cross-checks beyond the schema: ids unique within each table, one mandate per (intervention,
document), references resolve, and dates agree with the interventions involved. A tie, site or
mandate that never coexists with its intervention(s) is an error; one that starts before or ends
after them is a warning (dates of the public record are often approximate), and ``Registry`` clips
it to the days its interventions exist.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from entangle.errors import RegistryError, RegistryErrors
from entangle.registry.model import Registry, overlap, span
from entangle.registry.schema import GRADE_RANK, Intervention, Mandate, Site, Theatre, Tie, best_grade

THEATRE_FILE = "theatre.yaml"
TABLE_FILES: dict[str, type[BaseModel]] = {
    "interventions.yaml": Intervention,
    "mandates.yaml": Mandate,
    "ties.yaml": Tie,
    "sites.yaml": Site,
}
FILE_ORDER = (THEATRE_FILE, *TABLE_FILES)
BUNDLED_THEATRE = "mali"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Mapping(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    __slots__ = ("key_lines", "line")


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader that records lines, rejects duplicate keys and leaves dates to pydantic.

    YAML's own timestamp parsing would turn ``2013-02-30`` into an exception without a line;
    keeping dates as strings lets pydantic report them like any other bad value.
    """


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):  # generator, as PyYAML expects
    data = _Mapping()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    # Duplicates are checked among the mapping's own keys; keys merged in with `<<: *anchor` may be
    # overridden, as YAML intends.
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} in one mapping", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:  # merged keys first, so the mapping's own keys win
        key = loader.construct_object(key_node, deep=True)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


@dataclass(frozen=True)
class _Entry:
    """One validated fact with the raw mapping it came from (for line numbers)."""

    model: Any
    file: str
    raw: _Mapping

    def line(self, key: str | None = None) -> int:
        return self.raw.key_lines.get(key, self.raw.line) if key else self.raw.line


class _Problems:
    """Errors and warnings found so far, each pinned to a file and line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[tuple[int, int, RegistryError]] = []
        self.warnings: list[tuple[int, int, RegistryError]] = []

    def _make(
        self, file: str, line: int | None, what: str, hint: str | None
    ) -> tuple[int, int, RegistryError]:
        order = FILE_ORDER.index(file) if file in FILE_ORDER else len(FILE_ORDER)
        where = str(self.root / file) if line is None else f"{self.root / file}:{line}"
        return order, line or 0, RegistryError(where, what, hint)

    def error(self, file: str, line: int | None, what: str, hint: str | None = None) -> None:
        """Record an error; ``line`` is ``None`` when the problem is the file itself (e.g. missing)."""
        self.errors.append(self._make(file, line, what, hint))

    def warn(self, file: str, line: int, what: str, hint: str | None = None) -> None:
        self.warnings.append(self._make(file, line, what, hint))

    @staticmethod
    def ordered(found: list[tuple[int, int, RegistryError]]) -> list[RegistryError]:
        return [problem for *_, problem in sorted(found, key=lambda item: item[:2])]


def bundled_path(theatre: str = BUNDLED_THEATRE) -> Path:
    """The directory of a theatre shipped inside the package."""
    return Path(str(resources.files("entangle.registry").joinpath("theatres", theatre)))


def load_registry(path: Path | str | None = None) -> Registry:
    """Load and validate the theatre in directory ``path`` (``None``: the bundled Mali theatre).

    Raises ``RegistryErrors`` listing every problem found; warnings are kept in ``Registry.warnings``.
    """
    root = bundled_path() if path is None else Path(path)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "no such registry directory"
        raise RegistryErrors(
            [RegistryError(str(root), what, "point --registry at a directory holding theatre.yaml")]
        )
    problems = _Problems(root)
    theatre_raw = _read(root, THEATRE_FILE, dict, problems)
    theatre = _validate(Theatre, theatre_raw, THEATRE_FILE, problems) if theatre_raw is not None else None
    tables: dict[str, list[_Entry]] = {}
    declared: set[str] | None = None
    for file, model in TABLE_FILES.items():
        raw_list = _read(root, file, list, problems)
        tables[file] = _validate_list(model, raw_list or [], file, problems)
        if file == "interventions.yaml" and raw_list is not None:
            declared = {raw.get("id") for raw in raw_list if isinstance(raw, dict)}
    _cross_check(tables, declared, problems)
    _check_grades(tables, problems)
    if problems.errors or theatre is None:
        raise RegistryErrors(problems.ordered(problems.errors))
    return Registry(
        theatre=theatre.model,
        interventions=tuple(e.model for e in tables["interventions.yaml"]),
        mandates=tuple(e.model for e in tables["mandates.yaml"]),
        ties=tuple(e.model for e in tables["ties.yaml"]),
        sites=tuple(e.model for e in tables["sites.yaml"]),
        path=root,
        warnings=tuple(problems.ordered(problems.warnings)),
    )


def _read(root: Path, file: str, shape: type, problems: _Problems) -> Any:
    """Parse one YAML file; ``None`` (with a problem recorded) when it cannot be used."""
    path = root / file
    if not path.is_file():
        empty = "{}" if shape is dict else "[]"
        hint = f"every theatre needs {file}; write {empty} if empty"
        if path.with_suffix(".yml").is_file():
            hint = f"found {path.with_suffix('.yml').name}: rename it to {file}"
        problems.error(file, None, "file is missing", hint)
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(file, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})", "save as UTF-8")
        return None
    except OSError as exc:
        problems.error(file, None, f"cannot be read ({exc.strerror})", "check the file's permissions")
        return None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        hint = None if isinstance(exc, yaml.constructor.ConstructorError) else "check indentation and quoting"
        problems.error(file, line, f"malformed YAML: {exc.problem or exc.context}", hint)
        return None
    if data is None:
        what = "a mapping" if shape is dict else "a list (write [] for none)"
        problems.error(file, 1, "file is empty", f"{file} must hold {what}")
        return None
    if not isinstance(data, shape):
        what = "a mapping of fields" if shape is dict else "a list of entries, each starting with '- '"
        problems.error(file, getattr(data, "line", 1), f"expected {what}, found {type(data).__name__}")
        return None
    return data


def _validate_list(model: type[BaseModel], raw_list: list, file: str, problems: _Problems) -> list[_Entry]:
    entries = []
    for position, raw in enumerate(raw_list, start=1):
        if not isinstance(raw, _Mapping):
            problems.error(file, 1, f"entry {position} is a {type(raw).__name__}, not a mapping of fields")
            continue
        entry = _validate(model, raw, file, problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _validate(model: type[BaseModel], raw: _Mapping, file: str, problems: _Problems) -> _Entry | None:
    try:
        return _Entry(model.model_validate(raw), file, raw)
    except ValidationError as exc:
        label = _label(raw)
        for err in exc.errors():
            what, hint = _explain(model, err)
            problems.error(file, _error_line(raw, err["loc"], what), f"{label}{what}", hint)
        return None


def _label(raw: _Mapping) -> str:
    """How to name an entry in a message: its id, or its document for a mandate."""
    for key in ("id", "document"):
        if isinstance(raw.get(key), str):
            return f"{raw[key]}: "
    return ""


def _explain(model: type[BaseModel], err: dict) -> tuple[str, str | None]:
    """A readable message and hint for one pydantic error."""
    loc = err["loc"]
    field = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in loc).replace(".[", "[")
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown field {field!r}", _known_fields(model, loc)
    if kind == "missing":
        return f"missing field {field!r}", None
    if loc and loc[-1] == "sources" and kind == "too_short":
        return "no source: every fact needs at least one", "add sources: [{ref: ..., date: YYYY-MM-DD}]"
    if kind.startswith("date_"):
        hint = "write YYYY-MM-DD; for an uncertain day use the first one and set *_precision: month or year"
        return f"{field}: {err['input']!r} is not a valid date ({err['msg']})", hint
    if kind == "string_type" and isinstance(err["input"], bool | int | float):
        return (
            f"{field}: {err['input']!r} is not text",
            "quote it: YAML reads yes/no/on/off and numbers as such",
        )
    message = err["msg"].removeprefix("Value error, ")
    return (f"{field}: {message}" if field else message), None


def _known_fields(model: type[BaseModel], loc: tuple) -> str:
    """The fields allowed where an unknown one was found (top level, or inside a source)."""
    fields = model.model_fields
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        fields = getattr(inner, "model_fields", fields)
    return "known fields: " + ", ".join(fields)


def _error_line(raw: _Mapping, loc: tuple, what: str) -> int:
    """Where to point: the field in error, or for a whole-entry check the field its message names first
    (``end 2019-12-31 is before start ...`` points at ``end``)."""
    if not loc:
        first_word = what.split(" ", 1)[0]
        return raw.key_lines.get(first_word, raw.line)
    return _line_at(raw, loc)


def _line_at(raw: _Mapping, loc: tuple) -> int:
    """The line of the deepest key along ``loc`` that exists in the YAML."""
    if loc and loc[0] == "provision_terms":  # written as mappings inside `provisions`
        return raw.key_lines.get("provisions", raw.line)
    line, node = raw.line, raw
    for part in loc:
        if isinstance(node, _Mapping) and part in node:
            line, node = node.key_lines[part], node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def _check_grades(tables: dict[str, list[_Entry]], problems: _Problems) -> None:
    """Warn about every fact without a source graded above ``aggregator`` (ungraded ones do not count)."""
    floor = GRADE_RANK["aggregator"]
    for entries in tables.values():
        for entry in entries:
            sources = entry.model.sources
            best = best_grade(sources)
            if best is not None and GRADE_RANK[best] > floor:
                continue
            counts = {"ungraded": sum(s.grade is None for s in sources)}
            counts["aggregator"] = sum(s.grade == "aggregator" for s in sources)
            found = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
            problems.warn(
                entry.file,
                entry.line("sources"),
                f"{_label(entry.raw)}no source graded above aggregator ({found})",
                "cite the document itself, a research report or a named outlet, with grade: "
                "primary | research | press",
            )


def _cross_check(tables: dict[str, list[_Entry]], declared: set[str] | None, problems: _Problems) -> None:
    """Uniqueness, references and lifetimes.

    ``declared`` holds every id written in interventions.yaml, valid or not: a reference to an invalid
    intervention is not reported again (its own error is). ``None`` when the file could not be read,
    in which case references are not checked at all rather than all reported as broken.
    """
    for file in ("interventions.yaml", "ties.yaml", "sites.yaml"):
        _unique(tables[file], lambda e: e.model.id, "id", problems)
    _unique(
        tables["mandates.yaml"], lambda e: (e.model.intervention_id, e.model.document), "document", problems
    )
    if declared is None:
        return
    known = {e.model.id: e.model for e in tables["interventions.yaml"]}

    def resolves(entry: _Entry, key: str) -> bool:
        target = getattr(entry.model, key)
        if target in known:
            return True
        if target not in declared:
            _unresolved(entry, key, known, problems)
        return False

    for entry in tables["mandates.yaml"]:
        mandate = entry.model
        for term in mandate.provision_terms:
            if term.recipient is not None and term.recipient not in declared:
                close = difflib.get_close_matches(term.recipient, known, n=3)
                problems.error(
                    entry.file,
                    entry.line("provisions"),
                    f"{mandate.document}: {term.provision} recipient {term.recipient!r} "
                    "is not an intervention",
                    f"did you mean {', '.join(close)}?" if close else "define it in interventions.yaml",
                )
        if resolves(entry, "intervention_id"):
            in_force = (mandate.in_force_from, mandate.in_force_to)
            if overlap(in_force, span(known[mandate.intervention_id])) is None:
                problems.error(
                    entry.file,
                    entry.line("in_force_from"),
                    f"{mandate.document}: in force {_days(in_force)}, never while "
                    f"{mandate.intervention_id} existed {_days(span(known[mandate.intervention_id]))}",
                )
    for entry in tables["ties.yaml"]:
        ends = [key for key in ("source_id", "target_id") if resolves(entry, key)]
        _check_lifetime(entry, [known[getattr(entry.model, key)] for key in ends], problems)
    for entry in tables["sites.yaml"]:
        if resolves(entry, "intervention_id"):
            _check_lifetime(entry, [known[entry.model.intervention_id]], problems)


def _unique(entries: list[_Entry], key: Callable[[_Entry], Any], field: str, problems: _Problems) -> None:
    first_seen: dict[Any, _Entry] = {}
    for entry in entries:
        value = key(entry)
        if value in first_seen:
            first = first_seen[value]
            shown = value if isinstance(value, str) else " / ".join(value)
            problems.error(
                entry.file,
                entry.line(field),
                f"duplicate {field} {shown!r}",
                f"first defined at {first.file}:{first.line(field)}",
            )
        else:
            first_seen[value] = entry


def _unresolved(entry: _Entry, key: str, known: dict[str, Intervention], problems: _Problems) -> None:
    target = getattr(entry.model, key)
    close = difflib.get_close_matches(target, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "define it in interventions.yaml"
    problems.error(
        entry.file, entry.line(key), f"{_label(entry.raw)}{key} {target!r} is not an intervention", hint
    )


def _check_lifetime(entry: _Entry, ends: list[Intervention], problems: _Problems) -> None:
    """Error when a tie/site never coexists with its intervention(s); warn when it outlasts them."""
    item = entry.model
    for end in ends:
        if overlap(span(item), span(end)) is None:
            problems.error(
                entry.file,
                entry.line("start"),
                f"{item.id}: active {_days(span(item))}, never while {end.id} existed {_days(span(end))}",
            )
        elif item.start < end.start or (end.end is not None and (item.end is None or item.end > end.end)):
            problems.warn(
                entry.file,
                entry.line("start"),
                f"{item.id}: active {_days(span(item))}, beyond {end.id}'s lifetime {_days(span(end))}",
                "counted only while both exist; check the dates",
            )


def _days(interval: tuple[dt.date, dt.date | None]) -> str:
    start, end = interval
    return f"{start.isoformat()}..{end.isoformat() if end else 'ongoing'}"
