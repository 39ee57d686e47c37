"""Share links of saved designs: what the public share page shows, and its preview image.

The share token (`secrets.token_urlsafe(24)`, 192 random bits) is the only credential: the
lookup runs in a system-bound session, then everything else is read bound to the design's
brand. Revoking the link (`DELETE /designs/{id}/share`) makes the token answer 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.mockup import render_mockup
from luneo.design.model import DesignSpec, TextInput
from luneo.design.scene_builder import build_scene, preview_image_dpi
from luneo.design.writers import raster
from luneo.designs.resources import BrandResources
from luneo.designs.service import shared_design
from luneo.platform.database import get_db
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.tenancy import bind_system, bind_tenant

SHARE_IMAGE_PX = 1200
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# Share images by (brand, spec_hash, width): same spec ⇒ same bytes, so caching is safe.
_images: ByteLRU[tuple[str, str, int], bytes] = ByteLRU(32 * MIB, len)


@dataclass(frozen=True)
class SharedView:
    """A shared design as the public page shows it."""

    brand_id: str
    name: str
    product_name: str
    spec_hash: str
    texts: tuple[tuple[str, str], ...]  # (zone label, text) per filled text zone
    created_at: datetime
    image_size: tuple[int, int] | None = None  # the share image's pixels, when known before rendering


def _lookup(token: str) -> tuple[str, str, str, dict[str, object], datetime]:
    if not TOKEN_RE.match(token):
        raise NotFoundError("shared design")
    with get_db().transaction(write=False) as s:
        bind_system(s)
        design, spec = shared_design(s, token)
        return design.brand_id, design.name, spec.spec_hash, dict(spec.spec), design.created_at


def shared_view(token: str) -> SharedView:
    """The design behind a share token (404 `NotFoundError` for an unknown or revoked one)."""
    brand_id, name, spec_hash, doc, created_at = _lookup(token)
    spec = DesignSpec.model_validate(doc)
    texts = tuple(
        (zone.label or zone.key, inp.text)
        for zone in spec.product.zones
        if isinstance(inp := spec.inputs.get(zone.key), TextInput) and inp.text.strip()
    )
    m = spec.product.mockup  # the mockup image is SHARE_IMAGE_PX wide, at the product photo's aspect
    size = (SHARE_IMAGE_PX, max(1, round(m.height_px * (SHARE_IMAGE_PX / m.width_px)))) if m else None
    return SharedView(
        brand_id, name, spec.product.name or spec.product.sku, spec_hash, texts, created_at, size
    )


def shared_image(token: str, width: int = SHARE_IMAGE_PX) -> bytes:
    """The design's preview PNG (on the product mockup when the product has one)."""
    brand_id, _name, spec_hash, doc, _created = _lookup(token)

    def render() -> bytes:
        spec = DesignSpec.model_validate(doc)
        with get_db().transaction(write=False) as s:
            bind_tenant(s, brand_id)
            scene = build_scene(
                spec, spec_hash, BrandResources(s), image_dpi=preview_image_dpi(spec.product, width)
            )
        if scene.mockup is not None:  # the design on the product, as the widget's mockup view shows it
            return raster.encode_png(render_mockup(scene, width_px=width))
        return raster.write_png(scene, width)

    return _images.get_or_set((brand_id, spec_hash, width), render)
