"""Pure data model shared by the core: product definitions and the DesignSpec.

A DesignSpec embeds the product definition it was made for (geometry, rules, output
settings) plus the shopper's inputs and the server's resolved choices (font files by
SHA-256, auto-fit sizes, image assets by SHA-256). Its canonical bytes (RFC 8785) are
hashed into `spec_hash`, so every byte that can change an output is covered by the hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

SPEC_VERSION: Final = "1.0"

ProductionMethod = Literal["print", "engrave", "laser_cut", "embroider"]
ZoneKind = Literal["text", "image", "colour"]
HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Strict(BaseModel):
    """Base: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneGeometry(Strict):
    """Where a zone sits on the product, in mm from the product's top-left corner.

    `rect` and `ellipse` fill the box (x, y, width, height). `arc` lays text on a circle:
    centre (cx, cy), `radius_mm` to the text baseline, centred on `arc_angle_deg`
    (0 = top, clockwise) and spanning at most `arc_sweep_deg`; text reads along the arc
    (`arc_inside` puts glyphs on the inside of the circle, e.g. bottom text on a pendant).
    """

    shape: Literal["rect", "ellipse", "arc"] = "rect"
    x_mm: float = 0.0
    y_mm: float = 0.0
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    rotation_deg: float = 0.0
    radius_mm: float | None = None
    arc_angle_deg: float = 0.0
    arc_sweep_deg: float = 180.0
    arc_inside: bool = False
    safe_inset_mm: float = Field(default=0.0, ge=0)


class ZoneRules(Strict):
    """What a shopper may put in a zone. Empty lists mean 'no restriction from this rule'."""

    required: bool = False
    allowed_fonts: list[str] = Field(default_factory=list)
    allowed_colors: list[HexColor] = Field(default_factory=list)
    min_font_pt: float = Field(default=6.0, gt=0)
    max_font_pt: float = Field(default=72.0, gt=0)
    max_chars: int | None = Field(default=None, ge=1)
    max_lines: int = Field(default=1, ge=1)
    allowed_chars: str | None = None
    # Whole words or phrases, matched after confusable folding; `word*` matches a prefix.
    blocked_words: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=2000)
    auto_fit: bool = True
    price_flat_cents: int = Field(default=0, ge=0)
    price_per_char_cents: int = Field(default=0, ge=0)
    # What the thin-stroke print check does when too much of a text's stroke is under the
    # product's minimum: "refuse" (an error: production stops for review) or "warn". None: the
    # method's default (refuse for engrave/laser_cut/embroider, warn for print). Left out of the
    # dump when unset, so specs made before the rule keep their canonical bytes and hash.
    thin_stroke: Literal["refuse", "warn"] | None = Field(default=None, exclude_if=lambda v: v is None)


class ZoneDef(Strict):
    """A personalizable area of a product."""

    key: str = Field(pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$")
    label: str = ""
    kind: ZoneKind
    geometry: ZoneGeometry
    rules: ZoneRules = Field(default_factory=ZoneRules)
    default_font: str | None = None
    default_color: HexColor | None = None
    role: Literal["print", "engrave", "cut"] = "print"


Point = tuple[float, float]
MockupEffect = Literal["print", "engrave", "embroidery"]
# The effect a production method shows on a mockup when the mockup names none.
METHOD_EFFECTS: Final[dict[str, MockupEffect]] = {
    "print": "print",
    "engrave": "engrave",
    "laser_cut": "engrave",
    "embroider": "embroidery",
}


class MockupWrap(Strict):
    """A print area wrapped around a vertical cylinder (mugs, bottles), in photo pixels.

    `left_px`/`right_px` are the cylinder's silhouette edges (so its radius is half their
    distance); the print area's width covers `arc_deg` of the circumference, with the angle
    `facing_deg` of it (0 = its centre, negative = more of its left part) facing the camera.
    `top_px`/`bottom_px` are the print area's top and bottom edges where they face the camera;
    seen from above, horizontal lines rise toward the silhouette by `top_curve_px` /
    `bottom_curve_px` (the visible half-height of the rim ellipse at that level).
    """

    left_px: float
    right_px: float
    top_px: float
    bottom_px: float
    top_curve_px: float = 0.0
    bottom_curve_px: float = 0.0
    arc_deg: float = Field(gt=0, lt=360)
    facing_deg: float = Field(default=0.0, ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> MockupWrap:
        if not (self.right_px > self.left_px and self.bottom_px > self.top_px):
            raise ValueError("wrap needs left_px < right_px and top_px < bottom_px")
        return self


# Fields added after the affine mockup: left out of the JSON (hence the spec hash) at their default,
# so specs made with the old mockup keep their bytes.
_MOCKUP_OPTIONAL: Final[dict[str, object]] = {
    "px_per_mm": None,
    "corners": None,
    "wrap": None,
    "shading_sha256": None,
    "displacement_sha256": None,
    "displacement_px": 0.0,
    "effect": None,
    "engrave_tone": "darken",
}


def quad_is_convex(pts: Sequence[Point], min_area: float = 1.0) -> bool:
    """Whether four points make a convex, non-degenerate quadrilateral (either winding)."""
    crosses = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = pts[i], pts[(i + 1) % 4], pts[(i + 2) % 4]
        crosses.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    area = 0.5 * abs(sum(pts[i][0] * pts[(i + 1) % 4][1] - pts[(i + 1) % 4][0] * pts[i][1] for i in range(4)))
    return area >= min_area and (all(c > 0 for c in crosses) or all(c < 0 for c in crosses))


class MockupDef(Strict):
    """A product photo the design is shown on, and where the print area lies on it.

    Exactly one placement: `corners` (the print area's top-left, top-right, bottom-right and
    bottom-left corners in photo pixels: a perspective warp), `wrap` (a cylinder) or the
    original affine `px_per_mm` + offsets (the photo pixel of product mm (0, 0); the same as
    the rectangle of corners it spans). Optional greyscale maps the photo's size: `shading`
    (multiplied over a print; white = unchanged) and `displacement` (mid-grey = no shift, moves the
    design up to `displacement_px`). `effect` defaults from the production method
    (print → print, engrave/laser_cut → engrave, embroider → embroidery).
    """

    asset_sha256: str
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    offset_x_px: float = 0.0
    offset_y_px: float = 0.0
    px_per_mm: float | None = Field(default=None, gt=0)
    corners: tuple[Point, Point, Point, Point] | None = None
    wrap: MockupWrap | None = None
    shading_sha256: str | None = None
    displacement_sha256: str | None = None
    displacement_px: float = Field(default=0.0, ge=0, le=64)
    effect: MockupEffect | None = None
    engrave_tone: Literal["darken", "lighten"] = "darken"

    @model_validator(mode="after")
    def _one_placement(self) -> MockupDef:
        given = [n for n in ("px_per_mm", "corners", "wrap") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a mockup needs exactly one of px_per_mm, corners or wrap")
        if self.corners is not None and not quad_is_convex(self.corners):
            raise ValueError("corners must make a convex, non-degenerate quadrilateral")
        return self

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if k not in _MOCKUP_OPTIONAL or v != _MOCKUP_OPTIONAL[k]}

    def quad(self, width_mm: float, height_mm: float) -> tuple[Point, Point, Point, Point] | None:
        """The print area's corners in photo pixels (None for a wrap)."""
        if self.corners is not None:
            return self.corners
        if self.px_per_mm is None:
            return None
        k, ox, oy = self.px_per_mm, self.offset_x_px, self.offset_y_px
        w, h = width_mm * k, height_mm * k
        return ((ox, oy), (ox + w, oy), (ox + w, oy + h), (ox, oy + h))

    def effect_for(self, production_method: str) -> MockupEffect:
        return self.effect or METHOD_EFFECTS.get(production_method, "print")


class Model3DDef(Strict):
    """A 3D model: a procedural demo shape or an uploaded GLB with a named print material."""

    kind: Literal["procedural", "glb"]
    shape: Literal["mug", "pendant", "phone_case", "business_card", "sign"] | None = None
    asset_sha256: str | None = None
    print_material: str = "print"


class ProductDef(Strict):
    """Everything about a product that can change a rendered or produced file."""

    id: str
    sku: str
    name: str = ""
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    shape: Literal["rect", "ellipse", "rounded_rect"] = "rect"
    corner_radius_mm: float = Field(default=0.0, ge=0)
    production_method: ProductionMethod = "print"
    background_color: HexColor | None = None
    bleed_mm: float = Field(default=0.0, ge=0)
    crop_marks: bool = False
    color_mode: Literal["rgb", "cmyk"] = "rgb"
    # CMYK output condition (`luneo.design.colour`): coated (FOGRA39) or uncoated (FOGRA29) paper
    cmyk_profile: Literal["coated", "uncoated"] = "coated"
    output_dpi: int = Field(default=300, ge=72, le=2400)
    min_image_dpi: int = Field(default=150, ge=1)
    min_stroke_mm: float = Field(default=0.0, ge=0)
    palette: list[HexColor] = Field(default_factory=list)
    zones: list[ZoneDef]
    mockup: MockupDef | None = None
    model3d: Model3DDef | None = None


class TextInput(Strict):
    """Text typed by the shopper, with the server's resolved font and size."""

    kind: Literal["text"] = "text"
    text: str
    font: str | None = None
    font_sha256: str | None = None
    size_pt: float | None = Field(default=None, gt=0)
    color: HexColor | None = None
    align: Literal["left", "center", "right"] = "center"
    letter_spacing_em: float = Field(default=0.0, ge=-0.5, le=2.0)
    line_height: float = Field(default=1.2, gt=0.5, le=3.0)


class ImageInput(Strict):
    """An uploaded image by asset id and content hash, with its pixel size."""

    kind: Literal["image"] = "image"
    asset_id: str
    asset_sha256: str | None = None
    width_px: int | None = Field(default=None, gt=0)
    height_px: int | None = Field(default=None, gt=0)
    fit: Literal["contain", "cover", "smart"] = "cover"


class ColourInput(Strict):
    """A colour chosen for a colour zone."""

    kind: Literal["colour"] = "colour"
    color: HexColor


ZoneInput = Annotated[TextInput | ImageInput | ColourInput, Field(discriminator="kind")]


class DesignSpec(Strict):
    """The frozen description of one personalized product; hashed canonically."""

    spec_version: Literal["1.0"] = SPEC_VERSION
    product: ProductDef
    inputs: dict[str, ZoneInput]
