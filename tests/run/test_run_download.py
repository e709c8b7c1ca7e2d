"""Event data from a download: no file named, nothing cached, a (local) UCDP server reachable."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "sources" / "fixtures" / "ucdp_ged_v22_1.csv"

STUDY = """[study]
name = "Download check"
theatre = "mali"
from = 2018-01-01
to = 2019-12-31
extent = ["MLI"]

[study.sources]
fetch = ["ucdp"]
"""


@pytest.fixture
def ucdp_server(tmp_path):
    """A local HTTP server with a GED-layout zip (the loaders' hand-made fixture rows)."""
    root = tmp_path / "www"
    root.mkdir()
    with zipfile.ZipFile(root / "ged251-csv.zip", "w") as archive:
        archive.write(FIXTURE, "GEDEvent_v25_1.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()  # the listening socket, else a ResourceWarning at collection


def test_downloads_when_online_then_uses_the_cache(cli, tmp_path, monkeypatch, ucdp_server):
    monkeypatch.delenv("ENTANGLE_OFFLINE", raising=False)
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_UCDP_URL", ucdp_server)
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    out = tmp_path / "out"

    code, _, stderr = cli("run", study, "--out", out)
    assert code == 0, stderr
    assert f"UCDP GED events downloaded from {ucdp_server}/ged251-csv.zip" in stderr
    cached = tmp_path / "cache" / "ucdp" / "ged251-csv.zip"
    assert cached.read_bytes() == (tmp_path / "www" / "ged251-csv.zip").read_bytes()
    provenance = json.loads((out / "provenance.json").read_text())
    assert [s["source"] for s in provenance["sources"]] == ["ucdp"]
    assert provenance["sources"][0]["rows_in"] == 6  # every fixture row accounted for
    panel = pq.read_table(out / "panel.parquet")
    assert panel.num_rows > 0 and int(pc.sum(panel["events"]).as_py()) > 0

    code, _, stderr = cli("run", study, "--out", out)
    assert code == 0
    assert "UCDP GED events from the local cache (ged251-csv.zip)." in stderr
    assert "done sources" not in stderr  # the same file: the store stage came from the cache
