"""Routes: ask for a preview or a final render, poll its status, fetch the preview bytes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from luneo.catalog.public import shoppers
from luneo.designs import public as designs
from luneo.platform.auth import Tenant, cached_principal, guard, guarded
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.deps import BrandMemberDep, RendersPreviewDep, RendersWriteDep
from luneo.platform.errors import NotFound, Problem
from luneo.platform.middleware import client_ip
from luneo.platform.storage import ObjectNotFound, get_storage
from luneo.platform.tenancy import bind_tenant
from luneo.rendering import pipeline, preview3d, service
from luneo.rendering import tasks as _tasks  # noqa: F401  (registers the actors the routes enqueue)
from luneo.rendering.models import RenderResult
from luneo.rendering.schemas import (
    FinalIn,
    ModelFileOut,
    PosterOut,
    Preview3DIn,
    Preview3DOut,
    PreviewIn,
    RenderAccepted,
    RenderStatus,
)

router = APIRouter(tags=["rendering"])

# Previews are read with a credential (and a shopper binding): the browser may keep them a day,
# shared caches (CDN, proxies) never. Only public content is ever served `public, immutable`.
PRIVATE_CACHE = "private, max-age=86400"


def _status_url(render_id: str) -> str:
    return f"{get_settings().public_base_url}/api/v1/renders/{render_id}/status"


def _accepted(row: RenderResult, ready: bool, response: Response) -> RenderAccepted:
    response.status_code = 200 if ready else 202
    outputs = service.output_urls(row) if ready else {}
    ref = service.preview_ref(row) if ready else None
    preview = f"{get_settings().public_base_url}/api/v1/renders/{row.render_id}/preview" if ref else None
    return RenderAccepted(
        render_id=row.render_id,
        kind=row.kind,
        status=row.status,
        status_url=_status_url(row.render_id),
        preview_url=preview,
        outputs=outputs,
    )


def _can_read(t: Tenant) -> None:
    if not (t.principal.can("renders:read") or t.principal.can("renders:preview")):
        raise Problem(403, "forbidden", "This credential lacks the permission renders:read.")


@router.post(
    "/renders/preview",
    response_model=RenderAccepted,
    status_code=202,
    responses={200: {"model": RenderAccepted, "description": "Already rendered"}},
)
def request_preview(body: PreviewIn, response: Response, t: RendersPreviewDep) -> RenderAccepted:
    """Render a stored spec (by hash, snapshot or saved design) as a PNG/WebP preview.

    Same spec + options ⇒ same `render_id`: a finished render answers 200 at once with its
    URLs; otherwise 202 and one job, however often it is asked.
    """
    design = None
    scope = shoppers.scope_of(t)  # a widget renders only what its own shopper built
    if body.design_id:
        widget = t.principal.kind == "publishable_key"
        shopper = t.shopper_token(required=widget) if widget else t.request.headers.get("x-shopper-token")
        design = designs.get_design(t.session, body.design_id, shopper, restrict=widget)
    spec_hash, snapshot_id, design_id = service.resolve_source(
        t.session, spec_hash=body.spec_hash, snapshot_id=body.snapshot_id, design=design, shopper=scope
    )
    row, ready = service.request_preview(
        t.session,
        spec_hash=spec_hash,
        width=body.width,
        fmt=body.format,
        mockup=body.wants_mockup,
        snapshot_id=snapshot_id,
        design_id=design_id,
        actor=t.principal.actor,
    )
    shoppers.grant(t.session, scope, "render", row.render_id)
    return _accepted(row, ready, response)


@router.post(
    "/renders/final",
    response_model=RenderAccepted,
    status_code=202,
    responses={
        200: {"model": RenderAccepted, "description": "Already rendered"},
        402: {"description": "Not enough credits (render.highres)"},
    },
)
def request_final(body: FinalIn, response: Response, t: RendersWriteDep) -> RenderAccepted:
    """High-res print PNG at the product's DPI, design SVG, and GLB + USDZ when the product has a
    3D model, for a snapshot. Charged `render.highres` once per render (refunded if it fails)."""
    row, ready = service.request_final(t.session, snapshot_id=body.snapshot_id, actor=t.principal.actor)
    return _accepted(row, ready, response)


# Reads (and the render) in a read-only transaction: no SQLite write lock while the texture is drawn.
Preview3DDep = Annotated[Tenant, guard("renders:preview", write=False)]


@router.post(
    "/renders/preview3d",
    response_model=Preview3DOut,
    responses={
        409: {"description": "no_3d_model: the product has no 3D model (show the 2D preview)"},
        422: {"description": "model_unreadable: the product's uploaded GLB cannot be retextured"},
        429: {"description": "rate_limited: too many 3D previews for this shopper or IP (Retry-After)"},
    },
)
def request_preview3d(
    body: Preview3DIn, request: Request, response: Response, t: Preview3DDep
) -> Preview3DOut:
    """A preview-quality GLB and USDZ of a stored spec for `<model-viewer>`, made in the request.

    Request (publishable key + `X-Shopper-Token`, or a brand credential):
    `{"spec_hash": "…"}` (or `snapshot_id` / `design_id`), optional
    `"poster": {"width": 720, "format": "png", "mockup": false}`.

    Answer 200: `{render_id, spec_hash, quality: "preview", cached, texture_px,
    glb: {url, sha256, bytes, content_type}, usdz: {…}, poster: {render_id, status, url, status_url},
    expires_at}` — `glb.url` → `src` (and Scene Viewer on Android), `usdz.url` → `ios-src` (AR Quick
    Look), `poster.url` → `poster` (null until the 2D preview is rendered: poll `status_url`).
    The file URLs are signed until `expires_at`; the files themselves are content-addressed and
    served `Cache-Control: public, max-age=31536000, immutable`.

    Cached by (spec_hash, quality): a second request answers `cached: true` without rendering.
    Not metered (the final high-res render is); renders are limited per shopper and per client IP
    (429 `rate_limited` + `Retry-After`). A product without a 3D model: 409 `no_3d_model`;
    another shopper's or brand's spec: 404.
    """
    response.headers["Cache-Control"] = "no-store"
    scope = shoppers.scope_of(t)
    design = None
    if body.design_id:
        widget = t.principal.kind == "publishable_key"
        shopper = t.shopper_token(required=widget) if widget else t.request.headers.get("x-shopper-token")
        design = designs.get_design(t.session, body.design_id, shopper, restrict=widget)
    spec_hash, snapshot_id, design_id = service.resolve_source(
        t.session, spec_hash=body.spec_hash, snapshot_id=body.snapshot_id, design=design, shopper=scope
    )
    cached = preview3d.find_cached(t.session, spec_hash)
    refs: dict[str, dict[str, Any]] | None = None
    timings: dict[str, float] = {}
    if cached is None:
        spec = pipeline.load_spec(designs.get_spec(t.session, spec_hash).spec)
        preview3d.require_model(spec)
        cfg = service.get_render_settings()
        preview3d.limiter_for(request.app.state).check(
            shopper=scope or t.principal.credential,
            ip=client_ip(request.scope),
            per_shopper=cfg.preview3d_shopper,
            per_ip=cfg.preview3d_ip,
        )
        files = preview3d.render_files(spec, spec_hash, designs.BrandResources(t.session))
        refs, timings = preview3d.store(files), files.timings
    preview3d.PREVIEW3D_REQUESTS.labels(cache="hit" if cached is not None else "miss").inc()
    actor = t.principal.actor
    with get_db().transaction() as w:
        bind_tenant(w, t.brand_id)
        if refs is not None:
            row = preview3d.record(
                w,
                spec_hash=spec_hash,
                refs=refs,
                timings=timings,
                snapshot_id=snapshot_id,
                design_id=design_id,
                actor=actor,
            )
        else:
            assert cached is not None
            row = cached
        shoppers.grant(w, scope, "render", row.render_id)
        poster, poster_ready = service.request_preview(
            w,
            spec_hash=spec_hash,
            width=body.poster.width,
            fmt=body.poster.format,
            mockup=body.poster.mockup,
            snapshot_id=snapshot_id,
            design_id=design_id,
            actor=actor,
        )
        shoppers.grant(w, scope, "render", poster.render_id)
        poster_ref = service.preview_ref(poster) if poster_ready else None
        poster_out = PosterOut(
            render_id=poster.render_id,
            status=poster.status,
            url=service.output_urls(poster).get(body.poster.format) if poster_ref else None,
            status_url=_status_url(poster.render_id),
        )
        outputs = dict(row.outputs or {})
    ttl = get_settings().signed_url_ttl_s
    storage = get_storage()

    def file_out(name: str) -> ModelFileOut:
        ref = outputs[name]
        return ModelFileOut(
            url=storage.url(ref["key"], expires_s=ttl),
            sha256=ref["sha256"],
            bytes=ref["bytes"],
            content_type=ref["content_type"],
        )

    return Preview3DOut(
        render_id=row.render_id,
        spec_hash=spec_hash,
        cached=cached is not None,
        texture_px=preview3d.TEXTURE_PX,
        glb=file_out("glb"),
        usdz=file_out("usdz"),
        poster=poster_out,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )


@router.get("/renders/{render_id}/status", response_model=RenderStatus)
def render_status(render_id: str, t: BrandMemberDep) -> RenderStatus:
    """Status, progress, error, file URLs and timings of a render (a publishable key: its shopper's)."""
    _can_read(t)
    scope = shoppers.scope_of(t)
    shoppers.require(t.session, scope, "render", render_id, "render")
    row = service.get_render(t.session, render_id)
    if (
        row.status in (service.PENDING, service.PROCESSING)
        and row.job_id
        and service.reconcile_failed(get_db(), t.brand_id, [row.id])
    ):
        with get_db().transaction(write=False) as fresh:  # our own snapshot predates the fix
            bind_tenant(fresh, t.brand_id)
            row = service.get_render(fresh, render_id)
    files = {
        k: {"sha256": v.get("sha256"), "bytes": v.get("bytes"), "content_type": v.get("content_type")}
        for k, v in (row.outputs or {}).items()
    }
    return RenderStatus(
        render_id=row.render_id,
        kind=row.kind,
        status=row.status,
        progress=row.progress,
        error=row.error,
        outputs=service.output_urls(row) if row.status == service.SUCCESS else {},
        files=files,
        timings=row.timings or {},
        spec_hash=row.spec_hash,
        # another shopper may have linked the shared render to their snapshot or design first
        snapshot_id=row.snapshot_id if _visible(t, scope, "snapshot", row.snapshot_id) else None,
        design_id=row.design_id if scope is None else None,
    )


def _visible(t: Tenant, scope: str | None, kind: shoppers.ObjectType, object_id: str | None) -> bool:
    return object_id is not None and shoppers.holds(t.session, scope, kind, object_id)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [x.strip() for x in header.split(",")]
    return "*" in tags or any(x.removeprefix("W/") == etag for x in tags)


@router.get(
    "/renders/{render_id}/preview",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/webp": {}}},
        304: {"description": "Not modified"},
        409: {"description": "render_not_ready / render_failed"},
    },
)
async def render_preview(render_id: str, request: Request) -> Response:
    """The preview image (`ETag` = its SHA-256; `If-None-Match` ⇒ 304), `Cache-Control: private`:
    it is fetched with a credential, so shared caches never keep it.

    A preview already served by this process answers a brand credential from memory on the event
    loop, without a thread hop or a database query; a publishable key (whose shopper must have
    asked for the render) and anything else take the guarded path.
    """
    principal = cached_principal(request)
    if (
        principal is not None
        and principal.brand_id is not None
        and principal.kind != "publishable_key"
        and (principal.can("renders:read") or principal.can("renders:preview"))
    ):
        cached = service.preview_cache.get(principal.brand_id, render_id)
        if cached is not None:
            return _image(request, *cached)
    return await run_in_threadpool(_render_preview_guarded, render_id, request)


def _render_preview_guarded(render_id: str, request: Request) -> Response:
    with guarded(request) as t:
        return _render_preview(render_id, request, t)


def _render_preview(render_id: str, request: Request, t: Tenant) -> Response:
    _can_read(t)
    shoppers.require(t.session, shoppers.scope_of(t), "render", render_id, "render")
    cached = service.preview_cache.get(t.brand_id, render_id)
    if cached is not None:
        return _image(request, *cached)
    row = service.get_render(t.session, render_id)
    if row.status == service.FAILED:
        raise Problem(409, "render_failed", "This render failed; ask for it again.", render_id=render_id)
    ref = service.preview_ref(row) if row.status == service.SUCCESS else None
    if ref is None and row.status == service.SUCCESS:  # a 3D preview: its files are GLB/USDZ
        raise Problem(
            409,
            "render_not_an_image",
            "This render has no preview image; use its file URLs (status).",
            render_id=render_id,
            status_url=_status_url(render_id),
        )
    if ref is None:
        raise Problem(
            409,
            "render_not_ready",
            "The render is not finished yet; poll its status.",
            render_id=render_id,
            render_status=row.status,
            status_url=_status_url(render_id),
        )
    try:
        data = get_storage().get(ref["key"])
    except ObjectNotFound:
        raise NotFound("render file", render_id) from None
    service.preview_cache.put(t.brand_id, render_id, ref, data)
    return _image(request, ref, data)


def _image(request: Request, ref: dict[str, Any], data: bytes) -> Response:
    etag = f'"{ref["sha256"]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": PRIVATE_CACHE,
        "Vary": "Authorization, X-Shopper-Token",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=ref["content_type"], headers=headers)
