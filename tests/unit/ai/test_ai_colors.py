import numpy as np
import pytest
from ai_synth import png_bytes

from luneo.ai.local._color import delta_e2000, lab_to_srgb, parse_hex, srgb_to_lab
from luneo.ai.local.colors import extract_colors

RED, BLUE, YELLOW = (230, 40, 50), (20, 60, 200), (250, 220, 30)


def _three_colours() -> np.ndarray:
    img = np.zeros((300, 400, 3), np.uint8)
    img[:] = BLUE  # 1/3 of the area
    img[:, :200] = RED  # 1/2
    img[200:, 200:] = YELLOW  # 1/6
    return img


def _de(hex_a: str, rgb_b: tuple[int, int, int]) -> float:
    return float(delta_e2000(srgb_to_lab(parse_hex(hex_a)), srgb_to_lab(rgb_b)))


def test_three_colours_and_their_shares() -> None:
    colours = extract_colors(png_bytes(_three_colours()))
    assert len(colours) == 3
    for got, (rgb, share) in zip(colours, [(RED, 1 / 2), (BLUE, 1 / 3), (YELLOW, 1 / 6)], strict=True):
        assert _de(got.hex, rgb) < 1.0
        assert got.share == pytest.approx(share, abs=0.02)
        assert got.palette_match is None and got.delta_e is None


def test_count_limits_and_sorting() -> None:
    colours = extract_colors(png_bytes(_three_colours()), count=2)
    assert [c.share for c in colours] == sorted((c.share for c in colours), reverse=True)
    assert len(colours) == 2


def test_palette_match_by_ciede2000() -> None:
    colours = extract_colors(png_bytes(_three_colours()), palette=["#FF0000", "#0000ff", "#ff0", "#000000"])
    assert [c.palette_match for c in colours] == ["#ff0000", "#0000ff", "#ffff00"]
    assert all(c.delta_e is not None and 0 < c.delta_e < 15 for c in colours)


def test_near_duplicates_merge_and_transparent_pixels_ignored() -> None:
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[:, :50, :3] = (200, 30, 30)
    rgba[:, 50:, :3] = (201, 31, 30)  # ΔE ≈ 0.4 from the left half
    rgba[:, :, 3] = 255
    rgba[:20, :, :3] = (0, 255, 0)
    rgba[:20, :, 3] = 0  # transparent green: not a colour of the design
    colours = extract_colors(png_bytes(rgba))
    assert len(colours) == 1
    assert colours[0].share == pytest.approx(1.0)
    assert _de(colours[0].hex, (200, 30, 30)) < 1.0


def test_deterministic_on_a_noisy_photo_like_image() -> None:
    rng = np.random.default_rng(3)
    img = np.clip(rng.normal(128, 50, (120, 160, 3)), 0, 255).astype(np.uint8)
    data = png_bytes(img)
    assert extract_colors(data, count=6) == extract_colors(data, count=6)


def test_ciede2000_reference_pairs() -> None:
    # Sharma, Wu & Dalal (2005) test data.
    pairs = [
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
        ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ]
    for a, b, expected in pairs:
        assert float(delta_e2000(a, b)) == pytest.approx(expected, abs=1e-4)


def test_lab_round_trip() -> None:
    rgb = np.array([[0, 0, 0], [255, 255, 255], [12, 200, 99], [250, 3, 140]], float)
    assert np.allclose(lab_to_srgb(srgb_to_lab(rgb)), rgb, atol=1e-6)
    assert np.allclose(srgb_to_lab([255, 255, 255]), [100, 0, 0], atol=0.01)
