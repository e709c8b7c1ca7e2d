"""entangle fetch against a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from entangle.errors import FetchError
from entangle.sources import fetch

GED_CSV = "id,year,type_of_violence,best\n1,2020,3,4\n2,2021,1,7\n"


def make_zip(name: str = "GEDEvent_v24_1.csv", text: str = GED_CSV) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


class Routes:
    """What the test server answers: path -> handler(request) returning (status, headers, body)."""

    def __init__(self) -> None:
        self.handlers = {}
        self.log: list[tuple[str, str, dict, str]] = []  # method, path, query, Authorization

    def __call__(self, path):
        def register(fn):
            self.handlers[path] = fn
            return fn

        return register


@pytest.fixture
def server(monkeypatch, tmp_path):
    routes = Routes()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            routes.log.append(
                (
                    method,
                    url.path,
                    query | {k: v[0] for k, v in form.items()},
                    self.headers.get("Authorization", ""),
                )
            )
            handler = routes.handlers.get(url.path)
            if handler is None:
                status, headers, body = 404, {}, b"not found"
            else:
                status, headers, body = handler(query, {k: v[0] for k, v in form.items()}, self.headers)
            self.send_response(status)
            declared = headers.pop("Content-Length", len(body))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("ENTANGLE_UCDP_URL", f"{base}/downloads/ged")
    monkeypatch.setenv("ENTANGLE_ACLED_URL", base)
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    for var in ("ACLED_EMAIL", "ACLED_PASSWORD", "ACLED_KEY"):
        monkeypatch.delenv(var, raising=False)
    yield routes
    httpd.shutdown()
    httpd.server_close()


def cache_files(tmp_path):
    root = tmp_path / "cache"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- UCDP


def test_ucdp_download_records_checksum_and_reuses_cache(server, tmp_path, cli):
    body = make_zip()
    server("/downloads/ged/ged241-csv.zip")(lambda q, f, h: (200, {"Content-Type": "application/zip"}, body))
    code, out, err = cli("fetch", "ucdp", "--version", "24.1")
    assert code == 0, err
    result = json.loads(out)
    assert result["sha256"] == hashlib.sha256(body).hexdigest()
    assert result["bytes"] == len(body) and result["cached"] is False
    target = tmp_path / "cache" / "ucdp" / "ged241-csv.zip"
    assert target.read_bytes() == body
    assert (tmp_path / "cache/ucdp/ged241-csv.zip.sha256").read_text().split()[0] == result["sha256"]
    assert cache_files(tmp_path) == ["ucdp/ged241-csv.zip", "ucdp/ged241-csv.zip.sha256"]

    again = fetch.fetch_ucdp("24.1")
    assert again.cached is True and again.sha256 == result["sha256"]
    assert sum(1 for entry in server.log if entry[1].endswith(".zip")) == 1  # no second request


def test_ucdp_cache_dir_option_wins_over_environment(server, tmp_path):
    body = make_zip()
    server("/downloads/ged/ged251-csv.zip")(lambda q, f, h: (200, {}, body))
    got = fetch.fetch_ucdp(cache=tmp_path / "elsewhere")
    assert got.path == tmp_path / "elsewhere" / "ucdp" / "ged251-csv.zip"
    assert got.url.endswith("/downloads/ged/ged251-csv.zip")


def good_previous(tmp_path) -> bytes:
    """A complete earlier download in the cache, which a failed one must leave untouched."""
    old = make_zip(text="id\n99\n")
    folder = tmp_path / "cache" / "ucdp"
    folder.mkdir(parents=True)
    (folder / "ged241-csv.zip").write_bytes(old)
    (folder / "ged241-csv.zip.sha256").write_text(f"{hashlib.sha256(old).hexdigest()}  ged241-csv.zip\n")
    return old


def assert_intact(tmp_path, old: bytes) -> None:
    assert (tmp_path / "cache/ucdp/ged241-csv.zip").read_bytes() == old
    assert cache_files(tmp_path) == ["ucdp/ged241-csv.zip", "ucdp/ged241-csv.zip.sha256"]


def test_truncated_download_leaves_previous_file(server, tmp_path, cli):
    old = good_previous(tmp_path)
    body = make_zip()
    server("/downloads/ged/ged241-csv.zip")(
        lambda q, f, h: (200, {"Content-Length": len(body)}, body[: len(body) // 2])
    )
    code, out, err = cli("fetch", "ucdp", "--version", "24.1", "--force")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    # how many bytes arrive before the early close depends on socket timing
    assert "truncated download: got " in err and f" of {len(body)} bytes" in err
    assert_intact(tmp_path, old)


def test_damaged_zip_is_refused(server, tmp_path):
    old = good_previous(tmp_path)
    server("/downloads/ged/ged241-csv.zip")(lambda q, f, h: (200, {}, b"PK\x03\x04 this is not a zip" * 10))
    with pytest.raises(FetchError, match="not a valid zip"):
        fetch.fetch_ucdp("24.1", force=True)
    assert_intact(tmp_path, old)


def test_full_disk_gives_one_line_and_keeps_cache(server, tmp_path, monkeypatch, cli):
    old = good_previous(tmp_path)
    server("/downloads/ged/ged241-csv.zip")(lambda q, f, h: (200, {}, make_zip()))

    def full(handle, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_write_chunk", full)
    code, _, err = cli("fetch", "ucdp", "--version", "24.1", "--force")
    assert code == 2
    assert (
        err.strip() == "error: ucdp cache: no space left on the device (free some space or use --cache DIR)"
    )
    assert_intact(tmp_path, old)


def test_cached_file_that_no_longer_matches_its_checksum_is_downloaded_again(server, tmp_path):
    good_previous(tmp_path)
    (tmp_path / "cache/ucdp/ged241-csv.zip").write_bytes(b"damaged on disk")
    body = make_zip()
    server("/downloads/ged/ged241-csv.zip")(lambda q, f, h: (200, {}, body))
    got = fetch.fetch_ucdp("24.1")
    assert got.cached is False and got.path.read_bytes() == body


def test_missing_version_is_404_with_hint(server, cli):
    code, _, err = cli("fetch", "ucdp", "--version", "99.1")
    assert code == 2
    assert "HTTP 404: not found" in err and "--version" in err


def test_bad_version_text(server, cli):
    code, _, err = cli("fetch", "ucdp", "--version", "latest")
    assert code == 2 and "'latest' is not like '25.1'" in err


def test_rate_limit_reports_retry_after(server, tmp_path):
    server("/downloads/ged/ged241-csv.zip")(lambda q, f, h: (429, {"Retry-After": "30"}, b"slow down"))
    with pytest.raises(FetchError) as caught:
        fetch.fetch_ucdp("24.1")
    assert (
        "HTTP 429" in caught.value.what
        and caught.value.hint == "the server asks to wait 30 s before retrying"
    )
    assert not (tmp_path / "cache" / "ucdp").exists() or cache_files(tmp_path) == []


def test_connection_refused(monkeypatch, tmp_path, cli):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ENTANGLE_UCDP_URL", f"http://127.0.0.1:{port}/ged")
    code, out, err = cli("fetch", "ucdp", "--cache", str(tmp_path / "c"))
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: http://127.0.0.1:{port}/ged/ged251-csv.zip: "
        "cannot connect (connection refused or no network) (check the URL and network)"
    )
    assert not (tmp_path / "c" / "ucdp" / "ged251-csv.zip").exists()


# ---------------------------------------------------------------- ACLED

EVENTS = [
    {"event_id_cnty": f"MLI{i}", "event_date": f"2020-01-{i + 1:02d}", "fatalities": str(i)} for i in range(5)
]


def acled_api(server, *, expire_first_token: bool = False):
    """Token endpoint plus a paged read endpoint; the first token can be made to expire."""
    state = {"issued": 0, "refreshed": 0}

    @server("/oauth/token")
    def token(query, form, headers):
        if form.get("client_id") != "acled":
            return 400, {}, b'{"error": "invalid_client"}'
        if form.get("grant_type") == "password":
            if (form.get("username"), form.get("password")) != ("me@example.org", "s3cret-pw"):
                return 400, {}, b'{"error": "invalid_grant"}'
            state["issued"] += 1
            return (
                200,
                {},
                json.dumps({"access_token": "t1", "refresh_token": "r1", "expires_in": 86400}).encode(),
            )
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") == "r1":
            state["refreshed"] += 1
            return 200, {}, json.dumps({"access_token": "t2", "refresh_token": "r2"}).encode()
        return 400, {}, b'{"error": "invalid_grant"}'

    @server("/api/acled/read")
    def read(query, form, headers):
        valid = {"Bearer t2"} if expire_first_token else {"Bearer t1", "Bearer t2"}
        if headers.get("Authorization") not in valid:
            return 401, {}, b'{"message": "token expired"}'
        assert query["country"] == "Mali" and query["event_date_where"] == "BETWEEN"
        assert query["event_date"] == "2020-01-01|2020-12-31"
        limit, page = int(query["limit"]), int(query["page"])
        data = EVENTS[(page - 1) * limit : page * limit]
        return (
            200,
            {},
            json.dumps({"status": 200, "success": True, "count": len(data), "data": data}).encode(),
        )

    return state


def credentials(monkeypatch):
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.setenv("ACLED_PASSWORD", "s3cret-pw")


def test_acled_pages_through_results(server, monkeypatch, tmp_path):
    credentials(monkeypatch)
    acled_api(server)
    got = fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31", page_size=2)
    payload = json.loads(got.path.read_text())
    assert payload["count"] == 5 and payload["data"] == EVENTS
    assert got.rows == 5
    pages = [int(q["page"]) for m, p, q, a in server.log if p == "/api/acled/read"]
    assert pages == [1, 2, 3]  # 2 + 2 + 1: the short page ends the loop
    assert got.sha256 == hashlib.sha256(got.path.read_bytes()).hexdigest()
    assert got.path.name == "acled_mali_2020-01-01_2020-12-31.json"


def test_acled_refreshes_an_expired_token_once(server, monkeypatch):
    credentials(monkeypatch)
    state = acled_api(server, expire_first_token=True)
    got = fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31", page_size=10)
    assert got.rows == 5
    assert state == {"issued": 1, "refreshed": 1}
    auths = [a for m, p, q, a in server.log if p == "/api/acled/read"]
    assert auths == ["Bearer t1", "Bearer t2"]


def test_acled_bad_credentials_are_one_line_without_the_password(server, monkeypatch, cli, tmp_path):
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.setenv("ACLED_PASSWORD", "wrong-pw-123")
    acled_api(server)
    code, out, err = cli("fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-12-31")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "ACLED refused the credentials" in err and "wrong-pw-123" not in err
    assert cache_files(tmp_path) == []


def test_acled_full_disk_writes_nothing(server, monkeypatch, tmp_path):
    credentials(monkeypatch)
    acled_api(server)

    def full(handle, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_write_chunk", full)
    with pytest.raises(FetchError, match="no space left on the device"):
        fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31")
    assert cache_files(tmp_path) == []


def test_acled_read_401_after_refresh_fails_cleanly(server, monkeypatch):
    credentials(monkeypatch)
    acled_api(server)
    server("/api/acled/read")(lambda q, f, h: (401, {}, b"{}"))
    with pytest.raises(FetchError, match="even with a fresh token"):
        fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31")


def test_acled_rate_limit(server, monkeypatch):
    credentials(monkeypatch)
    acled_api(server)
    server("/api/acled/read")(lambda q, f, h: (429, {"Retry-After": "120"}, b"{}"))
    with pytest.raises(FetchError) as caught:
        fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31")
    assert caught.value.hint == "the server asks to wait 120 s before retrying"


def test_acled_legacy_key_is_sent_but_never_shown(server, monkeypatch):
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.setenv("ACLED_KEY", "KEY-XYZ-987")
    server("/api/acled/read")(lambda q, f, h: (500, {}, b"boom"))
    with pytest.raises(FetchError) as caught:
        fetch.fetch_acled("Mali", "2020-01-01", "2020-12-31")
    assert "KEY-XYZ-987" not in str(caught.value) and "HTTP 500" in str(caught.value)
    sent = [q for m, p, q, a in server.log if p == "/api/acled/read"]
    assert sent[0]["key"] == "KEY-XYZ-987" and sent[0]["email"] == "me@example.org"


def test_acled_success_via_cli_prints_json_not_credentials(server, monkeypatch, cli):
    credentials(monkeypatch)
    acled_api(server)
    code, out, err = cli("fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-12-31")
    assert code == 0, err
    assert json.loads(out)["rows"] == 5
    assert "s3cret-pw" not in out + err and "t1" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2020-02-30", "--to", "2020-12-31"), "--from '2020-02-30' is not a date"),
        (("--from", "2021-01-01", "--to", "2020-12-31"), "--from 2021-01-01 is after --to 2020-12-31"),
    ],
)
def test_acled_bad_dates(server, monkeypatch, cli, args, message):
    credentials(monkeypatch)
    code, _, err = cli("fetch", "acled", "--country", "Mali", *args)
    assert code == 2 and message in err


def test_acled_without_credentials(server, cli):
    code, _, err = cli("fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-01-31")
    assert code == 2 and "no ACLED credentials" in err and "ACLED_PASSWORD" in err
