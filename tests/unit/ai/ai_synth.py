"""Synthetic test images for the local AI tools (generated, no files)."""

from __future__ import annotations

import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image


def png_bytes(arr: NDArray[np.uint8], dpi: float | None = None) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(arr)
    if dpi:
        img.save(buf, "PNG", dpi=(dpi, dpi))
    else:
        img.save(buf, "PNG")
    return buf.getvalue()


def decode_rgba(data: bytes) -> NDArray[np.uint8]:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def star_object(
    h: int = 480, w: int = 640, background: str = "plain", seed: int = 1
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """A shaded, textured red star+ellipse and its exact mask, over a given background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if background == "plain":
        img = np.empty((h, w, 3), np.float32)
        img[:] = (235, 238, 240)
    elif background == "gradient":
        img = np.dstack([200 + 40 * xx / w, 190 + 30 * yy / h, 150 + 50 * (xx + yy) / (w + h)])
        img += rng.normal(0, 4, img.shape)
    elif background == "blocks":  # busy: random blue/green/grey tiles
        tiles = rng.integers(0, 3, size=(h // 40 + 1, w // 40 + 1))
        palette = np.array([(40, 90, 170), (60, 150, 80), (120, 120, 130)], np.float32)
        img = palette[np.kron(tiles, np.ones((40, 40), int))[:h, :w]]
        img += rng.normal(0, 5, img.shape)
    else:
        raise ValueError(background)
    cx, cy = w * 0.5, h * 0.52
    pts = []
    for k in range(10):
        r = (0.36 if k % 2 == 0 else 0.17) * min(h, w)
        a = -np.pi / 2 + k * np.pi / 5
        pts.append((cx + r * np.cos(a), cy + r * np.sin(a)))
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.array(pts, np.int32)], 1)
    cv2.ellipse(mask, (int(cx), int(cy)), (int(0.2 * w), int(0.12 * h)), 15, 0, 360, 1, -1)
    shade = 0.6 + 0.4 * (1 - (xx - cx + yy - cy) / (w + h))
    tex = 0.85 + 0.15 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    obj = np.dstack([220 * shade * tex, 40 * shade * tex, 60 * shade * tex])
    m = mask.astype(bool)
    img[m] = obj[m]
    return np.clip(img, 0, 255).astype(np.uint8), m


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))
