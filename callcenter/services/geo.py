"""Great-circle distances, bounding boxes, the Indonesia check and ETA estimates."""

from __future__ import annotations

import math
from functools import cache

EARTH_RADIUS_M = 6_371_008.8
# The IANA zones that lie wholly inside Indonesia (its territory and territorial sea).
INDONESIAN_ZONES = frozenset({"Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"})


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that contains the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * coslat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


@cache
def _timezone_finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def in_indonesia(lat: float, lon: float) -> bool:
    """True when the point lies in Indonesia (land or territorial sea).

    Uses the time-zone boundaries, which follow the national borders: Batam is in,
    Singapore, Johor, Timor-Leste and Papua New Guinea are out.
    """
    return _timezone_finder().timezone_at(lat=lat, lng=lon) in INDONESIAN_ZONES


def estimate_eta_s(distance_m: float, kind: str, config) -> int:
    """Seconds to the scene from the straight-line distance and the unit's kind.

    Roads wind: the straight line is stretched by a detour factor, then divided by a
    typical urban speed. Replaceable through ``CALLCENTER_ETA_FUNCTION`` with a road router.
    """
    speeds = {
        "car": config["CALLCENTER_ETA_CAR_KMH"],
        "motorcycle": config["CALLCENTER_ETA_MOTORCYCLE_KMH"],
        "foot": 5.0,
        "boat": 25.0,
    }
    kmh = speeds.get(kind, config["CALLCENTER_ETA_CAR_KMH"])
    detour = 1.35
    return round(distance_m * detour / (kmh * 1000 / 3600))
