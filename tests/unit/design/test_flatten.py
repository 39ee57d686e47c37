"""Bézier flattening: tolerance bound, contours, exact curve bounds."""

from __future__ import annotations

import math

import pytest

from luneo.design.flatten import curve_bbox, flatten, flatten_contours, signed_area
from luneo.design.geometry import Path, ellipse_path, rect_path


@pytest.mark.parametrize("tol", [0.1, 0.01, 0.001])
def test_ellipse_points_within_tolerance(tol: float) -> None:
    rx, ry = 20.0, 10.0
    (pts,) = flatten(ellipse_path(0, 0, rx, ry), tol)
    # chord midpoints stay within tol (+ the 4-arc cubic's own 3e-4 relative error) of the ellipse
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        r = math.hypot(mx / rx, my / ry)
        assert (1 - r) * ry <= tol + 0.01
    assert len(pts) > 8


def test_quadratic_and_open_and_closed_contours() -> None:
    p = Path(
        (
            ("M", (0.0, 0.0)),
            ("Q", (5.0, 10.0, 10.0, 0.0)),
            ("Z", ()),
            ("M", (20.0, 0.0)),
            ("L", (30.0, 0.0)),
        )
    )
    closed, open_ = flatten_contours(p, 0.01)
    assert closed.closed and not open_.closed
    assert closed.points[0] == (0.0, 0.0) and closed.points[-1] == (10.0, 0.0)
    assert max(y for _, y in closed.points) == pytest.approx(5.0, abs=0.01)
    assert open_.points == [(20.0, 0.0), (30.0, 0.0)]


def test_curve_bbox_is_tight() -> None:
    p = Path((("M", (0.0, 0.0)), ("Q", (5.0, 10.0, 10.0, 0.0)), ("Z", ())))
    b = curve_bbox(p)
    assert b is not None and b.y1 == pytest.approx(5.0)
    control = p.bbox()
    assert control is not None and control.y1 == 10.0
    e = curve_bbox(ellipse_path(10, 10, 5, 3))
    assert e is not None
    assert (e.x0, e.y0, e.x1, e.y1) == pytest.approx((5, 7, 15, 13))


def test_orientation_and_errors() -> None:
    (sq,) = flatten(rect_path(0, 0, 2, 3), 0.01)
    assert abs(signed_area(sq)) == pytest.approx(6.0)
    with pytest.raises(ValueError):
        flatten(rect_path(0, 0, 1, 1), 0)
    with pytest.raises(ValueError):
        flatten(Path((("M", (0.0, 0.0)), ("X", (1.0, 1.0)))), 0.1)
