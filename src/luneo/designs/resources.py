"""Server-side resources a design refers to (brand fonts, uploaded images), read through the
tenant guard. Implements the lookups of `build_spec` and the scene builder's `SceneResources`.
The client never names a URL or a path: only ids, resolved here within the caller's brand.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.catalog.public import Asset, BrandFont, shoppers
from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.fonts import BUNDLED_FONTS
from luneo.platform.config import get_settings
from luneo.platform.storage import get_storage


class BrandResources:
    """Fonts and images of one brand (the session's brand), cached for one unit of work."""

    def __init__(self, session: Session, shopper: str | None = None) -> None:
        """`shopper`: a widget caller's token; its designs may only name images it uploaded."""
        self.session = session
        self.shopper = shopper
        self._fonts: dict[str, BrandFont | None] = {}
        self._assets: dict[str, Asset | None] = {}

    def _font(self, font_id: str) -> BrandFont | None:
        if font_id in BUNDLED_FONTS:
            return None  # a bundled font is no brand's row (brand font ids are random): no query
        if font_id not in self._fonts:
            self._fonts[font_id] = self.session.execute(
                select(BrandFont).where(BrandFont.id == font_id)
            ).scalar_one_or_none()
        return self._fonts[font_id]

    def _asset(self, asset_id: str) -> Asset | None:
        if asset_id not in self._assets:
            found = self.session.execute(select(Asset).where(Asset.id == asset_id)).scalar_one_or_none()
            if found is not None and not shoppers.holds(self.session, self.shopper, "asset", asset_id):
                found = None  # another shopper's photo: as unknown as another brand's
            self._assets[asset_id] = found
        return self._assets[asset_id]

    # -- the brand's word lists (settings.blocked_words / settings.allowed_words) ---------
    def word_lists(self) -> dict[str, tuple[str, ...]]:
        """`blocked_words` and `allowed_words` keyword arguments for the rules engine (cached per
        brand for a few seconds, see `luneo.designs.brand_words`)."""
        from luneo.designs.brand_words import word_lists

        blocked, allowed = word_lists.get(self.session)
        return {"blocked_words": blocked, "allowed_words": allowed}

    # -- build_spec lookups ---------------------------------------------------------------
    def font_sha(self, font_id: str) -> str | None:
        font = self._font(font_id)
        return font.sha256 if font else None

    def font_bytes(self, font_id: str) -> bytes | None:
        font = self._font(font_id)
        return _stored_bytes(font.storage_key) if font else None

    def asset(self, asset_id: str) -> tuple[str, int, int] | None:
        a = self._asset(asset_id)
        if a is None or not a.width_px or not a.height_px:
            return None
        return a.sha256, a.width_px, a.height_px

    # -- SceneResources -------------------------------------------------------------------
    def font_data(self, font_id: str, sha256: str | None) -> bytes | None:
        """Brand font bytes by id (None ⇒ the scene builder uses the bundled font)."""
        return self.font_bytes(font_id) if font_id.startswith("fnt_") and self._font(font_id) else None

    def image_bytes(self, sha256: str) -> bytes:
        a = self.session.execute(select(Asset).where(Asset.sha256 == sha256).limit(1)).scalar_one_or_none()
        if a is None:
            raise LookupError(f"no asset with sha256 {sha256[:12]}… in this brand")
        return _stored_bytes(a.storage_key)


# Stored files by key, bounded in bytes per process (`LUNEO_RESOURCE_CACHE_MB`).
stored_files: ByteLRU[str, bytes] = ByteLRU(lambda: get_settings().resource_cache_mb * MIB, len)


def _stored_bytes(key: str) -> bytes:
    """Content-addressed files never change, so caching by key is safe."""
    return stored_files.get_or_set(key, lambda: get_storage().get(key))
