"""Vector geometry in millimetres: paths, affine matrices, bounding boxes.

Coordinates are in mm, y pointing down (SVG convention). Every writer reads these paths,
so preview and production files share one geometry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A path command: ("M", (x, y)), ("L", (x, y)), ("Q", (x1, y1, x, y)),
# ("C", (x1, y1, x2, y2, x, y)) or ("Z", ()).
PathCommand = tuple[str, tuple[float, ...]]

# Affine matrix (a, b, c, d, e, f) as in SVG: x' = a*x + c*y + e, y' = b*x + d*y + f.
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class BBox:
    """Axis-aligned bounding box in mm."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def union(self, other: BBox | None) -> BBox:
        if other is None:
            return self
        return BBox(
            min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1)
        )

    def contains(self, other: BBox, tolerance: float = 1e-6) -> bool:
        return (
            other.x0 >= self.x0 - tolerance
            and other.y0 >= self.y0 - tolerance
            and other.x1 <= self.x1 + tolerance
            and other.y1 <= self.y1 + tolerance
        )


def multiply(m1: Matrix, m2: Matrix) -> Matrix:
    """Matrix product m1·m2 (apply m2 first, then m1)."""
    a1, b1, c1, d1, e1, f1 = m1
    a2, b2, c2, d2, e2, f2 = m2
    return (
        a1 * a2 + c1 * b2,
        b1 * a2 + d1 * b2,
        a1 * c2 + c1 * d2,
        b1 * c2 + d1 * d2,
        a1 * e2 + c1 * f2 + e1,
        b1 * e2 + d1 * f2 + f1,
    )


def translate(tx: float, ty: float) -> Matrix:
    return (1.0, 0.0, 0.0, 1.0, tx, ty)


def scale(sx: float, sy: float | None = None) -> Matrix:
    return (sx, 0.0, 0.0, sx if sy is None else sy, 0.0, 0.0)


def rotate(degrees: float, cx: float = 0.0, cy: float = 0.0) -> Matrix:
    """Rotation by `degrees` (clockwise on screen, y down) around (cx, cy)."""
    r = math.radians(degrees)
    cos, sin = math.cos(r), math.sin(r)
    rot: Matrix = (cos, sin, -sin, cos, 0.0, 0.0)
    return multiply(translate(cx, cy), multiply(rot, translate(-cx, -cy)))


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return (a * x + c * y + e, b * x + d * y + f)


@dataclass(frozen=True, slots=True)
class Path:
    """A sequence of path commands in mm (one or more closed or open contours)."""

    commands: tuple[PathCommand, ...]

    def transformed(self, m: Matrix) -> Path:
        out: list[PathCommand] = []
        for op, args in self.commands:
            pts: list[float] = []
            for i in range(0, len(args), 2):
                x, y = apply(m, args[i], args[i + 1])
                pts.extend((x, y))
            out.append((op, tuple(pts)))
        return Path(tuple(out))

    def points(self) -> list[tuple[float, float]]:
        """All on- and off-curve points (control polygon); a superset hull of the curve."""
        pts: list[tuple[float, float]] = []
        for _op, args in self.commands:
            pts.extend((args[i], args[i + 1]) for i in range(0, len(args), 2))
        return pts

    def bbox(self) -> BBox | None:
        """Bounding box of the control polygon (contains the curve), None when empty."""
        pts = self.points()
        if not pts:
            return None
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return BBox(min(xs), min(ys), max(xs), max(ys))

    def to_svg_d(self, precision: int = 3) -> str:
        """SVG path data with fixed precision (deterministic text)."""
        parts: list[str] = []
        for op, args in self.commands:
            if op == "Z":
                parts.append("Z")
            else:
                parts.append(op + " ".join(_fmt(v, precision) for v in args))
        return "".join(parts)

    def is_empty(self) -> bool:
        return not self.commands


def _fmt(v: float, precision: int) -> str:
    s = f"{v:.{precision}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def rect_path(x: float, y: float, w: float, h: float, radius: float = 0.0) -> Path:
    """Closed rectangle (optionally with rounded corners approximated by cubic arcs)."""
    if radius <= 0:
        return Path((("M", (x, y)), ("L", (x + w, y)), ("L", (x + w, y + h)), ("L", (x, y + h)), ("Z", ())))
    r = min(radius, w / 2, h / 2)
    k = 0.5522847498 * r
    return Path(
        (
            ("M", (x + r, y)),
            ("L", (x + w - r, y)),
            ("C", (x + w - r + k, y, x + w, y + r - k, x + w, y + r)),
            ("L", (x + w, y + h - r)),
            ("C", (x + w, y + h - r + k, x + w - r + k, y + h, x + w - r, y + h)),
            ("L", (x + r, y + h)),
            ("C", (x + r - k, y + h, x, y + h - r + k, x, y + h - r)),
            ("L", (x, y + r)),
            ("C", (x, y + r - k, x + r - k, y, x + r, y)),
            ("Z", ()),
        )
    )


def ellipse_path(cx: float, cy: float, rx: float, ry: float) -> Path:
    """Closed ellipse from four cubic Bézier arcs."""
    kx, ky = 0.5522847498 * rx, 0.5522847498 * ry
    return Path(
        (
            ("M", (cx + rx, cy)),
            ("C", (cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry)),
            ("C", (cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy)),
            ("C", (cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry)),
            ("C", (cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy)),
            ("Z", ()),
        )
    )
