"""Stroke width along the skeleton (`luneo.design.stroke_width`) on shapes of known width."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.morphology import thin as skimage_thin

from luneo.design.flatten import Contour
from luneo.design.stroke_width import MAX_PIXELS, PX_PER_MIN, measure, thin


def _rect(x: float, y: float, w: float, h: float, angle_deg: float = 0.0) -> Contour:
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    pts = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
    return Contour(tuple((px * c - py * s, px * s + py * c) for px, py in pts), True)


def _neck_shape() -> list[Contour]:
    """Two 5 mm bars 0.3 mm thick joined by a 2 mm neck 0.05 mm thick."""
    return [_rect(0, 0, 5, 0.3), _rect(5, 0.125, 2, 0.05), _rect(7, 0, 5, 0.3)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_thinning_matches_scikit_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = np.zeros((160, 240), np.uint8)
    for _ in range(8):
        centre = (int(rng.integers(0, 240)), int(rng.integers(0, 160)))
        cv2.circle(mask, centre, int(rng.integers(3, 30)), 1, -1)
        a = (int(rng.integers(0, 240)), int(rng.integers(0, 160)))
        b = (int(rng.integers(0, 240)), int(rng.integers(0, 160)))
        cv2.line(mask, a, b, 1, int(rng.integers(1, 6)))
    np.testing.assert_array_equal(thin(mask), skimage_thin(mask).astype(np.uint8))


def test_thinning_keeps_two_pixel_diagonal_hairlines() -> None:
    mask = np.zeros((40, 40), np.uint8)
    for i in range(5, 35):
        mask[i, i : i + 2] = 1
    skel = thin(mask)
    assert skel.sum() >= 29 and cv2.connectedComponents(skel, connectivity=8)[0] == 2


def test_bar_with_a_neck_reports_the_neck_share() -> None:
    found = measure(_neck_shape(), 0.1)
    assert found is not None
    # the neck is 2 mm of an 11.7 mm skeleton (each bar's stops 0.15 mm short of its outer end);
    # straight axis-aligned runs read 5 % short with the direction-unbiased chain weights
    assert found.total_length_mm == pytest.approx(11.7, rel=0.06)
    assert found.thin_length_mm == pytest.approx(2.0, rel=0.08)
    assert found.share_under == pytest.approx(2.0 / 11.7, abs=0.01)
    assert found.thinnest_mm == pytest.approx(0.05, abs=1 / found.px_per_mm)
    assert found.median_width_mm == pytest.approx(0.3, abs=1 / found.px_per_mm)
    assert found.px_per_min == PX_PER_MIN and not found.capped


@pytest.mark.parametrize("angle", [0.0, 7.0, 30.0, 45.0])
@pytest.mark.parametrize(("width", "share"), [(0.05, 1.0), (0.08, 1.0), (0.1, 0.0), (0.12, 0.0), (0.3, 0.0)])
def test_uniform_bars_at_any_angle(width: float, share: float, angle: float) -> None:
    found = measure([_rect(0, 0, 5, width, angle)], 0.1)
    assert found is not None
    assert found.median_width_mm == pytest.approx(width, abs=1.5 / found.px_per_mm)
    assert found.share_under == pytest.approx(share, abs=0.01)
    if share:
        assert found.thinnest_mm is not None and found.thinnest_mm < 0.1


def test_counters_follow_the_non_zero_rule() -> None:
    """A ring (outer contour plus a reversed inner one) is a 0.3 mm stroke, not a filled disc."""
    n = 64
    outer = tuple((3 * math.cos(2 * math.pi * i / n), 3 * math.sin(2 * math.pi * i / n)) for i in range(n))
    inner = tuple(
        (2.7 * math.cos(-2 * math.pi * i / n), 2.7 * math.sin(-2 * math.pi * i / n)) for i in range(n)
    )
    found = measure([Contour(outer, True), Contour(inner, True)], 0.1)
    assert found is not None
    assert found.median_width_mm == pytest.approx(0.3, abs=1.5 / found.px_per_mm)
    assert found.total_length_mm == pytest.approx(2 * math.pi * 2.85, rel=0.03)


def test_large_ink_is_capped_and_says_so() -> None:
    found = measure([_rect(0, 0, 200, 100)], 0.1, max_pixels=200_000)
    assert found is not None and found.capped
    assert found.ink.size <= 200_000
    assert found.px_per_mm < PX_PER_MIN / 0.1
    assert MAX_PIXELS >= 1_000_000


def test_markup_png_is_grey_ink_with_red_thin_parts() -> None:
    found = measure(_neck_shape(), 0.1)
    assert found is not None
    img = np.asarray(Image.open(io.BytesIO(found.markup_png())).convert("RGB"))
    red = np.all(img == (220, 30, 30), axis=2)
    grey = np.all(img == (150, 150, 150), axis=2)
    assert red.sum() == found.thin.sum() and (red | grey).sum() == found.ink.sum()
    cols = np.flatnonzero(red.any(axis=0)) / found.px_per_mm
    assert cols.min() == pytest.approx(5.0, abs=0.1) and cols.max() == pytest.approx(7.0, abs=0.1)


def test_measurement_is_deterministic_and_empty_ink_is_none() -> None:
    a, b = measure(_neck_shape(), 0.1), measure(_neck_shape(), 0.1)
    assert a is not None and b is not None
    assert (a.share_under, a.thinnest_mm, a.markup_png()) == (b.share_under, b.thinnest_mm, b.markup_png())
    assert measure([], 0.1) is None
    assert measure([_rect(0, 0, 1, 1)], 0.0) is None


def test_sharp_corners_are_not_hairlines_but_a_taper_is() -> None:
    """The skeleton runs into the acute corners of a slanted 0.3 mm stroke cut square (the foot
    of an A): no round disc of the minimum reaches them, yet they are not hairlines. A 5 mm
    wedge tapering from 0.3 mm to a point is under 0.1 mm over its last third."""
    slant = Contour(((0.0, 0.0), (0.35, 0.0), (3.35, 5.0), (3.0, 5.0)), True)
    found = measure([slant], 0.1)
    assert found is not None and found.share_under == 0.0 and found.thin.sum() == 0
    wedge = Contour(((0.0, 0.0), (5.0, 0.15), (0.0, 0.3)), True)
    found = measure([wedge], 0.1)
    assert found is not None
    # a third of the skeleton, less the sub-pixel tip that does not rasterise (0.275 measured)
    assert 0.25 <= found.share_under <= 1 / 3
