"""Catalog use cases: products and zones, their pure `ProductDef`, brand fonts, assets.

Every function takes a tenant-bound `Session` (the guard scopes queries to one brand).
Public and stable for other domains: `get_product`, `get_product_by_sku`,
`get_product_by_external_id`, `product_def`, `product_def_of`, `get_asset`, `asset_url`,
`asset_bytes`, `asset_lookup`, `get_asset_by_sha256`, `store_derived_asset`, `create_shopper_upload`,
`font_data`, `is_asset_referenced`, `register_asset_reference_checker`,
`is_product_referenced`, `register_product_reference_checker`.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from cachetools import LRUCache, TTLCache
from pydantic import ValidationError
from sqlalchemy import event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from luneo.catalog import assets as upload_checks
from luneo.catalog import convert, shoppers
from luneo.catalog import fonts as font_checks
from luneo.catalog.error_codes import CatalogErrorCode
from luneo.catalog.events import PRODUCT_CHANGED
from luneo.catalog.models import Asset, BrandFont, Product, ProductMapping, ProductZone, ShopperGrant
from luneo.catalog.schemas import MAX_ZONES, MockupIn, Model3DIn, ProductIn, ProductPatch, ZoneIn, ZonePatch
from luneo.design.fonts import BUNDLED_FONTS
from luneo.design.model import ProductDef, ZoneGeometry, ZoneRules, quad_is_convex
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.events import publish
from luneo.platform.ids import new_id
from luneo.platform.pagination import Page, paginate
from luneo.platform.storage import get_storage
from luneo.platform.tenancy import get_or_404, session_brand, system_scope

ReferenceChecker = Callable[[Session, str], bool]
_ASSET_REF_CHECKERS: list[ReferenceChecker] = []
_PRODUCT_REF_CHECKERS: list[ReferenceChecker] = []


# --------------------------------------------------------------------------- reference hooks


def register_asset_reference_checker(fn: ReferenceChecker) -> ReferenceChecker:
    """Let another domain veto an asset's deletion: `fn(session, asset_id) -> True` when it is used."""
    if fn not in _ASSET_REF_CHECKERS:
        _ASSET_REF_CHECKERS.append(fn)
    return fn


def register_product_reference_checker(fn: ReferenceChecker) -> ReferenceChecker:
    """Let another domain veto a product's deletion (orders, snapshots…)."""
    if fn not in _PRODUCT_REF_CHECKERS:
        _PRODUCT_REF_CHECKERS.append(fn)
    return fn


@register_asset_reference_checker
def _used_by_products(session: Session, asset_id: str) -> bool:
    stmt = select(Product.id).where(
        or_(
            Product.mockup_asset_id == asset_id,
            Product.model3d_asset_id == asset_id,
            sa.cast(Product.mockup, sa.Text).contains(
                f'"{asset_id}"', autoescape=True
            ),  # shading, displacement
        )
    )
    return session.execute(stmt.limit(1)).first() is not None


def is_asset_referenced(session: Session, asset_id: str) -> bool:
    """Whether any registered domain (products' mockups and models, and others) uses the asset."""
    return any(check(session, asset_id) for check in _ASSET_REF_CHECKERS)


def is_product_referenced(session: Session, product_id: str) -> bool:
    return any(check(session, product_id) for check in _PRODUCT_REF_CHECKERS)


# --------------------------------------------------------------------------- helpers


def _errors(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [*prefix, *(str(p) for p in err.get("loc", ()))]
        out.append({"loc": loc, "field": ".".join(loc), "type": err.get("type"), "message": err.get("msg")})
    return out


def _violation(field: str, type_: str, message: str) -> dict[str, Any]:
    return {"loc": field.split("."), "field": field, "type": type_, "message": message}


def _font_known(session: Session, font_id: str) -> bool:
    if font_id in BUNDLED_FONTS:
        return True
    return session.execute(select(BrandFont.id).where(BrandFont.id == font_id)).first() is not None


def _check_zone_fonts(session: Session, zone: ProductZone, field: str) -> list[dict[str, Any]]:
    rules = ZoneRules.model_validate(zone.rules or {})
    wanted = [*([zone.default_font] if zone.default_font else []), *rules.allowed_fonts]
    bad = sorted({f for f in wanted if not _font_known(session, f)})
    errs = [_violation(f"{field}.fonts", "unknown_font", f"Unknown font {f!r}.") for f in bad]
    if zone.default_font and rules.allowed_fonts and zone.default_font not in rules.allowed_fonts:
        errs.append(
            _violation(
                f"{field}.default_font",
                "font_not_allowed",
                "default_font must be one of rules.allowed_fonts.",
            )
        )
    if (
        zone.default_color
        and rules.allowed_colors
        and zone.default_color.lower() not in {c.lower() for c in rules.allowed_colors}
    ):
        errs.append(
            _violation(
                f"{field}.default_color",
                "color_not_allowed",
                "default_color must be one of rules.allowed_colors.",
            )
        )
    return errs


def _check_bounds(product: Product, zone: ProductZone, field: str) -> list[dict[str, Any]]:
    g = ZoneGeometry.model_validate(zone.geometry)
    tol = product.bleed_mm + 1e-6
    w, h = product.width_mm, product.height_mm
    if g.shape == "arc":
        ok = -tol <= g.x_mm + g.width_mm / 2 <= w + tol and -tol <= g.y_mm + g.height_mm / 2 <= h + tol
        if g.radius_mm is not None and g.radius_mm <= 0:
            return [_violation(f"{field}.geometry.radius_mm", "invalid", "radius_mm must be > 0.")]
    else:
        ok = (
            g.x_mm >= -tol
            and g.y_mm >= -tol
            and g.x_mm + g.width_mm <= w + tol
            and g.y_mm + g.height_mm <= h + tol
        )
    if not ok:
        return [
            _violation(
                f"{field}.geometry",
                "zone_out_of_bounds",
                f"Zone {zone.key!r} does not fit on the {w:g}×{h:g} mm product.",
            )
        ]
    return []


def _asset_shas(session: Session, product: Product) -> dict[str, str]:
    maps = [(product.mockup or {}).get(k) for k in ("shading_asset_id", "displacement_asset_id")]
    ids = [i for i in (product.mockup_asset_id, product.model3d_asset_id, *maps) if i]
    if not ids:
        return {}
    return dict(session.execute(select(Asset.id, Asset.sha256).where(Asset.id.in_(ids))).all())


def _validate(session: Session, product: Product) -> ProductDef:
    """Check the product and its zones make a valid `ProductDef` (422 with field errors otherwise)."""
    errs: list[dict[str, Any]] = []
    half = min(product.width_mm, product.height_mm) / 2
    if product.shape == "rounded_rect" and product.corner_radius_mm > half:
        errs.append(
            _violation("corner_radius_mm", "too_large", "corner_radius_mm is at most half the shorter side.")
        )
    zones = list(product.zones)
    if len(zones) > MAX_ZONES:
        errs.append(_violation("zones", "too_many", f"A product has at most {MAX_ZONES} zones."))
    keys = [z.key for z in zones]
    if len(keys) != len(set(keys)):
        errs.append(_violation("zones", "duplicate_key", "Zone keys must be unique within a product."))
    for zone in zones:
        field = f"zones.{zone.key}"
        errs += _check_zone_fonts(session, zone, field)
        errs += _check_bounds(product, zone, field)
    if errs:
        raise DomainError(CatalogErrorCode.INVALID_PRODUCT, "The product definition is invalid.", errors=errs)
    try:
        return convert.product_def(product, zones, _asset_shas(session, product))
    except ValidationError as exc:
        raise DomainError(
            CatalogErrorCode.INVALID_PRODUCT, "The product definition is invalid.", errors=_errors(exc)
        ) from exc


def _touch(product: Product) -> None:
    product.version = (product.version or 1) + 1


def _changed(session: Session, product: Product) -> None:
    """Publish `catalog.product_changed` in this transaction (see `luneo.catalog.events`)."""
    payload = {"brand_id": product.brand_id, "product_id": product.id, "version": product.version}
    publish(session, PRODUCT_CHANGED, payload)


# --------------------------------------------------------------------------- mockups, models, mappings


def _mockup_image(session: Session, asset_id: str, field: str) -> Asset:
    asset = session.execute(select(Asset).where(Asset.id == asset_id)).scalar_one_or_none()
    if asset is None:
        raise DomainError(
            CatalogErrorCode.UNKNOWN_ASSET,
            f"Asset {asset_id} not found.",
            errors=[_violation(field, "unknown_asset", "No such asset.")],
        )
    if asset.content_type not in upload_checks.IMAGE_TYPES:
        raise DomainError(
            CatalogErrorCode.INVALID_MOCKUP,
            "A mockup must be an image asset.",
            errors=[_violation(field, "not_an_image", "The asset is not an image.")],
        )
    return asset


def _mockup_placement_errors(m: MockupIn, width: int, height: int) -> list[dict[str, Any]]:
    """Where the placement does not fit the photo (`width` × `height` px)."""
    given = [n for n in ("px_per_mm", "corners", "wrap") if getattr(m, n) is not None]
    if len(given) != 1:
        return [
            _violation(
                "mockup",
                "placement_required",
                "Give exactly one of corners, wrap or px_per_mm (with offsets).",
            )
        ]
    errs: list[dict[str, Any]] = []
    if m.corners is not None:
        for i, (x, y) in enumerate(m.corners):
            if not (0 <= x <= width and 0 <= y <= height):
                errs.append(
                    _violation(
                        f"mockup.corners.{i}",
                        "corner_outside_image",
                        f"Corner {i} ({x:g}, {y:g}) lies outside the {width} × {height} px image.",
                    )
                )
        if not errs and not quad_is_convex([(x, y) for x, y in m.corners]):
            errs.append(
                _violation(
                    "mockup.corners",
                    "degenerate_quad",
                    "The corners must make a convex quadrilateral with an area (top-left, top-right, "
                    "bottom-right, bottom-left; no three in a line, edges not crossing).",
                )
            )
    if m.wrap is not None:
        w = m.wrap
        if not (w.left_px >= 0 and w.right_px <= width and w.top_px >= 0 and w.bottom_px <= height):
            errs.append(
                _violation(
                    "mockup.wrap",
                    "wrap_outside_image",
                    f"The wrap region must lie inside the {width} × {height} px image.",
                )
            )
    return errs


def _mockup_json(session: Session, m: MockupIn) -> dict[str, Any]:
    asset = _mockup_image(session, m.asset_id, "mockup.asset_id")
    width, height = m.width_px or asset.width_px or 0, m.height_px or asset.height_px or 0
    errs = _mockup_placement_errors(m, width, height)
    if errs:
        raise DomainError(CatalogErrorCode.INVALID_MOCKUP, "The mockup placement is invalid.", errors=errs)
    out: dict[str, Any] = {
        "asset_id": asset.id,
        "width_px": width,
        "height_px": height,
        "offset_x_px": m.offset_x_px,
        "offset_y_px": m.offset_y_px,
        "px_per_mm": m.px_per_mm,
    }
    if m.corners is not None:
        out["corners"] = [[x, y] for x, y in m.corners]
    if m.wrap is not None:
        out["wrap"] = m.wrap.model_dump(mode="json")
    for name in ("shading_asset_id", "displacement_asset_id"):
        asset_id = getattr(m, name)
        if asset_id is not None:
            out[name] = _mockup_image(session, asset_id, f"mockup.{name}").id
    if m.displacement_px:
        out["displacement_px"] = m.displacement_px
    if m.effect is not None:
        out["effect"] = m.effect
    if m.engrave_tone != "darken":
        out["engrave_tone"] = m.engrave_tone
    return out


def _model3d_json(session: Session, m: Model3DIn) -> dict[str, Any]:
    if m.kind == "procedural":
        if m.shape is None or m.asset_id is not None:
            raise DomainError(
                CatalogErrorCode.INVALID_MODEL3D,
                "A procedural model names a shape and no asset.",
                errors=[_violation("model3d.shape", "missing", "shape is required for procedural models.")],
            )
        return {"kind": "procedural", "shape": m.shape, "asset_id": None, "print_material": m.print_material}
    if m.asset_id is None:
        raise DomainError(
            CatalogErrorCode.INVALID_MODEL3D,
            "A GLB model names an uploaded model asset.",
            errors=[_violation("model3d.asset_id", "missing", "asset_id is required for glb models.")],
        )
    asset = session.execute(select(Asset).where(Asset.id == m.asset_id)).scalar_one_or_none()
    if asset is None or asset.content_type not in upload_checks.MODEL_TYPES:
        raise DomainError(
            CatalogErrorCode.INVALID_MODEL3D,
            "The model asset does not exist or is not a GLB.",
            errors=[_violation("model3d.asset_id", "unknown_asset", "No such GLB asset.")],
        )
    return {"kind": "glb", "shape": None, "asset_id": asset.id, "print_material": m.print_material}


def _set_mockup(session: Session, product: Product, m: MockupIn | None) -> None:
    product.mockup = _mockup_json(session, m) if m is not None else None
    product.mockup_asset_id = product.mockup["asset_id"] if product.mockup else None


def _set_model3d(session: Session, product: Product, m: Model3DIn | None) -> None:
    product.model3d = _model3d_json(session, m) if m is not None else None
    product.model3d_asset_id = product.model3d["asset_id"] if product.model3d else None


def _sync_mappings(session: Session, product: Product, external_ids: dict[str, str]) -> None:
    """Keep `product_mappings` equal to the product's `external_ids` (409 if another product has one)."""
    wanted = {(k, str(v)) for k, v in external_ids.items()}
    for integration, ext in sorted(wanted):
        other = session.execute(
            select(ProductMapping.product_id).where(
                ProductMapping.integration == integration,
                ProductMapping.external_id == ext,
                ProductMapping.product_id != product.id,
            )
        ).first()
        if other is not None:
            raise DomainError(
                CatalogErrorCode.EXTERNAL_ID_TAKEN,
                f"{integration} id {ext} is mapped to another product.",
                integration=integration,
                external_id=ext,
            )
    current = {
        (m.integration, m.external_id): m
        for m in session.execute(
            select(ProductMapping).where(ProductMapping.product_id == product.id)
        ).scalars()
    }
    for key, row in current.items():
        if key not in wanted:
            session.delete(row)
    session.flush()
    for integration, ext in sorted(wanted - set(current)):
        session.add(ProductMapping(integration=integration, external_id=ext, product_id=product.id))
    product.external_ids = dict(sorted(external_ids.items()))


def _flush_unique(session: Session, code: CatalogErrorCode, detail: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise DomainError(code, detail) from exc


# --------------------------------------------------------------------------- products


def _zone_row(product: Product, z: ZoneIn) -> ProductZone:
    zone = ProductZone(
        key=z.key,
        label=z.label,
        kind=z.kind,
        sort_order=z.sort_order,
        geometry=z.geometry.model_dump(mode="json"),
        rules=z.rules.model_dump(mode="json"),
        default_font=z.default_font,
        default_color=z.default_color,
        role=z.role,
        sample=z.sample.model_dump(mode="json", exclude_none=True) if z.sample else None,
    )
    product.zones.append(zone)  # cascades the new zone into the session with its product
    return zone


_SIMPLE_FIELDS = (
    "sku",
    "name",
    "description",
    "status",
    "price_cents",
    "currency",
    "width_mm",
    "height_mm",
    "shape",
    "corner_radius_mm",
    "production_method",
    "bleed_mm",
    "crop_marks",
    "color_mode",
    "cmyk_profile",
    "output_dpi",
    "min_image_dpi",
    "min_stroke_mm",
    "background_color",
    "palette",
)


def _sku_taken(session: Session, sku: str, exclude: str | None = None) -> bool:
    stmt = select(Product.id).where(Product.sku == sku)
    if exclude:
        stmt = stmt.where(Product.id != exclude)
    return session.execute(stmt).first() is not None


def create_product(session: Session, data: ProductIn) -> Product:
    """Create a product (and its zones); 409 `sku_taken` if the brand already uses the SKU."""
    if _sku_taken(session, data.sku):
        raise DomainError(
            CatalogErrorCode.SKU_TAKEN, f"SKU {data.sku} is already used by another product.", sku=data.sku
        )
    with session.no_autoflush:
        product = Product(
            id=new_id("prd"), **{f: getattr(data, f) for f in _SIMPLE_FIELDS}, external_ids={}, version=1
        )
        product.palette = list(data.palette)
        _set_mockup(session, product, data.mockup)
        _set_model3d(session, product, data.model3d)
        for z in data.zones:
            _zone_row(product, z)
        _validate(session, product)
        session.add(product)
    _flush_unique(session, CatalogErrorCode.SKU_TAKEN, f"SKU {data.sku} is already used by another product.")
    _sync_mappings(session, product, data.external_ids)
    session.flush()
    return product


def update_product(session: Session, product_id: str, data: ProductPatch) -> Product:
    """Apply the fields sent; the product's `version` goes up when anything changes."""
    product = get_product(session, product_id)
    sent = data.model_dump(exclude_unset=True)
    non_nullable = set(_SIMPLE_FIELDS) - {"background_color"}
    nulls = [k for k in sent if sent[k] is None and k in non_nullable]
    if nulls:
        raise DomainError(
            CatalogErrorCode.INVALID_PRODUCT,
            "These fields cannot be null.",
            errors=[_violation(k, "null", f"{k} cannot be null.") for k in nulls],
        )
    if "sku" in sent and _sku_taken(session, sent["sku"], exclude=product.id):
        raise DomainError(
            CatalogErrorCode.SKU_TAKEN,
            f"SKU {sent['sku']} is already used by another product.",
            sku=sent["sku"],
        )
    before = _snapshot(product)
    with session.no_autoflush:
        for field in _SIMPLE_FIELDS:
            if field in sent:
                setattr(product, field, sent[field])
        if "mockup" in sent:
            _set_mockup(session, product, data.mockup)
        if "model3d" in sent:
            _set_model3d(session, product, data.model3d)
        _validate(session, product)
    _flush_unique(session, CatalogErrorCode.SKU_TAKEN, "This SKU is already used by another product.")
    if "external_ids" in sent:
        _sync_mappings(session, product, data.external_ids or {})
    if _snapshot(product) != before:
        _touch(product)
        _changed(session, product)
    session.flush()
    return product


def _snapshot(product: Product) -> tuple[Any, ...]:
    fields = tuple(getattr(product, f) for f in _SIMPLE_FIELDS)
    return (*fields, product.mockup, product.model3d, product.external_ids)


def delete_product(session: Session, product_id: str) -> None:
    """Delete a product with its zones and mappings; 409 when another domain still references it."""
    product = get_product(session, product_id)
    in_use = DomainError(
        CatalogErrorCode.PRODUCT_IN_USE,
        "The product is referenced (e.g. by carts or orders): archive it instead.",
    )
    if is_product_referenced(session, product.id):
        raise in_use
    try:
        with session.begin_nested():
            session.delete(product)
            session.flush()
    except IntegrityError as exc:
        # Cart lines and order items keep a foreign key to the product: the database is the
        # one registry every domain's references go through, whatever registers a checker.
        raise in_use from exc


def get_product(session: Session, product_id: str) -> Product:
    """A product of the session's brand (404 otherwise), zones loaded."""
    return get_or_404(session, Product, product_id, "product")


def get_product_by_sku(session: Session, sku: str) -> Product:
    """A product by SKU in the session's brand; raises `NotFoundError` (404) when there is none."""
    product = session.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()
    if product is None:
        raise NotFoundError("product", sku)
    return product


def get_product_by_external_id(session: Session, integration: str, external_id: str) -> Product | None:
    """The product mapped to an external store id (e.g. `("shopify", "7890")`), or None."""
    row = session.execute(
        select(ProductMapping.product_id).where(
            ProductMapping.integration == integration, ProductMapping.external_id == str(external_id)
        )
    ).first()
    return session.get(Product, row[0]) if row else None


def list_products(
    session: Session,
    *,
    status: str | None = None,
    production_method: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Product]:
    """Products newest first, filtered by status, production method and a name/SKU search."""
    stmt = select(Product)
    if status:
        stmt = stmt.where(Product.status == status)
    if production_method:
        stmt = stmt.where(Product.production_method == production_method)
    if q:
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(Product.name).like(pattern, escape="\\"),
                func.lower(Product.sku).like(pattern, escape="\\"),
            )
        )
    return paginate(session, stmt, Product, cursor, limit)


def product_def_of(session: Session, product: Product) -> ProductDef:
    """The pure definition of a loaded product row (what a DesignSpec embeds)."""
    return convert.product_def(product, list(product.zones), _asset_shas(session, product))


PRODUCT_VERSION_TTL_S = 2.0  # another process's product change shows within this long (this process: at once)
_product_defs: LRUCache[tuple[str, str, int], ProductDef] = LRUCache(4096)  # frozen models, tiny
_product_versions: TTLCache[tuple[str, str], int] = TTLCache(100_000, PRODUCT_VERSION_TTL_S)
_product_defs_lock = threading.Lock()
_CHANGED_PRODUCTS = "_catalog_changed_products"


def product_def(session: Session, product_id: str) -> ProductDef:
    """The pure `ProductDef` of a product of the session's brand (404 when missing/foreign).

    Cached per (brand, product, version): every change to a product or its zones bumps its
    `version`, so one indexed read of that column decides whether the cached definition holds.
    The version is remembered per (session's brand, product) for `PRODUCT_VERSION_TTL_S`, so a
    hot product needs no query at all; a product changed in this process is forgotten at once
    (and again after the commit), another process's change shows within the TTL.
    """
    brand_id = session_brand(session)
    if brand_id is not None:
        with _product_defs_lock:
            version = _product_versions.get((brand_id, product_id))
            cached = None if version is None else _product_defs.get((brand_id, product_id, version))
        if cached is not None:
            return cached
    row = session.execute(
        select(Product.brand_id, Product.version).where(Product.id == product_id)
    ).first()  # through the tenant guard: another brand's product is not found
    if row is None:
        raise NotFoundError("product", product_id)
    key = (row.brand_id, product_id, int(row.version or 1))
    with _product_defs_lock:
        found = _product_defs.get(key)
    if found is None:
        found = product_def_of(session, get_product(session, product_id))
        with _product_defs_lock:
            _product_defs[key] = found
    if brand_id is not None and brand_id == row.brand_id:  # a system session's read is not remembered
        with _product_defs_lock:
            _product_versions[(brand_id, product_id)] = key[2]
    return found


def forget_product_version(brand_id: str, product_id: str) -> None:
    """Drop the remembered version: the next `product_def` reads it again."""
    with _product_defs_lock:
        _product_versions.pop((brand_id, product_id), None)


@event.listens_for(Product, "after_update")
@event.listens_for(Product, "after_delete")
def _product_changed(_mapper: Any, _connection: Any, product: Product) -> None:
    session = object_session(product)
    if session is not None:
        session.info.setdefault(_CHANGED_PRODUCTS, set()).add((product.brand_id, product.id))
    forget_product_version(product.brand_id, product.id)


@event.listens_for(Session, "after_commit")
def _forget_committed_products(session: Session) -> None:
    """Forget again once the change is visible, so no request in between keeps the old version."""
    for brand_id, product_id in session.info.pop(_CHANGED_PRODUCTS, ()):
        forget_product_version(brand_id, product_id)


@event.listens_for(Session, "after_rollback")
def _drop_product_changes(session: Session) -> None:
    session.info.pop(_CHANGED_PRODUCTS, None)


# --------------------------------------------------------------------------- zones


def list_zones(session: Session, product_id: str) -> list[ProductZone]:
    return list(get_product(session, product_id).zones)


def get_zone(session: Session, product_id: str, zone_id: str) -> ProductZone:
    stmt = select(ProductZone).where(ProductZone.id == zone_id, ProductZone.product_id == product_id)
    zone = session.execute(stmt).scalar_one_or_none()
    if zone is None:
        raise NotFoundError("zone", zone_id)
    return zone


def create_zone(session: Session, product_id: str, data: ZoneIn) -> ProductZone:
    """Add a zone; 409 `zone_key_taken` when the product already has the key."""
    product = get_product(session, product_id)
    if any(z.key == data.key for z in product.zones):
        raise DomainError(
            CatalogErrorCode.ZONE_KEY_TAKEN, f"The product already has a zone {data.key!r}.", key=data.key
        )
    with session.no_autoflush:
        zone = _zone_row(product, data)
        _touch(product)
        _validate(session, product)
    _flush_unique(session, CatalogErrorCode.ZONE_KEY_TAKEN, f"The product already has a zone {data.key!r}.")
    _changed(session, product)
    return zone


def update_zone(session: Session, product_id: str, zone_id: str, data: ZonePatch) -> ProductZone:
    product = get_product(session, product_id)
    zone = get_zone(session, product.id, zone_id)
    sent = data.model_dump(exclude_unset=True)
    nulls = [
        k
        for k in ("key", "label", "kind", "sort_order", "geometry", "rules", "role")
        if k in sent and sent[k] is None
    ]
    if nulls:
        raise DomainError(
            CatalogErrorCode.INVALID_ZONE,
            "These fields cannot be null.",
            errors=[_violation(k, "null", f"{k} cannot be null.") for k in nulls],
        )
    if "key" in sent and any(z.key == sent["key"] and z.id != zone.id for z in product.zones):
        raise DomainError(
            CatalogErrorCode.ZONE_KEY_TAKEN,
            f"The product already has a zone {sent['key']!r}.",
            key=sent["key"],
        )
    with session.no_autoflush:
        for field in ("key", "label", "kind", "sort_order", "default_font", "default_color", "role"):
            if field in sent:
                setattr(zone, field, sent[field])
        if data.geometry is not None:
            zone.geometry = data.geometry.model_dump(mode="json")
        if data.rules is not None:
            zone.rules = data.rules.model_dump(mode="json")
        if "sample" in sent:  # null clears it
            zone.sample = data.sample.model_dump(mode="json", exclude_none=True) if data.sample else None
        _touch(product)
        _validate(session, product)
    _flush_unique(session, CatalogErrorCode.ZONE_KEY_TAKEN, "The product already has a zone with this key.")
    _changed(session, product)
    return zone


def delete_zone(session: Session, product_id: str, zone_id: str) -> None:
    product = get_product(session, product_id)
    zone = get_zone(session, product.id, zone_id)
    product.zones.remove(zone)
    _touch(product)
    session.flush()
    _changed(session, product)


# --------------------------------------------------------------------------- storage helpers


def _max_bytes() -> int:
    return get_settings().max_body_bytes


def _delete_blob_after_commit(session: Session, key: str) -> None:
    """Remove a stored object once the transaction commits, unless another row (any brand) uses it."""
    with system_scope(session):  # storage is content-addressed across brands (guard and RLS lifted)
        shared = (
            session.execute(
                select(func.count()).select_from(Asset).where(Asset.storage_key == key)
            ).scalar_one()
            + session.execute(
                select(func.count()).select_from(BrandFont).where(BrandFont.storage_key == key)
            ).scalar_one()
        )
    if shared:
        return

    def _delete(_session: Session) -> None:
        with contextlib.suppress(Exception):  # an orphan blob is harmless; a failed request is not
            get_storage().delete(key)

    sa.event.listen(session, "after_commit", _delete, once=True)


# --------------------------------------------------------------------------- assets


def asset_url(asset: Asset, *, expires_s: int | None = None, filename: str | None = None) -> str:
    """A short-lived signed URL of the asset's bytes."""
    return get_storage().url(
        asset.storage_key, expires_s=expires_s or get_settings().signed_url_ttl_s, filename=filename
    )


def get_asset_by_sha256(session: Session, sha256: str) -> Asset | None:
    return session.execute(select(Asset).where(Asset.sha256 == sha256)).scalar_one_or_none()


def _store_asset(
    session: Session,
    data: bytes,
    *,
    content_type: str,
    kind: str,
    width_px: int | None,
    height_px: int | None,
    filename: str | None,
    created_by: str | None,
) -> Asset:
    sha = hashlib.sha256(data).hexdigest()
    existing = get_asset_by_sha256(session, sha)
    if existing is not None:
        return existing
    stored = get_storage().put(data, content_type=content_type)
    asset = Asset(
        sha256=stored.sha256,
        storage_key=stored.key,
        content_type=content_type,
        size_bytes=stored.size,
        width_px=width_px,
        height_px=height_px,
        kind=kind,
        created_by=created_by,
        original_filename=(filename or "")[:255] or None,
    )
    try:
        with session.begin_nested():
            session.add(asset)
            session.flush()
    except IntegrityError:  # the same bytes uploaded concurrently: the other insert won
        found = get_asset_by_sha256(session, sha)
        if found is None:
            raise
        return found
    if kind in ("upload", "mockup"):
        publish(session, "asset.created", {"asset_id": asset.id, "brand_id": asset.brand_id, "kind": kind})
    return asset


def create_asset(
    session: Session,
    data: bytes,
    *,
    filename: str | None = None,
    kind: str = "upload",
    created_by: str | None = None,
) -> Asset:
    """Check and store an upload (`upload`/`mockup`: PNG/JPEG/WebP; `model`: GLB); same bytes ⇒ same asset."""
    if kind not in ("upload", "mockup", "model"):
        raise DomainError(CatalogErrorCode.INVALID_ASSET_KIND, "kind is upload, mockup or model.")
    checked = upload_checks.check_upload(data, kind=kind, max_bytes=_max_bytes())
    return _store_asset(
        session,
        checked.data,
        content_type=checked.content_type,
        kind=kind,
        width_px=checked.width_px,
        height_px=checked.height_px,
        filename=filename,
        created_by=created_by,
    )


def store_image_asset(
    session: Session,
    png: bytes,
    size: tuple[int, int],
    *,
    kind: str,
    filename: str | None = None,
    created_by: str | None = None,
) -> Asset:
    """Store a PNG the project made itself (demo mockups) as is: no upload checks, same bytes ⇒ same asset."""
    return _store_asset(
        session,
        png,
        content_type="image/png",
        kind=kind,
        width_px=size[0],
        height_px=size[1],
        filename=filename,
        created_by=created_by,
    )


def create_shopper_upload(
    session: Session, data: bytes, *, shopper: str, filename: str | None = None, created_by: str | None = None
) -> Asset:
    """A shopper's photo (widget): the upload checks with the lower shopper pixel cap, stored
    content-addressed and granted to `shopper` (only they, and the brand, read it by id)."""
    checked = upload_checks.check_upload(
        data, kind="upload", max_bytes=_max_bytes(), max_pixels=upload_checks.SHOPPER_MAX_PIXELS
    )
    asset = _store_asset(
        session,
        checked.data,
        content_type=checked.content_type,
        kind="upload",
        width_px=checked.width_px,
        height_px=checked.height_px,
        filename=filename,
        created_by=created_by,
    )
    shoppers.grant(session, shopper, "asset", asset.id)
    return asset


def store_derived_asset(
    session: Session,
    data: bytes,
    *,
    content_type: str,
    width_px: int | None = None,
    height_px: int | None = None,
    filename: str | None = None,
    created_by: str | None = None,
) -> Asset:
    """Store server-made bytes (AI output, renders) as a `derived` asset; same bytes ⇒ same asset."""
    return _store_asset(
        session,
        data,
        content_type=content_type,
        kind="derived",
        width_px=width_px,
        height_px=height_px,
        filename=filename,
        created_by=created_by,
    )


def get_asset(session: Session, asset_id: str) -> Asset:
    return get_or_404(session, Asset, asset_id, "asset")


def asset_bytes(session: Session, asset_id: str) -> bytes:
    """The stored bytes of an asset of the session's brand."""
    return get_storage().get(get_asset(session, asset_id).storage_key)


def asset_lookup(session: Session, asset_id: str) -> tuple[str, int, int] | None:
    """`(sha256, width_px, height_px)` of an image asset, None if unknown (the rules engine's AssetLookup)."""
    asset = session.execute(select(Asset).where(Asset.id == asset_id)).scalar_one_or_none()
    if asset is None or asset.width_px is None or asset.height_px is None:
        return None
    return asset.sha256, asset.width_px, asset.height_px


def list_assets(
    session: Session, *, kind: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[Asset]:
    stmt = select(Asset)
    if kind:
        stmt = stmt.where(Asset.kind == kind)
    return paginate(session, stmt, Asset, cursor, limit)


def delete_asset(session: Session, asset_id: str) -> None:
    """Delete an asset; 409 `asset_in_use` when a product (or another domain's checker) references it."""
    asset = get_asset(session, asset_id)
    if is_asset_referenced(session, asset.id):
        raise DomainError(
            CatalogErrorCode.ASSET_IN_USE,
            "The asset is in use (e.g. a product's mockup) and cannot be deleted.",
        )
    key = asset.storage_key
    session.execute(
        sa.delete(ShopperGrant).where(ShopperGrant.object_type == "asset", ShopperGrant.object_id == asset.id)
    )
    session.delete(asset)
    session.flush()
    _delete_blob_after_commit(session, key)


# --------------------------------------------------------------------------- fonts


def create_font(
    session: Session,
    data: bytes,
    *,
    filename: str | None = None,
    family: str | None = None,
    style: str | None = None,
    licence_note: str = "",
) -> BrandFont:
    """Check (and unwrap WOFF/WOFF2) an uploaded font and store it; same font twice ⇒ same font id."""
    checked = font_checks.check_font(data, max_bytes=_max_bytes())
    sha = hashlib.sha256(checked.data).hexdigest()
    existing = session.execute(select(BrandFont).where(BrandFont.sha256 == sha)).scalar_one_or_none()
    if existing is not None:
        return existing
    stored = get_storage().put(checked.data, content_type=f"font/{checked.format}")
    font = BrandFont(
        family=(family or checked.family)[:200],
        style=(style or checked.style)[:100],
        sha256=sha,
        storage_key=stored.key,
        format=checked.format,
        source_format=checked.source_format,
        size_bytes=stored.size,
        licence_note=licence_note,
        glyph_coverage=checked.glyph_coverage,
        original_filename=(filename or "")[:255] or None,
    )
    try:
        with session.begin_nested():
            session.add(font)
            session.flush()
    except IntegrityError:
        found = session.execute(select(BrandFont).where(BrandFont.sha256 == sha)).scalar_one_or_none()
        if found is None:
            raise
        return found
    return font


def list_brand_fonts(session: Session, *, cursor: str | None = None, limit: int = 50) -> Page[BrandFont]:
    return paginate(session, select(BrandFont), BrandFont, cursor, limit)


def get_brand_font(session: Session, font_id: str) -> BrandFont:
    return get_or_404(session, BrandFont, font_id, "font")


def font_data(session: Session, font_id: str) -> bytes | None:
    """TTF/OTF bytes of a brand font; None for bundled or unknown ids (the rules engine's FontDataLookup)."""
    if font_id in BUNDLED_FONTS:
        return None
    font = session.execute(select(BrandFont).where(BrandFont.id == font_id)).scalar_one_or_none()
    return get_storage().get(font.storage_key) if font is not None else None


def _zones_using_font(session: Session, font_id: str) -> list[str]:
    used = []
    for zone in session.execute(select(ProductZone)).scalars():
        rules = zone.rules or {}
        if zone.default_font == font_id or font_id in (rules.get("allowed_fonts") or []):
            used.append(zone.id)
    return used


def delete_font(session: Session, font_id: str) -> None:
    """Delete a brand font; 409 `font_in_use` while a zone offers it, `font_bundled` for bundled ids."""
    if font_id in BUNDLED_FONTS:
        raise DomainError(CatalogErrorCode.FONT_BUNDLED, "Bundled fonts cannot be deleted.")
    font = get_brand_font(session, font_id)
    used = _zones_using_font(session, font.id)
    if used:
        raise DomainError(
            CatalogErrorCode.FONT_IN_USE,
            "Zones still offer this font; remove it from them first.",
            zones=used[:20],
        )
    key = font.storage_key
    session.delete(font)
    session.flush()
    _delete_blob_after_commit(session, key)


# --------------------------------------------------------------------------- whole-product edits (dashboard)


def _draft(product: Product, zones: list[ZoneIn]) -> Product:
    """A transient copy of `product` with `zones` (never added to the session): what a save would make."""
    draft = Product(
        id=product.id,
        brand_id=product.brand_id,
        **{f: getattr(product, f) for f in _SIMPLE_FIELDS},
        mockup=product.mockup,
        mockup_asset_id=product.mockup_asset_id,
        model3d=product.model3d,
        model3d_asset_id=product.model3d_asset_id,
        external_ids={},
        version=product.version,
    )
    for z in zones:
        _zone_row(draft, z)
    return draft


def draft_product_def(session: Session, product_id: str, zones: list[ZoneIn]) -> ProductDef:
    """The `ProductDef` the product would have with `zones`, validated like a save; nothing is written."""
    return _validate(session, _draft(get_product(session, product_id), zones))


def replace_zones(session: Session, product_id: str, zones: list[ZoneIn]) -> Product:
    """Make the product's zones exactly `zones` (matched by key), all or nothing.

    The whole list is validated on a transient copy first, so an invalid list changes nothing
    (422 `invalid_product` with per-field errors). Zones keep their id while their key is kept.
    """
    product = get_product(session, product_id)
    keys = [z.key for z in zones]
    if len(zones) > MAX_ZONES:
        raise DomainError(
            CatalogErrorCode.INVALID_PRODUCT,
            "The product definition is invalid.",
            errors=[_violation("zones", "too_many", f"A product has at most {MAX_ZONES} zones.")],
        )
    if len(keys) != len(set(keys)):
        raise DomainError(
            CatalogErrorCode.INVALID_PRODUCT,
            "The product definition is invalid.",
            errors=[_violation("zones", "duplicate_key", "Zone keys must be unique within a product.")],
        )
    _validate(session, _draft(product, zones))
    current = {z.key: z for z in product.zones}
    with session.no_autoflush:
        for zone in list(product.zones):
            if zone.key not in keys:
                product.zones.remove(zone)
        for z in zones:
            row = current.get(z.key)
            if row is None:
                _zone_row(product, z)
                continue
            row.label, row.kind, row.sort_order, row.role = z.label, z.kind, z.sort_order, z.role
            row.geometry = z.geometry.model_dump(mode="json")
            row.rules = z.rules.model_dump(mode="json")
            row.default_font, row.default_color = z.default_font, z.default_color
            row.sample = z.sample.model_dump(mode="json", exclude_none=True) if z.sample else None
        _touch(product)
    session.flush()
    _changed(session, product)
    return product


def _free_sku(session: Session, sku: str) -> str:
    base = f"{sku[:90]}-copy"
    candidate, n = base, 1
    while _sku_taken(session, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def duplicate_product(session: Session, product_id: str, *, name: str | None = None) -> Product:
    """A draft copy of a product with its zones, under a free `<sku>-copy[-n]` SKU (no external ids)."""
    source = get_product(session, product_id)
    with session.no_autoflush:
        copy = Product(
            id=new_id("prd"),
            **{f: getattr(source, f) for f in _SIMPLE_FIELDS if f not in ("sku", "name", "status")},
            sku=_free_sku(session, source.sku),
            name=(name or f"{source.name} (copy)")[:200],
            status="draft",
            mockup=source.mockup,
            mockup_asset_id=source.mockup_asset_id,
            model3d=source.model3d,
            model3d_asset_id=source.model3d_asset_id,
            external_ids={},
            version=1,
        )
        copy.palette = list(source.palette or [])
        for z in source.zones:
            copy.zones.append(
                ProductZone(
                    key=z.key,
                    label=z.label,
                    kind=z.kind,
                    sort_order=z.sort_order,
                    geometry=dict(z.geometry),
                    rules=dict(z.rules or {}),
                    default_font=z.default_font,
                    default_color=z.default_color,
                    role=z.role,
                    sample=dict(z.sample) if z.sample else None,
                )
            )
        _validate(session, copy)
        session.add(copy)
    _flush_unique(session, CatalogErrorCode.SKU_TAKEN, "This SKU is already used by another product.")
    return copy


def assets_by_id(session: Session, asset_ids: list[str]) -> dict[str, Asset]:
    """The brand's assets among `asset_ids`, in one query (list pages' thumbnails)."""
    ids = sorted({i for i in asset_ids if i})
    if not ids:
        return {}
    return {a.id: a for a in session.execute(select(Asset).where(Asset.id.in_(ids))).scalars()}


def brand_font_coverage(font: BrandFont) -> list[tuple[str, int, int]]:
    """Characters a brand font covers per Unicode block (its file read only the first time)."""
    return font_checks.coverage_by_sha(font.sha256, lambda: get_storage().get(font.storage_key))
