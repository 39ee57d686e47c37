"""DesignSpec → Scene: product outline, safe areas and one item per filled zone, in zone order.

Pure apart from the `SceneResources` callbacks (font files and uploaded images by SHA-256),
and deterministic: the same spec and resources always give the same Scene (same PNG bytes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageOps

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.colour import to_srgb
from luneo.design.flatten import flatten, signed_area
from luneo.design.geometry import Path, PathCommand, ellipse_path, rect_path, rotate
from luneo.design.model import (
    ColourInput,
    DesignSpec,
    ImageInput,
    ProductDef,
    TextInput,
    ZoneDef,
    ZoneGeometry,
)
from luneo.design.models3d import camera_openings
from luneo.design.scene import ImageItem, Mockup, Scene, SceneItem, ShapeItem, TextItem

MM_PER_INCH = 25.4
DEFAULT_FONT = "fnt_sans"
DEFAULT_TEXT_COLOR = "#000000"
_SALIENCY_SIDE = 256  # smart crop works on a thumbnail this many px on its long side


class SceneResources(Protocol):
    """Where the builder gets bytes the spec only names by hash."""

    def font_data(self, font_id: str, sha256: str | None) -> bytes | None:
        """Font file bytes (TTF/OTF); None means 'use the bundled font with this id'."""

    def image_bytes(self, sha256: str) -> bytes:
        """The original uploaded file (any format Pillow reads)."""


# ---------------------------------------------------------------- geometry helpers


def product_outline(product: ProductDef) -> Path:
    """The product's cut/edge outline in mm; openings of its 3D model (the phone case's camera)
    follow as contours wound the other way, so a non-zero fill leaves them bare."""
    w, h = product.width_mm, product.height_mm
    if product.shape == "ellipse":
        outline = ellipse_path(w / 2, h / 2, w / 2, h / 2)
    elif product.shape == "rounded_rect":
        outline = rect_path(0.0, 0.0, w, h, product.corner_radius_mm)
    else:
        outline = rect_path(0.0, 0.0, w, h)
    holes = camera_openings(product.model3d, w, h)
    if not holes:
        return outline
    commands = list(outline.commands)
    for o in holes:
        commands += _reversed(rect_path(o.x_mm, o.y_mm, o.width_mm, o.height_mm, o.radius_mm)).commands
    return Path(tuple(commands))


def _reversed(path: Path) -> Path:
    """One closed M/L/C contour traversed the other way (same shape, opposite winding)."""
    start = path.commands[0][1]
    segments: list[tuple[tuple[float, float], PathCommand]] = []
    at = (start[0], start[1])
    for op, args in path.commands[1:]:
        if op == "Z":
            continue
        segments.append((at, (op, args)))
        at = (args[-2], args[-1])
    out: list[PathCommand] = [("M", at)]
    for origin, (op, args) in reversed(segments):
        if op == "C":
            out.append(("C", (args[2], args[3], args[0], args[1], origin[0], origin[1])))
        else:
            out.append(("L", origin))
    out.append(("Z", ()))
    return Path(tuple(out))


CLIP_TOLERANCE_MM = 0.01  # curve flattening for clip intersections; also the containment slack


def _area(path: Path) -> Any:
    """The region a path fills (contours wound like the first add, the others cut holes)."""
    from shapely import Polygon, unary_union

    contours = [c for c in flatten(path, CLIP_TOLERANCE_MM) if len(c) >= 3]
    if not contours:
        return Polygon()
    sign = signed_area(contours[0]) >= 0
    solid = [Polygon(c).buffer(0) for c in contours if (signed_area(c) >= 0) == sign]
    holes = [Polygon(c).buffer(0) for c in contours if (signed_area(c) >= 0) != sign]
    region = unary_union(solid)
    return region.difference(unary_union(holes)) if holes else region


def printable_clip(clip: Path, outline: Path) -> Path:
    """`clip` limited to the product (its outline minus openings): `clip` itself when it lies on the
    product, the outline when it covers it (exact curves both), else their polygonal intersection
    (empty when they do not meet)."""
    from shapely import Polygon
    from shapely.geometry.polygon import orient

    product, zone = _area(outline), _area(clip)
    if product.buffer(CLIP_TOLERANCE_MM).contains(zone):
        return clip
    if zone.buffer(CLIP_TOLERANCE_MM).contains(product):
        return outline
    inter = zone.intersection(product)
    polys = [inter] if isinstance(inter, Polygon) else list(getattr(inter, "geoms", []))
    commands: list[PathCommand] = []
    for poly in polys:
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        poly = orient(poly, 1.0)  # holes wound against the exterior
        for ring in (poly.exterior, *poly.interiors):
            pts = list(ring.coords)[:-1]
            commands.append(("M", (float(pts[0][0]), float(pts[0][1]))))
            commands += [("L", (float(x), float(y))) for x, y in pts[1:]]
            commands.append(("Z", ()))
    return Path(tuple(commands))


def zone_shape(geometry: ZoneGeometry, inset_mm: float = 0.0) -> Path:
    """A zone's shape (rect or ellipse; arc zones use their box), rotated about its centre."""
    x, y = geometry.x_mm + inset_mm, geometry.y_mm + inset_mm
    w = max(geometry.width_mm - 2 * inset_mm, 0.0)
    h = max(geometry.height_mm - 2 * inset_mm, 0.0)
    if geometry.shape == "ellipse":
        path = ellipse_path(x + w / 2, y + h / 2, w / 2, h / 2)
    else:
        path = rect_path(x, y, w, h)
    if geometry.rotation_deg:
        cx = geometry.x_mm + geometry.width_mm / 2
        cy = geometry.y_mm + geometry.height_mm / 2
        path = path.transformed(rotate(geometry.rotation_deg, cx, cy))
    return path


def zone_extent(geometry: ZoneGeometry) -> tuple[float, float, float, float]:
    """Exact axis-aligned box (x, y, w, h) of the rotated zone shape (not just its control points)."""
    w, h = geometry.width_mm, geometry.height_mm
    cx, cy = geometry.x_mm + w / 2, geometry.y_mm + h / 2
    r = math.radians(geometry.rotation_deg)
    c, s = abs(math.cos(r)), abs(math.sin(r))
    if geometry.shape == "ellipse":
        a, b = w / 2, h / 2
        hw = math.sqrt((a * c) ** 2 + (b * s) ** 2)
        hh = math.sqrt((a * s) ** 2 + (b * c) ** 2)
    else:
        hw = (w * c + h * s) / 2
        hh = (w * s + h * c) / 2
    return (cx - hw, cy - hh, 2 * hw, 2 * hh)


# ---------------------------------------------------------------- images


def decode_image(data: bytes, scale_hint: float = 1.0) -> Image.Image:
    """Decode an upload, apply EXIF orientation, convert to sRGB RGBA (alpha present) or RGB.

    An embedded ICC profile is honoured (`luneo.design.colour.to_srgb`); results are cached
    with the image items (`image_items`), so each upload is converted once.

    scale_hint < 0.5 lets JPEG decode at 1/2, 1/4 or 1/8 size (DCT scaling), never below
    `scale_hint` × the full size: far faster when only a small version is needed.
    """
    with Image.open(io.BytesIO(data)) as raw:
        if scale_hint < 0.5 and raw.format == "JPEG":
            raw.draft("RGB", (math.ceil(raw.width * scale_hint), math.ceil(raw.height * scale_hint)))
        raw.load()
        img = ImageOps.exif_transpose(raw) or raw
        has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit / float greyscale
            grey = np.clip(np.asarray(img, dtype=np.float64) / 257.0, 0, 255).astype(np.uint8)
            img = Image.fromarray(grey, "L")
        if raw.info.get("icc_profile") or img.mode == "CMYK":
            img.info["icc_profile"] = raw.info.get("icc_profile") or b""
            return to_srgb(img)  # embedded profile (Adobe RGB, Display P3, CMYK) → sRGB
        return img.convert("RGBA" if has_alpha else "RGB")


def encode_png(img: Image.Image) -> bytes:
    """Lossless PNG with fixed settings and no metadata (same pixels ⇒ same bytes).

    zlib level 1: photos barely compress better at higher levels and encode 5-10× slower.
    """
    clean = Image.frombytes(img.mode, img.size, img.tobytes())  # drops info/exif/icc
    buf = io.BytesIO()
    clean.save(buf, format="PNG", compress_level=1, optimize=False)
    return buf.getvalue()


def salient_point(img: Image.Image) -> tuple[float, float]:
    """Centroid of gradient energy, as fractions (0..1) of width and height."""
    thumb = img.convert("L")
    factor = max(thumb.width, thumb.height) / _SALIENCY_SIDE
    if factor > 1:
        size = (max(1, round(thumb.width / factor)), max(1, round(thumb.height / factor)))
        thumb = thumb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    a = np.asarray(thumb, dtype=np.float64)
    if a.shape[0] < 3 or a.shape[1] < 3:
        return (0.5, 0.5)
    gx = np.zeros_like(a)
    gy = np.zeros_like(a)
    gx[:, 1:-1] = a[:, 2:] - a[:, :-2]
    gy[1:-1, :] = a[2:, :] - a[:-2, :]
    energy = gx * gx + gy * gy
    total = float(energy.sum())
    if total <= 0:
        return (0.5, 0.5)
    ys, xs = np.indices(energy.shape, dtype=np.float64)
    cx = float((energy * (xs + 0.5)).sum() / total) / a.shape[1]
    cy = float((energy * (ys + 0.5)).sum() / total) / a.shape[0]
    return (cx, cy)


def _place_image(
    img: Image.Image | None, size: tuple[int, int], fit: str, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Where the whole image lands (x, y, w, h in mm) to contain / cover / smart-cover `box`
    (`img` is only read for smart crop)."""
    bx, by, bw, bh = box
    iw, ih = size
    k = min(bw / iw, bh / ih) if fit == "contain" else max(bw / iw, bh / ih)
    w, h = iw * k, ih * k
    x, y = bx + (bw - w) / 2, by + (bh - h) / 2
    if fit == "smart" and img is not None:
        fx, fy = salient_point(img)
        # Put the salient point on the box centre, keeping the box covered.
        x = min(max(bx + bw / 2 - fx * w, bx + bw - w), bx)
        y = min(max(by + bh / 2 - fy * h, by + bh - h), by)
    return (x, y, w, h)


def _crop_to_box(
    img: Image.Image, placed: tuple[float, float, float, float], box: tuple[float, float, float, float]
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """Drop pixels outside `box` (whole pixels, rounded outwards); the visible result is unchanged."""
    x, y, w, _h = placed
    bx, by, bw, bh = box
    iw, ih = img.size
    px_per_mm = iw / w
    left = max(0, math.floor((bx - x) * px_per_mm + 1e-9))
    top = max(0, math.floor((by - y) * px_per_mm + 1e-9))
    right = min(iw, math.ceil((bx + bw - x) * px_per_mm - 1e-9))
    bottom = min(ih, math.ceil((by + bh - y) * px_per_mm - 1e-9))
    if (left, top, right, bottom) == (0, 0, iw, ih) or right <= left or bottom <= top:
        return img, placed
    cropped = img.crop((left, top, right, bottom))
    return cropped, (
        x + left / px_per_mm,
        y + top / px_per_mm,
        (right - left) / px_per_mm,
        (bottom - top) / px_per_mm,
    )


def _limit_resolution(img: Image.Image, width_mm: float, height_mm: float, dpi: float) -> Image.Image:
    """Downsample (Lanczos) when the image has more pixels than `dpi` needs at its placed size."""
    need_w = max(1, math.ceil(width_mm / MM_PER_INCH * dpi))
    need_h = max(1, math.ceil(height_mm / MM_PER_INCH * dpi))
    if img.width <= need_w and img.height <= need_h:
        return img
    return img.resize((need_w, need_h), Image.Resampling.LANCZOS, reducing_gap=3.0)


def source_dpi(data: bytes, fit: str, box: tuple[float, float, float, float]) -> float:
    """DPI of the full-resolution upload once placed in `box` (read from the header only)."""
    with Image.open(io.BytesIO(data)) as raw:
        iw, ih = raw.size
        if raw.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            iw, ih = ih, iw
    _x, _y, w, _h = _place_image(None, (iw, ih), fit if fit == "contain" else "cover", box)
    return iw / (w / MM_PER_INCH)


# Decoded, fitted images by (zone, input, image sha, dpi), bounded by their PNG bytes.
IMAGE_ITEM_CACHE_BYTES = 128 * MIB
image_items: ByteLRU[tuple[str, str, str, float], ImageItem] = ByteLRU(
    IMAGE_ITEM_CACHE_BYTES, lambda item: len(item.png)
)


def build_image_item(zone: ZoneDef, inp: ImageInput, data: bytes, output_dpi: float) -> ImageItem:
    """Decode, fit, crop to the zone and (if over-resolved) downsample an uploaded image.

    Pure, so results are memoised by (zone, input, image bytes, dpi): an order of many items
    sharing one photo or logo decodes and re-encodes it once.
    """
    key = (zone.model_dump_json(), inp.model_dump_json(), hashlib.sha256(data).hexdigest(), float(output_dpi))
    return image_items.get_or_set(key, lambda: _build_image_item(zone, inp, data, output_dpi))


def _build_image_item(zone: ZoneDef, inp: ImageInput, data: bytes, output_dpi: float) -> ImageItem:
    box = zone_extent(zone.geometry)
    img = decode_image(data, min(1.0, output_dpi / source_dpi(data, inp.fit, box)))
    placed = _place_image(img, img.size, inp.fit, box)
    if inp.fit != "contain":
        img, placed = _crop_to_box(img, placed, box)
    x, y, w, h = placed
    img = _limit_resolution(img, w, h, output_dpi)
    dpi = img.width / (w / MM_PER_INCH)
    return ImageItem(
        zone_key=zone.key,
        png=encode_png(img),
        width_px=img.width,
        height_px=img.height,
        x_mm=x,
        y_mm=y,
        width_mm=w,
        height_mm=h,
        clip=zone_shape(zone.geometry),
        effective_dpi=round(dpi, 3),
        role=zone.role,
    )


# ---------------------------------------------------------------- text


def build_text_item(
    zone: ZoneDef, inp: TextInput, resources: SceneResources, warnings: list[str]
) -> TextItem | None:
    """Lay the text out with the spec's resolved font and size; None for empty text."""
    if not inp.text.strip():
        return None
    from luneo.design.text import layout_text  # lazy: text shaping pulls HarfBuzz and fonts

    font_id = inp.font or zone.default_font or DEFAULT_FONT
    size_pt = inp.size_pt
    if size_pt is None:
        size_pt = zone.rules.max_font_pt
        warnings.append(f"zone {zone.key}: text size not resolved, using {size_pt:g} pt")
    layout = layout_text(
        inp.text,
        zone.geometry,
        font_id=font_id,
        size_pt=size_pt,
        align=inp.align,
        letter_spacing_em=inp.letter_spacing_em,
        line_height=inp.line_height,
        font_data=resources.font_data(font_id, inp.font_sha256),
    )
    if layout.missing_chars:
        warnings.append(f"zone {zone.key}: font {font_id} cannot draw {''.join(layout.missing_chars)!r}")
    if not layout.fits:
        warnings.append(f"zone {zone.key}: text does not fit at {layout.size_pt:g} pt")
    return TextItem(
        zone_key=zone.key,
        text=inp.text,
        glyphs=tuple(layout.glyphs),
        fill=(inp.color or zone.default_color or DEFAULT_TEXT_COLOR).lower(),
        font_id=font_id,
        size_pt=layout.size_pt,
        role=zone.role,
        missing_chars=tuple(layout.missing_chars),
        bbox=layout.bbox,
    )


# ---------------------------------------------------------------- scene


def _sized_image(
    resources: SceneResources, sha256: str, size: tuple[int, int], mode: str | None = None
) -> bytes:
    """PNG of an image at `size` (the stored bytes themselves when they already are that PNG)."""
    data = resources.image_bytes(sha256)
    with Image.open(io.BytesIO(data)) as probe:
        if probe.format == "PNG" and probe.size == size and (mode is None or probe.mode == mode):
            return data
    img = decode_image(data)
    if mode is not None:
        img = img.convert(mode)
    if img.size != size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    return encode_png(img)


def build_mockup(product: ProductDef, resources: SceneResources) -> Mockup | None:
    """The product photo (and shading/displacement maps) at the pixel grid the placement refers to."""
    m = product.mockup
    if m is None:
        return None
    size = (m.width_px, m.height_px)
    quad = m.quad(product.width_mm, product.height_mm)
    if m.px_per_mm is not None:
        k, ox, oy = m.px_per_mm, m.offset_x_px, m.offset_y_px
    elif quad is not None:  # the quad's bounding box, for the flat SVG composite
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        k = max((max(xs) - min(xs)) / product.width_mm, (max(ys) - min(ys)) / product.height_mm, 1e-6)
        ox, oy = min(xs), min(ys)
    else:
        assert m.wrap is not None
        k = max((m.wrap.bottom_px - m.wrap.top_px) / product.height_mm, 1e-6)
        ox, oy = (m.wrap.left_px + m.wrap.right_px - product.width_mm * k) / 2, m.wrap.top_px
    return Mockup(
        png=_sized_image(resources, m.asset_sha256, size),
        width_px=m.width_px,
        height_px=m.height_px,
        offset_x_px=ox,
        offset_y_px=oy,
        px_per_mm=k,
        quad=quad,
        wrap=m.wrap,
        effect=m.effect_for(product.production_method),
        engrave_tone=m.engrave_tone,
        shading=_sized_image(resources, m.shading_sha256, size, "L") if m.shading_sha256 else None,
        displacement=(
            _sized_image(resources, m.displacement_sha256, size, "L") if m.displacement_sha256 else None
        ),
        displacement_px=m.displacement_px,
    )


def preview_image_dpi(product: ProductDef, width_px: int) -> float:
    """The image DPI a `width_px`-wide preview of `product` can show (pass as build_scene's image_dpi)."""
    return width_px / ((product.width_mm + 2 * product.bleed_mm) / MM_PER_INCH)


def build_scene(
    spec: DesignSpec, spec_hash: str, resources: SceneResources, *, image_dpi: float | None = None
) -> Scene:
    """Build the Scene every writer draws from. Zones without input are left empty
    (colour zones fall back to their default colour).

    Images keep at most the product's output DPI; `image_dpi` lowers that cap for previews
    (e.g. 1024 px over 200 mm needs 130 dpi): same geometry, fewer pixels, much faster.
    """
    product = spec.product
    max_dpi = float(product.output_dpi if image_dpi is None else min(image_dpi, product.output_dpi))
    warnings: list[str] = []
    items: list[SceneItem] = []
    outline = product_outline(product)
    for zone in product.zones:
        inp = spec.inputs.get(zone.key)
        if zone.kind == "colour":
            color = inp.color if isinstance(inp, ColourInput) else zone.default_color
            if color is not None:
                items.append(
                    ShapeItem(zone.key, zone_shape(zone.geometry), fill=color.lower(), role=zone.role)
                )
        elif inp is None:
            continue
        elif zone.kind == "image" and isinstance(inp, ImageInput):
            if inp.asset_sha256 is None:
                warnings.append(f"zone {zone.key}: image {inp.asset_id} has no content hash; skipped")
                continue
            data = resources.image_bytes(inp.asset_sha256)
            item = build_image_item(zone, inp, data, max_dpi)
            clip = printable_clip(item.clip, outline)
            if clip.is_empty():
                warnings.append(f"zone {zone.key}: the image lies outside the product; skipped")
                continue
            if clip is not item.clip:
                item = dataclasses.replace(item, clip=clip)
            upload_dpi = source_dpi(data, inp.fit, zone_extent(zone.geometry))  # not the preview copy's
            if upload_dpi < product.min_image_dpi:
                warnings.append(
                    f"zone {zone.key}: image resolution {upload_dpi:.0f} dpi is below "
                    f"{product.min_image_dpi} dpi"
                )
            items.append(item)
        elif zone.kind == "text" and isinstance(inp, TextInput):
            text_item = build_text_item(zone, inp, resources, warnings)
            if text_item is not None:
                items.append(text_item)
        else:
            warnings.append(f"zone {zone.key}: {inp.kind} input does not fit a {zone.kind} zone; skipped")
    return Scene(
        spec_hash=spec_hash,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        outline=outline,
        safe_areas=tuple((z.key, zone_shape(z.geometry, z.geometry.safe_inset_mm)) for z in product.zones),
        items=tuple(items),
        production_method=product.production_method,
        background=product.background_color.lower() if product.background_color else None,
        bleed_mm=product.bleed_mm,
        crop_marks=product.crop_marks,
        color_mode=product.color_mode,
        cmyk_profile=product.cmyk_profile,
        output_dpi=product.output_dpi,
        mockup=build_mockup(product, resources),
        warnings=tuple(warnings),
    )
