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
from fastapi import Depends, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from luneo.catalog import public as catalog
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.design.fonts import BUNDLED_FONTS
from luneo.design.model import TextInput
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


def _read(file: UploadFile) -> bytes:
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
        "palette": list(product.palette or []),
    }


_FORM_FIELDS = frozenset(
    {"sku", "name", "description", "status", "price_cents", "currency", "width_mm", "height_mm"}
    | {"production_method", "bleed_mm", "palette", "mockup", "model3d"}
)


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
    """Upload the product photo; its whole image is the print area until placed more precisely."""
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
    return page.redirect(f"/dashboard/products/{product.id}?saved=1")


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
