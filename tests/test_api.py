"""The public API: docs/api.md runs as written, and its numbers match independent computations."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


@pytest.fixture(scope="module")
def session(shared_data, tmp_path_factory) -> dict:
    """Run every Python block of docs/api.md, in order, in one namespace (as a notebook would)."""
    blocks = _blocks(DOC.read_text())
    assert len(blocks) >= 4, "docs/api.md lost its session"
    namespace: dict = {}
    mp = pytest.MonkeyPatch()
    mp.setenv("ENTANGLE_DATA", str(shared_data))
    mp.setenv("ENTANGLE_CACHE", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("ENTANGLE_STORE", str(tmp_path_factory.mktemp("store") / "store.duckdb"))
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for block in blocks:
                exec(compile(block, str(DOC), "exec"), namespace)
    finally:
        mp.undo()
    namespace["__printed__"] = out.getvalue()
    return namespace


def test_docs_session_reads_every_acled_row(session, shared_data):
    raw = pd.read_csv(shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv", low_memory=False)
    assert session["events"].rows_loaded == len(raw) == 4318
    assert session["events"].rows_rejected == 0


def test_docs_panel_is_every_cercle_month(session, shared_data):
    cercles = gpd.read_file(shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson")
    months = pd.period_range("2012-01", "2020-10", freq="M")
    df = session["df"]
    assert len(df) == len(cercles) * len(months) == 5300
    assert set(df["unit_id"]) == set(cercles["GID_2"])


def test_docs_estimate_equals_pyfixest_on_the_same_panel(session):
    df = session["df"].copy()
    fit = pf.feols(
        "civilian_fatalities ~ copresence_50km | unit_id + period", data=df, vcov={"CRV1": "unit_id"}
    )
    effect = session["effect"]
    assert effect.estimate == pytest.approx(fit.coef()["copresence_50km"], rel=1e-9)
    assert effect.std_error == pytest.approx(fit.se()["copresence_50km"], rel=1e-6)


def test_result_renders_as_a_table_in_notebook_and_terminal(session):
    result, effect = session["result"], session["effect"]
    text, page = repr(result), result._repr_html_()
    assert "copresence_50km" in text and f"{effect.estimate:.4g}" in text
    assert text.splitlines()[1].split() == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    assert page.startswith("<table>") and f"<td>{effect.std_error:.4g}</td>" in page
    assert np.isfinite(effect.p_value) and f"{effect.p_value:.4g}" in page


def test_import_entangle_is_light():
    # The verbs load on first use: importing the package pulls in no data library.
    code = "import sys, entangle; print([m for m in ('pandas', 'pyarrow', 'duckdb') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves():
    import entangle

    for name in entangle.__all__:
        assert getattr(entangle, name) is not None, name
    with pytest.raises(AttributeError):
        entangle.no_such_verb  # noqa: B018
