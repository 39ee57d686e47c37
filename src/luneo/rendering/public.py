"""What other domains may use of rendering: finished previews by spec.

Other domains import `luneo.rendering.public`, never `luneo.rendering.service` or its models
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from PIL import Image
from sqlalchemy.orm import Session

from luneo.design.model import DesignSpec
from luneo.platform.storage import ObjectNotFound, get_storage
from luneo.rendering import service


@dataclass(frozen=True)
class FinishedPreview:
    """A finished preview render of a spec: its signed, content-addressed image URL and size."""

    render_id: str
    spec_hash: str
    url: str
    sha256: str
    content_type: str
    width_px: int
    height_px: int


def preview_render_id(spec_hash: str, *, width: int, fmt: str, mockup: bool) -> str:
    """The render id `POST /renders/preview` gives these options (same spec + options ⇒ same id)."""
    return service.render_id_for(spec_hash, "preview", service.preview_options(width, fmt, mockup))


def finished_preview(
    session: Session, spec_hash: str, *, width: int, fmt: str, mockup: bool, expires_at: int
) -> FinishedPreview | None:
    """The preview `POST /renders/preview` would answer for these options, when it is already
    rendered and its file still stored; None otherwise (nothing is enqueued: read-only).

    `expires_at` (Unix seconds) is the URL's expiry: a caller that buckets it gets the same URL
    for a whole period, so browsers and CDNs keep the (immutable, content-addressed) file.
    """
    row = service.find_render(session, preview_render_id(spec_hash, width=width, fmt=fmt, mockup=mockup))
    if row is None or row.status != service.SUCCESS:
        return None
    ref = service.preview_ref(row)
    if ref is None:
        return None
    storage = get_storage()
    try:
        data = storage.get(ref["key"])
    except ObjectNotFound:  # cleaned up since: the next request renders it again
        return None
    with Image.open(io.BytesIO(data)) as im:
        width_px, height_px = im.size
    expires_s = max(60, expires_at - int(time.time()))
    return FinishedPreview(
        render_id=row.render_id,
        spec_hash=row.spec_hash,
        url=storage.url(ref["key"], expires_s=expires_s),
        sha256=str(ref["sha256"]),
        content_type=str(ref["content_type"]),
        width_px=int(width_px),
        height_px=int(height_px),
    )


def request_preview(session: Session, spec_hash: str, *, width: int, fmt: str, mockup: bool) -> None:
    """Ask for the preview `POST /renders/preview` gives these options (one job, however often it
    is asked; nothing when already rendered). The spec must be stored (`designs.store_spec`)."""
    service.request_preview(session, spec_hash=spec_hash, width=width, fmt=fmt, mockup=mockup)


def render_preview_png(
    session: Session, spec: DesignSpec, spec_hash: str, *, width: int = 480, mockup: bool = False
) -> bytes:
    """A preview PNG of `spec` rendered now, in the request, by the real pipeline (`mockup`: on the
    product photo when it has one): for editors showing an unsaved draft. Nothing is stored."""
    from luneo.designs.public import BrandResources
    from luneo.rendering import pipeline

    out = pipeline.render_spec(spec, spec_hash, BrandResources(session), ("png",), width=width, mockup=mockup)
    return out.files["png"].data


def render_requester(session: Session, render_id: str) -> str | None:
    """Who asked for a render (`Principal.actor`: a user id `usr_…` or an API key id), or None."""
    row = service.find_render(session, render_id)
    return row.requested_by if row is not None else None


__all__ = [
    "FinishedPreview",
    "finished_preview",
    "preview_render_id",
    "render_preview_png",
    "render_requester",
    "request_preview",
]
