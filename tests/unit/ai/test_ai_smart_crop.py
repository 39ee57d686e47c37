import cv2
import numpy as np
import pytest
from ai_synth import decode_rgba, png_bytes

from luneo.ai.local.smart_crop import crop_size, smart_crop, smart_crop_box


def _scene(
    h: int, w: int, cx: int, cy: int, r: int, seed: int = 0
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A textured green field with one salient red/yellow object; returns image and object bbox."""
    rng = np.random.default_rng(seed)
    xx = np.mgrid[0:h, 0:w][1]
    img = np.full((h, w, 3), (120, 160, 120), np.float32) + rng.normal(0, 6, (h, w, 3))
    img += (20 * np.sin(xx / 40))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    cv2.circle(img, (cx, cy), r, (230, 60, 40), -1, cv2.LINE_AA)
    cv2.circle(img, (cx, cy), r // 2, (250, 240, 90), -1, cv2.LINE_AA)
    return img, (cx - r, cy - r, 2 * r, 2 * r)


def _contains(box: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    ix, iy, iw, ih = inner
    return x <= ix and y <= iy and ix + iw <= x + w and iy + ih <= y + h


@pytest.mark.parametrize(
    ("shape", "centre", "aspect"),
    [
        ((400, 900), (120, 200), 1.0),  # object on the left
        ((400, 900), (780, 220), 1.0),  # object on the right
        ((900, 400), (200, 130), (3, 2)),  # object at the top
        ((900, 400), (220, 760), (3, 2)),  # object at the bottom
        ((600, 1200), (600, 300), 0.5),  # centred, portrait crop
    ],
)
def test_crop_keeps_the_salient_object(
    shape: tuple[int, int], centre: tuple[int, int], aspect: float | tuple[float, float]
) -> None:
    img, bbox = _scene(*shape, *centre, 80)
    res = smart_crop(png_bytes(img), aspect)
    x, y, w, h = res.box
    ratio = aspect[0] / aspect[1] if isinstance(aspect, tuple) else float(aspect)
    assert abs(w / h - ratio) < 0.01
    assert _contains(res.box, bbox)
    assert x >= 0 and y >= 0 and x + w <= shape[1] and y + h <= shape[0]
    assert decode_rgba(res.png).shape[:2] == (h, w)


def test_out_width_resizes_and_is_deterministic() -> None:
    img, _ = _scene(400, 900, 700, 200, 60)
    data = png_bytes(img)
    a = smart_crop(data, (16, 9), out_width=320)
    assert (a.width, a.height) == (320, 180)
    assert decode_rgba(a.png).shape[:2] == (180, 320)
    assert smart_crop(data, (16, 9), out_width=320).png == a.png


def test_same_aspect_is_whole_image_and_bad_aspect_rejected() -> None:
    img, _ = _scene(300, 400, 100, 100, 40)
    assert smart_crop_box(img, 4 / 3) == (0, 0, 400, 300)
    assert crop_size(400, 300, 1.0) == (300, 300)
    with pytest.raises(ValueError):
        smart_crop(png_bytes(img), 0.0)
    with pytest.raises(ValueError):
        smart_crop(png_bytes(img), (1, -1))


def test_face_like_skin_region_attracts_the_crop() -> None:
    img = np.full((300, 900, 3), (70, 90, 110), np.uint8)
    cv2.ellipse(img, (760, 150), (50, 65), 0, 0, 360, (224, 172, 140), -1)  # skin tone
    box = smart_crop_box(img, 1.0)
    assert _contains(box, (710, 85, 100, 130))


def test_jpeg_decoded_at_reduced_scale_still_answers_full_resolution_box() -> None:
    """A small output lets a JPEG decode at 1/2–1/8 scale; the box stays in original pixels."""
    import io

    from PIL import Image

    img, bbox = _scene(1600, 1600, 1200, 800, 150)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=92)
    res = smart_crop(buf.getvalue(), (9, 16), out_width=300)
    x, y, w, h = res.box
    assert abs(w / h - 9 / 16) < 0.01 and w > 800  # full-resolution coordinates, not the draft's
    assert _contains(res.box, bbox)
    assert x + w <= 1600 and y + h <= 1600
    assert (res.width, res.height) == (300, round(300 * 16 / 9))
