"""API contract of the catalog: products, zones, fonts, assets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luneo.design.model import (
    HexColor,
    MockupEffect,
    MockupWrap,
    ProductionMethod,
    ZoneGeometry,
    ZoneKind,
    ZoneRules,
)

ProductStatus = Literal["draft", "active", "archived"]
ProductShape = Literal["rect", "ellipse", "rounded_rect"]
ZoneRole = Literal["print", "engrave", "cut"]
Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
ZoneKey = Annotated[str, Field(pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$")]
FontId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^fnt_[a-z0-9_]+$")]
Mm = Annotated[float, Field(gt=0, le=10_000)]
MAX_ZONES = 50


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- products


Px = Annotated[float, Field(ge=-100_000, le=100_000)]


class MockupIn(StrictIn):
    """A product photo (an uploaded image asset) and where the print area lies on it.

    Give one placement: `corners` (the print area's top-left, top-right, bottom-right and
    bottom-left corners in the photo's pixels: perspective), `wrap` (a cylinder: mugs, bottles)
    or the older affine `px_per_mm` + `offset_*_px`. Optional greyscale `shading_asset_id`
    (multiplied over a print) and `displacement_asset_id` (mid-grey = no shift, up to
    `displacement_px`); `effect` defaults from the production method.
    """

    asset_id: str = Field(min_length=1, max_length=40)
    width_px: int | None = Field(default=None, gt=0, description="Defaults to the asset's width.")
    height_px: int | None = Field(default=None, gt=0, description="Defaults to the asset's height.")
    offset_x_px: float = 0.0
    offset_y_px: float = 0.0
    px_per_mm: float | None = Field(default=None, gt=0, le=1000)
    corners: list[tuple[Px, Px]] | None = Field(default=None, min_length=4, max_length=4)
    wrap: MockupWrap | None = None
    shading_asset_id: str | None = Field(default=None, min_length=1, max_length=40)
    displacement_asset_id: str | None = Field(default=None, min_length=1, max_length=40)
    displacement_px: float = Field(default=0.0, ge=0, le=64)
    effect: MockupEffect | None = None
    engrave_tone: Literal["darken", "lighten"] = "darken"


class Model3DIn(StrictIn):
    """A procedural demo shape, or an uploaded GLB asset, and its print material's name."""

    kind: Literal["procedural", "glb"]
    shape: Literal["mug", "pendant", "phone_case", "business_card", "sign"] | None = None
    asset_id: str | None = Field(default=None, max_length=40)
    print_material: str = Field(default="print", min_length=1, max_length=64)


ExternalIds = Annotated[
    dict[
        Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")],
        Annotated[str, Field(min_length=1, max_length=200)],
    ],
    Field(max_length=20),
]


class _ProductFields(StrictIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    status: ProductStatus | None = None
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    width_mm: Mm | None = None
    height_mm: Mm | None = None
    shape: ProductShape | None = None
    corner_radius_mm: float | None = Field(default=None, ge=0, le=5000)
    production_method: ProductionMethod | None = None
    bleed_mm: float | None = Field(default=None, ge=0, le=50)
    crop_marks: bool | None = None
    color_mode: Literal["rgb", "cmyk"] | None = None
    cmyk_profile: Literal["coated", "uncoated"] | None = None
    output_dpi: int | None = Field(default=None, ge=72, le=2400)
    min_image_dpi: int | None = Field(default=None, ge=1, le=2400)
    min_stroke_mm: float | None = Field(default=None, ge=0, le=100)
    background_color: HexColor | None = None
    palette: list[HexColor] | None = Field(default=None, max_length=64)
    mockup: MockupIn | None = None
    model3d: Model3DIn | None = None
    external_ids: ExternalIds | None = None


class ProductPatch(_ProductFields):
    """Partial update; send `null` for `mockup`, `model3d` or `background_color` to clear them."""

    sku: Sku | None = None


class ZoneSample(StrictIn):
    """The brand's sample personalization the widget shows before the shopper types.

    Never part of a spec: it only pre-fills the widget (text zones: `text`; image zones:
    `photo_url`, an https URL or a path on the API's host that the widget may fetch).
    """

    text: str | None = Field(default=None, min_length=1, max_length=200)
    photo_url: str | None = Field(default=None, max_length=2000, pattern=r"^(https://|/)[^\s]*$")


class ZoneIn(StrictIn):
    key: ZoneKey
    label: str = Field(default="", max_length=200)
    kind: ZoneKind
    sort_order: int = Field(default=0, ge=-10_000, le=10_000)
    geometry: ZoneGeometry
    rules: ZoneRules = Field(default_factory=ZoneRules)
    default_font: FontId | None = None
    default_color: HexColor | None = None
    role: ZoneRole = "print"
    sample: ZoneSample | None = None


class ZonePatch(StrictIn):
    key: ZoneKey | None = None
    label: str | None = Field(default=None, max_length=200)
    kind: ZoneKind | None = None
    sort_order: int | None = Field(default=None, ge=-10_000, le=10_000)
    geometry: ZoneGeometry | None = None
    rules: ZoneRules | None = None
    default_font: FontId | None = None
    default_color: HexColor | None = None
    role: ZoneRole | None = None
    sample: ZoneSample | None = None


class ProductIn(_ProductFields):
    """A new product; zones may be given at once."""

    sku: Sku
    name: str = Field(min_length=1, max_length=200)
    width_mm: Mm
    height_mm: Mm
    description: str = Field(default="", max_length=5000)
    status: ProductStatus = "draft"
    price_cents: int = Field(default=0, ge=0, le=100_000_000)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    shape: ProductShape = "rect"
    corner_radius_mm: float = Field(default=0.0, ge=0, le=5000)
    production_method: ProductionMethod = "print"
    bleed_mm: float = Field(default=0.0, ge=0, le=50)
    crop_marks: bool = False
    color_mode: Literal["rgb", "cmyk"] = "rgb"
    cmyk_profile: Literal["coated", "uncoated"] = "coated"  # CMYK output profile (FOGRA39 / FOGRA29)
    output_dpi: int = Field(default=300, ge=72, le=2400)
    min_image_dpi: int = Field(default=150, ge=1, le=2400)
    min_stroke_mm: float = Field(default=0.0, ge=0, le=100)
    palette: list[HexColor] = Field(default_factory=list, max_length=64)
    external_ids: ExternalIds = Field(default_factory=dict)
    zones: list[ZoneIn] = Field(default_factory=list, max_length=MAX_ZONES)

    @field_validator("zones")
    @classmethod
    def _unique_keys(cls, zones: list[ZoneIn]) -> list[ZoneIn]:
        keys = [z.key for z in zones]
        if len(keys) != len(set(keys)):
            raise ValueError("zone keys must be unique within a product")
        return zones


class MockupOut(BaseModel):
    asset_id: str
    width_px: int
    height_px: int
    offset_x_px: float = 0.0
    offset_y_px: float = 0.0
    px_per_mm: float | None = None
    corners: list[tuple[float, float]] | None = None
    wrap: MockupWrap | None = None
    shading_asset_id: str | None = None
    displacement_asset_id: str | None = None
    displacement_px: float = 0.0
    effect: MockupEffect | None = None
    engrave_tone: Literal["darken", "lighten"] = "darken"


class Model3DOut(BaseModel):
    kind: Literal["procedural", "glb"]
    shape: str | None = None
    asset_id: str | None = None
    print_material: str = "print"


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    key: str
    label: str
    kind: ZoneKind
    sort_order: int
    geometry: ZoneGeometry
    rules: ZoneRules
    default_font: str | None
    default_color: str | None
    role: ZoneRole
    sample: ZoneSample | None = None
    created_at: datetime
    updated_at: datetime


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku: str
    name: str
    description: str
    status: ProductStatus
    price_cents: int
    currency: str
    width_mm: float
    height_mm: float
    shape: ProductShape
    corner_radius_mm: float
    production_method: ProductionMethod
    bleed_mm: float
    crop_marks: bool
    color_mode: Literal["rgb", "cmyk"]
    cmyk_profile: str = "coated"
    output_dpi: int
    min_image_dpi: int
    min_stroke_mm: float
    background_color: str | None
    palette: list[str]
    mockup: MockupOut | None
    model3d: Model3DOut | None
    external_ids: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


class ProductDetailOut(ProductOut):
    """A product with its zones (and their rules) embedded."""

    zones: list[ZoneOut]


class ZoneList(BaseModel):
    data: list[ZoneOut]
    next_cursor: str | None = None


# --------------------------------------------------------------------------- fonts


class FontOut(BaseModel):
    id: str
    source: Literal["bundled", "brand"]
    family: str
    style: str
    format: str
    sha256: str
    glyph_coverage: int | None = None
    licence: str | None = None
    role: str = Field(default="primary", description="primary (offered to shoppers) or fallback (coverage).")
    licence_note: str = ""
    size_bytes: int | None = None
    url: str | None = Field(default=None, description="Short-lived signed URL of the TTF/OTF (brand fonts).")
    original_filename: str | None = None
    created_at: datetime | None = None


# --------------------------------------------------------------------------- assets


class AssetOut(BaseModel):
    id: str
    url: str = Field(description="Short-lived signed URL of the stored bytes.")
    sha256: str
    content_type: str
    bytes: int
    width_px: int | None
    height_px: int | None
    original_filename: str | None
    kind: str
    created_at: datetime


def dump(model: BaseModel) -> dict[str, Any]:
    """Fields the client actually sent (PATCH semantics)."""
    return model.model_dump(exclude_unset=True)


# --------------------------------------------------------------------------- templates

MAX_TEMPLATES = 24  # per product
TemplateName = Annotated[str, Field(min_length=1, max_length=80)]
TemplateInputs = Annotated[
    dict[str, dict[str, Any]],
    Field(
        max_length=64,
        description="Per-zone inputs exactly as the widget sends them for a design, e.g. "
        '`{"front": {"kind": "text", "text": "Emma", "font": "fnt_serif"}, '
        '"ink": {"kind": "colour", "color": "#1f3a5f"}}`. Image zones are not part of templates.',
    ),
]


class TemplateIn(BaseModel):
    """A new preset design of a product (checked against its zone rules: 422 `invalid_template`)."""

    model_config = ConfigDict(extra="forbid")

    name: TemplateName
    inputs: TemplateInputs
    active: bool = True


class TemplatePatch(BaseModel):
    """Rename, change the inputs, (de)activate, or move a template to `position` (0 = first)."""

    model_config = ConfigDict(extra="forbid")

    name: TemplateName | None = None
    inputs: TemplateInputs | None = None
    active: bool | None = None
    position: int | None = Field(default=None, ge=0, le=MAX_TEMPLATES - 1)


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    name: str
    inputs: dict[str, dict[str, Any]]
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime


class TemplateList(BaseModel):
    """A product's templates in display order (all of them: at most 24)."""

    data: list[TemplateOut]
