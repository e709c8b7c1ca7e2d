"""Security: no secret in any message, no file content echoed, no path traversal, offline honoured."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from fuzz_harness import assert_refused, invoke

from entangle.errors import EntangleError, redact

MARKER = "S3CRET-MARKER-9f2c"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("http://user:hunter2@host/api", "hunter2"),
        ("https://me%40x.org:p%40ss@acleddata.com/oauth/token", "p%40ss"),
        ("/api/acled/read?key=abc123def&email=a@b.c", "abc123def"),
        ("/read?country=Mali&password=letmein", "letmein"),
        ("token=eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("Authorization: Bearer eyJ0eXAi.abc.def", "eyJ0eXAi"),
        ("refresh_token=r-123456", "r-123456"),
        ("api_key%3Dsecretvalue", "secretvalue"),
    ],
)
def test_redact(text, secret):
    assert secret not in redact(text)
    assert secret not in str(EntangleError(text, text, text))


def test_redact_environment_secrets(monkeypatch):
    monkeypatch.setenv("ACLED_PASSWORD", "correct horse battery")
    monkeypatch.setenv("ACLED_KEY", "K-998877")
    error = EntangleError("acled", "the server said: correct horse battery / K-998877", None)
    assert "correct horse" not in str(error) and "K-998877" not in str(error)


class _Echo(http.server.BaseHTTPRequestHandler):
    """An ACLED-like server whose error answers echo the request line (with its key=)."""

    def do_GET(self):
        body = json.dumps({"success": False, "error": f"bad request {self.path}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_legacy_key_echoed_by_the_server_is_hidden(capsys, store, monkeypatch, echo_server):
    monkeypatch.delenv("ENTANGLE_OFFLINE")
    monkeypatch.setenv("ENTANGLE_ACLED_URL", f"http://{echo_server}")
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.delenv("ACLED_PASSWORD", raising=False)
    monkeypatch.setenv("ACLED_KEY", "LEGACYKEY12345")
    result = invoke(
        capsys, "fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-01-31"
    )
    line = assert_refused(result, "ACLED answered with an error")
    assert "LEGACYKEY12345" not in result.err and "key=***" in line


def test_password_in_the_url_is_hidden(capsys, store, monkeypatch, echo_server):
    monkeypatch.delenv("ENTANGLE_OFFLINE")
    monkeypatch.setenv("ENTANGLE_ACLED_URL", f"http://user:pa55word@{echo_server}")
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.setenv("ACLED_PASSWORD", "other-secret")
    result = invoke(
        capsys, "fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-01-31"
    )
    assert_refused(result)
    assert "pa55word" not in result.err and "other-secret" not in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["fetch", "ucdp"],
        ["fetch", "ucdp", "--version", "24.1", "--force"],
        ["fetch", "acled", "--country", "Mali", "--from", "2020-01-01", "--to", "2020-01-31"],
    ],
)
def test_fetch_offline(capsys, store, monkeypatch, echo_server, args):
    monkeypatch.setenv("ENTANGLE_UCDP_URL", f"http://{echo_server}")
    monkeypatch.setenv("ENTANGLE_ACLED_URL", f"http://{echo_server}")
    monkeypatch.setenv("ACLED_EMAIL", "me@example.org")
    monkeypatch.setenv("ACLED_PASSWORD", "pw-123456")
    assert_refused(invoke(capsys, *args), "ENTANGLE_OFFLINE")


SECRET_FILES = {
    "shadow_like": f"root:$6${MARKER}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    "csv_like": f"user,{MARKER},pin\nalice,x,1234\n",
    "one_line": f"{MARKER}\n",
    "semicolons": f"a;{MARKER} b;c\n1;2;3\n",
}


@pytest.mark.parametrize("content", sorted(SECRET_FILES))
@pytest.mark.parametrize("source", ["acled", "ucdp", "geopko", "radpko"])
def test_secret_file_as_event_source(capsys, store, tmp_path, source, content):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET_FILES[content])
    result = invoke(capsys, "ingest", source, secret)
    assert_refused(result)
    assert MARKER not in result.err


@pytest.mark.parametrize("content", sorted(SECRET_FILES))
@pytest.mark.parametrize("where", ["events", "deployments", "unit"])
def test_secret_file_named_by_a_study(capsys, store, tmp_path, where, content):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET_FILES[content])
    study = tmp_path / "study.toml"
    body = '[study]\nname = "s"\nfrom = 2013-01-01\nto = 2013-12-31\n'
    if where == "unit":
        body += f'unit = "admin:{secret}:id"\n'
    else:
        source = "acled" if where == "events" else "geopko"
        body += f'[[study.sources.{where}]]\nsource = "{source}"\npath = "{secret}"\n'
    study.write_text(body)
    result = invoke(capsys, "run", study, "--out", tmp_path / "out")
    assert_refused(result)
    assert MARKER not in result.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("theatre", ["../../../../etc/x", "../../tmp", "/etc", "mali/../../x", "x\x00y"])
def test_theatre_is_an_identifier(capsys, store, tmp_path, theatre):
    study = tmp_path / "study.toml"
    study.write_text(
        f'[study]\nname = "s"\ntheatre = {json.dumps(theatre)}\nfrom = 2013-01-01\nto = 2013-12-31\n'
    )
    line = assert_refused(invoke(capsys, "run", study, "--out", tmp_path / "out"), "study.theatre")
    assert "passwd" not in line and "ssl" not in line  # no listing of /etc
