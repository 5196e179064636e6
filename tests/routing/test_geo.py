"""Places and distances for routing, from the data Comptoir ships (no network)."""

from __future__ import annotations

import csv

import pytest

from comptoir.routing import geo


def test_paris_to_lyon_is_about_390_km() -> None:
    assert geo.distance_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(392, abs=3)
    assert geo.distance_km(45.0, 4.0, 45.0, 4.0) == 0


def test_every_metropolitan_departement_and_corsica_has_a_centre_in_france() -> None:
    with geo.DEPARTMENTS_FILE.open(encoding="utf-8") as f:
        rows = {row["prefix"]: row for row in csv.DictReader(f)}
    metropolitan = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    assert metropolitan <= rows.keys()
    assert len(metropolitan) == 96
    for prefix in metropolitan:
        lat, lon = float(rows[prefix]["latitude"]), float(rows[prefix]["longitude"])
        assert 41.3 < lat < 51.1 and -5.2 < lon < 9.6, prefix


@pytest.mark.parametrize(("postal_code", "department"), [
    ("69001", "69"), ("75011", "75"), ("01000", "01"), ("20000", "2A"), ("20137", "2A"),
    ("20200", "2B"), ("20600", "2B"), ("97400", "974"), ("1000", None), ("ABCDE", None),
    ("99999", None),
])
def test_a_postal_code_names_its_departement(postal_code: str, department: str | None) -> None:
    assert geo.department_of(postal_code) == department


def test_the_channels_coordinates_come_first_then_the_postal_code_then_nothing() -> None:
    sent = geo.place_of(latitude=45.0, longitude=5.0, postal_code="75011", country="FR")
    assert sent == geo.Place(45.0, 5.0, "coordinates")

    lyon = geo.place_of(postal_code="69003", country="FR")
    assert lyon is not None and lyon.source == "département 69 (Rhône (Lyon))"
    assert geo.distance_km(lyon.latitude, lyon.longitude, 45.764, 4.836) < 15

    assert geo.place_of(postal_code="10115", country="DE") is None
    assert geo.place_of(latitude=91.0, longitude=5.0) is None
    assert geo.place_of() is None
