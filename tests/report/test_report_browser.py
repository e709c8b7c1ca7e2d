"""The report in headless Chromium with the network off: loads cleanly, shows its sections, draws.

Screenshots are kept in ``$ENTANGLE_SCREENSHOTS`` (default: the temp dir's ``entangle-screenshots``)
for a person to look at.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _chromium import CHROMIUM, Browser
from test_report_build import make_data

from entangle.report.build import write_report

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("ENTANGLE_SCREENSHOTS", Path(tempfile.gettempdir()) / "entangle-screenshots"))
SECTIONS = ["summary", "timeline", "network", "maps", "estimates", "data"]
# a run adds the section "What the ties did" (report/mechanisms.py) before the estimates
RUN_SECTIONS = ["summary", "timeline", "network", "maps", "ties", "estimates", "data"]
PROBE = """JSON.stringify({
  sections: [...document.querySelectorAll('main > section')].map(s => s.id),
  headings: [...document.querySelectorAll('section h2')].map(h => h.textContent),
  svgs: document.querySelectorAll('svg').length,
  sites: document.querySelectorAll('circle.site').length,
  hiddenAfterSlider: (() => {
    const box = document.querySelector('[data-sitecontrols]');
    box.querySelector('[data-allyears]').checked = false;
    box.querySelector('[data-allyears]').dispatchEvent(new Event('change'));
    const slider = box.querySelector('[data-year]');
    slider.value = slider.min; slider.dispatchEvent(new Event('input'));
    const hidden = document.querySelectorAll('circle.site.hide-site').length;
    box.querySelector('[data-allyears]').checked = true;
    box.querySelector('[data-allyears]').dispatchEvent(new Event('change'));
    return hidden;
  })(),
  harmFillAfterSlider: (() => {
    const box = document.querySelector('[data-layercontrols="harm"]');
    box.querySelector('[data-allyears]').checked = false;
    box.querySelector('[data-allyears]').dispatchEvent(new Event('change'));
    const paths = document.querySelectorAll('[data-layer="harm"] path.unit');
    const fills = [...paths].map(p => p.getAttribute('fill'));
    box.querySelector('[data-allyears]').checked = true;
    box.querySelector('[data-allyears]').dispatchEvent(new Event('change'));
    return fills;
  })(),
})"""


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if os.environ.get("CI") or os.environ.get("ENTANGLE_REQUIRE_SHARED") == "1":
            pytest.fail("chromium is missing (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    with Browser() as b:
        yield b


def pixel_spread(png: bytes) -> tuple[float, int]:
    """Standard deviation of grey levels and number of distinct colours of a screenshot."""
    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    arr = np.asarray(image, dtype=np.float64)
    colours = len(np.unique(arr.reshape(-1, 3)[::7], axis=0))
    return float(arr.mean(axis=2).std()), colours


def check_page(load, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(load.screenshot)
    assert load.console_errors == [] and load.exceptions == []
    assert load.failed == []
    assert all(url.startswith("file://") for url in load.requests), load.requests
    spread, colours = pixel_spread(load.screenshot)
    assert spread > 10 and colours > 20, (spread, colours)


def test_sample_report_in_chromium(browser, tmp_path):
    path = write_report(make_data(), tmp_path / "report.html")
    load = browser.load(path, PROBE)
    check_page(load, "sample_report")
    import json

    probe = json.loads(load.evaluated)
    assert probe["sections"] == SECTIONS
    assert probe["svgs"] >= 8 and probe["sites"] == 2
    # In 2013 (slider minimum) both sample sites are active (CT camp from Feb 2013, base from Jul 2013).
    assert probe["hiddenAfterSlider"] == 0
    # 2013 alone: cell 150000 has 6 fatalities, cell 150001 none (white). Years share one scale whose
    # top is the largest unit-year (24, cell 150001 in 2014): t = sqrt(6/24) = 0.5 -> (210, 140, 146).
    assert sorted(probe["harmFillAfterSlider"]) == ["#d28c92", "#ffffff"]


def _run_study(study_path, out, env: dict[str, str]) -> None:
    from entangle.pipeline import run_study
    from entangle.study import load_study

    mp = pytest.MonkeyPatch()
    for key, value in env.items():
        mp.setenv(key, value)
    try:
        run_study(load_study(study_path), out)
    finally:
        mp.undo()


NETWORK_PROBE = """JSON.stringify({
  sections: [...document.querySelectorAll('main > section')].map(s => s.id),
  netPanels: document.querySelectorAll('.netpanel').length,
  visibleAfterClick: (() => {
    const btn = document.querySelector('[data-netcontrols] button');
    btn.click();
    const shown = [...document.querySelectorAll('.netpanel')].filter(p => !p.classList.contains('hidden'));
    document.querySelector('[data-netcontrols] button[data-year="all"]').click();
    return shown.map(p => p.dataset.year);
  })(),
  firstYear: document.querySelector('[data-netcontrols] button').dataset.year,
  summary: document.querySelector('#summary').innerText,
})"""


def test_bundled_study_report_offline_in_chromium(browser, tmp_path):
    out = tmp_path / "out"
    _run_study(None, out, {"ENTANGLE_CACHE": str(tmp_path / "cache"), "ENTANGLE_OFFLINE": "1"})
    load = browser.load(out / "report.html", NETWORK_PROBE)
    check_page(load, "bundled_no_events")
    import json

    probe = json.loads(load.evaluated)
    assert probe["sections"] == RUN_SECTIONS
    assert probe["netPanels"] == 4  # four chosen years of 2012-2023
    assert probe["visibleAfterClick"] == [probe["firstYear"]]  # the year buttons show one panel
    assert "No event data was available" in probe["summary"]

    pdf = browser.print_pdf()
    (SHOTS / "bundled_no_events.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 3 <= pages <= 40, pages
    # print opens the collapsed citations, so every registry fact is on paper
    assert browser.evaluate("[...document.querySelectorAll('details')].every(d => d.open)")


@pytest.mark.slow
def test_shared_study_report_in_chromium(browser, tmp_path, shared_data):
    from importlib import resources

    import entangle

    study = str(resources.files(entangle) / "studies" / "mali_shared.toml")
    out = tmp_path / "out"
    env = {
        "ENTANGLE_CACHE": str(tmp_path / "cache"),
        "ENTANGLE_OFFLINE": "1",
        "ENTANGLE_DATA": str(shared_data),
    }
    _run_study(study, out, env)
    load = browser.load(out / "report.html", PROBE)
    check_page(load, "shared_acled_geopko_gadm")
    import json

    probe = json.loads(load.evaluated)
    assert probe["sections"] == RUN_SECTIONS
    assert probe["sites"] > 20
    # slider at 2012: MINUSMA (from July 2013) and its Geo-PKO places are hidden
    assert probe["hiddenAfterSlider"] > 10
    assert len(probe["harmFillAfterSlider"]) == 50  # one path per cercle
