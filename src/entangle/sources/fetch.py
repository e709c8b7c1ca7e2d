"""Download event data into a local cache: UCDP GED (public files) and ACLED (API, credentials).

Every file is written beside its final name and renamed into place only once complete and checked,
so an interrupted, truncated or refused download leaves the cache as it was. Each cached file has a
``<name>.sha256`` sidecar with its checksum.

UCDP: ``<base>/ged<version without dot>-csv.zip`` (e.g. https://ucdp.uu.se/downloads/ged/ged251-csv.zip);
the base URL can be changed with ``ENTANGLE_UCDP_URL``.

ACLED: OAuth password grant at ``<base>/oauth/token`` (client id ``acled``), then paged reads from
``<base>/api/acled/read`` with a bearer token; an expired token (401) is refreshed once. Credentials
come from ``ACLED_EMAIL`` with ``ACLED_PASSWORD`` (or, for legacy access keys, ``ACLED_KEY``) and are
never printed: error messages name the endpoint without its query string. The base URL can be
changed with ``ENTANGLE_ACLED_URL``.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import itertools
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from entangle.atomic import atomic_path
from entangle.errors import FetchError, redact
from entangle.sources.readers import sha256_file

UCDP_DEFAULT_URL = "https://ucdp.uu.se/downloads/ged"
UCDP_DEFAULT_VERSION = "25.1"
ACLED_DEFAULT_URL = "https://acleddata.com"
ACLED_PAGE_SIZE = 5000
CHUNK = 1 << 16
TIMEOUT = httpx.Timeout(30.0, read=120.0)


@dataclass(frozen=True)
class Fetched:
    """A file in the cache and where it came from."""

    path: Path
    sha256: str
    bytes: int
    url: str  # without query string
    cached: bool  # True when an existing good file was reused
    rows: int | None = None  # records, for API downloads

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """``override``, else ``$ENTANGLE_CACHE``, else the user cache directory for entangle."""
    if override:
        return Path(override)
    if os.environ.get("ENTANGLE_CACHE"):
        return Path(os.environ["ENTANGLE_CACHE"])
    import platformdirs

    return platformdirs.user_cache_path("entangle")


def ucdp_file_name(version: str) -> str:
    """'25.1' -> 'ged251-csv.zip' (the naming of UCDP's download service)."""
    if not re.fullmatch(r"\d{1,2}\.\d", version):
        raise FetchError(
            "ucdp", f"version {version!r} is not like '25.1'", "GED versions are YY.N, e.g. 24.1"
        )
    return f"ged{version.replace('.', '')}-csv.zip"


def fetch_ucdp(
    version: str | None = None, cache: str | os.PathLike[str] | None = None, force: bool = False
) -> Fetched:
    """Download UCDP GED ``version`` (default 25.1) into the cache; reuse a good copy unless ``force``."""
    name = ucdp_file_name(version or UCDP_DEFAULT_VERSION)
    base = os.environ.get("ENTANGLE_UCDP_URL", UCDP_DEFAULT_URL).rstrip("/")
    url = f"{base}/{name}"
    target = cache_dir(cache) / "ucdp" / name
    if not force:
        known = _cached(target)
        if known:
            return Fetched(target, known, target.stat().st_size, url, cached=True)
    with _client() as client, _errors(url, "ucdp"):
        digest, size = _download(client, url, target, validate=_check_zip)
    return Fetched(target, digest, size, url, cached=False)


def fetch_acled(
    country: str,
    start: str | dt.date,
    end: str | dt.date,
    cache: str | os.PathLike[str] | None = None,
    page_size: int = ACLED_PAGE_SIZE,
) -> Fetched:
    """Download ACLED events of ``country`` between ``start`` and ``end`` (inclusive) as one JSON file.

    The file has the API's page shape, ``{"success": true, "count": N, "data": [...]}``, with all pages
    joined, so the ACLED loader reads it like a single API response.
    """
    first, last = _date("--from", start), _date("--to", end)
    if first > last:
        raise FetchError("acled", f"--from {first} is after --to {last}", "swap the dates")
    if not country.strip():
        raise FetchError("acled", "--country is empty", "give a country name as ACLED spells it, e.g. Mali")
    base = os.environ.get("ENTANGLE_ACLED_URL", ACLED_DEFAULT_URL).rstrip("/")
    read_url = f"{base}/api/acled/read"
    query = {
        "country": country,
        "event_date": f"{first}|{last}",
        "event_date_where": "BETWEEN",
        "limit": page_size,
        "_format": "json",
    }
    slug = re.sub(r"[^a-z0-9]+", "-", country.casefold()).strip("-")
    target = cache_dir(cache) / "acled" / f"acled_{slug}_{first}_{last}.json"
    with _client() as client, _errors(read_url, "acled"):
        session = _AcledSession(client, base, _acled_credentials())
        records = []
        with _progress(None, f"ACLED {country}") as advance:
            for page in itertools.count(1):
                batch = session.read(read_url, {**query, "page": page})
                records += batch
                advance(len(batch))
                if len(batch) < page_size:
                    break
        payload = {"success": True, "count": len(records), "data": records}
        digest, size = _write_json(target, payload)
    return Fetched(target, digest, size, read_url, cached=False, rows=len(records))


class _AcledSession:
    """Bearer-token (or legacy key) access to the ACLED API, refreshing an expired token once."""

    def __init__(self, client: httpx.Client, base: str, credentials: dict[str, str]) -> None:
        self.client = client
        self.token_url = f"{base}/oauth/token"
        self.credentials = credentials
        self.access: str | None = None
        self.refresh_token: str | None = None
        if "password" in credentials:
            self._grant(
                {
                    "grant_type": "password",
                    "username": credentials["email"],
                    "password": credentials["password"],
                    "scope": "authenticated",
                }
            )

    def _grant(self, form: dict[str, str]) -> None:
        response = self.client.post(self.token_url, data={**form, "client_id": "acled"})
        if response.status_code in (400, 401, 403):
            raise FetchError(
                _where(self.token_url),
                f"HTTP {response.status_code}: ACLED refused the credentials",
                "check ACLED_EMAIL and ACLED_PASSWORD",
            )
        _raise_for_status(response, "acled")
        body = _json(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise FetchError(_where(self.token_url), "the token response has no access_token", None)
        self.access = body["access_token"]
        self.refresh_token = body.get("refresh_token")

    def _refresh(self) -> None:
        if self.refresh_token:
            response = self.client.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh_token,
                    "client_id": "acled",
                },
            )
            body = _json(response) if response.status_code == 200 else None
            if isinstance(body, dict) and body.get("access_token"):
                self.access, self.refresh_token = body["access_token"], body.get("refresh_token")
                return
        self._grant(
            {
                "grant_type": "password",
                "username": self.credentials["email"],
                "password": self.credentials["password"],
                "scope": "authenticated",
            }
        )

    def _get(self, url: str, params: dict[str, Any]) -> httpx.Response:
        if self.access is None:  # legacy access key
            params = {**params, "key": self.credentials["key"], "email": self.credentials["email"]}
            return self.client.get(url, params=params)
        return self.client.get(url, params=params, headers={"Authorization": f"Bearer {self.access}"})

    def read(self, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        response = self._get(url, params)
        if response.status_code == 401 and self.access is not None:
            self._refresh()
            response = self._get(url, params)
        if response.status_code == 401:
            raise FetchError(
                _where(url),
                "HTTP 401: ACLED refused the request even with a fresh token",
                "check that the account has API access",
            )
        _raise_for_status(response, "acled")
        body = _json(response)
        if isinstance(body, dict) and body.get("success") is False:
            message = body.get("error") or body.get("message") or "no reason given"
            raise FetchError(_where(url), f"ACLED answered with an error: {message}", None)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise FetchError(_where(url), "the response has no 'data' list", "is ENTANGLE_ACLED_URL right?")
        return data


def _acled_credentials() -> dict[str, str]:
    email = os.environ.get("ACLED_EMAIL", "").strip()
    password = os.environ.get("ACLED_PASSWORD", "")
    key = os.environ.get("ACLED_KEY", "").strip()
    if email and password:
        return {"email": email, "password": password}
    if email and key:
        return {"email": email, "key": key}
    raise FetchError(
        "acled",
        "no ACLED credentials in the environment",
        "set ACLED_EMAIL and ACLED_PASSWORD (or ACLED_EMAIL and a legacy ACLED_KEY)",
    )


def _date(option: str, value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise FetchError("acled", f"{option} {value!r} is not a date", "write dates as YYYY-MM-DD") from None


def _client() -> httpx.Client:
    """The one HTTP client every download uses; refused when ``ENTANGLE_OFFLINE=1``."""
    if os.environ.get("ENTANGLE_OFFLINE") == "1":
        raise FetchError("fetch", "ENTANGLE_OFFLINE=1: no download is tried", "unset ENTANGLE_OFFLINE to download")
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True, trust_env=False)


def _where(url: str) -> str:
    """The URL without its query string or user:password, so no credential ever reaches a message."""
    try:
        bare = httpx.URL(url).copy_with(query=None, fragment=None, userinfo=b"")
    except (httpx.InvalidURL, TypeError, ValueError):
        return redact(url.split("?", 1)[0])
    return redact(str(bare))


@contextmanager
def _errors(url: str, what: str) -> Iterator[None]:
    """Turn network and disk failures into one FetchError line."""
    try:
        yield
    except httpx.ConnectError:
        raise FetchError(
            _where(url), "cannot connect (connection refused or no network)", "check the URL and network"
        ) from None
    except httpx.TimeoutException:
        raise FetchError(_where(url), "the server did not answer in time", "retry later") from None
    except httpx.TransportError as exc:
        raise FetchError(
            _where(url),
            f"the connection broke during the transfer ({type(exc).__name__})",
            "retry; the cache was left as it was",
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise FetchError(
                f"{what} cache", "no space left on the device", "free some space or use --cache DIR"
            ) from None
        raise FetchError(f"{what} cache", f"cannot write the cache: {exc.strerror or exc}", None) from None


def _raise_for_status(response: httpx.Response, what: str) -> None:
    code = response.status_code
    if code < 400:
        return
    where = _where(str(response.url))
    if code == 429:
        after = response.headers.get("Retry-After", "").strip()
        if after.isdigit():
            hint = f"the server asks to wait {after} s before retrying"
        else:
            hint = f"the server asks to wait until {after}" if after else "wait a while and retry"
        raise FetchError(where, "HTTP 429: rate limited by the server", hint)
    if code in (401, 403):
        raise FetchError(where, f"HTTP {code}: access refused", "check your credentials")
    if code == 404:
        hint = "check --version against UCDP's download page" if what == "ucdp" else "check the URL"
        raise FetchError(where, "HTTP 404: not found", hint)
    raise FetchError(where, f"HTTP {code}: {response.reason_phrase}", "retry later")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise FetchError(_where(str(response.url)), "the server did not answer with JSON", None) from None


def _write_chunk(handle: BinaryIO, chunk: bytes) -> None:
    handle.write(chunk)


def _download(
    client: httpx.Client, url: str, target: Path, validate: Callable[[Path, str], None]
) -> tuple[str, int]:
    """Stream ``url`` into ``target`` through a temporary file; return (sha256, bytes)."""
    with atomic_path(target) as tmp:
        with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
            _raise_for_status(response, "ucdp")
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            digest, size = hashlib.sha256(), 0
            with tmp.open("wb") as handle, _progress(expected, target.name) as advance:
                try:
                    for chunk in response.iter_raw(CHUNK):
                        _write_chunk(handle, chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        advance(len(chunk))
                except httpx.RemoteProtocolError:
                    # The server closed early. With a Content-Length this is reported just below as a
                    # truncated download; without one, the zip check catches the missing directory.
                    pass
        if expected is not None and size != expected:
            raise FetchError(
                _where(url),
                f"truncated download: got {size} of {expected} bytes",
                "retry; the cache was left as it was",
            )
        validate(tmp, url)
        _write_sidecar(target, digest.hexdigest())
    return digest.hexdigest(), size


def _write_sidecar(target: Path, digest: str) -> None:
    """Write ``<target>.sha256`` (the rename of ``target`` follows right after)."""
    with atomic_path(target.with_name(target.name + ".sha256")) as tmp:
        tmp.write_text(f"{digest}  {target.name}\n", encoding="utf-8")


def _check_zip(path: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        bad = "the archive directory"
    if bad is not None:
        raise FetchError(_where(url), f"the download is not a valid zip ({bad} is damaged)", "retry")


def _write_json(target: Path, payload: dict[str, Any]) -> tuple[str, int]:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    with atomic_path(target) as tmp:
        with tmp.open("wb") as handle:
            _write_chunk(handle, data)
        _write_sidecar(target, hashlib.sha256(data).hexdigest())
    return hashlib.sha256(data).hexdigest(), len(data)


def _cached(target: Path) -> str | None:
    """The checksum of a complete cached file (its sidecar matches), else None."""
    sidecar = target.with_name(target.name + ".sha256")
    if not target.is_file() or not sidecar.is_file():
        return None
    recorded = sidecar.read_text(encoding="utf-8").split()[:1]
    actual = sha256_file(target)
    return actual if recorded == [actual] else None


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``advance(n)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TransferSpeedColumn,
    )

    if total is None:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"))
    else:
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    console = Console(stderr=True)
    # Off when stderr is not a terminal, so logs and error output stay one clean line.
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
