"""Procedural, UV-mapped demo models (mug, pendant, phone case, business card, sign) for GLB/USDZ.

Units are metres, Y up, +Z towards the viewer (glTF conventions). UVs follow glTF: (0, 0) is
the texture's top-left. The print material's UVs map the design texture — the Scene rendered
with its bleed — so that the product's 0..width_mm × 0..height_mm lands on the print surface.
Pure numpy, deterministic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from luneo.design.model import Model3DDef
from luneo.design.scene import Scene

MM = 0.001  # metres per mm
Shape = str  # "mug" | "pendant" | "phone_case" | "business_card" | "sign"
SHAPES = ("mug", "pendant", "phone_case", "business_card", "sign")


@dataclass(frozen=True)
class Material:
    """PBR metallic-roughness material; `texture_png` is an optional base-colour texture."""

    name: str
    base_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    metallic: float = 0.0
    roughness: float = 0.5
    texture_png: bytes | None = None


@dataclass(frozen=True, eq=False)
class MeshPart:
    """Triangles of one material. Arrays: positions/normals (n, 3) float32, uvs (n, 2) float32,
    indices (m, 3) uint32, counter-clockwise seen from outside."""

    name: str
    material: str
    positions: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray
    indices: np.ndarray


@dataclass(frozen=True, eq=False)
class Model3D:
    """A model ready for the GLB/USDZ writers."""

    name: str
    parts: tuple[MeshPart, ...]
    materials: tuple[Material, ...]
    print_material: str

    def material(self, name: str) -> Material:
        for m in self.materials:
            if m.name == name:
                return m
        raise KeyError(name)


@dataclass(frozen=True)
class PrintMap:
    """How product mm map to texture UVs: the texture shows the product plus `bleed_mm` around it."""

    width_mm: float
    height_mm: float
    bleed_mm: float = 0.0

    def uv(self, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
        cw, ch = self.width_mm + 2 * self.bleed_mm, self.height_mm + 2 * self.bleed_mm
        return np.stack([(x_mm + self.bleed_mm) / cw, (y_mm + self.bleed_mm) / ch], axis=-1)


@dataclass(frozen=True)
class Opening:
    """A rounded-rectangle hole through a product (product mm, y down): nothing is printed there."""

    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    radius_mm: float


def phone_case_camera(width_mm: float, height_mm: float) -> Opening:
    """The phone case's camera opening: a rounded square near the top-left corner of the back
    (as seen by the viewer), sized from the case's width (24 × 26 mm on a 75 mm case)."""
    side = 0.32 * width_mm
    tall = min(0.35 * width_mm, 0.4 * height_mm)
    margin = 0.08 * width_mm
    return Opening(margin, margin, side, tall, 0.25 * side)


def camera_openings(model: Model3DDef | None, width_mm: float, height_mm: float) -> tuple[Opening, ...]:
    """Holes the product's procedural 3D model has (the phone case's camera opening), in product
    mm: the scene subtracts them from the product outline, so print, preview and model agree."""
    if model is None or model.kind != "procedural" or model.shape != "phone_case":
        return ()
    return (phone_case_camera(width_mm, height_mm),)


# ---------------------------------------------------------------- glTF JSON

MAX_GLTF_JSON_DEPTH = 64  # glTF's own structure nests < 10 levels; `extras` gets the rest


def json_depth(doc: Any) -> int:
    """How deeply arrays and objects nest in a decoded JSON value (iterative: any depth)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth + 1)
            stack.extend((item, depth + 1) for item in value if isinstance(item, (dict, list)))
    return deepest


def load_gltf_json(chunk: bytes, *, max_depth: int = MAX_GLTF_JSON_DEPTH) -> dict[str, Any]:
    """Decode the JSON chunk of a GLB with bounded work, whatever the bytes.

    The decoder stops at the interpreter's recursion limit (a RecursionError, never a crash);
    anything nesting deeper than `max_depth` is refused too, so later readers (writers, trimesh)
    never recurse without bound. Raises ValueError naming the fault.
    """
    try:
        doc = json.loads(chunk.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError("the JSON chunk is not UTF-8") from exc
    except RecursionError as exc:
        raise ValueError(f"the JSON chunk nests deeper than {max_depth} levels") from exc
    except ValueError as exc:
        raise ValueError("the JSON chunk is not valid JSON") from exc
    if not isinstance(doc, dict):
        raise ValueError("the JSON chunk is not an object")
    if json_depth(doc) > max_depth:
        raise ValueError(f"the JSON chunk nests deeper than {max_depth} levels")
    return doc


# ---------------------------------------------------------------- mesh helpers


def _orient(positions: np.ndarray, normals: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Flip triangles whose winding disagrees with their vertex normals; drop degenerate ones."""
    p = positions.astype(np.float64)
    a, b, c = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
    face = np.cross(b - a, c - a)
    area = np.linalg.norm(face, axis=1)
    keep = area > 1e-14
    ref = normals[tris[:, 0]] + normals[tris[:, 1]] + normals[tris[:, 2]]
    flip = np.einsum("ij,ij->i", face, ref) < 0
    out = tris.copy()
    out[flip] = out[flip][:, [0, 2, 1]]
    return out[keep]


def _part(
    name: str, material: str, pos: np.ndarray, nrm: np.ndarray, uv: np.ndarray, tris: np.ndarray
) -> MeshPart:
    pos = pos.reshape(-1, 3)
    nrm = nrm.reshape(-1, 3)
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    tris = _orient(pos, nrm, tris.reshape(-1, 3).astype(np.int64))
    return MeshPart(
        name=name,
        material=material,
        positions=np.ascontiguousarray(pos, dtype=np.float32),
        normals=np.ascontiguousarray(nrm, dtype=np.float32),
        uvs=np.ascontiguousarray(uv.reshape(-1, 2), dtype=np.float32),
        indices=np.ascontiguousarray(tris, dtype=np.uint32),
    )


def _grid_tris(nu: int, nv: int) -> np.ndarray:
    """Two triangles per cell of a (nu+1) × (nv+1) vertex grid (row-major over u)."""
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    v00 = i * (nv + 1) + j
    v10 = (i + 1) * (nv + 1) + j
    v01 = v00 + 1
    v11 = v10 + 1
    return np.concatenate([np.stack([v00, v10, v11], -1), np.stack([v00, v11, v01], -1)]).reshape(-1, 3)


def _grid_part(name: str, material: str, pos: np.ndarray, nrm: np.ndarray, uv: np.ndarray) -> MeshPart:
    nu, nv = pos.shape[0] - 1, pos.shape[1] - 1
    return _part(name, material, pos, nrm, uv, _grid_tris(nu, nv))


def _cylinder_wall(
    name: str,
    material: str,
    r_mm: float,
    theta: np.ndarray,
    y_mm: np.ndarray,
    outward: bool,
    uv: np.ndarray | None = None,
) -> MeshPart:
    """Wall of a Y-axis cylinder over angles `theta` (0 = +Z, towards +X) and heights `y_mm`."""
    t, y = np.meshgrid(theta, y_mm, indexing="ij")
    pos = np.stack([r_mm * np.sin(t), y, r_mm * np.cos(t)], -1) * MM
    sign = 1.0 if outward else -1.0
    nrm = np.stack([np.sin(t), np.zeros_like(t), np.cos(t)], -1) * sign
    if uv is None:
        uv = np.stack([t / (2 * math.pi), 1.0 - y / max(float(y_mm.max()), 1e-9)], -1)
    return _grid_part(name, material, pos, nrm, uv)


def _annulus(
    name: str, material: str, r0_mm: float, r1_mm: float, y_mm: float, up: bool, segments: int
) -> MeshPart:
    """A flat ring (or disc when r0 = 0) at height y, facing +Y (up) or -Y."""
    t = np.linspace(0, 2 * math.pi, segments + 1)
    radii = np.array([r0_mm, r1_mm])
    tt, rr = np.meshgrid(t, radii, indexing="ij")
    pos = np.stack([rr * np.sin(tt), np.full_like(tt, y_mm), rr * np.cos(tt)], -1) * MM
    nrm = np.zeros_like(pos)
    nrm[..., 1] = 1.0 if up else -1.0
    uv = np.stack([0.5 + 0.5 * np.sin(tt) * rr / r1_mm, 0.5 - 0.5 * np.cos(tt) * rr / r1_mm], -1)
    return _grid_part(name, material, pos, nrm, uv)


def _torus_arc(
    name: str,
    material: str,
    centre_mm: tuple[float, float, float],
    major_mm: float,
    minor_mm: float,
    psi: np.ndarray,
    plane: str,
    tube_segments: int = 16,
) -> MeshPart:
    """Part of a torus. `plane` "yz": ring point = centre + R(0, sin ψ, -cos ψ); "xy": (sin ψ, cos ψ, 0)."""
    phi = np.linspace(0, 2 * math.pi, tube_segments + 1)
    ps, ph = np.meshgrid(psi, phi, indexing="ij")
    if plane == "yz":
        ring_dir = np.stack([np.zeros_like(ps), np.sin(ps), -np.cos(ps)], -1)
        axis = np.array([1.0, 0.0, 0.0])
    else:
        ring_dir = np.stack([np.sin(ps), np.cos(ps), np.zeros_like(ps)], -1)
        axis = np.array([0.0, 0.0, 1.0])
    nrm = ring_dir * np.cos(ph)[..., None] + axis * np.sin(ph)[..., None]
    pos = (np.array(centre_mm) + ring_dir * major_mm + nrm * minor_mm) * MM
    uv = np.stack([ps / (2 * math.pi), ph / (2 * math.pi)], -1)
    return _grid_part(name, material, pos, nrm, uv)


def _flat(name: str, material: str, X: np.ndarray, Y: np.ndarray, z_mm: float) -> MeshPart:
    """A flat convex polygon (centred mm, y up) at height z facing +Z, fanned from its centre."""
    pos = np.concatenate([[[X.mean(), Y.mean(), z_mm]], np.stack([X, Y, np.full(len(X), z_mm)], -1)]) * MM
    nrm = np.zeros_like(pos)
    nrm[:, 2] = 1.0
    uv = np.zeros((len(pos), 2))
    return _part(name, material, pos, nrm, uv, _face_triangles([np.stack([X, Y], -1)]))


def _face_triangles(loops: list[np.ndarray]) -> np.ndarray:
    """Triangles (indices into the loops' points, concatenated) filling the first loop minus the
    others: a fan for a convex outline without holes, a constrained Delaunay triangulation else."""
    if len(loops) == 1:
        n = len(loops[0])  # fan around the centre vertex (index 0), the outline from index 1
        k = np.arange(n)
        return np.stack([np.zeros(n, dtype=np.int64), 1 + k, 1 + (k + 1) % n], -1)
    from shapely import Polygon, constrained_delaunay_triangles

    index = {(float(x), float(y)): i for i, (x, y) in enumerate(np.concatenate(loops).tolist())}
    poly = Polygon(loops[0], holes=loops[1:])
    tris = [
        [index[(float(x), float(y))] for x, y in list(tri.exterior.coords)[:3]]
        for tri in constrained_delaunay_triangles(poly).geoms
    ]
    return np.array(tris, dtype=np.int64)


def _wall(
    name: str, material: str, X: np.ndarray, Y: np.ndarray, zb: float, zf: float, outward: bool, smooth: bool
) -> MeshPart:
    """The side wall along a convex loop (centred mm, y up) from z = zb to zf; normals point away
    from the loop's centre (`outward`, a slab's edge) or towards it (a hole's wall)."""
    n = len(X)
    nxt = np.roll(np.arange(n), -1)
    edge = np.stack([X[nxt] - X, Y[nxt] - Y], -1)
    en = np.stack([edge[:, 1], -edge[:, 0]], -1)
    en /= np.maximum(np.linalg.norm(en, axis=1, keepdims=True), 1e-12)
    mid = np.stack([X + X[nxt], Y + Y[nxt]], -1) / 2 - np.array([X.mean(), Y.mean()])
    en[np.einsum("ij,ij->i", en, mid) < 0] *= -1  # away from the centre (convex loop)
    if not outward:
        en = -en
    perim = np.concatenate([[0.0], np.cumsum(np.linalg.norm(edge, axis=1))])
    if smooth:
        vn = en + np.roll(en, 1, axis=0)
        xs = np.concatenate([X, X[:1]])
        ys = np.concatenate([Y, Y[:1]])
        vn = np.concatenate([vn, vn[:1]])
        pos = (
            np.stack(
                [np.stack([xs, ys, np.full(n + 1, zb)], -1), np.stack([xs, ys, np.full(n + 1, zf)], -1)], 1
            )
            * MM
        )
        nrm = np.stack([np.concatenate([vn, np.zeros((n + 1, 1))], -1)] * 2, 1)
        uv = np.stack([np.stack([perim / perim[-1], np.full(n + 1, v)], -1) for v in (1.0, 0.0)], 1)
        return _grid_part(name, material, pos, nrm, uv)
    quads_pos: list[list[float]] = []
    quads_nrm: list[list[float]] = []
    quads_uv: list[list[float]] = []
    quad_tris: list[list[int]] = []
    for i in range(n):
        j = nxt[i]
        base = 4 * i
        quads_pos += [[X[i], Y[i], zb], [X[j], Y[j], zb], [X[j], Y[j], zf], [X[i], Y[i], zf]]
        quads_nrm += [[en[i, 0], en[i, 1], 0.0]] * 4
        u0, u1 = perim[i] / perim[-1], perim[i + 1] / perim[-1]
        quads_uv += [[u0, 1.0], [u1, 1.0], [u1, 0.0], [u0, 0.0]]
        quad_tris += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    return _part(
        name, material, np.array(quads_pos) * MM, np.array(quads_nrm), np.array(quads_uv), np.array(quad_tris)
    )


def _slab(
    outline_mm: np.ndarray,
    thickness_mm: float,
    front_mat: str,
    back_mat: str,
    side_mat: str,
    pmap: PrintMap,
    smooth_sides: bool,
    holes_mm: tuple[np.ndarray, ...] = (),
) -> list[MeshPart]:
    """Extrude a convex outline (points (x, y) in product mm, y down) minus convex `holes_mm` into a
    slab centred on the origin, front face at +Z with planar UVs from `pmap`; each hole gets an inner
    wall of `side_mat`."""
    cx, cy = pmap.width_mm / 2, pmap.height_mm / 2
    zf, zb = thickness_mm / 2, -thickness_mm / 2
    if holes_mm:
        face_pts = np.concatenate([outline_mm, *holes_mm])
    else:
        face_pts = np.concatenate([[[cx, cy]], outline_mm])  # the fan's centre first
    tris = _face_triangles([outline_mm, *holes_mm])
    px, py = face_pts[:, 0], face_pts[:, 1]
    parts: list[MeshPart] = []
    for name, z, mat, nz in (("front", zf, front_mat, 1.0), ("back", zb, back_mat, -1.0)):
        pos = np.stack([px - cx, cy - py, np.full(len(px), z)], -1) * MM
        nrm = np.zeros_like(pos)
        nrm[:, 2] = nz
        uv = pmap.uv(px, py)
        if nz < 0:
            uv = np.stack([1.0 - uv[:, 0], uv[:, 1]], -1)  # mirrored, as seen from behind
        parts.append(_part(name, mat, pos, nrm, uv, tris))
    parts.append(
        _wall("side", side_mat, outline_mm[:, 0] - cx, cy - outline_mm[:, 1], zb, zf, True, smooth_sides)
    )
    for k, hole in enumerate(holes_mm):
        suffix = "" if k == 0 else f"_{k + 1}"
        parts.append(
            _wall(f"opening{suffix}", side_mat, hole[:, 0] - cx, cy - hole[:, 1], zb, zf, False, smooth_sides)
        )
    return parts


def _ellipse_outline(w: float, h: float, segments: int = 128) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    return np.stack([w / 2 + w / 2 * np.cos(t), h / 2 + h / 2 * np.sin(t)], -1)


def _rounded_rect_outline(w: float, h: float, r: float, corner_segments: int = 12) -> np.ndarray:
    r = min(r, w / 2, h / 2)
    pts: list[tuple[float, float]] = []
    corners = ((w - r, r, -90.0), (w - r, h - r, 0.0), (r, h - r, 90.0), (r, r, 180.0))
    for ccx, ccy, start in corners:
        for k in range(corner_segments + 1):
            a = math.radians(start + 90.0 * k / corner_segments)
            pts.append((ccx + r * math.cos(a), ccy + r * math.sin(a)))
    return np.array(pts)


# ---------------------------------------------------------------- the four models

CERAMIC = Material("body", (0.93, 0.93, 0.92, 1.0), 0.0, 0.25)
SILVER = Material("metal", (0.80, 0.80, 0.82, 1.0), 1.0, 0.3)
CASE = Material("case", (0.05, 0.05, 0.06, 1.0), 0.0, 0.6)
PAPER = Material("paper", (0.96, 0.96, 0.94, 1.0), 0.0, 0.9)
CAMERA = Material("camera", (0.02, 0.02, 0.025, 1.0), 0.0, 0.35)  # the phone's camera module
LENS = Material("lens", (0.005, 0.005, 0.01, 1.0), 0.0, 0.05)  # glass
BIRCH = "#d7b98e"  # birch plywood, a sign's wood without a product colour


def mug(pmap: PrintMap, print_material: str = "print") -> Model3D:
    """11 oz-style mug; the print wraps the outer wall opposite the handle, v top→bottom."""
    w, h = pmap.width_mm, pmap.height_mm
    r_out = max(41.0, w / (0.85 * 2 * math.pi))
    wall, base = 4.0, 6.0
    r_in = r_out - wall
    height = h + 24.0
    y0, y1 = 12.0, 12.0 + h  # print band (y up from the mug's bottom)
    span = w / r_out
    seg = 128
    t_print = np.linspace(-span / 2, span / 2, max(8, round(seg * span / (2 * math.pi))) + 1)
    t_rest = np.linspace(
        span / 2, 2 * math.pi - span / 2, max(8, round(seg * (1 - span / (2 * math.pi)))) + 1
    )
    t_full = np.linspace(0, 2 * math.pi, seg + 1)
    band = np.linspace(y0, y1, 17)
    tt, yy = np.meshgrid(t_print, band, indexing="ij")
    uv = pmap.uv((tt + span / 2) * r_out, y1 - yy)
    parts = [
        _cylinder_wall("print_wall", print_material, r_out, t_print, band, True, uv),
        _cylinder_wall("wall_back", "body", r_out, t_rest, band, True),
        _cylinder_wall("wall_low", "body", r_out, t_full, np.array([0.0, y0]), True),
        _cylinder_wall("wall_high", "body", r_out, t_full, np.array([y1, height]), True),
        _cylinder_wall("inner_wall", "body", r_in, t_full, np.array([base, height]), False),
        _annulus("rim", "body", r_in, r_out, height, True, seg),
        _annulus("foot", "body", 0.0, r_out, 0.0, False, seg),
        _annulus("inner_bottom", "body", 0.0, r_in, base, True, seg),
    ]
    # Handle: a torus arc in the YZ plane behind the mug (θ = π), ends sunk into the wall.
    major, minor = 0.3 * height, 5.0
    zc = -(r_out + 0.45 * major)
    psi_m = math.acos(min(1.0, (-(r_out - 0.5) - zc) / -major)) if major else 0.0
    psi = np.linspace(-psi_m, psi_m, 33)
    parts.append(_torus_arc("handle", "body", (0.0, height / 2, zc), major, minor, psi, "yz"))
    mats = (Material(print_material, (1.0, 1.0, 1.0, 1.0), 0.0, 0.25), CERAMIC)
    return Model3D("mug", tuple(parts), mats, print_material)


def hex_to_linear(colour: str) -> tuple[float, float, float]:
    """'#rrggbb' (sRGB) → linear RGB, as glTF's baseColorFactor and USD's diffuseColor expect."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    return (round(lin(r), 6), round(lin(g), 6), round(lin(b), 6))


def pendant(pmap: PrintMap, print_material: str = "print", material_color: str | None = None) -> Model3D:
    """Round (elliptical) pendant 3 mm thick with a bail ring; engraved on the front face.

    The whole piece is one metal — `material_color` (the plating, e.g. the product's gold), silver
    without one: back, edge and bail use it, and the front's print material is the same metal
    (metallic, same roughness) under the design texture, so both faces read as the same gold."""
    w, h = pmap.width_mm, pmap.height_mm
    parts = _slab(_ellipse_outline(w, h), 3.0, print_material, "metal", "metal", pmap, smooth_sides=True)
    psi = np.linspace(0, 2 * math.pi, 33)
    parts.append(_torus_arc("bail", "metal", (0.0, h / 2 + 3.0, 0.0), 3.5, 1.0, psi, "xy", 12))
    metal = (
        SILVER
        if material_color is None
        else Material("metal", (*hex_to_linear(material_color), 1.0), 1.0, 0.3)
    )
    face = Material(print_material, metal.base_color, metal.metallic, metal.roughness)
    return Model3D("pendant", tuple(parts), (face, metal), print_material)


def phone_case(pmap: PrintMap, print_material: str = "print") -> Model3D:
    """Rounded slab 10 mm thick; the printed back faces +Z (the viewer), with the camera opening
    (`phone_case_camera`) through it and the phone's camera module seen inside."""
    w, h = pmap.width_mm, pmap.height_mm
    outline = _rounded_rect_outline(w, h, 0.12 * min(w, h))
    cam = phone_case_camera(w, h)
    hole = _rounded_rect_outline(cam.width_mm, cam.height_mm, cam.radius_mm) + np.array([cam.x_mm, cam.y_mm])
    thickness = 10.0
    parts = _slab(
        outline, thickness, print_material, "case", "case", pmap, smooth_sides=True, holes_mm=(hole,)
    )
    # the phone's camera module at the bottom of the opening, with two lenses
    cx, cy = w / 2, h / 2
    z_module = -thickness / 2 + 1.0
    parts.append(_flat("camera", "camera", hole[:, 0] - cx, cy - hole[:, 1], z_module))
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    r = 0.18 * min(cam.width_mm, cam.height_mm)
    for k, fy in enumerate((0.3, 0.7)):
        lx = cam.x_mm + cam.width_mm / 2 - cx
        ly = cy - (cam.y_mm + fy * cam.height_mm)
        parts.append(_flat(f"lens_{k + 1}", "lens", lx + r * np.cos(t), ly + r * np.sin(t), z_module + 0.6))
    mats = (Material(print_material, (1.0, 1.0, 1.0, 1.0), 0.0, 0.4), CASE, CAMERA, LENS)
    return Model3D("phone_case", tuple(parts), mats, print_material)


def business_card(pmap: PrintMap, print_material: str = "print") -> Model3D:
    """A 0.4 mm card; print on the front face."""
    outline = np.array(
        [[0.0, 0.0], [pmap.width_mm, 0.0], [pmap.width_mm, pmap.height_mm], [0.0, pmap.height_mm]]
    )
    parts = _slab(outline, 0.4, print_material, "paper", "paper", pmap, smooth_sides=False)
    mats = (Material(print_material, (1.0, 1.0, 1.0, 1.0), 0.0, 0.9), PAPER)
    return Model3D("business_card", tuple(parts), mats, print_material)


def sign(pmap: PrintMap, print_material: str = "print", material_color: str | None = None) -> Model3D:
    """A 6 mm plywood board with rounded corners, engraved on the front; all of it wood
    (`material_color`, birch without one): matte, not metallic."""
    w, h = pmap.width_mm, pmap.height_mm
    outline = _rounded_rect_outline(w, h, 0.08 * min(w, h))
    parts = _slab(outline, 6.0, print_material, "wood", "wood", pmap, smooth_sides=True)
    wood = Material("wood", (*hex_to_linear(material_color or BIRCH), 1.0), 0.0, 0.8)
    face = Material(print_material, wood.base_color, 0.0, wood.roughness)
    return Model3D("sign", tuple(parts), (face, wood), print_material)


_BUILDERS = {"mug": mug, "phone_case": phone_case, "business_card": business_card}
_COLOURED = {"pendant": pendant, "sign": sign}  # their material is the product's colour


def build_model(
    shape: str,
    *,
    width_mm: float,
    height_mm: float,
    bleed_mm: float = 0.0,
    print_material: str = "print",
    material_color: str | None = None,
) -> Model3D:
    """A procedural model whose print surface is `width_mm` × `height_mm`.

    material_color: what the product is made of ('#rrggbb': the pendant's plating, the sign's wood);
    ignored by the other shapes.
    """
    pmap = PrintMap(width_mm, height_mm, bleed_mm)
    if shape in _COLOURED:
        return _COLOURED[shape](pmap, print_material, material_color)
    if shape not in _BUILDERS:
        raise ValueError(f"unknown procedural shape {shape!r}; expected one of {', '.join(SHAPES)}")
    return _BUILDERS[shape](pmap, print_material)


def model_material_color(model: Model3DDef, background: str | None) -> str | None:
    """The colour a procedural model's material takes from its product: a pendant is plated, a
    sign cut from wood, in the product's background colour (the surface the design is engraved
    on); other shapes take none."""
    return background if model.kind == "procedural" and model.shape in _COLOURED else None


def model_for_scene(scene: Scene, model: Model3DDef) -> Model3D:
    """The procedural model a product names, sized to its Scene (texture = Scene with bleed)."""
    if model.kind != "procedural" or model.shape is None:
        raise ValueError("model_for_scene needs a procedural Model3DDef with a shape")
    return build_model(
        model.shape,
        width_mm=scene.width_mm,
        height_mm=scene.height_mm,
        bleed_mm=scene.bleed_mm,
        print_material=model.print_material,
        material_color=model_material_color(model, scene.background),
    )
