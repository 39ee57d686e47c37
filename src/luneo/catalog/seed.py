"""The demo catalog: six products whose zones and rules exercise the design engine.

`seed_demo(session, brand)` is idempotent (products are matched by SKU) and runs in a
session bound to the demo brand (`luneo seed demo`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.catalog import service
from luneo.catalog import templates as product_templates
from luneo.catalog.models import Product, ProductTemplate
from luneo.catalog.schemas import MockupIn, ProductIn, ProductPatch, TemplateIn

GOLD, SILVER, NAVY, BLACK, WHITE = "#c9a227", "#c0c0c0", "#1f3a5f", "#000000", "#ffffff"
ROSE, FOREST, SKY = "#c2185b", "#2e7d32", "#4aa3df"
PALETTE = [GOLD, NAVY, BLACK, WHITE, ROSE, FOREST, SKY]
BLOCKED = ["fuck", "shit", "merde", "nazi"]
TEXT_FONTS = ["fnt_sans", "fnt_serif", "fnt_script", "fnt_display"]


def _text_rules(**kw: Any) -> dict[str, Any]:
    return {"allowed_fonts": TEXT_FONTS, "blocked_words": BLOCKED, "auto_fit": True, **kw}


DEMO_PRODUCTS: list[dict[str, Any]] = [
    {
        "sku": "DEMO-PENDANT",
        "name": "Engraved round pendant",
        "status": "active",
        "description": "A 30 mm gold-plated disc, laser engraved: a name along the top and an initial.",
        "price_cents": 3900,
        "currency": "EUR",
        "width_mm": 30,
        "height_mm": 30,
        "shape": "ellipse",
        "production_method": "engrave",
        "min_stroke_mm": 0.1,
        "output_dpi": 1000,
        "background_color": GOLD,
        "palette": [GOLD, SILVER],
        "model3d": {"kind": "procedural", "shape": "pendant", "print_material": "engrave"},
        "zones": [
            {
                "key": "arc_text",
                "label": "Name along the top",
                "kind": "text",
                "sort_order": 0,
                "role": "engrave",
                "geometry": {
                    "shape": "arc",
                    "x_mm": 0,
                    "y_mm": 0,
                    "width_mm": 30,
                    "height_mm": 30,
                    "radius_mm": 11.0,
                    "arc_angle_deg": 0,
                    "arc_sweep_deg": 150,
                },
                "rules": {
                    "allowed_fonts": ["fnt_sans", "fnt_serif", "fnt_script"],
                    "blocked_words": BLOCKED,
                    "max_chars": 18,
                    "max_lines": 1,
                    "min_font_pt": 5,
                    "max_font_pt": 11,
                    "auto_fit": True,
                    "price_per_char_cents": 20,
                },
                "default_font": "fnt_serif",
                "default_color": BLACK,
            },
            {
                "key": "initial",
                "label": "Initial",
                "kind": "text",
                "sort_order": 1,
                "role": "engrave",
                "geometry": {"shape": "rect", "x_mm": 9, "y_mm": 9, "width_mm": 12, "height_mm": 12},
                "rules": {
                    "allowed_fonts": ["fnt_sans", "fnt_serif", "fnt_script"],
                    "max_chars": 1,
                    "max_lines": 1,
                    "allowed_chars": "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ",
                    "min_font_pt": 14,
                    "max_font_pt": 40,
                    "auto_fit": True,
                    "required": True,
                },
                "default_font": "fnt_script",
                "default_color": BLACK,
            },
        ],
    },
    {
        "sku": "DEMO-MUG",
        "name": "Photo mug",
        "status": "active",
        "description": "A white 330 ml ceramic mug, printed all around: a photo and a name.",
        "price_cents": 1900,
        "currency": "EUR",
        "width_mm": 200,
        "height_mm": 90,
        "shape": "rect",
        "production_method": "print",
        "min_image_dpi": 150,
        "background_color": WHITE,
        "palette": PALETTE,
        "model3d": {"kind": "procedural", "shape": "mug", "print_material": "print"},
        "zones": [
            {
                "key": "photo",
                "label": "Photo",
                "kind": "image",
                "sort_order": 0,
                "geometry": {"shape": "rect", "x_mm": 8, "y_mm": 8, "width_mm": 96, "height_mm": 74},
                "rules": {"required": True, "price_flat_cents": 300},
            },
            {
                "key": "name",
                "label": "Name",
                "kind": "text",
                "sort_order": 1,
                "geometry": {"shape": "rect", "x_mm": 110, "y_mm": 25, "width_mm": 82, "height_mm": 40},
                "rules": _text_rules(
                    max_chars=20, max_lines=2, min_font_pt=10, max_font_pt=60, allowed_colors=PALETTE
                ),
                "default_font": "fnt_display",
                "default_color": NAVY,
            },
        ],
    },
    {
        "sku": "DEMO-TSHIRT",
        "name": "T-shirt front print",
        "status": "active",
        "description": "Organic cotton T-shirt, direct-to-garment print on the front.",
        "price_cents": 2500,
        "currency": "EUR",
        "width_mm": 300,
        "height_mm": 400,
        "shape": "rect",
        "production_method": "print",
        "min_image_dpi": 150,
        "output_dpi": 300,
        "palette": PALETTE,
        "zones": [
            {
                "key": "photo",
                "label": "Your image",
                "kind": "image",
                "sort_order": 0,
                "geometry": {"shape": "rect", "x_mm": 50, "y_mm": 30, "width_mm": 200, "height_mm": 230},
                "rules": {"required": False, "price_flat_cents": 500},
            },
            {
                "key": "slogan",
                "label": "Text",
                "kind": "text",
                "sort_order": 1,
                "geometry": {"shape": "rect", "x_mm": 30, "y_mm": 280, "width_mm": 240, "height_mm": 80},
                "rules": _text_rules(
                    max_chars=40, max_lines=2, min_font_pt=18, max_font_pt=120, allowed_colors=PALETTE
                ),
                "default_font": "fnt_display",
                "default_color": BLACK,
            },
        ],
    },
    {
        "sku": "DEMO-SIGN",
        "name": "Wooden sign",
        "status": "active",
        "description": "A 6 mm birch plywood sign: outline laser cut, text engraved.",
        "price_cents": 4500,
        "currency": "EUR",
        "width_mm": 300,
        "height_mm": 150,
        "shape": "rounded_rect",
        "corner_radius_mm": 12,
        "production_method": "laser_cut",
        "min_stroke_mm": 0.2,
        "background_color": "#d7b98e",
        "model3d": {"kind": "procedural", "shape": "sign", "print_material": "engrave"},
        "zones": [
            {
                "key": "title",
                "label": "Main text",
                "kind": "text",
                "sort_order": 0,
                "role": "engrave",
                "geometry": {"shape": "rect", "x_mm": 20, "y_mm": 20, "width_mm": 260, "height_mm": 70},
                "rules": _text_rules(
                    max_chars=24, max_lines=1, min_font_pt=24, max_font_pt=160, required=True
                ),
                "default_font": "fnt_serif",
                "default_color": BLACK,
            },
            {
                "key": "subtitle",
                "label": "Second line",
                "kind": "text",
                "sort_order": 1,
                "role": "engrave",
                "geometry": {"shape": "rect", "x_mm": 40, "y_mm": 98, "width_mm": 220, "height_mm": 32},
                "rules": _text_rules(max_chars=40, max_lines=1, min_font_pt=12, max_font_pt=60),
                "default_font": "fnt_script",
                "default_color": BLACK,
            },
        ],
    },
    {
        "sku": "DEMO-PHONE",
        "name": "Phone case",
        "status": "active",
        "description": "A slim polycarbonate case, printed edge to edge.",
        "price_cents": 2900,
        "currency": "EUR",
        "width_mm": 75,
        "height_mm": 155,
        "shape": "rounded_rect",
        "corner_radius_mm": 9,
        "production_method": "print",
        "min_image_dpi": 200,
        "background_color": WHITE,
        "palette": PALETTE,
        "model3d": {"kind": "procedural", "shape": "phone_case", "print_material": "print"},
        "zones": [
            {
                "key": "photo",
                "label": "Photo",
                "kind": "image",
                "sort_order": 0,
                "geometry": {"shape": "rect", "x_mm": 0, "y_mm": 0, "width_mm": 75, "height_mm": 155},
                "rules": {"required": True},
            },
            {
                "key": "initials",
                "label": "Initials",
                "kind": "text",
                "sort_order": 1,
                "geometry": {"shape": "rect", "x_mm": 10, "y_mm": 125, "width_mm": 55, "height_mm": 20},
                "rules": _text_rules(
                    max_chars=4, max_lines=1, min_font_pt=10, max_font_pt=48, allowed_colors=PALETTE
                ),
                "default_font": "fnt_serif",
                "default_color": WHITE,
            },
        ],
    },
    {
        "sku": "DEMO-CARD",
        "name": "Business card",
        "status": "active",
        "description": "85 × 55 mm, 400 g matte paper, printed in CMYK with 3 mm bleed.",
        "price_cents": 3500,
        "currency": "EUR",
        "width_mm": 85,
        "height_mm": 55,
        "shape": "rect",
        "production_method": "print",
        "bleed_mm": 3,
        "crop_marks": True,
        "color_mode": "cmyk",
        "background_color": WHITE,
        "palette": [NAVY, BLACK, GOLD],
        "model3d": {"kind": "procedural", "shape": "business_card", "print_material": "print"},
        "zones": [
            {
                "key": "name",
                "label": "Name",
                "kind": "text",
                "sort_order": 0,
                "geometry": {
                    "shape": "rect",
                    "x_mm": 8,
                    "y_mm": 16,
                    "width_mm": 69,
                    "height_mm": 11,
                    "safe_inset_mm": 0.5,
                },
                "rules": {
                    "allowed_fonts": ["fnt_sans", "fnt_serif", "fnt_mono"],
                    "allowed_colors": [NAVY, BLACK],
                    "max_chars": 40,
                    "max_lines": 1,
                    "min_font_pt": 8,
                    "max_font_pt": 20,
                    "required": True,
                    "blocked_words": BLOCKED,
                },
                "default_font": "fnt_serif",
                "default_color": NAVY,
            },
            {
                "key": "title",
                "label": "Title",
                "kind": "text",
                "sort_order": 1,
                "geometry": {
                    "shape": "rect",
                    "x_mm": 8,
                    "y_mm": 30,
                    "width_mm": 69,
                    "height_mm": 8,
                    "safe_inset_mm": 0.5,
                },
                "rules": {
                    "allowed_fonts": ["fnt_sans", "fnt_serif", "fnt_mono"],
                    "allowed_colors": [NAVY, BLACK, GOLD],
                    "max_chars": 50,
                    "max_lines": 1,
                    "min_font_pt": 6,
                    "max_font_pt": 12,
                    "blocked_words": BLOCKED,
                },
                "default_font": "fnt_sans",
                "default_color": BLACK,
            },
        ],
    },
]


SAMPLE_PHOTO = "/widget/samples/sample-photo.jpg"  # made by the project (src/luneo/widget/static)
# The brand's sample personalization per (sku, zone): what the widget shows before the shopper types.
SAMPLES: dict[tuple[str, str], dict[str, str]] = {
    ("DEMO-PENDANT", "arc_text"): {"text": "Emma"},
    ("DEMO-PENDANT", "initial"): {"text": "E"},
    ("DEMO-MUG", "photo"): {"photo_url": SAMPLE_PHOTO},
    ("DEMO-MUG", "name"): {"text": "Grandma"},
    ("DEMO-TSHIRT", "photo"): {"photo_url": SAMPLE_PHOTO},
    ("DEMO-TSHIRT", "slogan"): {"text": "Good vibes only"},
    ("DEMO-SIGN", "title"): {"text": "The Millers"},
    ("DEMO-SIGN", "subtitle"): {"text": "Est. 2026"},
    ("DEMO-PHONE", "photo"): {"photo_url": SAMPLE_PHOTO},
    ("DEMO-PHONE", "initials"): {"text": "AJ"},
    ("DEMO-CARD", "name"): {"text": "Alex Martin"},
    ("DEMO-CARD", "title"): {"text": "Product Designer"},
}
for _product in DEMO_PRODUCTS:
    for _zone in _product["zones"]:
        _zone["sample"] = SAMPLES.get((_product["sku"], _zone["key"]))


DEMO_MOCKUPS = Path(__file__).with_name("demo_mockups")  # made by scripts/make_demo_mockups.py


def demo_mockup(session: Session, sku: str) -> MockupIn | None:
    """The project-made mockup of a demo product (its images stored as the brand's assets)."""
    entry = json.loads((DEMO_MOCKUPS / "mockups.json").read_text()).get(sku)
    if entry is None:
        return None

    def asset_id(name: str) -> str:
        # The project's own PNGs (made by scripts/make_demo_mockups.py): stored as they are, without
        # the upload checks' decode and re-encode (they run in every test that seeds the demo).
        data = (DEMO_MOCKUPS / name).read_bytes()
        with Image.open(io.BytesIO(data)) as img:
            size = img.size
        return service.store_image_asset(
            session, data, size, filename=name, kind="mockup", created_by="seed"
        ).id

    fields: dict[str, Any] = {"asset_id": asset_id(entry["image"])}
    for key in ("shading", "displacement"):
        if entry.get(key):
            fields[f"{key}_asset_id"] = asset_id(entry[key])
    for key in ("corners", "wrap", "displacement_px", "effect", "engrave_tone"):
        if key in entry:
            fields[key] = entry[key]
    return MockupIn.model_validate(fields)


def _attach_demo_mockups(session: Session) -> None:
    """Give every demo product without a mockup its project-made one."""
    skus = [spec["sku"] for spec in DEMO_PRODUCTS]
    for product in session.execute(select(Product).where(Product.sku.in_(skus))).scalars():
        if product.mockup is None:
            mockup = demo_mockup(session, product.sku)
            if mockup is not None:
                service.update_product(session, product.id, ProductPatch(mockup=mockup))


# Preset designs a shopper can start from (matched by product SKU and template name).
DEMO_TEMPLATES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "DEMO-PENDANT",
        "Classic",
        {
            "arc_text": {"kind": "text", "text": "Forever", "font": "fnt_serif"},
            "initial": {"kind": "text", "text": "L", "font": "fnt_script"},
        },
    ),
    (
        "DEMO-PENDANT",
        "Modern",
        {
            "arc_text": {"kind": "text", "text": "Always", "font": "fnt_sans"},
            "initial": {"kind": "text", "text": "M", "font": "fnt_sans"},
        },
    ),
    (
        "DEMO-CARD",
        "Studio",
        {
            "name": {"kind": "text", "text": "Camille Martin", "color": NAVY},
            "title": {"kind": "text", "text": "Designer", "color": GOLD},
        },
    ),
    (
        "DEMO-CARD",
        "Atelier",
        {
            "name": {"kind": "text", "text": "Louis Bernard", "color": BLACK},
            "title": {"kind": "text", "text": "Founder", "color": BLACK},
        },
    ),
]


def _seed_templates(session: Session) -> None:
    """The demo templates a product does not have yet (by name)."""
    products = {p.sku: p for p in session.execute(select(Product)).scalars()}
    have = {(t.product_id, t.name) for t in session.execute(select(ProductTemplate)).scalars()}
    for sku, name, inputs in DEMO_TEMPLATES:
        product = products.get(sku)
        if product is None or (product.id, name) in have:
            continue
        product_templates.create_template(session, product.id, TemplateIn(name=name, inputs=inputs))


def seed_demo(session: Session, brand: Any) -> None:
    """Create the demo products that do not exist yet (matched by SKU) in `brand`; give the
    zones of existing demo products their sample personalization when they have none."""
    del brand  # the session is bound to it
    existing = {p.sku: p for p in session.execute(select(Product)).scalars()}
    for spec in DEMO_PRODUCTS:
        if spec["sku"] not in existing:
            service.create_product(session, ProductIn.model_validate(spec))
            continue
        product = existing[spec["sku"]]
        for zone in product.zones:
            sample = SAMPLES.get((product.sku, zone.key))
            if zone.sample is None and sample is not None:
                zone.sample = sample
                product.version += 1  # a new widget config version
    session.flush()
    _attach_demo_mockups(session)
    _seed_templates(session)
