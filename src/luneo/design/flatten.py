"""Flatten Bézier paths into polylines and compute exact curve bounds.

Curves are split into uniform parameter steps whose count is derived from the curve's
second differences, which bounds the chord-to-curve distance by `tolerance_mm`
(quadratic: L/(4n²), cubic: 3L/(4n²), L = largest second difference of the control
points). The result is deterministic: same path and tolerance ⇒ same points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from luneo.design.geometry import BBox, Path

Point = tuple[float, float]

_MAX_SEGMENTS = 4096


@dataclass(frozen=True, slots=True)
class Contour:
    """One flattened sub-path; `closed` when it ended with Z (first point is not repeated)."""

    points: list[Point]
    closed: bool


def _segments(second_diff: float, factor: float, tolerance: float) -> int:
    if second_diff <= 0.0:
        return 1
    n = math.ceil(math.sqrt(factor * second_diff / tolerance))
    return max(1, min(n, _MAX_SEGMENTS))


def _quad(p0: Point, p1: Point, p2: Point, tolerance: float) -> list[Point]:
    ddx, ddy = p0[0] - 2 * p1[0] + p2[0], p0[1] - 2 * p1[1] + p2[1]
    n = _segments(math.hypot(ddx, ddy), 0.25, tolerance)
    out: list[Point] = []
    for i in range(1, n + 1):
        t = i / n
        u = 1.0 - t
        out.append(
            (
                u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
                u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1],
            )
        )
    out[-1] = p2
    return out


def _cubic(p0: Point, p1: Point, p2: Point, p3: Point, tolerance: float) -> list[Point]:
    d1 = math.hypot(p0[0] - 2 * p1[0] + p2[0], p0[1] - 2 * p1[1] + p2[1])
    d2 = math.hypot(p1[0] - 2 * p2[0] + p3[0], p1[1] - 2 * p2[1] + p3[1])
    n = _segments(max(d1, d2), 0.75, tolerance)
    out: list[Point] = []
    for i in range(1, n + 1):
        t = i / n
        u = 1.0 - t
        a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    out[-1] = p3
    return out


def flatten_contours(path: Path, tolerance_mm: float = 0.01) -> list[Contour]:
    """Flatten `path` into contours (M starts one, Z closes it); degenerate ones are dropped."""
    if tolerance_mm <= 0:
        raise ValueError("tolerance_mm must be positive")
    contours: list[Contour] = []
    current: list[Point] = []
    start: Point = (0.0, 0.0)

    def finish(closed: bool) -> None:
        nonlocal current
        pts = current
        if closed and len(pts) > 1 and pts[-1] == pts[0]:
            pts = pts[:-1]
        if len(pts) >= 2:
            contours.append(Contour(pts, closed and len(pts) >= 3))
        current = []

    for op, args in path.commands:
        if op == "M":
            if current:
                finish(False)
            start = (args[0], args[1])
            current = [start]
            continue
        if op == "Z":
            if current:
                finish(True)
            continue
        if not current:  # drawing after Z without M continues from the sub-path start
            current = [start]
        last = current[-1]
        if op == "L":
            pt = (args[0], args[1])
            if pt != last:
                current.append(pt)
        elif op == "Q":
            current.extend(_quad(last, (args[0], args[1]), (args[2], args[3]), tolerance_mm))
        elif op == "C":
            current.extend(
                _cubic(last, (args[0], args[1]), (args[2], args[3]), (args[4], args[5]), tolerance_mm)
            )
        else:
            raise ValueError(f"unknown path command {op!r}")
    if current:
        finish(False)
    return contours


def flatten(path: Path, tolerance_mm: float = 0.01) -> list[list[Point]]:
    """Flatten a path into one polyline per contour (closed contours do not repeat their start)."""
    return [c.points for c in flatten_contours(path, tolerance_mm)]


def signed_area(points: list[Point]) -> float:
    """Shoelace area of a closed polygon (positive = counter-clockwise in y-up axes)."""
    n = len(points)
    s = 0.0
    for i in range(n):
        x0, y0 = points[i]
        x1, y1 = points[(i + 1) % n]
        s += x0 * y1 - x1 * y0
    return s / 2.0


def _extrema_1d(coeffs: tuple[float, ...]) -> list[float]:
    """Parameters in (0, 1) where a 1-D Bézier with these control values has a zero derivative."""
    if len(coeffs) == 3:
        p0, p1, p2 = coeffs
        den = p0 - 2 * p1 + p2
        return [t for t in ([(p0 - p1) / den] if den != 0 else []) if 0 < t < 1]
    p0, p1, p2, p3 = coeffs
    a = -p0 + 3 * p1 - 3 * p2 + p3
    b = 2 * (p0 - 2 * p1 + p2)
    c = p1 - p0
    if abs(a) < 1e-12:
        roots = [-c / b] if abs(b) > 1e-12 else []
    else:
        disc = b * b - 4 * a * c
        if disc < 0:
            roots = []
        else:
            sq = math.sqrt(disc)
            roots = [(-b + sq) / (2 * a), (-b - sq) / (2 * a)]
    return [t for t in roots if 0 < t < 1]


def _bez(coeffs: tuple[float, ...], t: float) -> float:
    u = 1 - t
    if len(coeffs) == 3:
        return u * u * coeffs[0] + 2 * u * t * coeffs[1] + t * t * coeffs[2]
    return u**3 * coeffs[0] + 3 * u * u * t * coeffs[1] + 3 * u * t * t * coeffs[2] + t**3 * coeffs[3]


def curve_bbox(path: Path) -> BBox | None:
    """Exact bounding box of the drawn curve (not of the control polygon); None when empty."""
    xs: list[float] = []
    ys: list[float] = []
    start: Point | None = None
    last: Point | None = None
    for op, args in path.commands:
        if op == "M":
            start = last = (args[0], args[1])
            xs.append(args[0])
            ys.append(args[1])
            continue
        if op == "Z":
            last = start
            continue
        if last is None:
            last = (0.0, 0.0)
        pts = [last] + [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        end = pts[-1]
        xs.append(end[0])
        ys.append(end[1])
        if op in ("Q", "C"):
            cx = tuple(p[0] for p in pts)
            cy = tuple(p[1] for p in pts)
            xs.extend(_bez(cx, t) for t in _extrema_1d(cx))
            ys.extend(_bez(cy, t) for t in _extrema_1d(cy))
        last = end
    if not xs:
        return None
    return BBox(min(xs), min(ys), max(xs), max(ys))


def contours_bbox(contours: list[list[Point]]) -> BBox | None:
    """Bounding box of flattened polylines."""
    pts = [p for c in contours for p in c]
    if not pts:
        return None
    return BBox(
        min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)
    )
