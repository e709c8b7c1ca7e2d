"""The report and the brief in headless Chromium with the network off: load cleanly, keep their
colours apart, rank the units right, fit a phone, print with figures beside their headings.

Screenshots (laptop 1366 px, phone 390 px, the printed brief as PNG) are kept in
``$ENTANGLE_SCREENSHOTS`` (default: the temp dir's ``entangle-screenshots``) for a person to look at.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from _chromium import CHROMIUM, Browser
from test_report_build import make_data

from entangle.report.build import write_brief, write_report

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("ENTANGLE_SCREENSHOTS", Path(tempfile.gettempdir()) / "entangle-screenshots"))
SECTIONS = ["summary", "harm", "timeline", "network", "maps", "estimates", "data", "citations"]
# a run adds the section "What the ties did" (report/mechanisms.py) before the estimates
RUN_SECTIONS = ["summary", "harm", "timeline", "network", "maps", "ties", "estimates", "data", "citations"]
PROBE = """JSON.stringify({
  sections: [...document.querySelectorAll('main > section')].map(s => s.id),
  svgs: document.querySelectorAll('svg').length,
  sites: document.querySelectorAll('circle.site').length,
  firstUnit: (document.querySelector('[data-unittable] tbody tr') || {dataset: {}}).dataset.unit || null,
  colours: {
    cat: [...new Set([...document.querySelectorAll('svg [data-cat]')].map(e => getComputedStyle(e).fill))],
    kind: [...new Set([...document.querySelectorAll('svg [data-kind]:not([data-kind=off])')]
      .map(e => getComputedStyle(e).fill))],
    tie: [...new Set([...document.querySelectorAll('svg [data-tie]')]
      .map(e => e.tagName === 'path' ? getComputedStyle(e).stroke : getComputedStyle(e).fill))],
  },
  tap: (() => {
    const bar = document.querySelector('svg rect[data-cat]');
    if (!bar) return null;
    const r = bar.getBoundingClientRect();
    bar.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, pointerType: 'touch',
      clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}));
    const tip = document.querySelector('.tip');
    const out = {hidden: tip.hidden, text: tip.textContent};
    document.body.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, pointerType: 'touch'}));
    return out;
  })(),
  period: (() => {
    const box = document.querySelector('[data-period]');
    const all = box.querySelector('[data-allyears]'), slider = box.querySelector('[data-year]');
    const out = box.querySelector('[data-periodout]');
    const before = out.textContent;
    all.checked = false; all.dispatchEvent(new Event('change'));
    slider.value = slider.min; slider.dispatchEvent(new Event('input'));
    const year = out.textContent;
    const hidden = document.querySelectorAll('circle.site.hide-site').length;
    const harm = [...document.querySelectorAll('[data-layer="harm"] path.unit')];
    const fills = harm.map(p => p.getAttribute('fill'));
    const tips = harm.map(p => p.getAttribute('data-tip'));
    all.checked = true; all.dispatchEvent(new Event('change'));
    return {before, year, after: out.textContent, hidden, fills, tips};
  })(),
})"""
# Every rendered text, at the size it is drawn (an SVG's font size times its on-screen scale).
TEXT_SIZES = """JSON.stringify((() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('script, style, title') || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    let size = parseFloat(style.fontSize);
    if (el.closest('svg')) { const m = el.getScreenCTM(); size *= Math.hypot(m.a, m.b); }
    out.push([Math.round(size * 100) / 100, node.textContent.trim().slice(0, 40)]);
  }
  out.sort((a, b) => a[0] - b[0]);
  return {smallest: out.slice(0, 5), count: out.length,
          scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};
})())"""


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if os.environ.get("CI") or os.environ.get("ENTANGLE_REQUIRE_SHARED") == "1":
            pytest.fail("chromium is missing (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    with Browser() as b:
        yield b


def viewport(browser: Browser, width: int, height: int = 900) -> None:
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 600,
    )


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


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each printed page (pdftotext from poppler-utils)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    pages = text.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def check_colours(colours: dict) -> None:
    assert colours["cat"] and colours["kind"] and colours["tie"]
    assert not set(colours["cat"]) & set(colours["kind"])
    assert not set(colours["tie"]) & (set(colours["kind"]) | set(colours["cat"]))


def check_phone(browser: Browser, path: Path, name: str) -> None:
    viewport(browser, 390)
    try:
        load = browser.load(path, TEXT_SIZES)
        check_page(load, name)
        sizes = json.loads(load.evaluated)
        assert sizes["count"] > 100
        assert sizes["smallest"][0][0] >= 9.99, sizes["smallest"]
        assert sizes["scrollWidth"] <= sizes["viewport"] == 390
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def check_print(browser: Browser, tmp_path: Path, name: str) -> list[str]:
    """Print the loaded report; every figure's heading and its source line share a page, and the
    citations appendix comes last."""
    pdf = browser.print_pdf()
    (SHOTS / f"{name}.pdf").write_bytes(pdf)
    pages = pdf_pages(pdf, tmp_path)
    numbers = sorted({int(n) for page in pages for n in re.findall(r"Figure (\d+)\.", page)})
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    for n in numbers:
        heading = [k for k, page in enumerate(pages) if f"Figure {n}." in page]
        source = [k for k, page in enumerate(pages) if f"Fig. {n} source" in page]
        assert heading == source, (n, heading, source)
    appendix = next(k for k, page in enumerate(pages) if "Appendix: citations" in page)
    last_figure = max(k for k, page in enumerate(pages) if "source:" in page and "Fig." in page)
    assert appendix > last_figure
    return pages


def check_brief(browser: Browser, path: Path, tmp_path: Path, name: str) -> None:
    load = browser.load(path)
    check_page(load, name)
    pdf = browser.print_pdf()
    (SHOTS / f"{name}.pdf").write_bytes(pdf)
    assert len(pdf_pages(pdf, tmp_path)) <= 2
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", str(SHOTS / f"{name}.pdf"), str(SHOTS / name)], check=True
        )


def test_sample_report_in_chromium(browser, tmp_path):
    data = make_data()
    path = write_report(data, tmp_path / "report.html")
    viewport(browser, 1366)
    load = browser.load(path, PROBE)
    browser.send("Emulation.clearDeviceMetricsOverride")
    check_page(load, "sample_report")
    probe = json.loads(load.evaluated)
    assert probe["sections"] == SECTIONS
    assert probe["svgs"] >= 10 and probe["sites"] == 2
    check_colours(probe["colours"])
    # by hand: cell 150001 has 24 civilian fatalities, cell 150000 has 12
    assert probe["firstUnit"] == "150001"
    # a tap shows the bar's tooltip, naming the actor and the source event id
    assert probe["tap"]["hidden"] is False and "Group J, 3 [acled:X1]" in probe["tap"]["text"]
    period = probe["period"]
    assert period["before"].startswith("whole period") and period["after"].startswith("whole period")
    assert period["year"] == "2013"
    # both sample sites are active in 2013 (CT camp from Feb 2013, base from Jul 2013)
    assert period["hidden"] == 0
    # 2013 alone: cell 150000 has 6 fatalities, cell 150001 none (white). Years share one scale whose
    # top is the largest unit-year (24, cell 150001 in 2014): t = sqrt(6/24) = 0.5 -> (210, 140, 146).
    assert sorted(period["fills"]) == ["#d28c92", "#ffffff"]
    # the hover text keeps the unit and names the year
    assert sorted(period["tips"]) == [
        "cell 150000: 6 civilian fatalities (2013)",
        "cell 150001: 0 civilian fatalities (2013)",
    ]
    check_print(browser, tmp_path, "sample_report")
    check_phone(browser, path, "sample_report_phone")
    check_brief(browser, write_brief(data, tmp_path / "brief.html"), tmp_path, "sample_brief")


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
  printed: [...document.querySelectorAll('.netpanel.print')].map(p => p.dataset.year),
  shownAfterSlide: (() => {
    const slider = document.querySelector('[data-netyear]');
    slider.value = '2022'; slider.dispatchEvent(new Event('input'));
    return [...document.querySelectorAll('.netpanel')].filter(p => !p.classList.contains('hidden'))
      .map(p => p.dataset.year);
  })(),
  summary: document.querySelector('#summary').innerText,
  notices: document.querySelectorAll('.notice').length,
})"""


def test_bundled_study_report_offline_in_chromium(browser, tmp_path):
    out = tmp_path / "out"
    _run_study(None, out, {"ENTANGLE_CACHE": str(tmp_path / "cache"), "ENTANGLE_OFFLINE": "1"})
    load = browser.load(out / "report.html", NETWORK_PROBE)
    check_page(load, "bundled_no_events")
    probe = json.loads(load.evaluated)
    assert probe["sections"] == RUN_SECTIONS
    assert probe["netPanels"] == 12  # every year of 2012-2023, one shown at a time
    assert probe["printed"] == ["2012", "2014", "2018", "2023"]  # the study's network_years print
    assert probe["shownAfterSlide"] == ["2022"]
    assert "No event data was available" in probe["summary"]
    # one notice box, with the next step as a command
    assert probe["notices"] == 1 and "entangle fetch ucdp" in probe["summary"]
    check_print(browser, tmp_path, "bundled_no_events")
    # print opens the collapsed citations, so every registry fact is on paper
    assert browser.evaluate("[...document.querySelectorAll('details')].every(d => d.open)")
    check_brief(browser, out / "brief.html", tmp_path, "bundled_brief")


@pytest.mark.slow
def test_shared_study_report_in_chromium(browser, tmp_path, shared_data):
    from importlib import resources

    import pandas as pd

    import entangle

    study = str(resources.files(entangle) / "studies" / "mali_shared.toml")
    out = tmp_path / "out"
    env = {
        "ENTANGLE_CACHE": str(tmp_path / "cache"),
        "ENTANGLE_OFFLINE": "1",
        "ENTANGLE_DATA": str(shared_data),
    }
    _run_study(study, out, env)
    assert (out / "report.html").stat().st_size < 15e6
    viewport(browser, 1366)
    load = browser.load(out / "report.html", PROBE)
    browser.send("Emulation.clearDeviceMetricsOverride")
    check_page(load, "shared_laptop")
    probe = json.loads(load.evaluated)
    assert probe["sections"] == RUN_SECTIONS
    assert probe["sites"] > 20
    check_colours(probe["colours"])
    # the most harmed unit, computed here from panel.parquet with pandas
    panel = pd.read_parquet(out / "panel.parquet", columns=["unit_id", "civilian_fatalities"])
    totals = panel.groupby("unit_id")["civilian_fatalities"].sum()
    assert probe["firstUnit"] == str(totals.sort_values(ascending=False, kind="stable").index[0])
    # a tap on a bar names an actor and an ACLED event id
    assert re.search(r"\[acled:\w+\]", probe["tap"]["text"])
    period = probe["period"]
    assert period["year"] == "2012" and period["after"].startswith("whole period")
    # at 2012, MINUSMA (from July 2013) and its Geo-PKO places are hidden
    assert period["hidden"] > 10
    assert len(period["fills"]) == 50  # one path per cercle
    assert all(tip.endswith("(2012)") and " civilian fatalities " in tip for tip in period["tips"])
    check_print(browser, tmp_path, "shared_print")
    check_phone(browser, out / "report.html", "shared_phone")
    check_brief(browser, out / "brief.html", tmp_path, "shared_brief")
