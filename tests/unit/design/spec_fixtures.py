"""Products and inputs shared by the rules, spec and property tests."""

from __future__ import annotations

from luneo.design.model import ProductDef, ZoneDef, ZoneGeometry, ZoneRules

ASSETS = {
    "ast_big": ("a" * 64, 2400, 1200),
    "ast_mid": ("b" * 64, 400, 200),  # 20 mm zone → 508 DPI; 100 mm zone → 101 DPI
    "ast_tiny": ("c" * 64, 1, 1),
}


def asset_lookup(asset_id: str) -> tuple[str, int, int] | None:
    return ASSETS.get(asset_id)


def pendant() -> ProductDef:
    """A 4-zone product: name (script), date on an arc, photo, metal colour."""
    return ProductDef(
        id="prd_pendant",
        sku="PEND-40",
        name="Round pendant",
        width_mm=40,
        height_mm=40,
        shape="ellipse",
        production_method="engrave",
        palette=["#000000", "#C0A060", "#B0B0B0"],
        min_image_dpi=150,
        zones=[
            ZoneDef(
                key="name",
                kind="text",
                geometry=ZoneGeometry(x_mm=5, y_mm=12, width_mm=30, height_mm=10, safe_inset_mm=0.5),
                rules=ZoneRules(
                    required=True,
                    max_chars=20,
                    max_lines=2,
                    allowed_fonts=["fnt_script", "fnt_serif", "fnt_sans"],
                    blocked_words=["merde", "Putain"],
                    min_font_pt=6,
                    max_font_pt=40,
                ),
                default_font="fnt_script",
            ),
            ZoneDef(
                key="date",
                kind="text",
                geometry=ZoneGeometry(
                    shape="arc",
                    x_mm=0,
                    y_mm=0,
                    width_mm=40,
                    height_mm=40,
                    radius_mm=16,
                    arc_angle_deg=180,
                    arc_inside=True,
                    arc_sweep_deg=120,
                ),
                rules=ZoneRules(max_chars=12, allowed_chars="0123456789./- "),
            ),
            ZoneDef(
                key="photo",
                kind="image",
                geometry=ZoneGeometry(x_mm=10, y_mm=24, width_mm=20, height_mm=10),
            ),
            ZoneDef(
                key="metal",
                kind="colour",
                geometry=ZoneGeometry(width_mm=40, height_mm=40),
                default_color="#C0A060",
            ),
        ],
    )


def poster() -> ProductDef:
    """A big print with a 100 mm photo zone and a fixed-size caption (no auto-fit)."""
    return ProductDef(
        id="prd_poster",
        sku="POST-A5",
        width_mm=148,
        height_mm=210,
        min_image_dpi=150,
        zones=[
            ZoneDef(
                key="photo",
                kind="image",
                geometry=ZoneGeometry(x_mm=24, y_mm=20, width_mm=100, height_mm=100),
            ),
            ZoneDef(
                key="caption",
                kind="text",
                geometry=ZoneGeometry(x_mm=14, y_mm=140, width_mm=120, height_mm=20),
                rules=ZoneRules(auto_fit=False, min_font_pt=8, max_font_pt=48, max_lines=3),
            ),
        ],
    )


GOOD_INPUTS = {
    "name": {"text": "Éloïse"},
    "date": "14.02.2024",
    "photo": {"asset_id": "ast_big"},
    "metal": {"color": "#000000"},
}
