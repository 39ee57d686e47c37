"""Dashboard pages of the brand's fonts (upload with a licence note, coverage by Unicode block, a
sample rendered in the font) and its assets library (images with previews, GLB models)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import File, Form, UploadFile
from fastapi.responses import Response
from PIL import Image, ImageDraw, ImageFont

from luneo.catalog import public as catalog
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.dashboard.products import Refused, _attempt, _read, actor
from luneo.design.fonts import BUNDLED_FONTS
from luneo.design.fonts import font_bytes as bundled_bytes
from luneo.platform.errors import Problem

ReadPage = Annotated[Page, page_dep("catalog:read")]
WritePage = Annotated[Page, page_dep("catalog:write", write=True)]

SAMPLE_TEXT = "Aa Éé Œœ Ąą ابج 123"
ASSET_KINDS = ("upload", "mockup", "model", "derived")


def _coverage(blocks: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    return [
        {"block": name, "mapped": mapped, "total": total, "pct": round(100 * mapped / total)}
        for name, mapped, total in blocks
    ]


def _render_fonts(
    page: Page, errors: dict[str, str] | None = None, alert: str | None = None, status_code: int = 200
) -> Response:
    bundled = [
        {
            "id": f.id,
            "family": f.family,
            "style": f.style,
            "source": "bundled",
            "licence": f.licence,
            "coverage": _coverage(catalog.block_coverage(bundled_bytes(f.id), f.sha256)),
        }
        for f in BUNDLED_FONTS.values()
    ]
    brand = []
    for f in catalog.list_brand_fonts(page.session, limit=100).data:
        brand.append(
            {
                "id": f.id,
                "family": f.family,
                "style": f.style,
                "source": "brand",
                "licence": f.licence_note,
                "coverage": _coverage(catalog.brand_font_coverage(f)),
                "filename": f.original_filename,
            }
        )
    return page.render(
        "products/fonts.html",
        status_code=status_code,
        fonts=[*brand, *bundled],
        errors=errors or {},
        alert=alert,
        can_write=page.can("catalog:write"),
    )


@router.get("/fonts")
def font_list(page: ReadPage) -> Response:
    """The brand's fonts and the bundled ones, with the characters each covers."""
    return _render_fonts(page)


@router.post("/fonts")
def font_upload(
    page: WritePage,
    file: Annotated[UploadFile, File()],
    family: Annotated[str, Form(max_length=200)] = "",
    licence_note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Upload a TTF, OTF, WOFF or WOFF2 font with its licence note."""
    try:
        _attempt(
            page,
            lambda: catalog.create_font(
                page.session,
                _read(file),
                filename=file.filename,
                family=family.strip() or None,
                licence_note=licence_note.strip(),
            ),
        )
    except Refused as exc:
        return _render_fonts(page, {"file": exc.detail}, exc.detail, status_code=422)
    return page.redirect("/dashboard/fonts?saved=1")


def _sample_png(data: bytes, text: str) -> bytes:
    font = ImageFont.truetype(io.BytesIO(data), 40)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("RGB", (max(1, int(right - left)) + 24, max(1, int(bottom - top)) + 24), "white")
    ImageDraw.Draw(img).text((12 - left, 12 - top), text, font=font, fill="#1d1b2f")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


@router.get("/fonts/{font_id}/sample.png")
def font_sample(page: ReadPage, font_id: str) -> Response:
    """A sample line rendered in the font (bundled or the brand's own)."""
    if font_id in BUNDLED_FONTS:
        data = bundled_bytes(font_id)
    else:
        catalog.get_brand_font(page.session, font_id)  # 404 for another brand's font
        data = catalog.font_data(page.session, font_id) or b""
    return Response(
        _sample_png(data, SAMPLE_TEXT),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )


# --------------------------------------------------------------------------- assets


def _render_assets(
    page: Page,
    kind: str,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    listing = catalog.list_assets(page.session, kind=kind if kind in ASSET_KINDS else None, limit=60)
    assets = [
        {
            "id": a.id,
            "url": catalog.asset_url(a),
            "is_image": a.content_type.startswith("image/"),
            "name": a.original_filename or a.id,
            "kind": a.kind,
            "content_type": a.content_type,
            "size": a.size_bytes,
            "width": a.width_px,
            "height": a.height_px,
            "created_at": a.created_at,
        }
        for a in listing.data
    ]
    return page.render(
        "products/assets.html",
        status_code=status_code,
        assets=assets,
        kind=kind,
        kinds=ASSET_KINDS,
        errors=errors or {},
        alert=alert,
        can_write=page.can("catalog:write"),
    )


@router.get("/assets")
def asset_list(page: ReadPage, kind: str = "") -> Response:
    """The brand's assets library with previews."""
    return _render_assets(page, kind)


@router.post("/assets")
def asset_upload(
    page: WritePage,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=12)] = "upload",
) -> Response:
    """Upload an image (PNG/JPEG/WebP) or a GLB model to the library."""
    if kind not in ("upload", "mockup", "model"):
        raise Problem(422, "invalid_asset_kind", "Choose upload, mockup or model.")
    try:
        _attempt(
            page,
            lambda: catalog.create_asset(
                page.session, _read(file), filename=file.filename, kind=kind, created_by=actor(page)
            ),
        )
    except Refused as exc:
        return _render_assets(page, "", {"file": exc.detail}, exc.detail, status_code=422)
    return page.redirect("/dashboard/assets?saved=1")


@router.get("/assets/{asset_id}")
def asset_detail(page: ReadPage, asset_id: str) -> Response:
    """One asset: its preview and what it is."""
    a = catalog.get_asset(page.session, asset_id)
    return page.render(
        "products/asset.html",
        asset={
            "id": a.id,
            "url": catalog.asset_url(a),
            "is_image": a.content_type.startswith("image/"),
            "name": a.original_filename or a.id,
            "kind": a.kind,
            "content_type": a.content_type,
            "size": a.size_bytes,
            "width": a.width_px,
            "height": a.height_px,
            "sha256": a.sha256,
            "created_at": a.created_at,
        },
    )
