"""API contract of the widget endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from luneo.commerce.public import MAX_QUANTITY


class WidgetFont(BaseModel):
    id: str
    family: str
    style: str
    url: str | None = None  # the font file (bundled fonts: a path on the API host) for the picker


class WidgetSample(BaseModel):
    """The brand's sample personalization of a zone, shown before the shopper types."""

    text: str | None = None
    photo_url: str | None = None


class WidgetZone(BaseModel):
    key: str
    label: str
    kind: str
    role: str
    geometry: dict[str, Any]
    rules: dict[str, Any]
    default_font: str | None
    default_color: str | None
    sample: WidgetSample | None = None


class WidgetProduct(BaseModel):
    id: str
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    width_mm: float
    height_mm: float
    production_method: str
    palette: list[str]
    has_3d: bool
    # the product photo's size in px when the brand gave a mockup (the widget previews on it)
    mockup_px: list[int] | None = None
    # the print resolution a shopper's photo needs (the widget's framing tool warns below it)
    min_image_dpi: int = 150


class WidgetSamplePreview(BaseModel):
    """The preview of the brand's sample personalization, already rendered by the preview
    pipeline (the render `POST /renders/preview` gives that spec with the widget's options): the
    widget shows it as soon as the config arrives."""

    spec_hash: str
    render_id: str
    url: str  # signed, content-addressed (served `immutable`), stable for a day
    width_px: int
    height_px: int


class WidgetConfig(BaseModel):
    """Everything the widget needs to draw its form for one product."""

    product: WidgetProduct
    zones: list[WidgetZone]
    fonts: list[WidgetFont]
    version: str
    # null until the sample has been rendered once (the first shopper's first preview renders it)
    sample_preview: WidgetSamplePreview | None = None


class WidgetUploadOut(BaseModel):
    asset_id: str
    width_px: int | None
    height_px: int | None
    sha256: str


# --------------------------------------------------------------------------- quote


class QuoteIn(BaseModel):
    """The shopper's current design: the same `product_id` + `inputs` as `/personalization/validate`."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=40)
    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=64)
    quantity: int = Field(default=1, strict=True, ge=1, le=MAX_QUANTITY, description="1 to 1000.")
    locale: str | None = Field(
        default=None,
        min_length=2,
        max_length=35,
        description="BCP 47 tag (`fr-FR`, `ja`); default: `Accept-Language`, then `en`. Unknown: 422.",
    )


class Money(BaseModel):
    """An amount in integer minor units of the quote's currency (cents; yen for JPY), and as text."""

    minor: int
    formatted: str


class QuoteLine(BaseModel):
    """One add-on of one unit: a zone's flat price (`zone`, or `photo` for an image zone) or its
    per-character price (`per_char`, `count` characters)."""

    zone: str
    label: str
    kind: Literal["zone", "photo", "per_char"]
    count: int
    unit: Money
    amount: Money


class QuoteViolation(BaseModel):
    zone: str | None
    code: str
    message: str
    params: dict[str, Any] = {}


class QuoteOut(BaseModel):
    """`unit_price` = `base` + Σ `lines`; `total` = `unit_price` × `quantity` (the cart line's total).

    `valid: false`: the design breaks a rule (`violations`); the price covers its valid zones only
    and the cart will refuse it until it is fixed."""

    product_id: str
    currency: str
    locale: str
    quantity: int
    valid: bool
    base: Money
    lines: list[QuoteLine]
    unit_price: Money
    total: Money
    violations: list[QuoteViolation]
    warnings: list[QuoteViolation]


# --------------------------------------------------------------------------- templates


class WidgetTemplate(BaseModel):
    """A brand's preset design the shopper can start from: `inputs` as the widget sends them and
    its finished preview (the very render the widget's `preview()` asks for those inputs; null
    until rendered — it is asked for when first listed)."""

    id: str
    name: str
    inputs: dict[str, dict[str, Any]]
    preview: WidgetSamplePreview | None = None


class WidgetTemplateList(BaseModel):
    """The product's active templates in the brand's order (empty: the widget shows no strip)."""

    data: list[WidgetTemplate]
