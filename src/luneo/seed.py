"""The demo brand: an owner, a `pk_` and an `sk_` key, and (when built) the demo catalog."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from luneo import domains
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy import service
from luneo.tenancy.models import Brand, User

DEMO_SLUG = "demo"
# A valid address (the login route validates emails; `.local` is refused): the reserved
# `example.com` domain never delivers mail anywhere.
DEMO_EMAIL = "owner@demo.example.com"
DEMO_PRODUCTION_EMAIL = "production@demo.example.com"
LEGACY_DEMO_EMAILS = {"owner@demo.luneo.local": DEMO_EMAIL}
DEMO_PASSWORD = "luneo-demo-2026"
DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def _demo_origins(settings: Settings) -> list[str]:
    """The local origins the demo widget runs on, including the configured public URL's."""
    parts = urlsplit(settings.public_base_url)
    own = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
    return list(dict.fromkeys([*DEMO_ORIGINS, *([own] if own else [])]))


def _credentials_file(settings: Settings) -> Any:
    return settings.data_dir / "demo-credentials.json"


def _migrate_legacy_email(s: Any, brand: Brand, stored: dict[str, Any], path: Any) -> dict[str, Any]:
    """Data dirs seeded before the demo address changed: move the owner to the valid address."""
    old = stored.get("owner", {}).get("email")
    new = LEGACY_DEMO_EMAILS.get(old or "")
    if new is None:
        return stored
    bind_system(s)
    user = s.execute(select(User).where(User.email == old)).scalar_one_or_none()
    if user is not None and not s.execute(select(User.id).where(User.email == new)).first():
        user.email = new
    if brand.production_email == "production@demo.luneo.local":
        brand.production_email = DEMO_PRODUCTION_EMAIL
    stored = {**stored, "owner": {**stored["owner"], "email": new}}
    path.write_text(json.dumps(stored, indent=2))
    os.chmod(path, 0o600)
    return stored


def seed_demo(db: Database, settings: Settings) -> dict[str, Any]:
    """Create the demo brand once; later runs return the same credentials (kept in the data dir)."""
    path = _credentials_file(settings)
    with db.transaction() as s:
        bind_system(s)
        brand = s.execute(select(Brand).where(Brand.slug == DEMO_SLUG)).scalar_one_or_none()
        stored = json.loads(path.read_text()) if path.exists() else None
        if (
            brand is None
            or stored is None
            or stored.get("brand", {}).get("id") != (brand.id if brand else None)
        ):
            if brand is None:
                brand = service.create_brand(
                    s, slug=DEMO_SLUG, name="Luneo Demo Atelier", allowed_origins=_demo_origins(settings)
                )
                brand.settings = {"primary_color": "#1f3a5f", "accent_color": "#c9a227"}
                brand.production_email = DEMO_PRODUCTION_EMAIL
            user = s.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one_or_none()
            if user is None:
                user = service.create_user(s, email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo Owner")
            bind_tenant(s, brand.id)
            service.add_member(s, brand_id=brand.id, user_id=user.id, role="owner")
            _, pk = service.create_api_key(
                s, brand_id=brand.id, kind="publishable", name="demo widget", allowed_origins=DEMO_ORIGINS
            )
            _, sk = service.create_api_key(s, brand_id=brand.id, kind="secret", name="demo server")
            stored = {
                "brand": {"id": brand.id, "slug": brand.slug},
                "owner": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
                "publishable_key": pk,
                "secret_key": sk,
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stored, indent=2))
            os.chmod(path, 0o600)
        stored = _migrate_legacy_email(s, brand, stored, path)
        bind_tenant(s, brand.id)
        origins = _demo_origins(settings)
        if not set(origins) <= set(brand.allowed_origins or []):
            brand.allowed_origins = list(dict.fromkeys([*(brand.allowed_origins or []), *origins]))
        for seed_domain in domains.demo_seeders():  # each domain's demo data (`luneo.domains`)
            seed_domain(s, brand)
    return stored
