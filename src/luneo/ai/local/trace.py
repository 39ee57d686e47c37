"""Bitmap → one-colour vector paths for engraving, laser and vinyl cutting.

Ink is separated by Otsu's threshold (or a given one) on the luminance composited over white; light
art on a dark ground is detected from the border and inverted. `cv2.findContours` with RETR_TREE
keeps holes (a contour's depth parity says outer or hole). Each contour is smoothed (Gaussian on its
coordinates, σ = `smooth` px: removes the pixel staircase), simplified by Douglas–Peucker
(`approxPolyDP`, ε = `smooth`/2 px) and fitted with cubic Béziers: corners (turns sharper than ~55°)
stay sharp, other vertices get Catmull-Rom tangents. Outer contours run
clockwise and holes counter-clockwise (y down), so both the non-zero and even-odd fill rules give
the same shape. Coordinates are in pixels, 0..width × 0..height; contours run within 0.25 px of
the ink's pixel edges (traced on a 2× nearest-neighbour copy).

(potrace gives smoother curves, but its Python ports are GPL-licensed; this is our own fitter.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from luneo.ai.local._imageio import U8, decode
from luneo.design.geometry import BBox, Path, PathCommand

Point = tuple[float, float]
CORNER_DEGREES = 55.0


@dataclass(frozen=True, slots=True)
class TracedContour:
    """One closed contour: polygon vertices, Bézier commands (px), hole flag and parent index."""

    points: tuple[Point, ...]
    commands: tuple[PathCommand, ...]
    is_hole: bool
    parent: int  # index of the enclosing contour in TraceResult.paths, -1 for top level


@dataclass(frozen=True, slots=True)
class TraceResult:
    """Traced contours (outer shapes and their holes) and the source size in pixels."""

    paths: list[TracedContour]
    width_px: int
    height_px: int
    threshold: int
    inverted: bool


def trace_to_paths(
    image_bytes: bytes,
    *,
    threshold: int | None = None,
    smooth: float = 1.0,
    invert: bool | None = None,
    min_area: float = 4.0,
) -> TraceResult:
    """Trace the ink of an image into closed contours with holes.

    `threshold`: luminance 0..255 below which a pixel is ink (Otsu when None). `smooth`: simplification
    tolerance in px (0 keeps the pixel staircase, as polygons). `invert`: treat light pixels as ink
    (auto-detected from the border when None). `min_area`: drop specks smaller than this (px²).
    """
    if threshold is not None and not 0 <= threshold <= 255:
        raise ValueError("threshold must be within 0..255")
    if not 0.0 <= smooth <= 10.0:
        raise ValueError("smooth must be within 0..10")
    img = decode(image_bytes)
    gray = cv2.cvtColor(img.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if img.alpha is not None:  # composite over white: transparent = no ink
        a = img.alpha.astype(np.float32) / 255.0
        gray = gray * a + 255.0 * (1.0 - a)
    gray8: U8 = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    if smooth > 0:
        gray8 = cv2.GaussianBlur(gray8, (0, 0), 0.5 * smooth)
    if threshold is None:
        otsu, _ = cv2.threshold(gray8, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        threshold = int(otsu)
    ink = (gray8 <= threshold).astype(np.uint8)
    if invert is None:
        border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
        invert = bool(border.mean() > 0.5)
    if invert:
        ink = 1 - ink
    return TraceResult(
        trace_mask(ink, smooth=smooth, min_area=min_area), img.width, img.height, threshold, invert
    )


def trace_mask(ink: U8, *, smooth: float = 1.0, min_area: float = 4.0) -> list[TracedContour]:
    """Trace a binary mask (1 = ink) into contours (the algorithm behind `trace_to_paths`)."""
    # Trace at 2× so contours run 0.25 px (not 0.5 px) inside the ink's pixel edges.
    big = cv2.resize(ink, (ink.shape[1] * 2, ink.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    big = np.pad(big, 1)
    contours, hierarchy = cv2.findContours(big, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]
    depth = [0] * len(contours)
    for i in range(len(contours)):
        d, p = 0, int(hier[i][3])
        while p >= 0:
            d, p = d + 1, int(hier[p][3])
        depth[i] = d
    out: list[TracedContour] = []
    index_of: dict[int, int] = {}
    for i in _tree_order(hier):
        parent = int(hier[i][3])
        if parent >= 0 and parent not in index_of:
            continue  # its enclosing contour was dropped as a speck
        pts = contours[i].reshape(-1, 2).astype(np.float64)
        # findContours on the 2× mask returns boundary pixels; move to the pixel-edge lattice.
        pts = (_smooth_closed(pts, 2.0 * smooth) - 1.0 + 0.5) / 2.0
        poly = _simplify(pts, smooth)
        if len(poly) < 3 or abs(_area(poly)) < min_area:
            continue
        hole = depth[i] % 2 == 1
        if (_area(poly) > 0) == hole:  # outer clockwise (positive area in y-down), holes reversed
            poly = poly[::-1]
        points = tuple((round(float(x), 3), round(float(y), 3)) for x, y in poly)
        commands = _fit_beziers(points) if smooth > 0 else _polygon(points)
        index_of[i] = len(out)
        out.append(TracedContour(points, commands, hole, index_of.get(parent, -1)))
    return out


def _tree_order(hier: np.ndarray) -> list[int]:
    """Contour indices parents-first (depth-first over the hierarchy), deterministic."""
    order: list[int] = []
    roots = [i for i in range(len(hier)) if hier[i][3] < 0]
    stack = list(reversed(roots))
    while stack:
        i = stack.pop()
        order.append(i)
        children = []
        c = int(hier[i][2])
        while c >= 0:
            children.append(c)
            c = int(hier[c][0])
        stack.extend(reversed(children))
    return order


def _smooth_closed(pts: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a closed polyline's coordinates (removes the pixel staircase)."""
    if sigma <= 0 or len(pts) < 8:
        return pts
    radius = min(int(3 * sigma + 0.5), (len(pts) - 1) // 2)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.concatenate([pts[-radius:], pts, pts[:radius]]) if radius else pts
    return np.stack([np.convolve(padded[:, d], k, mode="valid") for d in range(2)], axis=1)


def _simplify(pts: np.ndarray, smooth: float) -> np.ndarray:
    eps = max(0.3, 0.5 * smooth)
    approx = cv2.approxPolyDP(pts.astype(np.float32).reshape(-1, 1, 2), eps, True)
    return np.asarray(approx.reshape(-1, 2), dtype=np.float64)


def _area(poly: np.ndarray | Sequence[Point]) -> float:
    p = np.asarray(poly, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _polygon(points: Sequence[Point]) -> tuple[PathCommand, ...]:
    cmds: list[PathCommand] = [("M", points[0])]
    cmds.extend(("L", p) for p in points[1:])
    cmds.append(("Z", ()))
    return tuple(cmds)


def _fit_beziers(points: Sequence[Point]) -> tuple[PathCommand, ...]:
    """Closed cubic spline through the vertices: Catmull-Rom tangents, straight at corners."""
    n = len(points)
    p = np.asarray(points, dtype=np.float64)
    corner = np.zeros(n, bool)
    for i in range(n):
        a, b, c = p[i - 1], p[i], p[(i + 1) % n]
        v1, v2 = b - a, c - b
        n1, n2 = np.hypot(*v1), np.hypot(*v2)
        if n1 == 0 or n2 == 0:
            corner[i] = True
            continue
        cos = float(np.dot(v1, v2) / (n1 * n2))
        corner[i] = math.degrees(math.acos(max(-1.0, min(1.0, cos)))) > CORNER_DEGREES
    cmds: list[PathCommand] = [("M", (float(p[0][0]), float(p[0][1])))]
    for i in range(n):
        j = (i + 1) % n
        a, b = p[i], p[j]
        end = (round(float(b[0]), 3), round(float(b[1]), 3))
        if corner[i] and corner[j]:
            cmds.append(("L", end))
            continue
        seg = np.hypot(*(b - a))
        t1 = (b - a) if corner[i] else (p[j] - p[i - 1])
        t2 = (b - a) if corner[j] else (p[(j + 1) % n] - p[i])
        c1 = a + _unit(t1) * seg / 3.0
        c2 = b - _unit(t2) * seg / 3.0
        cmds.append(
            (
                "C",
                (
                    round(float(c1[0]), 3),
                    round(float(c1[1]), 3),
                    round(float(c2[0]), 3),
                    round(float(c2[1]), 3),
                    *end,
                ),
            )
        )
    cmds.append(("Z", ()))
    return tuple(cmds)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 0 else v


def paths_to_svg_d(paths: TraceResult | Sequence[TracedContour], precision: int = 2) -> str:
    """All contours as one SVG path `d` string (use fill-rule="evenodd" or "nonzero")."""
    contours = paths.paths if isinstance(paths, TraceResult) else paths
    return "".join(Path(c.commands).to_svg_d(precision) for c in contours)


def to_svg(result: TraceResult, *, fill: str = "#000000") -> bytes:
    """A standalone SVG of the trace at its pixel size."""
    d = paths_to_svg_d(result)
    w, h = result.width_px, result.height_px
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<path fill="{fill}" fill-rule="evenodd" d="{d}"/></svg>'
    ).encode()


def to_geometry_paths(
    result: TraceResult, box_mm: BBox | tuple[float, float, float, float], *, keep_aspect: bool = True
) -> list[Path]:
    """Scale the trace into a box in mm (x, y, w, h or a BBox): one Path per shape with its holes.

    With `keep_aspect` the whole image is fitted (contained) and centred in the box.
    """
    if isinstance(box_mm, BBox):
        bx, by, bw, bh = box_mm.x0, box_mm.y0, box_mm.width, box_mm.height
    else:
        bx, by, bw, bh = box_mm
    if bw <= 0 or bh <= 0:
        raise ValueError("box must have a positive size")
    sx, sy = bw / result.width_px, bh / result.height_px
    if keep_aspect:
        sx = sy = min(sx, sy)
    ox = bx + (bw - result.width_px * sx) / 2
    oy = by + (bh - result.height_px * sy) / 2
    matrix = (sx, 0.0, 0.0, sy, ox, oy)
    shapes: dict[int, list[PathCommand]] = {}
    for i, c in enumerate(result.paths):
        root = i
        # Outer contours start a shape; holes join their parent's shape; islands in holes start anew.
        if c.is_hole and c.parent >= 0:
            root = c.parent
        shapes.setdefault(root, []).extend(c.commands)
    return [Path(tuple(cmds)).transformed(matrix) for _, cmds in sorted(shapes.items())]
