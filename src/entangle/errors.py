"""The errors a user can cause, and how they are shown.

Every user mistake raises an ``EntangleError``; the CLI prints it as one line
``error: <where>: <what> (<hint>)`` and exits with code 2. Anything else is a bug.
"""

from __future__ import annotations


class EntangleError(Exception):
    """A problem the user can fix: bad input, a missing file, a wrong option."""

    def __init__(self, where: str, what: str, hint: str | None = None) -> None:
        self.where = where
        self.what = what
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        return f"{text} ({self.hint})" if self.hint else text

    def __reduce__(self):
        # Errors raised on Dask workers travel back by pickle; keep the three-part form.
        return (type(self), (self.where, self.what, self.hint))


class RegistryError(EntangleError):
    """The registry YAML is malformed or inconsistent."""


class RegistryErrors(RegistryError):
    """Several registry problems found at once; ``problems`` holds each of them."""

    def __init__(self, problems: list[RegistryError]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first.where, first.what + more, first.hint)

    def __reduce__(self):
        return (type(self), (self.problems,))


class InputError(EntangleError):
    """An input file (events, deployments, polygons, panel) cannot be read as asked."""


class StoreError(EntangleError):
    """The DuckDB store cannot be opened or written."""


class FetchError(EntangleError):
    """A download failed (HTTP error, truncated file, full disk, bad credentials)."""


class StudyError(EntangleError):
    """The study file is invalid."""


class PanelError(EntangleError):
    """A panel cannot be built with the options given."""


class EstimateError(EntangleError):
    """A model cannot be estimated as specified."""
