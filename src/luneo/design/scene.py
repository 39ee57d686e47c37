"""The Scene: one product's design as geometry in millimetres — the single source of every writer.

Built from a DesignSpec by `luneo.design.scene_builder.build_scene`; read by the SVG, PNG,
PDF, DXF, GLB and USDZ writers. Items are drawn in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luneo.design.geometry import BBox, Path
from luneo.design.model import MockupWrap


@dataclass(frozen=True, slots=True)
class ShapeItem:
    """A filled and/or stroked vector shape (colour zones, product outline, cut lines)."""

    zone_key: str
    path: Path
    fill: str | None = None
    stroke: str | None = None
    stroke_width_mm: float = 0.0
    role: str = "print"  # print | engrave | cut


@dataclass(frozen=True, slots=True)
class TextItem:
    """Text as positioned glyph outlines (no font needed downstream)."""

    zone_key: str
    text: str
    glyphs: tuple[Path, ...]
    fill: str
    font_id: str
    size_pt: float
    role: str = "print"
    missing_chars: tuple[str, ...] = ()
    bbox: BBox | None = None


@dataclass(frozen=True, slots=True)
class ImageItem:
    """A raster image placed in mm and clipped to its zone's shape.

    `png` holds the decoded, orientation-corrected pixels re-encoded losslessly; `x_mm`..
    `height_mm` is where the whole image lands (may exceed the clip for `cover`).
    """

    zone_key: str
    png: bytes
    width_px: int
    height_px: int
    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    clip: Path
    effective_dpi: float
    role: str = "print"


SceneItem = ShapeItem | TextItem | ImageItem


@dataclass(frozen=True, slots=True)
class Mockup:
    """Product photo and where the design lies on it (see `luneo.design.model.MockupDef`).

    `offset_*`/`px_per_mm` place the product's mm on the photo for the flat SVG composite (exact
    for an affine mockup, the print area's bounding box otherwise); `quad` (four photo pixels of
    the product's corners) or `wrap` drive `luneo.design.mockup.render_mockup`.
    """

    png: bytes
    width_px: int
    height_px: int
    offset_x_px: float
    offset_y_px: float
    px_per_mm: float
    quad: tuple[tuple[float, float], ...] | None = None
    wrap: MockupWrap | None = None
    effect: str = "print"
    engrave_tone: str = "darken"
    shading: bytes | None = None
    displacement: bytes | None = None
    displacement_px: float = 0.0


@dataclass(frozen=True, slots=True)
class Scene:
    """A product's design in mm; (0, 0) is the product's top-left corner, bleed lies outside."""

    spec_hash: str
    width_mm: float
    height_mm: float
    outline: Path
    safe_areas: tuple[tuple[str, Path], ...]
    items: tuple[SceneItem, ...]
    production_method: str = "print"
    background: str | None = None
    bleed_mm: float = 0.0
    crop_marks: bool = False
    color_mode: str = "rgb"
    cmyk_profile: str = "coated"  # CMYK output profile: coated | uncoated (luneo.design.colour)
    output_dpi: int = 300
    mockup: Mockup | None = None
    warnings: tuple[str, ...] = field(default=())
