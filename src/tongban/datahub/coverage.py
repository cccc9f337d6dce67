"""Service coverage (一刻钟便民服务圈) on the aggregate basis: how many households of each community
live within a walking radius of a place of each category — counts only, never a household.

The hub reads where households live (`registry.reads.household_points`: community and point, no
id), counts, and releases the counts as every aggregate is released (`release.suppress`, with the
household dataset's `min_count`): a community's total or covered count of 1 … min_count − 1 is
withheld, with the complementary suppression that keeps it from being recovered from its
district's total. A share is published only where both its counts are.

Distance: great-circle metres (`core.geo.haversine_m`), a household covered when some place of
the category is at most the radius away (straight line; a walking radius, not a route)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from tongban.core import geo
from tongban.datahub.release import min_count, suppress
from tongban.registry import reads

HOUSEHOLD_DATASET = "ds.household"


@dataclass(frozen=True)
class Targets:
    """The places of one category (WGS-84) and the walking radius of its circle."""

    latitude: Sequence[float]
    longitude: Sequence[float]
    radius_m: float


def covered_mask(lat: np.ndarray, lon: np.ndarray, targets: Targets) -> np.ndarray:
    """For each point, is some target within the radius? Exact: each target looks only at the
    points in its bounding box (latitude-sorted, a binary search), then measures them."""
    covered = np.zeros(len(lat), dtype=bool)
    if not len(lat) or not len(targets.latitude):
        return covered
    order = np.argsort(lat, kind="stable")
    lat_s, lon_s = lat[order], lon[order]
    for t_lat, t_lon in zip(targets.latitude, targets.longitude, strict=True):
        lo_lat, hi_lat, lo_lon, hi_lon = geo.bounding_box(t_lat, t_lon, targets.radius_m)
        a, b = np.searchsorted(lat_s, lo_lat, "left"), np.searchsorted(lat_s, hi_lat, "right")
        if a == b:
            continue
        band = slice(a, b)
        in_lon = (lon_s[band] >= lo_lon) & (lon_s[band] <= hi_lon)
        idx = np.flatnonzero(in_lon) + a
        if not len(idx):
            continue
        d = geo.haversine_np(t_lat, t_lon, lat_s[idx], lon_s[idx])
        covered[order[idx[d <= targets.radius_m]]] = True
    return covered


@dataclass(frozen=True)
class CoverageCell:
    households: int | None  # None: withheld (small count)
    covered: int | None
    share: float | None  # covered / households, when both are published


@dataclass(frozen=True)
class Coverage:
    cells: dict[str, dict[str, CoverageCell]]  # community → category → figures
    threshold: int
    located_households: int


@dataclass(frozen=True)
class CoverageCounts:
    """The counts before release: for the cockpit's figure (`places.service_circle` indicator),
    which the cockpit itself releases on the aggregate basis across every level it shows."""

    households: dict[str, int]  # community → located households
    covered: dict[str, dict[str, int]]  # category → community → households within the radius


def coverage_counts(session: Session, targets: Mapping[str, Targets], *, region_prefix: str = "") -> CoverageCounts:
    """Per community (12-digit code): located households, and per category those covered."""
    pts = reads.household_points(session, region_prefix)
    codes = np.array(pts.region_code, dtype=object)
    lat = np.array(pts.latitude, dtype=np.float64)
    lon = np.array(pts.longitude, dtype=np.float64)
    communities = sorted(set(pts.region_code))
    totals = {c: int(np.count_nonzero(codes == c)) for c in communities}
    covered: dict[str, dict[str, int]] = {}
    for category, t in targets.items():
        mask = covered_mask(lat, lon, t)
        covered[category] = {c: int(np.count_nonzero(mask & (codes == c))) for c in communities}
    return CoverageCounts(totals, covered)


def service_coverage(session: Session, targets: Mapping[str, Targets], *, region_prefix: str = "") -> Coverage:
    """Per community (12-digit code) and category: households, covered households, share."""
    counts = coverage_counts(session, targets, region_prefix=region_prefix)
    threshold = min_count(session, HOUSEHOLD_DATASET)
    communities = sorted(counts.households)
    released_totals = suppress(_with_districts(counts.households), threshold=threshold)
    cells: dict[str, dict[str, CoverageCell]] = {c: {} for c in communities}
    for category in targets:
        released = suppress(_with_districts(counts.covered[category]), threshold=threshold)
        for c in communities:
            n, k = released_totals[c], released[c]
            cells[c][category] = CoverageCell(households=n, covered=k,
                                              share=(k / n) if (n and k is not None) else None)
    return Coverage(cells=cells, threshold=threshold, located_households=sum(counts.households.values()))


def _with_districts(counts: Mapping[str, int]) -> dict[str, int]:
    """Community counts plus their districts' sums (the equations complementary suppression keeps)."""
    out = dict(counts)
    for c, n in counts.items():
        out[c[:6]] = out.get(c[:6], 0) + n
    return out
