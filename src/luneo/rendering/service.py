"""Rendering use cases: ask for previews and final renders, run them (job side), serve and clean up.

Public for other domains: `render_id_for`, `request_preview`, `request_final`, `get_render`,
`output_urls`, `run_render`, `mark_failed`, `reconcile_failed`, `request_asset_conversion`,
`convert_asset`, `cleanup`. The pure pipeline is `luneo.rendering.pipeline`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.catalog.public import Asset
from luneo.design.bytecache import MIB, ByteLRU
from luneo.designs import public as designs
from luneo.designs.public import BrandResources, DesignSpecRow, SavedDesign, Snapshot
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import Database
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.error_reporting import tag_spec_hash
from luneo.platform.events import publish
from luneo.platform.models import Job
from luneo.platform.storage import get_storage
from luneo.platform.tenancy import bind_system, bind_tenant, session_brand
from luneo.rendering import pipeline
from luneo.rendering.models import AssetVariant, RenderResult

log = structlog.get_logger("luneo.rendering")

PENDING, PROCESSING, SUCCESS, FAILED = "pending", "processing", "success", "failed"
#: Published when a final render succeeds (outgoing webhooks `render.ready`).
RENDER_READY = "render.ready"
READY_URL_TTL_S = 7 * 24 * 3600
HIGHRES_OPERATION = "render.highres"
PREVIEW_ACTOR, FINAL_ACTOR, CONVERT_ACTOR = "render_preview", "render_final", "asset_convert"
CONVERTER = "rendering"  # `created_by` of the derived assets `asset_convert` makes


class RenderSettings(BaseSettings):
    """Rendering housekeeping (`LUNEO_RENDER_*`)."""

    model_config = SettingsConfigDict(env_prefix="LUNEO_RENDER_", env_file=".env", extra="ignore")

    preview_ttl_days: float = 30.0  # preview files older than this are deleted unless a snapshot uses them
    orphan_asset_days: float = 7.0  # unreferenced uploads older than this are deleted
    cleanup_batch: int = 500
    web_max_px: int = 2048
    thumb_px: int = 400
    preview3d_shopper: str = "30/minute"  # 3D preview renders (cache misses) per shopper (or credential)
    preview3d_ip: str = "120/minute"  # … per client IP, whatever the shopper token


@lru_cache(maxsize=1)
def get_render_settings() -> RenderSettings:
    return RenderSettings()


# --------------------------------------------------------------------------- ids and options


def canonical_options(options: dict[str, Any]) -> str:
    return json.dumps(options, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def render_id_for(spec_hash: str, kind: str, options: dict[str, Any]) -> str:
    """`rnd_` + sha256(spec_hash + kind + canonical options)[:32]: same request ⇒ same render."""
    digest = hashlib.sha256(f"{spec_hash}{kind}{canonical_options(options)}".encode()).hexdigest()
    return "rnd_" + digest[:32]


def preview_options(width: int, fmt: str, mockup: bool) -> dict[str, Any]:
    """A mockup render names its view: it is not the old flat-photo composite (another render_id)."""
    options: dict[str, Any] = {"width": int(width), "format": fmt, "mockup": bool(mockup)}
    if mockup:
        options["view"] = "mockup"
    return options


def final_options() -> dict[str, Any]:
    return {"formats": list(pipeline.FINAL_FORMATS)}


# --------------------------------------------------------------------------- requests (API side)


def _brand(session: Session) -> str:
    brand_id = session_brand(session)
    if brand_id is None:
        raise RuntimeError("rendering needs a brand-bound session")
    return brand_id


def find_render(session: Session, render_id: str) -> RenderResult | None:
    return session.execute(
        select(RenderResult).where(RenderResult.render_id == render_id)
    ).scalar_one_or_none()


def get_render(session: Session, render_id: str) -> RenderResult:
    """A render of the session's brand (404 when missing or another brand's)."""
    row = find_render(session, render_id)
    if row is None:
        raise NotFoundError("render", render_id)
    return row


def _job_key(row: RenderResult) -> str:
    return f"render:{row.id}:{row.generation}"


def _enqueue(session: Session, row: RenderResult) -> None:
    from luneo.rendering import tasks  # noqa: F401  (registers the actors in this process)

    actor_name = PREVIEW_ACTOR if row.kind == "preview" else FINAL_ACTOR
    job = jobs.enqueue(session, actor_name, _job_key(row), {"row_id": row.id}, brand_id=row.brand_id)
    row.job_id = job.id


def _get_or_create(
    session: Session,
    *,
    render_id: str,
    kind: str,
    spec_hash: str,
    options: dict[str, Any],
    snapshot_id: str | None,
    design_id: str | None,
    actor: str | None,
) -> tuple[RenderResult, bool]:
    row = find_render(session, render_id)
    if row is not None:
        return row, False
    row = RenderResult(
        render_id=render_id,
        kind=kind,
        spec_hash=spec_hash,
        options=options,
        status=PENDING,
        progress=0.0,
        attempts=0,
        timings={},
        outputs={},
        snapshot_id=snapshot_id,
        design_id=design_id,
        generation=1,
        requested_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same render asked concurrently: the other insert won
        raced = find_render(session, render_id)
        if raced is None:
            raise
        return raced, False
    return row, True


def _link(row: RenderResult, snapshot_id: str | None, design_id: str | None) -> None:
    if snapshot_id and row.snapshot_id is None:
        row.snapshot_id = snapshot_id
    if design_id and row.design_id is None:
        row.design_id = design_id


def _restart(row: RenderResult) -> None:
    """A failed render asked again: a fresh generation (new job key, new charge)."""
    row.generation += 1
    row.status, row.progress, row.error, row.attempts = PENDING, 0.0, None, 0
    row.finished_at = None


def resolve_source(
    session: Session,
    *,
    spec_hash: str | None = None,
    snapshot_id: str | None = None,
    design: SavedDesign | None = None,
    shopper: str | None = None,
) -> tuple[str, str | None, str | None]:
    """(spec_hash, snapshot_id, design_id) of the stored spec the request names (404 when not ours,
    or, for a widget `shopper`, when that shopper did not build it)."""
    if snapshot_id:
        snap = designs.get_snapshot(session, snapshot_id, shopper)
        tag_spec_hash(snap.spec_hash)
        return snap.spec_hash, snap.id, None
    if design is not None:
        tag_spec_hash(design.spec_hash)
        return design.spec_hash, None, design.id
    if spec_hash:
        return designs.get_spec(session, spec_hash, shopper).spec_hash, None, None
    raise ValueError("a render needs a spec_hash, a snapshot or a design")


def request_preview(
    session: Session,
    *,
    spec_hash: str,
    width: int,
    fmt: str,
    mockup: bool,
    snapshot_id: str | None = None,
    design_id: str | None = None,
    actor: str | None = None,
) -> tuple[RenderResult, bool]:
    """Create (or find) the preview render and enqueue its job once. Returns (row, ready)."""
    options = preview_options(width, fmt, mockup)
    render_id = render_id_for(spec_hash, "preview", options)
    row, created = _get_or_create(
        session,
        render_id=render_id,
        kind="preview",
        spec_hash=spec_hash,
        options=options,
        snapshot_id=snapshot_id,
        design_id=design_id,
        actor=actor,
    )
    _link(row, snapshot_id, design_id)
    if row.status == SUCCESS:
        return row, True
    if row.status == FAILED:
        _restart(row)
        created = True
    if created:
        session.flush()
        _enqueue(session, row)
    return row, False


def request_final(
    session: Session, *, snapshot_id: str, actor: str | None = None
) -> tuple[RenderResult, bool]:
    """High-res print PNG + SVG (+ GLB/USDZ) of a snapshot, charged `render.highres` once per render."""
    from luneo.credits import public as credits

    snap = designs.get_snapshot(session, snapshot_id)
    options = final_options()
    render_id = render_id_for(snap.spec_hash, "final", options)
    row, created = _get_or_create(
        session,
        render_id=render_id,
        kind="final",
        spec_hash=snap.spec_hash,
        options=options,
        snapshot_id=snap.id,
        design_id=None,
        actor=actor,
    )
    _link(row, snap.id, None)
    if row.status == SUCCESS:
        return row, True
    if row.status == FAILED:
        _restart(row)
        created = True
    if created:
        brand_id = _brand(session)
        row.charge_ref = f"render:{render_id}:{row.generation}"
        credits.debit(
            session,
            brand_id,
            credits.cost_of(session, HIGHRES_OPERATION),
            HIGHRES_OPERATION,
            row.charge_ref,
            actor,
            {"render_id": render_id, "snapshot_id": snap.id},
        )
        session.flush()
        _enqueue(session, row)
    return row, False


# --------------------------------------------------------------------------- reading


def output_urls(row: RenderResult, *, expires_s: int | None = None) -> dict[str, str]:
    """Short-lived signed URLs of the render's files (downloads named, images inline)."""
    storage = get_storage()
    ttl = expires_s or get_settings().signed_url_ttl_s
    out: dict[str, str] = {}
    for name, ref in sorted((row.outputs or {}).items()):
        inline = name in ("png", "webp", "thumbnail")  # previews show inline; files download (SVG too)
        filename = None if inline else f"{row.render_id}-{pipeline.FILENAMES.get(name, name)}"
        out[name] = storage.url(ref["key"], expires_s=ttl, filename=filename)
    return out


def _ready_event(row: RenderResult) -> dict[str, Any]:
    """The payload of `render.ready` (a final render finished): ids and signed output URLs."""
    return {
        "brand_id": row.brand_id,
        "render_id": row.render_id,
        "kind": row.kind,
        "spec_hash": row.spec_hash,
        "snapshot_id": row.snapshot_id,
        "design_id": row.design_id,
        "outputs": output_urls(row, expires_s=READY_URL_TTL_S),
    }


def preview_ref(row: RenderResult) -> dict[str, Any] | None:
    """The stored preview image of a render (a final render carries a 1024 px PNG)."""
    outputs = row.outputs or {}
    fmt = (row.options or {}).get("format", "png")
    return outputs.get(fmt) or outputs.get("png") or outputs.get("webp")


class _PreviewCache:
    """Finished previews by (brand, render_id): their ref and bytes, LRU-bounded by total bytes
    (`LUNEO_PREVIEW_CACHE_MB` per process; a preview over 1/8 of it is not kept).

    A finished render never changes (same render_id ⇒ same bytes), so serving it needs no
    database round trip once seen; the brand is part of the key, so isolation holds.
    """

    ENTRY_OVERHEAD = 512  # the key and the ref dict, roughly

    def __init__(self) -> None:
        self._lru: ByteLRU[tuple[str, str], tuple[dict[str, Any], bytes]] = ByteLRU(
            lambda: get_settings().preview_cache_mb * MIB, lambda item: len(item[1]) + self.ENTRY_OVERHEAD
        )

    @property
    def currsize(self) -> int:
        return self._lru.currsize

    @property
    def maxsize(self) -> int:
        return self._lru.maxsize

    def get(self, brand_id: str, render_id: str) -> tuple[dict[str, Any], bytes] | None:
        return self._lru.get((brand_id, render_id))

    def put(self, brand_id: str, render_id: str, ref: dict[str, Any], data: bytes) -> None:
        if len(data) + self.ENTRY_OVERHEAD <= self._lru.maxsize // 8:
            self._lru.put((brand_id, render_id), (ref, data))

    def clear(self) -> None:
        self._lru.clear()


preview_cache = _PreviewCache()


def reconcile_failed(db: Database, brand_id: str, row_ids: list[str]) -> int:
    """Mark failed the renders whose job failed for good outside the actor (time limit, lost
    worker out of attempts) and refund their credits. Returns how many rows changed."""
    changed = 0
    for row_id in row_ids:
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            row = s.get(RenderResult, row_id)
            if row is None or row.status in (SUCCESS, FAILED) or row.job_id is None:
                continue
            job = s.get(Job, row.job_id)
            if job is None or job.status != jobs.FAILED or job.key != _job_key(row):
                continue
            _fail(s, row, job.error or "the render job failed")
            changed += 1
    return changed


# --------------------------------------------------------------------------- job side


def _fail(session: Session, row: RenderResult, error: str) -> None:
    row.status, row.error, row.finished_at = FAILED, error[:4000], utcnow()
    if row.kind == "final" and row.charge_ref:
        from luneo.credits import public as credits

        try:
            with session.begin_nested():
                credits.refund(
                    session,
                    row.brand_id,
                    row.charge_ref,
                    actor="rendering",
                    reason=f"render {row.render_id} failed",
                )
        except NotFoundError:
            log.warning("render_refund_missing_charge", render_id=row.render_id, reference=row.charge_ref)


def mark_failed(db: Database, brand_id: str, row_id: str, error: str, *, final: bool) -> None:
    """Record a failed attempt: `final` ⇒ status failed (+ refund), else back to pending for the retry."""
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        row = s.get(RenderResult, row_id)
        if row is None or row.status == SUCCESS:
            return
        if final:
            _fail(s, row, error)
        else:
            row.status, row.error = PENDING, error[:4000]


def _store(files: dict[str, pipeline.OutputFile]) -> dict[str, dict[str, Any]]:
    storage = get_storage()
    refs: dict[str, dict[str, Any]] = {}
    for name, f in files.items():
        obj = storage.put(f.data, content_type=f.content_type)  # content-addressed: a re-run rewrites nothing
        refs[name] = {
            "key": obj.key,
            "sha256": obj.sha256,
            "bytes": obj.size,
            "content_type": obj.content_type,
        }
    return refs


def _snapshot_refs(session: Session, row: RenderResult, refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if row.kind == "final":
        return {"final_render_id": row.render_id, **{f"final_{k}": v for k, v in refs.items()}}
    snap = session.get(Snapshot, row.snapshot_id)
    previews = dict((snap.assets or {}).get("previews") or {}) if snap is not None else {}
    o = row.options or {}
    previews[f"{o.get('format')}_{o.get('width')}{'_mockup' if o.get('mockup') else ''}"] = {
        "render_id": row.render_id,
        **next(iter(refs.values())),
    }
    return {"previews": previews}


def run_render(
    db: Database, brand_id: str, row_id: str, *, attempt: int, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Render one `render_results` row and record its files; idempotent (a finished row is kept,
    a re-run after a crash writes the same content-addressed bytes)."""
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        row = s.get(RenderResult, row_id)
        if row is None:
            raise pipeline.RenderError(f"render row {row_id} is gone")
        if row.status == SUCCESS:
            return {"render_id": row.render_id, "cached": True}
        row.status, row.attempts, row.progress = PROCESSING, attempt, 0.0
        kind, spec_hash, options = row.kind, row.spec_hash, dict(row.options or {})
        tag_spec_hash(spec_hash)
        render_id = row.render_id

    def on_step(step: str, fraction: float) -> None:
        value = round(min(0.99, fraction), 3)
        with db.transaction() as s2:
            bind_tenant(s2, brand_id)
            s2.execute(
                sa.update(RenderResult)
                .where(RenderResult.id == row_id, RenderResult.status == PROCESSING)
                .values(progress=value)
                .execution_options(synchronize_session=False)
            )
        if progress is not None:
            progress(value)
        log.debug("render_step", render_id=render_id, step=step, progress=value)

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        spec_row = s.execute(
            select(DesignSpecRow).where(DesignSpecRow.spec_hash == spec_hash)
        ).scalar_one_or_none()
        if spec_row is None:
            raise pipeline.RenderError(f"spec {spec_hash[:12]}… is gone")
        spec = pipeline.load_spec(spec_row.spec)
        if kind == "preview":
            formats = pipeline.preview_formats(options.get("format", "png"))
            width = int(options.get("width", 1024))
        else:
            formats, width = pipeline.final_formats(spec), pipeline.FINAL_PREVIEW_PX
        prepared = pipeline.prepare(
            spec, spec_hash, BrandResources(s), formats, width=width, mockup=bool(options.get("mockup"))
        )
    out = pipeline.write(prepared, on_step)
    timings = dict(out.timings)
    start = utcnow()
    refs = _store(out.files)
    timings["store_ms"] = round((utcnow() - start).total_seconds() * 1000.0, 3)
    timings["total_ms"] = round(
        sum(v for k, v in timings.items() if k.endswith("_ms") and k != "total_ms"), 3
    )
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        row = s.get(RenderResult, row_id)
        if row is None:
            raise pipeline.RenderError(f"render row {row_id} is gone")
        if row.status != SUCCESS:
            row.status, row.progress, row.error = SUCCESS, 1.0, None
            row.outputs, row.timings, row.finished_at = refs, timings, utcnow()
            if row.snapshot_id:
                designs.attach_assets(s, row.snapshot_id, _snapshot_refs(s, row, refs))
            if row.kind == "final":
                publish(s, RENDER_READY, _ready_event(row))
    return {"render_id": render_id, "outputs": {k: v["sha256"] for k, v in refs.items()}}


# --------------------------------------------------------------------------- asset conversion


def request_asset_conversion(session: Session, asset_id: str) -> Job | None:
    """Enqueue `asset_convert` for an uploaded image (idempotent per asset); None for other kinds."""
    from luneo.rendering import tasks  # noqa: F401

    asset = session.execute(select(Asset).where(Asset.id == asset_id)).scalar_one_or_none()
    if asset is None or asset.kind != "upload" or not asset.content_type.startswith("image/"):
        return None
    return jobs.enqueue(
        session, CONVERT_ACTOR, f"asset_convert:{asset.id}", {"asset_id": asset.id}, brand_id=asset.brand_id
    )


def _variant_images(data: bytes, cfg: RenderSettings) -> list[tuple[str, bytes, str, int, int]]:
    from PIL import Image

    from luneo.design.scene_builder import decode_image

    img = decode_image(data)

    def fit(max_px: int) -> Image.Image:
        k = min(1.0, max_px / max(img.width, img.height))
        if k >= 1.0:
            return img
        size = (max(1, round(img.width * k)), max(1, round(img.height * k)))
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)

    def encode(im: Image.Image, fmt: str, quality: int) -> bytes:
        buf = io.BytesIO()
        if fmt == "JPEG":
            if im.mode == "RGBA":
                flat = Image.new("RGB", im.size, (255, 255, 255))
                flat.paste(im, mask=im.getchannel("A"))
                im = flat
            im.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
        else:
            im.save(buf, "WEBP", quality=quality, method=4, exif=b"", xmp=b"", icc_profile=b"")
        return buf.getvalue()

    web, thumb = fit(cfg.web_max_px), fit(cfg.thumb_px)
    return [
        ("web_jpeg", encode(web, "JPEG", 85), "image/jpeg", web.width, web.height),
        ("web_webp", encode(web, "WEBP", 82), "image/webp", web.width, web.height),
        ("thumb_webp", encode(thumb, "WEBP", 80), "image/webp", thumb.width, thumb.height),
    ]


def convert_asset(db: Database, brand_id: str, asset_id: str) -> dict[str, Any]:
    """Make the web copies (≤ 2048 px JPEG + WebP, 400 px WebP thumbnail) of an uploaded image."""
    cfg = get_render_settings()
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        asset = s.get(Asset, asset_id)
        if asset is None or not asset.content_type.startswith("image/"):
            return {"skipped": "not an image asset"}
        data = get_storage().get(asset.storage_key)
        name = (asset.original_filename or asset.id).rsplit(".", 1)[0]
    made = _variant_images(data, cfg)
    out: dict[str, Any] = {}
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        if s.get(Asset, asset_id) is None:
            return {"skipped": "asset deleted"}
        for variant, blob, ctype, w, h in made:
            ext = {"image/jpeg": "jpg", "image/webp": "webp"}[ctype]
            derived = catalog.store_derived_asset(
                s,
                blob,
                content_type=ctype,
                width_px=w,
                height_px=h,
                filename=f"{name}-{variant}.{ext}",
                created_by=CONVERTER,
            )
            existing = s.execute(
                select(AssetVariant).where(AssetVariant.asset_id == asset_id, AssetVariant.variant == variant)
            ).scalar_one_or_none()
            if existing is None:
                s.add(
                    AssetVariant(
                        asset_id=asset_id,
                        variant=variant,
                        derived_asset_id=derived.id,
                        width_px=w,
                        height_px=h,
                    )
                )
            else:
                existing.derived_asset_id, existing.width_px, existing.height_px = derived.id, w, h
            out[variant] = derived.id
    return out


def asset_variants(session: Session, asset_id: str) -> dict[str, str]:
    """{variant: derived asset id} of an uploaded image."""
    rows = session.execute(
        select(AssetVariant.variant, AssetVariant.derived_asset_id).where(AssetVariant.asset_id == asset_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- references and cleanup


def _mentions(column: Any, needle: str) -> Any:
    return sa.cast(column, sa.Text).contains(needle, autoescape=True)


def _asset_needles(session: Session, asset_id: str) -> list[str]:
    sha = session.execute(select(Asset.sha256).where(Asset.id == asset_id)).scalar_one_or_none()
    return [asset_id, *([sha] if sha else [])]


@catalog.register_asset_reference_checker
def _used_by_designs(session: Session, asset_id: str) -> bool:
    """Snapshots (hence orders), saved designs and recent specs keep their uploads; variants too."""
    needles = _asset_needles(session, asset_id)
    for needle in needles:
        snap_hit = select(Snapshot.id).where(
            sa.or_(_mentions(Snapshot.spec, needle), _mentions(Snapshot.assets, needle))
        )
        if session.execute(snap_hit.limit(1)).first() is not None:
            return True
        saved = (
            select(SavedDesign.id)
            .join(DesignSpecRow, DesignSpecRow.id == SavedDesign.spec_id)
            .where(_mentions(DesignSpecRow.spec, needle))
        )
        if session.execute(saved.limit(1)).first() is not None:
            return True
        recent = utcnow() - timedelta(days=get_render_settings().orphan_asset_days)
        spec_hit = select(DesignSpecRow.id).where(
            DesignSpecRow.created_at >= recent, _mentions(DesignSpecRow.spec, needle)
        )
        if session.execute(spec_hit.limit(1)).first() is not None:
            return True
    variant = select(AssetVariant.id).where(AssetVariant.derived_asset_id == asset_id)
    return session.execute(variant.limit(1)).first() is not None


def _blob_referenced(s: Session, key: str) -> bool:
    """Whether any brand's asset, render or snapshot still points at a storage key (system session)."""
    checks = [
        select(Asset.id).where(Asset.storage_key == key),
        select(RenderResult.id).where(_mentions(RenderResult.outputs, key)),
        select(Snapshot.id).where(_mentions(Snapshot.assets, key)),
    ]
    return any(s.execute(q.limit(1)).first() is not None for q in checks)


def expire_previews(db: Database) -> int:
    """Delete preview renders older than the TTL whose files no snapshot records, then their files."""
    cfg = get_render_settings()
    cutoff = utcnow() - timedelta(days=cfg.preview_ttl_days)
    with db.transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(
            select(RenderResult.id, RenderResult.brand_id)
            .where(
                RenderResult.kind == "preview",
                RenderResult.status.in_((SUCCESS, FAILED)),
                RenderResult.updated_at < cutoff,
            )
            .order_by(RenderResult.updated_at)
            .limit(cfg.cleanup_batch)
        ).all()
    removed, keys = 0, set()
    for row_id, brand_id in rows:
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            row = s.get(RenderResult, row_id)
            if row is None:
                continue
            row_keys = [ref["key"] for ref in (row.outputs or {}).values()]
            used = any(
                s.execute(select(Snapshot.id).where(_mentions(Snapshot.assets, k)).limit(1)).first()
                for k in row_keys
            )
            if used:
                continue
            s.delete(row)
            preview_cache.clear()
            keys.update(row_keys)
            removed += 1
    storage = get_storage()
    for key in sorted(keys):
        with db.transaction(write=False) as s:
            bind_system(s)
            if _blob_referenced(s, key):
                continue
        try:
            storage.delete(key)
        except Exception:
            log.warning("render_blob_delete_failed", key=key)
    return removed


def delete_orphan_assets(db: Database) -> int:
    """Delete old uploads (and our own derived copies) that nothing references any more."""
    cfg = get_render_settings()
    cutoff = utcnow() - timedelta(days=cfg.orphan_asset_days)
    with db.transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(
            select(Asset.id, Asset.brand_id)
            .where(
                sa.or_(
                    Asset.kind == "upload", sa.and_(Asset.kind == "derived", Asset.created_by == CONVERTER)
                ),
                Asset.created_at < cutoff,
            )
            .order_by(Asset.created_at)
            .limit(cfg.cleanup_batch)
        ).all()
    removed = 0
    for asset_id, brand_id in rows:
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            if catalog.is_asset_referenced(s, asset_id):
                continue
            catalog.delete_asset(s, asset_id)
            removed += 1
    return removed


def reconcile_all(db: Database) -> int:
    """`reconcile_failed` for every unfinished render whose job is finished."""
    with db.transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(
            select(RenderResult.id, RenderResult.brand_id)
            .join(Job, Job.id == RenderResult.job_id)
            .where(RenderResult.status.in_((PENDING, PROCESSING)), Job.status == jobs.FAILED)
            .limit(get_render_settings().cleanup_batch)
        ).all()
    by_brand: dict[str, list[str]] = {}
    for row_id, brand_id in rows:
        by_brand.setdefault(brand_id, []).append(row_id)
    return sum(reconcile_failed(db, b, ids) for b, ids in by_brand.items())


def cleanup(db: Database) -> int:
    """The `cleanup` hook: settle failed renders, expire old previews, delete orphaned assets."""
    return reconcile_all(db) + expire_previews(db) + delete_orphan_assets(db)
