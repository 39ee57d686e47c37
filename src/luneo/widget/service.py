"""Widget use cases: a product's public configuration, shopper photo uploads."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cachetools import LRUCache, TTLCache
from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from luneo.catalog import public as catalog
from luneo.catalog.public import Asset, BrandFont
from luneo.design.fonts import BUNDLED_FONTS
from luneo.designs import public as designs
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.rendering import public as rendering
from luneo.widget.schemas import (
    WidgetConfig,
    WidgetFont,
    WidgetProduct,
    WidgetSample,
    WidgetSamplePreview,
    WidgetTemplate,
    WidgetZone,
)


def widget_config(session: Session, product_id: str) -> WidgetConfig:
    """The product, its zones and rules and the fonts they allow; only active products."""
    product = catalog.get_product(session, product_id)
    if product.status != "active":
        raise NotFoundError("product", product_id)
    zones = [
        WidgetZone(
            key=z.key,
            label=z.label or z.key,
            kind=z.kind,
            role=z.role,
            geometry=z.geometry,
            rules=z.rules or {},
            default_font=z.default_font,
            default_color=z.default_color,
            sample=WidgetSample.model_validate(z.sample) if z.sample else None,
        )
        for z in product.zones
    ]
    wanted = {f for z in zones for f in (z.rules.get("allowed_fonts") or [])} | {
        z.default_font for z in zones if z.default_font
    }
    fonts = [
        WidgetFont(id=f.id, family=f.family, style=f.style, url=f"/widget/fonts/{f.id}")
        for f in BUNDLED_FONTS.values()
        if f.id in wanted or not wanted
    ]
    brand_ids = [w for w in wanted if w not in BUNDLED_FONTS]
    if brand_ids:
        for bf in session.execute(select(BrandFont).where(BrandFont.id.in_(brand_ids))).scalars():
            fonts.append(WidgetFont(id=bf.id, family=bf.family, style=bf.style))
    body = WidgetProduct(
        id=product.id,
        sku=product.sku,
        name=product.name,
        description=product.description or "",
        price_cents=product.price_cents,
        currency=product.currency,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        production_method=product.production_method,
        palette=list(product.palette or []),
        has_3d=product.model3d is not None,
        mockup_px=_mockup_px(product.mockup),
        min_image_dpi=product.min_image_dpi,
    )
    sample = sample_preview(session, product.id, zones, body.palette, mockup=body.mockup_px is not None)
    draft = WidgetConfig(
        product=body, zones=zones, fonts=sorted(fonts, key=lambda f: f.id), version="", sample_preview=sample
    )
    digest = hashlib.sha256(json.dumps(draft.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    return draft.model_copy(update={"version": digest[:32]})


def _mockup_px(mockup: dict[str, Any] | None) -> list[int] | None:
    """The product photo's size, when the product has a mockup."""
    return [int(mockup["width_px"]), int(mockup["height_px"])] if mockup else None


# --------------------------------------------------------------------------- sample preview

SAMPLE_PREVIEW_WIDTH = 720  # the widget's preview request (luneo-widget.js `preview()`): same render
SAMPLE_PREVIEW_FORMAT = "png"
SAMPLE_URL_PERIOD_S = 86_400  # the sample URL's expiry is bucketed: one URL per product a day
SAMPLE_RECHECK_S = 5.0  # a config without its sample preview yet looks again after this long
SAMPLES_DIR = Path(__file__).parent / "static" / "samples"
SAMPLES_PREFIX = "/widget/samples/"


def sample_url_expiry(now: float | None = None) -> int:
    """The sample URL's expiry: the end of the period after the current one (valid ≥ one period)."""
    period = int((time.time() if now is None else now) // SAMPLE_URL_PERIOD_S)
    return (period + 2) * SAMPLE_URL_PERIOD_S


def sample_inputs(session: Session, zones: list[WidgetZone], palette: list[str]) -> dict[str, Any] | None:
    """The inputs the widget sends before the shopper touches anything (its `payload()`): each
    text zone's sample text, each image zone's sample photo (the asset its upload gives), each
    colour zone's default colour. None when a sample photo is not one of ours or not uploaded yet."""
    inputs: dict[str, Any] = {}
    for z in zones:
        sample = z.sample or WidgetSample()
        if z.kind == "text":
            if sample.text:
                inputs[z.key] = {"kind": "text", "text": sample.text}
        elif z.kind == "image":
            if sample.photo_url:
                asset_id = _sample_asset_id(session, sample.photo_url)
                if asset_id is None:
                    return None
                inputs[z.key] = {"kind": "image", "asset_id": asset_id, "fit": "cover"}
        elif z.kind == "colour":
            colors = z.rules.get("allowed_colors") or palette
            color = z.default_color or (colors[0] if colors else None)
            if color:
                inputs[z.key] = {"kind": "colour", "color": color}
    return inputs


@lru_cache(maxsize=32)
def _sample_file_sha256(path: str, mtime_ns: int) -> str | None:
    """SHA-256 of a bundled sample photo as the upload checks store it (what the widget uploads)."""
    data = Path(path).read_bytes()
    try:
        checked = catalog.check_upload(data, kind="upload", max_bytes=len(data) + 1)
    except DomainError:
        return None
    return hashlib.sha256(checked.data).hexdigest()


def _sample_asset_id(session: Session, photo_url: str) -> str | None:
    """The brand's asset of a bundled sample photo (`/widget/samples/…`), once a widget uploaded it."""
    if not photo_url.startswith(SAMPLES_PREFIX):
        return None  # another host's photo: never fetched by the server
    path = (SAMPLES_DIR / photo_url.removeprefix(SAMPLES_PREFIX)).resolve()
    if path.parent != SAMPLES_DIR.resolve() or not path.is_file():
        return None
    sha = _sample_file_sha256(str(path), path.stat().st_mtime_ns)
    if sha is None:
        return None
    found = session.execute(select(Asset.id).where(Asset.sha256 == sha)).scalar_one_or_none()
    return None if found is None else str(found)


def sample_preview(
    session: Session, product_id: str, zones: list[WidgetZone], palette: list[str], *, mockup: bool
) -> WidgetSamplePreview | None:
    """The finished preview of the product's sample design, as the widget would ask it (same
    spec, same options, so the same render); None until it has been rendered once. Read-only."""
    inputs = sample_inputs(session, zones, palette)
    if inputs is None:
        return None
    result = designs.check_inputs(session, product_id, inputs)
    if not result.ok or result.spec_hash is None:
        return None
    found = rendering.finished_preview(
        session,
        result.spec_hash,
        width=SAMPLE_PREVIEW_WIDTH,
        fmt=SAMPLE_PREVIEW_FORMAT,
        mockup=mockup,
        expires_at=sample_url_expiry(),
    )
    if found is None:
        return None
    return WidgetSamplePreview(
        spec_hash=found.spec_hash,
        render_id=found.render_id,
        url=found.url,
        width_px=found.width_px,
        height_px=found.height_px,
    )


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateView:
    """A template as the widget lists it, and what its preview needs when not rendered yet."""

    template: WidgetTemplate
    spec_hash: str
    mockup: bool


def widget_templates(session: Session, product_id: str) -> list[TemplateView]:
    """The active templates of an active product, each with its finished preview (same spec and
    options as the widget's own preview, cached by spec hash like the sample). A template the
    product's current rules refuse (the zones changed since) is left out. Read-only."""
    product = catalog.get_product(session, product_id)
    if product.status != "active":
        raise NotFoundError("product", product_id)
    mockup = product.mockup is not None
    out: list[TemplateView] = []
    for tpl in catalog.list_templates(session, product.id, active_only=True):
        result = designs.check_inputs(session, product.id, tpl.inputs)
        if not result.ok or result.spec_hash is None:
            continue
        found = rendering.finished_preview(
            session,
            result.spec_hash,
            width=SAMPLE_PREVIEW_WIDTH,
            fmt=SAMPLE_PREVIEW_FORMAT,
            mockup=mockup,
            expires_at=sample_url_expiry(),
        )
        preview = (
            None
            if found is None
            else WidgetSamplePreview(
                spec_hash=found.spec_hash,
                render_id=found.render_id,
                url=found.url,
                width_px=found.width_px,
                height_px=found.height_px,
            )
        )
        view = WidgetTemplate(id=tpl.id, name=tpl.name, inputs=tpl.inputs, preview=preview)
        out.append(TemplateView(template=view, spec_hash=result.spec_hash, mockup=mockup))
    return out


def request_template_previews(session: Session, product_id: str, views: list[TemplateView]) -> None:
    """Store the templates' specs and ask for their previews (one job each, however often asked)."""
    for view in views:
        result = designs.check_inputs(session, product_id, view.template.inputs)
        if not result.ok or result.spec_hash is None:
            continue
        designs.store_spec(session, result)
        rendering.request_preview(
            session,
            result.spec_hash,
            width=SAMPLE_PREVIEW_WIDTH,
            fmt=SAMPLE_PREVIEW_FORMAT,
            mockup=view.mockup,
        )


def upload_photo(session: Session, data: bytes, filename: str | None, actor: str, shopper: str) -> Asset:
    """A shopper's photo, through the catalog's upload checks (images only, shopper pixel cap),
    bound to the shopper's token: only they (and the brand) can read it by id."""
    return catalog.create_shopper_upload(session, data, shopper=shopper, filename=filename, created_by=actor)


# --------------------------------------------------------------------------- config cache

VERSION_TTL_S = 2.0  # another process's product change shows within this long (this process: at once)
CONFIG_CACHE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class CachedConfig:
    """A product's widget configuration, serialised once, with its strong ETag."""

    version: int
    etag: str
    body: bytes
    # rebuilt after this (time.time()): at the end of the sample URL's day, or soon when the
    # sample preview was not rendered yet
    fresh_until: float = float("inf")


class ConfigCache:
    """Widget configs keyed by (brand, product, product version), bounded in bytes.

    `current` remembers each product's version for `VERSION_TTL_S` so a hot config is answered
    from memory without a query; a product changed in this process is forgotten when its
    transaction commits, so its next request builds the new version at once.
    """

    def __init__(self) -> None:
        self._bodies: LRUCache[tuple[str, str, int], CachedConfig] = LRUCache(
            CONFIG_CACHE_BYTES, getsizeof=lambda c: len(c.body) + 200
        )
        self._current: TTLCache[tuple[str, str], int] = TTLCache(100_000, VERSION_TTL_S)
        self._lock = threading.Lock()

    def lookup(self, brand_id: str, product_id: str) -> CachedConfig | None:
        """The config when this process knows the product's current version (no I/O)."""
        with self._lock:
            version = self._current.get((brand_id, product_id))
            found = None if version is None else self._bodies.get((brand_id, product_id, version))
        return found if found is not None and time.time() < found.fresh_until else None

    def get(self, session: Session, brand_id: str, product_id: str) -> CachedConfig:
        """The product's config: its version read through the guarded `session` (a foreign or
        inactive product is a 404), the body built only when that version is new."""
        row = session.execute(
            select(catalog.Product.version, catalog.Product.status).where(catalog.Product.id == product_id)
        ).first()
        if row is None or row.status != "active":
            raise NotFoundError("product", product_id)
        key = (brand_id, product_id, int(row.version))
        with self._lock:
            found = self._bodies.get(key)
        now = time.time()
        if found is None or now >= found.fresh_until:
            config = widget_config(session, product_id)
            body = config.model_dump_json().encode()
            fresh_until = (
                now + SAMPLE_RECHECK_S
                if config.sample_preview is None
                else (now // SAMPLE_URL_PERIOD_S + 1) * SAMPLE_URL_PERIOD_S
            )
            etag = f'"{config.version}"'
            found = CachedConfig(version=key[2], etag=etag, body=body, fresh_until=fresh_until)
            with self._lock:
                self._bodies[key] = found
        with self._lock:
            self._current[(brand_id, product_id)] = key[2]
        return found

    def forget(self, brand_id: str, product_id: str) -> None:
        with self._lock:
            self._current.pop((brand_id, product_id), None)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._current.clear()


config_cache = ConfigCache()
_CHANGED = "_widget_changed_products"


@event.listens_for(catalog.Product, "after_update")
@event.listens_for(catalog.Product, "after_delete")
def _product_changed(_mapper: Any, connection: Any, product: Any) -> None:
    session = object_session(product)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add((product.brand_id, product.id))
    config_cache.forget(product.brand_id, product.id)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    """Forget again once the change is visible, so no request in between re-caches the old one."""
    for brand_id, product_id in session.info.pop(_CHANGED, ()):
        config_cache.forget(brand_id, product_id)


@event.listens_for(Session, "after_rollback")
def _drop_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
