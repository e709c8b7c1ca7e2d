"""The errors a user can cause, and how they are shown.

Every user mistake raises an ``EntangleError``; the CLI prints it as one line
``error: <where>: <what> (<hint>)`` and exits with code 2. So does a failure of the environment
(full disk, read-only file system, a directory where a file should be: ``environment_error``).
An interrupt exits with 130; anything else is a bug (exit 1).

Every part of every message passes through ``redact``, so no credential reaches a terminal or log.
"""

from __future__ import annotations

import errno
import os
import re

# Environment variables whose values are secrets wherever they appear.
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|_KEY)$")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_SECRET_PARAM = re.compile(
    r"(?i)\b(key|password|passwd|pass|pwd|token|access_token|refresh_token|secret|api_key|apikey)"
    r"(=|%3D)([^&\s'\")]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[\w.~+/-]+=*")
HIDDEN = "***"


def redact(text: str) -> str:
    """``text`` without credentials: URL user:password, ``key=``/``password=``/``token=`` values,
    bearer tokens, and the value of any environment variable named like a secret."""
    text = _URL_USERINFO.sub(rf"\1{HIDDEN}@", text)
    text = _SECRET_PARAM.sub(rf"\1\2{HIDDEN}", text)
    text = _BEARER.sub(rf"\1 {HIDDEN}", text)
    for name, value in os.environ.items():
        if len(value) >= 4 and _SECRET_ENV.search(name.upper()) and value in text:
            text = text.replace(value, HIDDEN)
    return text


class EntangleError(Exception):
    """A problem the user can fix: bad input, a missing file, a wrong option."""

    def __init__(self, where: str, what: str, hint: str | None = None) -> None:
        self.where = redact(str(where))
        self.what = redact(str(what))
        self.hint = redact(str(hint)) if hint else None
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


# What the OS said, as a user reads it: (what, hint), by errno.
_OS_ERRORS = {
    errno.ENOSPC: ("no space left on the device", "free some space or write elsewhere"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write elsewhere"),
    errno.EROFS: ("read-only file system", "write to a writable directory"),
    errno.EISDIR: ("is a directory", "give a file name, not a directory"),
    errno.ENOTDIR: ("a part of this path is a file, not a directory", "check the path"),
    errno.EEXIST: ("already exists and is not a directory", "check the path"),
    errno.EACCES: ("permission denied", "check the permissions, or write elsewhere"),
    errno.EPERM: ("operation not permitted", "check the permissions, or write elsewhere"),
    errno.ENOENT: ("no such file or directory", "check the path"),
    errno.ENAMETOOLONG: ("file name too long", "use a shorter path"),
    errno.ELOOP: ("too many levels of symbolic links", "check the path"),
    errno.EMFILE: ("too many open files", "raise the open-file limit (ulimit -n)"),
    errno.EIO: ("input/output error", "check the disk"),
}
# DuckDB reports failed file I/O as text; the OS condition behind it, by the words it uses.
_DUCKDB_OS_TEXT = {
    "no space left on device": errno.ENOSPC,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
    "is a directory": errno.EISDIR,
    "not a directory": errno.ENOTDIR,
    "disk quota exceeded": errno.EDQUOT,
}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_interrupt(exc: BaseException) -> bool:
    """True for Ctrl-C, also when a library (DuckDB's "Query interrupted") wrapped it."""
    for link in _chain(exc):
        if isinstance(link, KeyboardInterrupt):
            return True
        if type(link).__name__ == "InterruptException" or "INTERRUPT Error" in str(link)[:40]:
            return True
    return False


def environment_error(exc: BaseException) -> EntangleError | None:
    """The one-line error for a failure of the machine rather than of entangle (full disk, read-only
    or missing directory, permissions, out of memory), looking through wrapped exceptions; else None."""
    for link in _chain(exc):
        if isinstance(link, MemoryError):
            return EnvironmentFailure(
                "memory", "not enough memory for this task", "make the task smaller or use a bigger machine"
            )
        if isinstance(link, OSError) and link.errno is not None:
            what, hint = _OS_ERRORS.get(link.errno, (link.strerror or str(link), "check the path"))
            where = link.filename if link.filename is not None else "file system"
            return EnvironmentFailure(str(where), what, hint)
    for link in _chain(exc):
        if type(link).__module__.startswith(("duckdb", "_duckdb")):
            text = str(link).lower()
            for words, code in _DUCKDB_OS_TEXT.items():
                if words in text:
                    what, hint = _OS_ERRORS[code]
                    return EnvironmentFailure(_duckdb_path(str(link)), what, hint)
    return None


def _duckdb_path(message: str) -> str:
    """The file DuckDB names in quotes in an I/O error message, else 'store'."""
    found = re.search(r'"(/[^"]+)"', message)
    return found.group(1) if found else "store"


class EnvironmentFailure(EntangleError):
    """The machine refused: full disk, read-only or missing directory, permissions, memory."""
