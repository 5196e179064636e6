"""Where a delivery goes, as coordinates, and how far a location is from it. Pure, no network.

Channels may send the address's coordinates; otherwise a French postal code gives the
approximate centre of its département, from a small table shipped with Comptoir
(``comptoir/data/fr_departements.csv``). Anything else is an unknown place: routing then
scores no distance and says so.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Place", "department_of", "distance_km", "distances_from", "place_of"]

EARTH_RADIUS_KM = 6371.0088  # mean radius
DEPARTMENTS_FILE = Path(__file__).resolve().parent.parent / "data" / "fr_departements.csv"

# Countries whose postal codes are French ones (overseas départements have their own ISO code).
FRENCH_POSTAL_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT"})


@dataclass(frozen=True, slots=True)
class Place:
    """A point on Earth and how it was found (shown in routing reasons)."""

    latitude: float
    longitude: float
    source: str  # "coordinates" | "département 69 (Rhône (Lyon))"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distances_from(latitude: float, longitude: float) -> Callable[[float, float], float]:
    """``distance_km`` from one fixed point, for many locations (the point's trigonometry once)."""
    phi1, lambda1 = math.radians(latitude), math.radians(longitude)
    cos_phi1 = math.cos(phi1)
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt

    def to(lat: float, lon: float) -> float:
        phi2 = radians(lat)
        a = (sin((phi2 - phi1) / 2) ** 2
             + cos_phi1 * cos(phi2) * sin((radians(lon) - lambda1) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))

    return to


@cache
def _departments() -> dict[str, tuple[str, float, float]]:
    text = DEPARTMENTS_FILE.read_text("utf-8")
    return {row["prefix"]: (row["name"], float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(text.splitlines())}


def department_of(postal_code: str) -> str | None:
    """The département of a French postal code ("69001" → "69", "20200" → "2B"), or None."""
    code = postal_code.replace(" ", "").strip()
    if len(code) != 5 or not code.isdigit():
        return None
    if code.startswith("97"):
        prefix = code[:3]
    elif code.startswith("20"):
        # Corsica shares "20": 200xx-201xx are Corse-du-Sud, the rest Haute-Corse.
        prefix = "2A" if code[2] in "01" else "2B"
    else:
        prefix = code[:2]
    return prefix if prefix in _departments() else None


def place_of(
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    postal_code: str | None = None,
    country: str | None = None,
) -> Place | None:
    """The delivery's coordinates when sent, else its département's centre, else None."""
    if latitude is not None and longitude is not None and _valid(latitude, longitude):
        return Place(latitude, longitude, "coordinates")
    if postal_code and (country or "FR").upper() in FRENCH_POSTAL_COUNTRIES:
        prefix = department_of(postal_code)
        if prefix is not None:
            name, lat, lon = _departments()[prefix]
            return Place(lat, lon, f"département {prefix} ({name})")
    return None


def _valid(latitude: float, longitude: float) -> bool:
    return (math.isfinite(latitude) and math.isfinite(longitude)
            and -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0)
