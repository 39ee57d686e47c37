"""Pure data model shared by the core: product definitions and the DesignSpec.

A DesignSpec embeds the product definition it was made for (geometry, rules, output
settings) plus the shopper's inputs and the server's resolved choices (font files by
SHA-256, auto-fit sizes, image assets by SHA-256). Its canonical bytes (RFC 8785) are
hashed into `spec_hash`, so every byte that can change an output is covered by the hash.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class MockupDef(Strict):
    """A product photo behind the design and how product mm map onto its pixels."""

    asset_sha256: str
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    offset_x_px: float = 0.0
    offset_y_px: float = 0.0
    px_per_mm: float = Field(gt=0)


class Model3DDef(Strict):
    """A 3D model: a procedural demo shape or an uploaded GLB with a named print material."""

    kind: Literal["procedural", "glb"]
    shape: Literal["mug", "pendant", "phone_case", "business_card"] | None = None
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
