"""``entangle run`` on the bundled study offline: the no-event report, the five outputs, the cache."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from entangle.registry import load_registry


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    return tmp_path


def test_bundled_study_offline_without_events(cli, offline):
    out = offline / "out"
    code, _, stderr = cli("run", "--out", out)
    assert code == 0, stderr
    names = sorted(p.name for p in out.iterdir())
    # no events: no panel to write (an all-zero panel would read as "no violence")
    assert names == ["estimates.json", "network.graphml", "provenance.json", "report.html"]
    assert json.loads((out / "estimates.json").read_text()) == []
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No event data was available" in html
    assert "UCDP GED is not in the local cache and this machine is offline." in html

    # The report shows the whole bundled registry for 2012-2023, each fact with its citation.
    registry = load_registry()
    for mandate in registry.mandates:
        assert mandate.document in html
    from markupsafe import escape  # what the template engine uses

    for item in registry.interventions:
        assert str(escape(item.sources[0].ref)) in html

    # network.graphml: every intervention and tie in force in the study window, by networkx's reader
    root = ET.parse(out / "network.graphml").getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = {n.get("id") for n in root.iterfind(".//g:node", ns)}
    assert nodes == {i.id for i in registry.interventions}
    assert len(root.findall(".//g:edge", ns)) == len(registry.ties)

    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["sources"] == [] and provenance["study"].startswith("Mali 2012-2023")
    assert len(provenance["study_hash"]) == 64 and provenance["synthetic"] is False


def test_second_run_is_cached_and_says_so(cli, offline):
    out = offline / "out"
    assert cli("run", "--out", out)[0] == 0
    first = (out / "report.html").read_bytes()
    code, _, stderr = cli("run", "--out", out)
    assert code == 0
    assert "Nothing changed since the last run" in stderr
    assert stderr.count("cached") >= 4
    assert (out / "report.html").read_bytes() == first


def test_changed_study_recomputes_only_what_depends_on_it(cli, offline):
    import entangle

    bundled = offline / "study.toml"
    from importlib import resources

    text = (resources.files(entangle) / "studies" / "mali.toml").read_text()
    bundled.write_text(text)
    assert cli("run", bundled, "--out", offline / "out")[0] == 0
    bundled.write_text(text.replace('name = "Mali 2012-2023', 'name = "Renamed Mali 2012-2023'))
    code, _, stderr = cli("run", bundled, "--out", offline / "out")
    assert code == 0
    assert "Recomputed: report" in stderr  # registry, sources and estimates came from the cache
    assert "Renamed Mali" in (offline / "out" / "report.html").read_text(encoding="utf-8")


def test_prune_cache_removes_only_stale_stage_results(tmp_path):
    import os
    import time

    from entangle.pipeline import prune_cache

    old, fresh, working = tmp_path / "panel-old", tmp_path / "panel-new", tmp_path / ".panel-x.tmp"
    for folder in (old, fresh, working):
        folder.mkdir()
    long_ago = time.time() - 31 * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(working, (long_ago, long_ago))
    assert prune_cache(tmp_path, keep_days=30) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".panel-x.tmp", "panel-new"]
