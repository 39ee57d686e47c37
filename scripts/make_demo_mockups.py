"""Make the demo products' mockup photos, shading and displacement maps — all drawn by the project.

    .venv/bin/python scripts/make_demo_mockups.py [--out src/luneo/catalog/demo_mockups]

Products with a procedural 3D model (`luneo.design.models3d`: pendant, mug, phone case, business
card) are rendered with a small numpy z-buffer rasteriser (Phong shading: a key, a fill and a rim
light, a sky/floor environment for metal, soft contact shadow). The mug uses an orthographic camera,
for which a cylinder's wrap is exactly the `wrap` placement (columns at r·sin φ, rims rising by
r·sin(elevation)·(1 − cos φ)); flat products use a perspective camera, and their print-area corners
are the projected 3D corners. The T-shirt and the wooden sign have no model: they are drawn in 2D
(gradients, folds, wood grain, shadows). Every output is deterministic (fixed seeds) and written
with `mockups.json`, the placements the demo seed gives the products.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from luneo.design.models3d import Model3D, build_model

OUT = Path(__file__).resolve().parents[1] / "src/luneo/catalog/demo_mockups"
SS = 2  # supersampling
BG_TOP, BG_BOTTOM = np.array([0.95, 0.95, 0.94]), np.array([0.84, 0.84, 0.83])


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def _rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def _rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def background(w: int, h: int) -> np.ndarray:
    t = np.linspace(0, 1, h)[:, None, None]
    img = BG_TOP * (1 - t) + BG_BOTTOM * t
    yy, xx = np.mgrid[0:h, 0:w]
    vignette = 1 - 0.08 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4
    return np.broadcast_to(img, (h, w, 3)) * vignette[..., None]


class Camera:
    """World (m, Y up) → image pixels. `ortho`: parallel projection; else perspective (focal `f`)."""

    def __init__(self, view: np.ndarray, ortho: bool, distance: float = 1.0) -> None:
        self.view, self.ortho, self.distance = view, ortho, distance
        self.scale, self.offset = 1.0, np.zeros(2)

    def camera_space(self, p: np.ndarray) -> np.ndarray:
        return p @ self.view.T

    def project(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image xy, depth: larger = farther)."""
        c = self.camera_space(p)
        depth = self.distance - c[:, 2]
        xy = c[:, :2] if self.ortho else c[:, :2] * (self.distance / depth[:, None])
        xy = np.stack([xy[:, 0], -xy[:, 1]], -1) * self.scale + self.offset
        return xy, depth

    def fit(self, pts: np.ndarray, w: int, h: int, fill: float, dy: float = 0.0) -> None:
        xy, _ = self.project(pts)
        lo, hi = xy.min(0), xy.max(0)
        k = fill * min(w / (hi[0] - lo[0]), h / (hi[1] - lo[1]))
        self.scale *= k
        self.offset = np.array([w / 2, h / 2 + dy * h]) - (lo + hi) / 2 * k


def rasterise_model(
    model: Model3D, rot: np.ndarray, cam: Camera, w: int, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Z-buffer with interpolated normals: (normal map (h, w, 3) in camera space, material index map,
    depth, camera-space position). Material index −1 = background."""
    zbuf = np.full((h, w), np.inf)
    normals = np.zeros((h, w, 3))
    positions = np.zeros((h, w, 3))
    mat = np.full((h, w), -1, dtype=np.int32)
    names = [m.name for m in model.materials]
    for part in model.parts:
        pos = part.positions.astype(np.float64) @ rot.T
        nrm = part.normals.astype(np.float64) @ rot.T
        xy, depth = cam.project(pos)
        cpos = cam.camera_space(pos)
        cn = nrm @ cam.view.T
        mi = names.index(part.material)
        for tri in part.indices:
            p = xy[tri]
            x0, y0 = np.floor(p.min(0)).astype(int)
            x1, y1 = np.ceil(p.max(0)).astype(int)
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
            if x1 < x0 or y1 < y0:
                continue
            (ax, ay), (bx, by), (cx, cy) = p
            den = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
            if abs(den) < 1e-12:
                continue
            yy, xx = np.mgrid[y0 : y1 + 1, x0 : x1 + 1] + 0.5
            l0 = ((by - cy) * (xx - cx) + (cx - bx) * (yy - cy)) / den
            l1 = ((cy - ay) * (xx - cx) + (ax - cx) * (yy - cy)) / den
            l2 = 1 - l0 - l1
            inside = (l0 >= -1e-9) & (l1 >= -1e-9) & (l2 >= -1e-9)
            if not inside.any():
                continue
            d = l0 * depth[tri[0]] + l1 * depth[tri[1]] + l2 * depth[tri[2]]
            sub = zbuf[y0 : y1 + 1, x0 : x1 + 1]
            win = inside & (d < sub)
            if not win.any():
                continue
            sub[win] = d[win]
            lam = np.stack([l0, l1, l2], -1)[win]
            normals[y0 : y1 + 1, x0 : x1 + 1][win] = lam @ cn[tri]
            positions[y0 : y1 + 1, x0 : x1 + 1][win] = lam @ cpos[tri]
            mat[y0 : y1 + 1, x0 : x1 + 1][win] = mi
    return _normalize(normals), mat, zbuf, positions


def shade(
    normals: np.ndarray,
    positions: np.ndarray,
    mask: np.ndarray,
    *,
    metal: bool,
    gloss: float,
    ortho: bool,
    distance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(diffuse light factor, specular/reflection term) per pixel, camera space (+Z towards the viewer)."""
    key = _normalize(np.array([-0.55, 0.65, 0.55]))
    fill = _normalize(np.array([0.7, 0.1, 0.7]))
    rim = _normalize(np.array([0.2, 0.5, -0.8]))
    n = normals
    view = (
        np.broadcast_to(np.array([0, 0, 1.0]), n.shape)
        if ortho
        else _normalize(np.array([0, 0, distance]) - positions)
    )
    diffuse = (
        0.6 + 0.4 * np.clip(n @ key, 0, 1) + 0.14 * np.clip(n @ fill, 0, 1) + 0.08 * np.clip(n @ rim, 0, 1)
    )
    diffuse = np.minimum(diffuse, 1.04)
    half = _normalize(key + view)
    spec = np.clip((n * half).sum(-1), 0, 1) ** gloss
    if metal:
        r = 2 * (n * view).sum(-1, keepdims=True) * n - view
        sky = 0.5 + 0.5 * np.tanh(3.0 * r[..., 1])
        env = 0.22 + 0.85 * sky + 0.25 * np.exp(-(((r[..., 0] + 0.3) / 0.25) ** 2))
        # A softbox sweeping across flat faces (their reflection alone would be one flat colour).
        p = positions[mask]
        lo, hi = p.min(0), p.max(0)
        u = (positions[..., 0] - lo[0]) / max(hi[0] - lo[0], 1e-9) - (positions[..., 1] - lo[1]) / max(
            hi[1] - lo[1], 1e-9
        )
        diffuse = env * (0.78 + 0.3 * np.exp(-(((u + 0.25) / 0.45) ** 2)))
    diffuse = np.where(mask, diffuse, 1.0)
    spec = np.where(mask, spec, 0.0)
    return diffuse, spec


def contact_shadow(mask: np.ndarray, dx: float, dy: float, blur: float, strength: float) -> np.ndarray:
    h, w = mask.shape
    m = np.float32(mask)
    shifted = cv2.warpAffine(m, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
    k = int(blur) * 2 + 1
    return 1 - strength * cv2.GaussianBlur(shifted, (k, k), blur / 2)


def downsample(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img.astype(np.float32), (w // SS, h // SS), interpolation=cv2.INTER_AREA)


def to_png(arr: np.ndarray, path: Path, mode: str = "RGB") -> None:
    data = np.clip(np.round(arr * 255), 0, 255).astype(np.uint8)
    Image.fromarray(data, mode).save(path, "PNG", optimize=True)


# ---------------------------------------------------------------- 3D products


def render_3d(
    shape: str,
    width_mm: float,
    height_mm: float,
    size: tuple[int, int],
    *,
    rot: np.ndarray,
    cam: Camera,
    colours: dict[str, tuple[float, float, float]],
    metal: set[str],
    print_corners_mm: bool,
    fill: float = 0.72,
    dy: float = 0.0,
    shadow: tuple[float, float, float, float] = (0.0, 0.03, 0.05, 0.35),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo RGB, shading L, print-area corners in photo px or empty)."""
    model = build_model(shape, width_mm=width_mm, height_mm=height_mm, print_material="print")
    W, H = size[0] * SS, size[1] * SS
    allpos = np.concatenate([p.positions.astype(np.float64) for p in model.parts]) @ rot.T
    cam.fit(allpos, W, H, fill, dy)
    normals, mat, _z, positions = rasterise_model(model, rot, cam, W, H)
    names = [m.name for m in model.materials]
    img = background(W, H)
    obj = mat >= 0
    sx, sy, blur, strength = shadow
    img = img * contact_shadow(obj, sx * W, sy * H, blur * W, strength)[..., None]
    shading = np.ones((H, W))
    for mi, name in enumerate(names):
        m = mat == mi
        if not m.any():
            continue
        is_metal = name in metal
        diffuse, spec = shade(
            normals,
            positions,
            m,
            metal=is_metal,
            gloss=60 if is_metal else 40,
            ortho=cam.ortho,
            distance=cam.distance,
        )
        base = np.array(colours.get(name, (0.9, 0.9, 0.9)))
        spec_k = 0.55 if is_metal else (0.25 if name in ("print", "body") else 0.12)
        col = base * diffuse[..., None] + spec_k * spec[..., None]
        img[m] = np.clip(col[m], 0, 1)
        if name == "print":
            shading[m] = np.clip(diffuse[m] / 0.95, 0, 1)
    corners = np.zeros((0, 2))
    if print_corners_mm:  # the slab's front face: X = x − w/2, Y = h/2 − y, Z = thickness/2 (metres)
        front_z = float(model.parts[0].positions[:, 2].max())
        pts = np.array([[0, 0], [width_mm, 0], [width_mm, height_mm], [0, height_mm]], dtype=np.float64)
        world = (
            np.stack(
                [(pts[:, 0] - width_mm / 2) * 1e-3, (height_mm / 2 - pts[:, 1]) * 1e-3, np.full(4, front_z)],
                -1,
            )
            @ rot.T
        )
        corners = cam.project(world)[0] / SS
    return downsample(img), downsample(shading), corners


def make_pendant(out: Path) -> dict[str, Any]:
    rot = _rot_x(-24) @ _rot_y(18) @ _rot_z(-6)
    cam = Camera(np.eye(3), ortho=False, distance=0.16)
    gold = (0.86, 0.68, 0.26)
    photo, _shading, corners = render_3d(
        "pendant",
        30,
        30,
        (900, 900),
        rot=rot,
        cam=cam,
        colours={"print": gold, "metal": gold},
        metal={"print", "metal"},
        print_corners_mm=True,
        fill=0.66,
        dy=0.03,
    )
    to_png(photo, out / "pendant.png")
    return {"image": "pendant.png", "corners": corners.round(2).tolist()}


def make_phone(out: Path) -> dict[str, Any]:
    rot = _rot_x(-14) @ _rot_y(-22) @ _rot_z(4)
    cam = Camera(np.eye(3), ortho=False, distance=0.55)
    photo, shading, corners = render_3d(
        "phone_case",
        75,
        155,
        (800, 1000),
        rot=rot,
        cam=cam,
        colours={
            "print": (0.96, 0.96, 0.95),
            "case": (0.08, 0.08, 0.09),
            "camera": (0.05, 0.05, 0.06),
            "lens": (0.01, 0.01, 0.015),
        },
        metal=set(),
        print_corners_mm=True,
        fill=0.8,
    )
    to_png(photo, out / "phone.png")
    to_png(shading, out / "phone-shading.png", "L")
    return {"image": "phone.png", "shading": "phone-shading.png", "corners": corners.round(2).tolist()}


def make_card(out: Path) -> dict[str, Any]:
    rot = _rot_x(-48) @ _rot_z(12)
    cam = Camera(np.eye(3), ortho=False, distance=0.3)
    photo, shading, corners = render_3d(
        "business_card",
        85,
        55,
        (1000, 800),
        rot=rot,
        cam=cam,
        colours={"print": (0.97, 0.97, 0.95), "paper": (0.93, 0.93, 0.91)},
        metal=set(),
        print_corners_mm=True,
        fill=0.78,
        shadow=(0.01, 0.02, 0.02, 0.3),
    )
    to_png(photo, out / "card.png")
    to_png(shading, out / "card-shading.png", "L")
    return {"image": "card.png", "shading": "card-shading.png", "corners": corners.round(2).tolist()}


def make_mug(out: Path) -> dict[str, Any]:
    """Orthographic, 12° above; the cylinder turned so the print's 60° (the name) faces the camera."""
    width_mm, height_mm, facing, elevation = 200.0, 90.0, 60.0, 12.0
    rot = _rot_y(-facing)
    cam = Camera(_rot_x(elevation), ortho=True)
    W, H = 1000, 900
    photo, shading, _ = render_3d(
        "mug",
        width_mm,
        height_mm,
        (W, H),
        rot=rot,
        cam=cam,
        colours={"print": (0.95, 0.95, 0.94), "body": (0.95, 0.95, 0.94)},
        metal=set(),
        print_corners_mm=False,
        fill=0.78,
        shadow=(0.0, 0.02, 0.05, 0.35),
    )
    # The wrap placement, from the same geometry as models3d.mug (r_out, band at y0..y1 from the base).
    r = max(41.0, width_mm / (0.85 * 2 * math.pi)) * 1e-3
    y0, y1 = 12.0e-3, (12.0 + height_mm) * 1e-3
    k = cam.scale / SS
    axis = cam.project(np.array([[0.0, y1, 0.0]]))[0][0] / SS
    front_top = cam.project(np.array([[0.0, y1, r]]))[0][0] / SS
    front_bottom = cam.project(np.array([[0.0, y0, r]]))[0][0] / SS
    curve = r * math.sin(math.radians(elevation)) * k
    arc = math.degrees(width_mm / (r * 1e3))
    wrap = {
        "left_px": round(axis[0] - r * k, 2),
        "right_px": round(axis[0] + r * k, 2),
        "top_px": round(front_top[1], 2),
        "bottom_px": round(front_bottom[1], 2),
        "top_curve_px": round(curve, 2),
        "bottom_curve_px": round(curve, 2),
        "arc_deg": round(arc, 3),
        "facing_deg": facing,
    }
    to_png(photo, out / "mug.png")
    to_png(shading, out / "mug-shading.png", "L")
    return {"image": "mug.png", "shading": "mug-shading.png", "wrap": wrap}


# ---------------------------------------------------------------- 2D products


def _smooth_noise(h: int, w: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    small = rng.random((max(2, int(h / scale)), max(2, int(w / scale)))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def make_tshirt(out: Path) -> dict[str, Any]:
    """Flat-lay white T-shirt: silhouette, soft folds (shading + displacement), collar, shadow."""
    rng = np.random.default_rng(7)
    W, H = 1000, 940
    S = SS
    pts = np.array(
        [
            (340, 90),
            (425, 75),
            (455, 112),
            (500, 126),
            (545, 112),
            (575, 75),
            (660, 90),
            (880, 222),
            (815, 388),
            (752, 348),
            (758, 885),
            (242, 885),
            (248, 348),
            (185, 388),
            (120, 222),
        ],
        dtype=np.float32,
    )
    mask = np.zeros((H * S, W * S), np.uint8)
    cv2.fillPoly(mask, [np.round(pts * S).astype(np.int32)], 255)
    mask = cv2.GaussianBlur(mask, (5, 5), 1).astype(np.float32) / 255
    yy, xx = np.mgrid[0 : H * S, 0 : W * S].astype(np.float32) / S
    folds = (
        0.5 * np.sin((xx * 0.9 + yy * 0.25) / 38.0)
        + 0.35 * np.sin((xx * -0.4 + yy) / 61.0 + 1.3)
        + 0.25 * (_smooth_noise(H * S, W * S, 90 * S, rng) - 0.5)
        + 0.3 * np.sin((xx * 0.2 - yy) / 23.0) * np.exp(-(((yy - 840) / 110) ** 2))
    )
    folds = cv2.GaussianBlur(folds, (0, 0), 6 * S)
    light = 0.93 + 0.06 * folds - 0.04 * ((xx - 500) / 400) ** 2
    cloth = np.array([0.97, 0.97, 0.96]) * light[..., None]
    collar = np.zeros_like(mask)
    cv2.ellipse(collar, (500 * S, 100 * S), (50 * S, 28 * S), 0, 0, 180, 1.0, 7 * S)
    cloth = cloth * (1 - 0.12 * cv2.GaussianBlur(collar, (0, 0), 2 * S))[..., None]
    seams = np.zeros_like(mask)
    for a, b in (((265, 350), (330, 95)), ((735, 350), (670, 95))):
        cv2.line(seams, (a[0] * S, a[1] * S), (b[0] * S, b[1] * S), 1.0, 2 * S)
    cloth = cloth * (1 - 0.05 * cv2.GaussianBlur(seams, (0, 0), 2 * S))[..., None]
    bg = background(W * S, H * S) * contact_shadow(mask > 0.5, 6 * S, 10 * S, 14 * S, 0.28)[..., None]
    img = bg * (1 - mask[..., None]) + cloth * mask[..., None]
    shading = np.where(mask > 0.5, np.clip(light / 0.93, 0, 1), 1.0)
    disp = np.clip(0.5 + 0.35 * folds / max(1e-6, np.abs(folds).max()), 0, 1)
    to_png(downsample(img), out / "tshirt.png")
    to_png(downsample(shading), out / "tshirt-shading.png", "L")
    to_png(downsample(disp), out / "tshirt-displacement.png", "L")
    # 300 × 400 mm print area on the chest: 1.12 px/mm, centred under the collar.
    k, x0, y0 = 1.12, 500 - 150 * 1.12, 178
    corners = [[x0, y0], [x0 + 300 * k, y0], [x0 + 300 * k, y0 + 400 * k], [x0, y0 + 400 * k]]
    return {
        "image": "tshirt.png",
        "shading": "tshirt-shading.png",
        "displacement": "tshirt-displacement.png",
        "displacement_px": 5.0,
        "corners": [[round(x, 2), round(y, 2)] for x, y in corners],
    }


def make_sign(out: Path) -> dict[str, Any]:
    """Birch plywood sign (300 × 150 mm, r 12 mm) leaning back slightly: wood grain, a visible 6 mm edge."""
    rng = np.random.default_rng(11)
    k = 4  # px per mm of the flat board texture
    bw, bh = 300 * k, 150 * k
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    warp = 18 * _smooth_noise(bh, bw, 120, rng)
    rings = 0.5 + 0.5 * np.sin((yy + warp + 3 * np.sin(xx / 260.0)) / 7.5)
    fibre = cv2.GaussianBlur(rng.random((bh, bw)).astype(np.float32), (0, 0), sigmaX=9, sigmaY=0.6)
    tone = 0.88 + 0.07 * rings + 0.25 * (fibre - 0.5) + 0.05 * (_smooth_noise(bh, bw, 200, rng) - 0.5)
    wood = np.array([0.87, 0.74, 0.55], dtype=np.float32) * tone[..., None]
    board_mask = np.zeros((bh, bw), np.float32)
    r = 12 * k
    cv2.rectangle(board_mask, (r, 0), (bw - r, bh), 1.0, -1)
    cv2.rectangle(board_mask, (0, r), (bw, bh - r), 1.0, -1)
    for cx, cy in ((r, r), (bw - r, r), (r, bh - r), (bw - r, bh - r)):
        cv2.circle(board_mask, (cx, cy), r, 1.0, -1)
    W, H = 1100, 800
    corners = np.float32([[150, 190], [950, 170], [985, 590], [115, 600]])
    src = np.float32([[0, 0], [bw, 0], [bw, bh], [0, bh]])
    Hm = cv2.getPerspectiveTransform(src, corners * SS)
    size = (W * SS, H * SS)
    face = cv2.warpPerspective(wood, Hm, size, flags=cv2.INTER_LINEAR)
    fmask = cv2.warpPerspective(board_mask, Hm, size, flags=cv2.INTER_LINEAR)
    edge_shift = np.float32([[1, 0, 0], [0, 1, 16 * SS], [0, 0, 1]]) @ Hm
    emask = cv2.warpPerspective(board_mask, edge_shift, size, flags=cv2.INTER_LINEAR)
    bg = background(*size) * contact_shadow(emask > 0.5, 10 * SS, 26 * SS, 22 * SS, 0.35)[..., None]
    edge_col = np.array([0.78, 0.64, 0.45]) * 0.8
    img = bg * (1 - emask[..., None]) + edge_col * emask[..., None]
    light = np.linspace(1.03, 0.93, size[1])[:, None, None] * np.linspace(0.97, 1.02, size[0])[None, :, None]
    img = img * (1 - fmask[..., None]) + np.clip(face * light, 0, 1) * fmask[..., None]
    to_png(downsample(img), out / "sign.png")
    return {"image": "sign.png", "corners": corners.round(2).tolist()}


PRODUCTS = {
    "DEMO-PENDANT": make_pendant,
    "DEMO-MUG": make_mug,
    "DEMO-TSHIRT": make_tshirt,
    "DEMO-SIGN": make_sign,
    "DEMO-PHONE": make_phone,
    "DEMO-CARD": make_card,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="*", help="SKUs to make (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "mockups.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for sku, make in PRODUCTS.items():
        if args.only and sku not in args.only:
            continue
        manifest[sku] = make(args.out)
        sizes = {
            k: (args.out / v).stat().st_size for k, v in manifest[sku].items() if str(v).endswith(".png")
        }
        print(sku, json.dumps(sizes))
    manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")


if __name__ == "__main__":
    main()
