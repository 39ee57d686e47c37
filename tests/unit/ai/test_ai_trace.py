import math

import cv2
import numpy as np
import pytest
from ai_synth import png_bytes

from luneo.ai.local.trace import _area, paths_to_svg_d, to_geometry_paths, to_svg, trace_to_paths
from luneo.design.geometry import BBox


def _ring(invert: bool = False) -> bytes:
    img = np.full((200, 200, 3), 255, np.uint8)
    cv2.circle(img, (100, 100), 70, (0, 0, 0), -1, cv2.LINE_AA)
    cv2.circle(img, (100, 100), 40, (255, 255, 255), -1, cv2.LINE_AA)
    return png_bytes(255 - img if invert else img)


@pytest.mark.parametrize("invert", [False, True])
def test_black_ring_gives_outer_contour_and_hole(invert: bool) -> None:
    res = trace_to_paths(_ring(invert))
    assert res.inverted is invert
    assert [c.is_hole for c in res.paths] == [False, True]
    outer, hole = res.paths
    assert hole.parent == 0 and outer.parent == -1
    # Equivalent radii within 1 px of the drawn 70 px / 40 px circles.
    assert math.sqrt(abs(_area(outer.points)) / math.pi) == pytest.approx(70, abs=1.0)
    assert math.sqrt(abs(_area(hole.points)) / math.pi) == pytest.approx(40, abs=1.0)
    assert (_area(outer.points) > 0) != (_area(hole.points) > 0)  # opposite windings
    xs = [p[0] for p in outer.points]
    assert min(xs) == pytest.approx(30, abs=1.0) and max(xs) == pytest.approx(170, abs=1.0)
    assert any(op == "C" for op, _ in outer.commands)  # curves, not a staircase


def test_polygons_when_smooth_is_zero_and_specks_dropped() -> None:
    img = np.full((100, 100), 255, np.uint8)
    img[20:60, 30:80] = 0
    img[90, 90] = 0  # one-pixel speck
    res = trace_to_paths(png_bytes(img), smooth=0.0)
    assert len(res.paths) == 1
    pts = res.paths[0].points
    assert sorted(pts) == sorted([(30.25, 20.25), (79.75, 20.25), (79.75, 59.75), (30.25, 59.75)])
    assert {op for op, _ in res.paths[0].commands} == {"M", "L", "Z"}


def test_svg_and_geometry_paths_in_mm() -> None:
    res = trace_to_paths(_ring())
    d = paths_to_svg_d(res)
    assert d.count("M") == 2 and d.count("Z") == 2
    assert to_svg(res).startswith(b"<svg")
    paths = to_geometry_paths(res, (10.0, 20.0, 50.0, 100.0))
    assert len(paths) == 1  # the ring: one shape with its hole
    bbox = paths[0].bbox()
    assert bbox is not None
    # 200 px fitted into 50 mm wide (0.25 mm/px), centred vertically in the 100 mm box.
    assert bbox.x0 == pytest.approx(10 + 30 * 0.25, abs=0.4)
    assert bbox.x1 == pytest.approx(10 + 170 * 0.25, abs=0.4)
    assert bbox.y0 == pytest.approx(20 + 25 + 30 * 0.25, abs=0.4)
    assert to_geometry_paths(res, BBox(0, 0, 50, 50))[0].bbox() is not None


def test_threshold_and_transparency() -> None:
    rgba = np.zeros((60, 60, 4), np.uint8)
    rgba[10:50, 10:50] = (90, 90, 90, 255)  # mid-grey square on transparent
    assert len(trace_to_paths(png_bytes(rgba)).paths) == 1
    assert trace_to_paths(png_bytes(rgba), threshold=50).paths == []
    with pytest.raises(ValueError):
        trace_to_paths(png_bytes(rgba), threshold=300)


def test_deterministic() -> None:
    assert paths_to_svg_d(trace_to_paths(_ring())) == paths_to_svg_d(trace_to_paths(_ring()))
