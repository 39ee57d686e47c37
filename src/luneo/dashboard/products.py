"""Dashboard pages of the catalog: the product list and form, duplicate and archive, mockup and
3D model uploads, and the visual zone editor with its live preview.

Every write goes through `luneo.catalog.public` (the service functions the JSON API uses), inside
a savepoint: a refused change (422 with the service's field errors) never leaves a partial write.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from babel.numbers import get_currency_precision
from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from luneo.catalog import public as catalog
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.design.fonts import BUNDLED_FONTS
from luneo.design.model import ColourInput, TextInput
from luneo.design.print_checks import default_thin_stroke
from luneo.design.spec import build_spec
from luneo.designs import public as designs
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.rendering import public as rendering

ReadPage = Annotated[Page, page_dep("catalog:read")]
WritePage = Annotated[Page, page_dep("catalog:write", write=True)]
FormPage = Annotated[Page, page_dep("catalog:write", write=False)]

METHODS = ("print", "engrave", "laser_cut", "embroider")
STATUSES = catalog.PRODUCT_STATUSES
LIST_LIMIT = 100
T = TypeVar("T")
_ZONES = TypeAdapter(list[catalog.ZoneIn])


class Refused(Exception):
    """A change the catalog refused: field errors (`{field: message}`) and a summary."""

    def __init__(self, detail: str, errors: dict[str, str]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    """Form-field errors by the field's name (`palette.2` is shown next to `palette`)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ("form",)
        out.setdefault(str(loc[0]), str(err.get("msg", "invalid")))
    return out


def _domain_errors(exc: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.extra.get("errors") or []:
        out.setdefault(str(err.get("field") or ".".join(err.get("loc") or [])), str(err.get("message")))
    if not out and exc.code == "sku_taken":
        out["sku"] = exc.detail or ""
    return out


@contextmanager
def _savepoint(page: Page) -> Iterator[None]:
    """Run a catalog write in a savepoint: a `DomainError` undoes all of it and becomes `Refused`."""
    try:
        with page.session.begin_nested():
            yield
    except NotFoundError:
        raise
    except DomainError as exc:
        raise Refused(exc.detail or exc.code, _domain_errors(exc)) from exc


def _attempt(page: Page, fn: Callable[[], T]) -> T:
    with _savepoint(page):
        return fn()


def actor(page: Page) -> str | None:
    """Who is acting (recorded on uploads)."""
    return page.principal.actor if page.principal is not None else None


def _read(file: StarletteUpload) -> bytes:
    return file.file.read(get_settings().max_body_bytes + 1)


# --------------------------------------------------------------------------- list


@router.get("/products")
def product_list(page: ReadPage, status: str = "", q: str = "") -> Response:
    """The brand's products with their thumbnail, SKU, method, price, zones and status."""
    listing = catalog.list_products(
        page.session, status=status if status in STATUSES else None, q=q[:200] or None, limit=LIST_LIMIT
    )
    products = listing.data
    assets = catalog.assets_by_id(page.session, [p.mockup_asset_id for p in products if p.mockup_asset_id])
    thumbs = {
        p.id: catalog.asset_url(assets[p.mockup_asset_id]) for p in products if p.mockup_asset_id in assets
    }
    return page.render(
        "products/list.html",
        products=products,
        thumbs=thumbs,
        status=status,
        q=q,
        statuses=STATUSES,
        more=listing.next_cursor is not None,
    )


# --------------------------------------------------------------------------- form


def _minor_units(price: str, currency: str) -> int:
    digits = get_currency_precision(currency) if len(currency) == 3 else 2
    try:
        value = Decimal(price.replace(",", ".").strip() or "0")
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if value < 0 or value != value.quantize(Decimal(1).scaleb(-digits)):
        raise ValueError("bad precision")
    return int(value.scaleb(digits))


def _major_units(minor: int, currency: str) -> str:
    digits = get_currency_precision(currency)
    return str(Decimal(minor).scaleb(-digits)) if digits else str(minor)


def _form_values(product: Any | None) -> dict[str, Any]:
    if product is None:
        return {
            "sku": "",
            "name": "",
            "description": "",
            "status": "draft",
            "price": "0",
            "currency": "EUR",
            "width_mm": "",
            "height_mm": "",
            "production_method": "print",
            "bleed_mm": "0",
            "cmyk_profile": "",
            "palette": [],
        }
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "status": product.status,
        "price": _major_units(product.price_cents, product.currency),
        "currency": product.currency,
        "width_mm": f"{product.width_mm:g}",
        "height_mm": f"{product.height_mm:g}",
        "production_method": product.production_method,
        "bleed_mm": f"{product.bleed_mm:g}",
        "cmyk_profile": product.cmyk_profile or "coated",
        "palette": list(product.palette or []),
    }


_FORM_FIELDS = frozenset(
    {"sku", "name", "description", "status", "price_cents", "currency", "width_mm", "height_mm"}
    | {"production_method", "bleed_mm", "cmyk_profile", "palette", "mockup", "model3d"}
)
CMYK_PROFILES = ("coated", "uncoated")


def _cmyk_output(product: Any | None) -> bool:
    """Whether the product prints in CMYK: then its output profile is chosen on the form."""
    return product is not None and product.production_method == "print" and product.color_mode == "cmyk"


def _render_form(
    page: Page,
    product: Any | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    assets = catalog.assets_by_id(
        page.session, [product.mockup_asset_id, product.model3d_asset_id] if product is not None else []
    )
    mockup = assets.get(product.mockup_asset_id) if product is not None and product.mockup_asset_id else None
    model = assets.get(product.model3d_asset_id) if product is not None and product.model3d_asset_id else None
    return page.render(
        "products/form.html",
        status_code=status_code,
        product=product,
        values=values,
        errors=errors or {},
        other_errors={k: v for k, v in (errors or {}).items() if k not in _FORM_FIELDS},
        alert=alert,
        methods=METHODS,
        statuses=STATUSES,
        cmyk_profiles=CMYK_PROFILES if _cmyk_output(product) else (),
        mockup_url=catalog.asset_url(mockup) if mockup is not None else None,
        model_name=(model.original_filename or model.id) if model is not None else None,
        can_write=page.can("catalog:write"),
    )


def _validated(page: Page, model: type[T], values: dict[str, Any]) -> T:
    """The form as the API's `model` (`ProductIn`/`ProductPatch`); `Refused` with every field's error."""
    fields, errors = _product_fields(values, page)
    try:
        data = model.model_validate({**fields, "sku": values["sku"]})  # type: ignore[attr-defined]
    except ValidationError as exc:
        for k, v in _pydantic_errors(exc).items():
            errors.setdefault(k, v)
        raise Refused(page.gettext("Some fields need your attention."), errors) from exc
    if errors:
        raise Refused(page.gettext("Some fields need your attention."), errors)
    return data


def _product_fields(values: dict[str, Any], page: Page) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's product fields from the form (price in minor units) and the numbers' errors."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "status": values["status"],
        "currency": values["currency"].upper(),
        "production_method": values["production_method"],
        "palette": [c for c in values["palette"] if c],
    }
    if values.get("cmyk_profile"):  # only on the form of a CMYK print product; else left as it is
        fields["cmyk_profile"] = values["cmyk_profile"]
    try:
        fields["price_cents"] = _minor_units(values["price"], fields["currency"])
    except ValueError:
        errors["price_cents"] = page.gettext("Enter a price such as 12.50.")
    for name in ("width_mm", "height_mm", "bleed_mm"):
        try:
            fields[name] = float(str(values[name]).replace(",", "."))
        except ValueError:
            errors[name] = page.gettext("Enter a number of millimetres.")
    return fields, errors


def _values_from_form(remove: list[int], new: str, **form: Any) -> dict[str, Any]:
    kept = [c for i, c in enumerate(form["palette"]) if c and i not in remove]
    return {**form, "palette": [*kept, *([new.strip()] if new.strip() else [])][:64]}


Text = Annotated[str, Form(max_length=200)]


def _read_form(
    sku: Annotated[str, Form(max_length=100)] = "",
    name: Text = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    status: Annotated[str, Form(max_length=12)] = "draft",
    price: Annotated[str, Form(max_length=20)] = "0",
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    width_mm: Annotated[str, Form(max_length=20)] = "",
    height_mm: Annotated[str, Form(max_length=20)] = "",
    production_method: Annotated[str, Form(max_length=16)] = "print",
    bleed_mm: Annotated[str, Form(max_length=20)] = "0",
    cmyk_profile: Annotated[str, Form(max_length=12)] = "",
    palette: Annotated[list[str] | None, Form(max_length=64)] = None,
    palette_remove: Annotated[list[int] | None, Form()] = None,
    palette_new: Annotated[str, Form(max_length=7)] = "",
) -> dict[str, Any]:
    return _values_from_form(
        palette_remove or [],
        palette_new,
        sku=sku,
        name=name,
        description=description,
        status=status,
        price=price,
        currency=currency,
        width_mm=width_mm,
        height_mm=height_mm,
        production_method=production_method,
        bleed_mm=bleed_mm,
        cmyk_profile=cmyk_profile,
        palette=[c[:7] for c in (palette or [])],
    )


ProductForm = Annotated[dict[str, Any], Depends(_read_form)]


@router.get("/products/new")
def product_new(page: FormPage) -> Response:
    """An empty product form."""
    return _render_form(page, None, _form_values(None))


@router.post("/products/new")
def product_create(page: WritePage, values: ProductForm) -> Response:
    """Create the product (the API's validation); on success go to its zone editor."""
    try:
        data = _validated(page, catalog.ProductIn, values)
        product = _attempt(page, lambda: catalog.create_product(page.session, data))
    except Refused as exc:
        return _render_form(page, None, values, exc.errors, exc.detail, status_code=422)
    return page.redirect(f"/dashboard/products/{product.id}/zones")


@router.get("/products/{product_id}")
def product_edit(page: ReadPage, product_id: str) -> Response:
    """The product's form (read-only for a role that cannot write)."""
    product = catalog.get_product(page.session, product_id)
    return _render_form(page, product, _form_values(product))


@router.post("/products/{product_id}")
def product_update(page: WritePage, product_id: str, values: ProductForm) -> Response:
    """Save the product's fields (its version goes up when anything changed)."""
    product = catalog.get_product(page.session, product_id)
    try:
        patch = _validated(page, catalog.ProductPatch, values)
        _attempt(page, lambda: catalog.update_product(page.session, product.id, patch))
    except Refused as exc:
        return _render_form(page, product, values, exc.errors, exc.detail, status_code=422)
    return page.redirect(f"/dashboard/products/{product.id}?saved=1")


@router.post("/products/{product_id}/duplicate")
def product_duplicate(page: WritePage, product_id: str) -> Response:
    """A draft copy with its zones, then its form."""
    copy = _attempt(page, lambda: catalog.duplicate_product(page.session, product_id))
    return page.redirect(f"/dashboard/products/{copy.id}")


@router.post("/products/{product_id}/archive")
def product_archive(page: WritePage, product_id: str) -> Response:
    """Archive (hidden from the widget, kept for orders) or restore as a draft."""
    product = catalog.get_product(page.session, product_id)
    status = "draft" if product.status == "archived" else "archived"
    patch = catalog.ProductPatch(status=status)
    _attempt(page, lambda: catalog.update_product(page.session, product.id, patch))
    return page.redirect("/dashboard/products")


@router.post("/products/{product_id}/mockup")
def product_mockup(page: WritePage, product_id: str, file: Annotated[UploadFile, File()]) -> Response:
    """Upload the product photo; its whole image is the print area until placed in the mockup editor."""
    product = catalog.get_product(page.session, product_id)

    def save() -> None:
        asset = catalog.create_asset(
            page.session, _read(file), filename=file.filename, kind="mockup", created_by=actor(page)
        )
        w, h = asset.width_px or 1, asset.height_px or 1
        mockup = catalog.MockupIn(asset_id=asset.id, corners=[(0, 0), (w, 0), (w, h), (0, h)])
        catalog.update_product(page.session, product.id, catalog.ProductPatch(mockup=mockup))

    try:
        _attempt(page, save)
    except Refused as exc:
        return _render_form(page, product, _form_values(product), {"mockup": exc.detail}, exc.detail, 422)
    return page.redirect(f"/dashboard/products/{product.id}/mockup?uploaded=1")


@router.post("/products/{product_id}/model")
def product_model(page: WritePage, product_id: str, file: Annotated[UploadFile, File()]) -> Response:
    """Upload a GLB 3D model for the product."""
    product = catalog.get_product(page.session, product_id)

    def save() -> None:
        asset = catalog.create_asset(
            page.session, _read(file), filename=file.filename, kind="model", created_by=actor(page)
        )
        model = catalog.Model3DIn(kind="glb", asset_id=asset.id)
        catalog.update_product(page.session, product.id, catalog.ProductPatch(model3d=model))

    try:
        _attempt(page, save)
    except Refused as exc:
        return _render_form(page, product, _form_values(product), {"model3d": exc.detail}, exc.detail, 422)
    return page.redirect(f"/dashboard/products/{product.id}?saved=1")


# --------------------------------------------------------------------------- zone editor


def _zone_json(zone: Any) -> dict[str, Any]:
    return {
        "key": zone.key,
        "label": zone.label,
        "kind": zone.kind,
        "sort_order": zone.sort_order,
        "geometry": zone.geometry,
        "rules": zone.rules or {},
        "default_font": zone.default_font,
        "default_color": zone.default_color,
        "role": zone.role,
        "sample": zone.sample,
    }


def _fonts(page: Page) -> list[dict[str, str]]:
    bundled = [
        {"id": f.id, "name": f"{f.family} {f.style}".strip()}
        for f in BUNDLED_FONTS.values()
        if f.role == "primary"
    ]
    brand = catalog.list_brand_fonts(page.session, limit=100).data
    return [*bundled, *({"id": f.id, "name": f"{f.family} {f.style}".strip()} for f in brand)]


def _render_editor(
    page: Page,
    product: Any,
    zones: list[dict[str, Any]],
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    assets = catalog.assets_by_id(page.session, [product.mockup_asset_id] if product.mockup_asset_id else [])
    mockup = assets.get(product.mockup_asset_id or "")
    config = {
        "width_mm": product.width_mm,
        "height_mm": product.height_mm,
        "bleed_mm": product.bleed_mm,
        "shape": product.shape,
        "mockup_url": catalog.asset_url(mockup) if mockup is not None else None,
        "mockup_corners": (product.mockup or {}).get("corners"),
        "mockup_size": [(product.mockup or {}).get("width_px"), (product.mockup or {}).get("height_px")],
        "palette": list(product.palette or []),
        "fonts": _fonts(page),
        "errors": errors or {},
    }
    return page.render(
        "products/zones.html",
        status_code=status_code,
        product=product,
        zones_json=json.dumps(zones),
        config_json=json.dumps(config).replace("</", "<\\/"),
        errors=errors or {},
        alert=alert,
        can_write=page.can("catalog:write"),
        thin_stroke_default=default_thin_stroke(product.production_method),
    )


def _parse_zones(raw: str, page: Page) -> list[catalog.ZoneIn]:
    try:
        data = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        raise Refused(page.gettext("The zones could not be read."), {"zones": str(exc)}) from exc
    if not isinstance(data, list):
        raise Refused(page.gettext("The zones could not be read."), {"zones": "expected a list"})
    try:
        zones = _ZONES.validate_python(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            if loc and isinstance(loc[0], int) and loc[0] < len(data) and isinstance(data[loc[0]], dict):
                loc[0] = str(data[loc[0]].get("key") or loc[0])
            errors.setdefault(".".join(["zones", *map(str, loc)]), str(err.get("msg", "invalid")))
        raise Refused(page.gettext("Some zones need your attention."), errors) from exc
    return zones


@router.get("/products/{product_id}/zones")
def zone_editor(page: ReadPage, product_id: str) -> Response:
    """The visual zone editor over the product's print area, with the live preview."""
    product = catalog.get_product(page.session, product_id)
    return _render_editor(page, product, [_zone_json(z) for z in product.zones])


@router.post("/products/{product_id}/zones")
def zone_save(
    page: WritePage, product_id: str, zones: Annotated[str, Form(max_length=500_000)] = "[]"
) -> Response:
    """Replace the product's zones with the posted list, validated as a whole (422: nothing written)."""
    product = catalog.get_product(page.session, product_id)
    try:
        parsed = _parse_zones(zones, page)
        _attempt(page, lambda: catalog.replace_zones(page.session, product.id, parsed))
    except Refused as exc:
        try:
            posted = json.loads(zones)
        except json.JSONDecodeError:
            posted = [_zone_json(z) for z in product.zones]
        return _render_editor(page, product, posted, exc.errors, exc.detail, status_code=422)
    return page.redirect(f"/dashboard/products/{product.id}/zones?saved=1")


def _sample_inputs(zones: list[catalog.ZoneIn], sample: str) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for z in zones:
        if z.kind == "text":
            text = (z.sample.text if z.sample and z.sample.text else None) or sample or z.label or z.key
            inputs[z.key] = TextInput(text=text, font=z.default_font, color=z.default_color)
    return inputs


@router.post("/products/{product_id}/zones/preview")
def zone_preview(
    page: ReadPage,
    product_id: str,
    zones: Annotated[str, Form(max_length=500_000)] = "[]",
    sample: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The draft zones rendered with sample text by the real pipeline (an HTMX partial)."""
    product = catalog.get_product(page.session, product_id)
    problems: list[str] = []
    image = None
    try:
        parsed = _parse_zones(zones, page)
        definition = _attempt(page, lambda: catalog.draft_product_def(page.session, product.id, parsed))
    except Refused as exc:
        problems = [f"{k}: {v}" for k, v in exc.errors.items()] or [exc.detail]
    else:
        res = designs.BrandResources(page.session)
        words = res.word_lists()
        built = build_spec(
            definition,
            _sample_inputs(parsed, sample.strip()),
            font_sha_lookup=res.font_sha,
            font_data_lookup=res.font_bytes,
            blocked_words=words["blocked_words"],
            allowed_words=words["allowed_words"],
        )
        if built.spec is None or built.spec_hash is None:
            problems = [f"{v.zone or '—'}: {v.message}" for v in built.violations]
        else:
            png = rendering.render_preview_png(page.session, built.spec, built.spec_hash, width=480)
            image = "data:image/png;base64," + base64.b64encode(png).decode()
    return page.render("products/_preview.html", image=image, problems=problems)


# --------------------------------------------------------------------------- mockup editor

WRAP_FIELDS = ("left_px", "right_px", "top_px", "bottom_px", "top_curve_px", "bottom_curve_px")
WRAP_ANGLES = ("arc_deg", "facing_deg")
EFFECTS = ("print", "engrave", "embroidery")
MAPS = ("shading", "displacement")
MOCKUP_PREVIEW_MAX_PX = 720
_FIELD_LIMIT = 40


def _num(value: Any) -> str:
    return f"{float(value):g}"


def _placement_values(product: Any) -> dict[str, Any]:
    """The editor's fields from the product's saved mockup (an old affine placement becomes corners)."""
    m: dict[str, Any] = product.mockup or {}
    w, h = float(m.get("width_px") or 0), float(m.get("height_px") or 0)
    corners = m.get("corners")
    if corners is None and m.get("px_per_mm"):
        ppm, ox, oy = (
            float(m["px_per_mm"]),
            float(m.get("offset_x_px") or 0),
            float(m.get("offset_y_px") or 0),
        )
        pw, ph = product.width_mm * ppm, product.height_mm * ppm
        corners = [[ox, oy], [ox + pw, oy], [ox + pw, oy + ph], [ox, oy + ph]]
    if corners is None:
        corners = [[0, 0], [w, 0], [w, h], [0, h]]
    wrap = m.get("wrap") or {
        "left_px": round(w * 0.2),
        "right_px": round(w * 0.8),
        "top_px": round(h * 0.25),
        "bottom_px": round(h * 0.75),
        "top_curve_px": 0,
        "bottom_curve_px": 0,
        "arc_deg": 180,
        "facing_deg": 0,
    }
    return {
        "placement": "wrap" if m.get("wrap") else "corners",
        "corners": [[_num(x), _num(y)] for x, y in corners],
        **{k: _num(wrap.get(k) or 0) for k in (*WRAP_FIELDS, *WRAP_ANGLES)},
        "effect": m.get("effect") or "",
        "engrave_tone": m.get("engrave_tone") or "darken",
        "displacement_px": _num(m.get("displacement_px") or 0),
    }


def _field_of(loc: str) -> str:
    """The editor's field for an API error location (`mockup.corners.1` → `corner_1`)."""
    parts = loc.removeprefix("mockup").strip(".").split(".") if loc else []
    if not parts or parts == [""]:
        return "placement"
    if parts[0] == "corners":
        return f"corner_{parts[1]}" if len(parts) > 1 and parts[1].isdigit() else "corners"
    if parts[0] == "wrap":
        return parts[1] if len(parts) > 1 and parts[1] in (*WRAP_FIELDS, *WRAP_ANGLES) else "wrap"
    if parts[0] in ("shading_asset_id", "displacement_asset_id"):
        return parts[0].removesuffix("_asset_id")
    if parts[0] in ("asset_id", "width_px", "height_px"):
        return "mockup"
    return parts[0]


def _render_mockup(
    page: Page,
    product: Any,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    m: dict[str, Any] = product.mockup or {}
    ids = [
        i for i in (product.mockup_asset_id, m.get("shading_asset_id"), m.get("displacement_asset_id")) if i
    ]
    assets = catalog.assets_by_id(page.session, ids)
    photo = assets.get(product.mockup_asset_id or "")
    maps = {
        name: catalog.asset_url(assets[m[f"{name}_asset_id"]])
        for name in MAPS
        if m.get(f"{name}_asset_id") in assets
    }
    can_write = page.can("catalog:write")
    config = None
    if photo is not None:
        config = {
            "width_px": m.get("width_px") or photo.width_px,
            "height_px": m.get("height_px") or photo.height_px,
            "image_url": catalog.asset_url(photo),
            "corners": m.get("corners") or [[float(x), float(y)] for x, y in values["corners"]],
            "can_write": can_write,
        }
    return page.render(
        "products/mockup.html",
        status_code=status_code,
        product=product,
        values=values,
        errors=errors or {},
        alert=alert,
        photo_url=config["image_url"] if config else None,
        config=config,
        config_json=json.dumps(config).replace("</", "<\\/") if config else "",
        wrap_fields=WRAP_FIELDS,
        effects=EFFECTS,
        maps=maps,
        can_write=can_write,
    )


async def _read_mockup_form(request: Request) -> dict[str, Any]:
    """The editor's posted fields (text, each at most a few characters) and its map uploads."""
    form = await request.form()
    text = {k: v[:_FIELD_LIMIT] for k, v in form.items() if isinstance(v, str)}
    files = {
        name: f
        for name in MAPS
        if isinstance(f := form.get(name), StarletteUpload) and f.filename and f.size != 0
    }
    values: dict[str, Any] = {
        "placement": "wrap" if text.get("placement") == "wrap" else "corners",
        "corners": [[text.get(f"corner_{i}_{a}", "") for a in "xy"] for i in range(4)],
        **{k: text.get(k, "") for k in (*WRAP_FIELDS, *WRAP_ANGLES, "displacement_px")},
        "effect": text.get("effect", "") if text.get("effect", "") in EFFECTS else "",
        "engrave_tone": "lighten" if text.get("engrave_tone") == "lighten" else "darken",
        "remove": [name for name in MAPS if text.get(f"remove_{name}")],
        "files": files,
    }
    return values


MockupForm = Annotated[dict[str, Any], Depends(_read_mockup_form)]


def _number(raw: str, field: str, errors: dict[str, str], page: Page, default: float | None = None) -> float:
    text = raw.replace(",", ".").strip()
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        errors.setdefault(field, page.gettext("Enter a number of pixels."))
        return 0.0
    if value != value or value in (float("inf"), float("-inf")):
        errors.setdefault(field, page.gettext("Enter a number of pixels."))
        return 0.0
    return value


def _mockup_in(page: Page, product: Any, values: dict[str, Any]) -> catalog.MockupIn:
    """The API's `MockupIn` from the editor's fields (maps uploaded now); `Refused` with field errors."""
    m: dict[str, Any] = product.mockup or {}
    if not product.mockup_asset_id:
        message = page.gettext("Upload a product photo first.")
        raise Refused(message, {"mockup": message})
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "asset_id": product.mockup_asset_id,
        "width_px": m.get("width_px"),
        "height_px": m.get("height_px"),
    }
    if values["placement"] == "wrap":
        wrap = {k: _number(values[k], k, errors, page, 0.0 if "curve" in k else None) for k in WRAP_FIELDS}
        wrap["arc_deg"] = _number(values["arc_deg"], "arc_deg", errors, page)
        wrap["facing_deg"] = _number(values["facing_deg"], "facing_deg", errors, page, 0.0)
        data["wrap"] = wrap
    else:
        data["corners"] = [
            (
                _number(x, f"corner_{i}", errors, page),
                _number(y, f"corner_{i}", errors, page),
            )
            for i, (x, y) in enumerate(values["corners"])
        ]
    data["displacement_px"] = _number(values["displacement_px"], "displacement_px", errors, page, 0.0)
    data["effect"] = values["effect"] or None
    data["engrave_tone"] = values["engrave_tone"]
    for name in MAPS:
        upload: StarletteUpload | None = values["files"].get(name)
        if upload is not None:
            try:
                asset = catalog.create_asset(
                    page.session,
                    _read(upload),
                    filename=upload.filename,
                    kind="mockup",
                    created_by=actor(page),
                )
            except DomainError as exc:
                errors[name] = exc.detail or exc.code
                continue
            data[f"{name}_asset_id"] = asset.id
        elif name not in values["remove"] and m.get(f"{name}_asset_id"):
            data[f"{name}_asset_id"] = m[f"{name}_asset_id"]
    if errors:
        raise Refused(page.gettext("Some fields need your attention."), errors)
    try:
        return catalog.MockupIn.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc") or ())
            errors.setdefault(_field_of(loc), str(err.get("msg", "invalid")))
        raise Refused(page.gettext("Some fields need your attention."), errors) from exc


@router.get("/products/{product_id}/mockup")
def mockup_editor(page: ReadPage, product_id: str) -> Response:
    """The product photo with its print area: corner handles (perspective) or a wrap region."""
    product = catalog.get_product(page.session, product_id)
    return _render_mockup(page, product, _placement_values(product))


@router.post("/products/{product_id}/mockup/placement")
def mockup_save(page: WritePage, product_id: str, values: MockupForm) -> Response:
    """Save the placement through the catalog's checks (422 with the fields' errors: nothing written)."""
    product = catalog.get_product(page.session, product_id)

    def save() -> None:
        mockup = _mockup_in(page, product, values)
        catalog.update_product(page.session, product.id, catalog.ProductPatch(mockup=mockup))

    try:
        _attempt(page, save)
    except Refused as exc:
        errors = {_field_of(k) if k.startswith("mockup") else k: v for k, v in exc.errors.items()}
        return _render_mockup(page, product, values, errors, exc.detail, status_code=422)
    return page.redirect(f"/dashboard/products/{product.id}/mockup?saved=1")


def _mockup_sample(product: Any) -> tuple[list[catalog.ZoneIn], dict[str, Any], list[str]]:
    """The product's zones and the brand's sample personalization for the mockup preview: each text
    zone's sample text (else its label), each colour zone's default colour. Zones left without a
    sample (photos: only a shopper's upload fills them) are made optional, and named."""
    zones: list[catalog.ZoneIn] = []
    inputs: dict[str, Any] = {}
    empty: list[str] = []
    palette = list(product.palette or [])
    for z in product.zones:
        data = _zone_json(z)
        colors = data["rules"].get("allowed_colors") or palette
        if z.kind == "text":
            text = (z.sample or {}).get("text") or z.label or z.key
            inputs[z.key] = TextInput(text=text, font=z.default_font, color=z.default_color)
        elif z.kind == "colour" and (z.default_color or colors):
            inputs[z.key] = ColourInput(color=z.default_color or colors[0])
        else:
            data["rules"] = {**data["rules"], "required": False}
            empty.append(z.label or z.key)
        zones.append(catalog.ZoneIn.model_validate(data))
    return zones, inputs, empty


@router.get("/products/{product_id}/mockup/preview")
def mockup_preview(page: ReadPage, product_id: str) -> Response:
    """The saved mockup rendered with the brand's sample design by the real pipeline (HTMX partial)."""
    product = catalog.get_product(page.session, product_id)
    if not product.mockup:
        return page.render("products/_preview.html", image=None, problems=[], mockup=True)
    zones, inputs, empty = _mockup_sample(product)
    try:
        definition = _attempt(page, lambda: catalog.draft_product_def(page.session, product.id, zones))
    except Refused as exc:
        problems = [f"{k}: {v}" for k, v in exc.errors.items()] or [exc.detail]
        return page.render("products/_preview.html", image=None, problems=problems, mockup=True)
    res = designs.BrandResources(page.session)
    words = res.word_lists()
    built = build_spec(
        definition,
        inputs,
        font_sha_lookup=res.font_sha,
        font_data_lookup=res.font_bytes,
        blocked_words=words["blocked_words"],
        allowed_words=words["allowed_words"],
    )
    if built.spec is None or built.spec_hash is None:
        problems = [f"{v.zone or '—'}: {v.message}" for v in built.violations]
        return page.render("products/_preview.html", image=None, problems=problems, mockup=True)
    width = min(MOCKUP_PREVIEW_MAX_PX, int(product.mockup.get("width_px") or MOCKUP_PREVIEW_MAX_PX))
    png = rendering.render_preview_png(page.session, built.spec, built.spec_hash, width=width, mockup=True)
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    return page.render("products/_preview.html", image=image, problems=[], mockup=True, empty=empty)
