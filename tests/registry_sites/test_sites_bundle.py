"""The bundled Mali sites: inside Mali, unambiguous by name, dated by the documented convention."""

from __future__ import annotations

import calendar
import itertools
import json
from pathlib import Path

import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from entangle.registry.load import load_registry
from entangle.registry.places import normalize_place

# GADM's border is generalised: about 5 km of slack keeps simplification from rejecting a border town.
BORDER_SLACK_DEG = 0.05


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_bundled_registry_loads_every_site(registry):
    ids = [site.id for site in registry.sites]
    assert len(ids) == len(set(ids)) == 50
    assert {site.intervention_id for site in registry.sites} == {
        "minusma",
        "afisma",
        "serval",
        "barkhane",
        "takuba",
        "g5s_jf",
        "eutm_mali",
        "eucap_sahel_mali",
        "fama",
        "wagner",
    }


def test_every_site_lies_in_mali(registry, shared_data: Path):
    """A second source for the coordinates: GADM's Mali regions (catches swapped lat/lon)."""
    regions = json.loads((shared_data / "gadm_mali" / "gadm_MLI_adm1.geojson").read_text(encoding="utf-8"))
    mali = unary_union([shape(feature["geometry"]) for feature in regions["features"]]).buffer(
        BORDER_SLACK_DEG
    )
    outside = [site.id for site in registry.sites if not mali.contains(Point(site.lon, site.lat))]
    assert outside == []


def test_no_two_concurrent_sites_of_an_intervention_share_a_name(registry):
    """A data source's place name must point to one site of an intervention at any time."""
    for first, second in itertools.combinations(registry.sites, 2):
        if first.intervention_id != second.intervention_id:
            continue
        overlap = first.active_between(second.start, second.end or second.start.max)
        shared = _labels(first) & _labels(second)
        assert not (overlap and shared), f"{first.id} and {second.id} both answer to {sorted(shared)}"


def test_imprecise_dates_cover_their_whole_period(registry):
    """Month/year precision: start on the period's first day, end on its last (see sites.yaml)."""
    for site in registry.sites:
        if site.start_precision == "month":
            assert site.start.day == 1, site.id
        if site.start_precision == "year":
            assert (site.start.month, site.start.day) == (1, 1), site.id
        if site.end is not None and site.end_precision == "month":
            assert site.end.day == calendar.monthrange(site.end.year, site.end.month)[1], site.id
        if site.end is not None and site.end_precision == "year":
            assert (site.end.month, site.end.day) == (12, 31), site.id


def test_minusma_withdrawal_dates_from_2023_handovers(registry):
    """Spot-check the 2023 closures against the dates in the MINUSMA communiqués (by hand)."""
    ends = {site.id: site.end.isoformat() for site in registry.sites if site.intervention_id == "minusma"}
    assert ends["minusma_ogossagou"] == "2023-08-04"
    assert ends["minusma_ber"] == "2023-08-13"
    assert ends["minusma_goundam"] == "2023-08-16"
    assert ends["minusma_menaka"] == "2023-08-25"
    assert ends["minusma_tessalit"] == "2023-10-21"
    assert ends["minusma_kidal"] == "2023-10-31"
    assert ends["minusma_ansongo"] == "2023-11-18"
    assert ends["minusma_mopti_sevare"] == "2023-12-08"


def _labels(site) -> set[str]:
    return {normalize_place(label) for label in (site.name, *site.aliases)}
