import cv2
import numpy as np
import pytest
from ai_synth import decode_rgba, png_bytes, psnr

from luneo.ai.local.upscale import upscale, upscale_array


def _ground_truth(size: int = 256) -> np.ndarray:
    """A smooth-plus-edges 'high-res' image: gradients, discs, thin lines (anti-aliased)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.dstack([120 + 80 * np.sin(xx / 23), 100 + 60 * np.cos(yy / 31), 90 + 0.3 * (xx + yy) / 2])
    img = np.clip(img, 0, 255).astype(np.uint8)
    cv2.circle(img, (90, 100), 50, (240, 200, 40), -1, cv2.LINE_AA)
    cv2.circle(img, (180, 170), 35, (20, 40, 160), -1, cv2.LINE_AA)
    for k in range(6):
        cv2.line(img, (10, 20 + 35 * k), (245, 40 + 30 * k), (10, 10, 10), 2, cv2.LINE_AA)
    return img


@pytest.mark.parametrize("factor", [2, 4])
def test_size_and_effective_dpi(factor: int) -> None:
    src = _ground_truth(64)[:48]
    res = upscale(png_bytes(src), factor, source_dpi=150)
    out = decode_rgba(res.png)
    assert (res.width, res.height) == (64 * factor, 48 * factor)
    assert out.shape[:2] == (48 * factor, 64 * factor)
    assert res.effective_dpi == pytest.approx(150 * factor)


def test_dpi_read_from_image_when_not_given() -> None:
    res = upscale(png_bytes(_ground_truth(32), dpi=72), 2)
    assert res.effective_dpi == pytest.approx(144, abs=0.1)
    assert upscale(png_bytes(_ground_truth(32)), 2).effective_dpi is None


@pytest.mark.parametrize("factor", [2, 4])
def test_closer_to_ground_truth_than_nearest_and_plain_lanczos(factor: int) -> None:
    gt = _ground_truth(256)
    small = cv2.resize(gt, (256 // factor, 256 // factor), interpolation=cv2.INTER_AREA)
    ours = upscale_array(small, factor)
    nearest = cv2.resize(small, (256, 256), interpolation=cv2.INTER_NEAREST)
    lanczos = cv2.resize(small, (256, 256), interpolation=cv2.INTER_LANCZOS4)
    assert psnr(ours, gt) > psnr(nearest, gt) + 1.0
    assert psnr(ours, gt) >= psnr(lanczos, gt)


def test_no_ringing_next_to_a_hard_edge() -> None:
    img = np.full((40, 40, 3), 60, np.uint8)
    img[:, 20:] = 200
    out = upscale_array(img, 4)
    assert out.min() >= 60 and out.max() <= 200  # no overshoot or undershoot (halo)
    assert np.all(out[:, :70] == 60) and np.all(out[:, 90:] == 200)  # flat areas stay flat


def test_alpha_is_kept_and_output_deterministic() -> None:
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[5:25, 5:25, 3] = 255
    data = png_bytes(rgba)
    a = upscale(data, 2)
    b = upscale(data, 2)
    assert a.png == b.png
    out = decode_rgba(a.png)
    assert out[0, 0, 3] == 0 and out[30, 30, 3] == 255


def test_rejects_bad_factor_and_bad_bytes() -> None:
    with pytest.raises(ValueError):
        upscale(png_bytes(_ground_truth(16)), 3)
    with pytest.raises(ValueError):
        upscale(b"not an image", 2)
