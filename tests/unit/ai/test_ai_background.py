import cv2
import numpy as np
import pytest
from ai_synth import decode_rgba, iou, png_bytes, star_object

from luneo.ai.local.background import guided_filter, remove_background


@pytest.mark.parametrize(
    ("background", "method"), [("plain", "backdrop"), ("gradient", "backdrop"), ("blocks", "grabcut")]
)
def test_cutout_matches_known_foreground(background: str, method: str) -> None:
    img, truth = star_object(background=background)
    res = remove_background(png_bytes(img))
    rgba = decode_rgba(res.png_rgba)
    assert rgba.shape == (*truth.shape, 4)
    assert res.method == method
    alpha = rgba[:, :, 3] > 127
    assert iou(alpha, truth) >= 0.9
    assert res.mask_coverage == pytest.approx(truth.mean(), abs=0.03)


def test_alpha_edge_follows_anti_aliasing_and_kept_colours_unchanged() -> None:
    img = np.full((200, 240, 3), 250, np.uint8)
    cv2.circle(img, (120, 100), 60, (20, 120, 40), -1, cv2.LINE_AA)
    rgba = decode_rgba(remove_background(png_bytes(img)).png_rgba)
    alpha = rgba[:, :, 3]
    blended = (img[:, :, 0] > 20) & (img[:, :, 0] < 250)
    assert ((alpha > 0) & (alpha < 255))[blended].mean() > 0.5  # soft where the source is blended
    opaque = alpha == 255
    assert np.array_equal(rgba[:, :, :3][opaque], img[opaque])
    assert alpha[100, 120] == 255 and alpha[100, 10] == 0


def test_ring_hole_of_backdrop_colour_becomes_transparent() -> None:
    img = np.full((200, 200, 3), 245, np.uint8)
    yy, xx = np.mgrid[0:200, 0:200]
    r = np.hypot(xx - 100, yy - 100)
    ring = (r < 80) & (r > 40)
    img[ring] = (30, 90, 200)
    alpha = decode_rgba(remove_background(png_bytes(img)).png_rgba)[:, :, 3]
    assert alpha[100, 100] == 0 and alpha[100, 160] == 255 and alpha[5, 5] == 0


def test_deterministic() -> None:
    img, _ = star_object(background="blocks", h=240, w=320)
    data = png_bytes(img)
    assert remove_background(data).png_rgba == remove_background(data).png_rgba


def test_guided_filter_preserves_edges_of_guide() -> None:
    guide = np.zeros((64, 64), np.float32)
    guide[:, 32:] = 1.0
    noisy = guide + np.random.default_rng(0).normal(0, 0.2, guide.shape).astype(np.float32)
    out = guided_filter(guide, noisy, 4, 1e-3)
    assert abs(float(out[:, 28].mean())) < 0.1 and abs(float(out[:, 36].mean()) - 1.0) < 0.1
    assert float(np.abs(out - guide).mean()) < float(np.abs(noisy - guide).mean()) / 2


def test_real_photo_keeps_a_plausible_subject() -> None:
    import skimage.data  # a test dependency (pyproject `test` extra), not optional

    res = remove_background(png_bytes(skimage.data.coffee()))
    assert 0.2 < res.mask_coverage < 0.8
    alpha = decode_rgba(res.png_rgba)[:, :, 3]
    assert alpha[200, 350] == 255  # the cup
    assert alpha[5, 5] == 0
