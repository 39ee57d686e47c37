"""Rendering jobs: `render_preview`, `render_final`, `asset_convert`, and the `cleanup` hook.

The `render_results` row is the source of truth; each actor is idempotent on it (a finished
row is kept, a re-run writes the same content-addressed bytes). A failure that retrying
cannot fix, or the last attempt, marks the row failed and refunds a final render's credits.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from luneo.platform import jobs
from luneo.platform.events import subscribe
from luneo.rendering import pipeline, service

_PERMANENT = (pipeline.RenderError, LookupError, ValidationError, jobs.PermanentJobError)


def _run(ctx: jobs.JobContext, *, with_progress: bool) -> dict[str, Any]:
    if not ctx.brand_id:
        raise jobs.PermanentJobError("a render job needs a brand")
    row_id = str(ctx.payload["row_id"])
    try:
        return service.run_render(
            ctx.db,
            ctx.brand_id,
            row_id,
            attempt=ctx.attempt,
            progress=ctx.progress if with_progress else None,
        )
    except Exception as exc:
        permanent = isinstance(exc, _PERMANENT)
        error = f"{type(exc).__name__}: {exc}"
        service.mark_failed(ctx.db, ctx.brand_id, row_id, error, final=permanent or ctx.is_last_attempt)
        if permanent and not isinstance(exc, jobs.PermanentJobError):
            raise jobs.PermanentJobError(error) from exc
        raise


@jobs.actor(service.PREVIEW_ACTOR, time_limit_s=60, max_retries=3)
def render_preview(ctx: jobs.JobContext) -> dict[str, Any]:
    """A PNG/WebP preview of a stored spec."""
    return _run(ctx, with_progress=False)


@jobs.actor(service.FINAL_ACTOR, time_limit_s=300, max_retries=3)
def render_final(ctx: jobs.JobContext) -> dict[str, Any]:
    """Print PNG at the product's DPI, SVG, preview PNG, and GLB + USDZ when the product has a model."""
    return _run(ctx, with_progress=True)


@jobs.actor(service.CONVERT_ACTOR, time_limit_s=120, max_retries=3)
def asset_convert(ctx: jobs.JobContext) -> dict[str, Any]:
    """Web-friendly copies of an uploaded image (≤ 2048 px JPEG + WebP, 400 px thumbnail)."""
    if not ctx.brand_id:
        raise jobs.PermanentJobError("asset_convert needs a brand")
    try:
        return service.convert_asset(ctx.db, ctx.brand_id, str(ctx.payload["asset_id"]))
    except (OSError, ValueError) as exc:  # an image Pillow cannot decode will not decode next time
        raise jobs.PermanentJobError(f"{type(exc).__name__}: {exc}") from exc


@subscribe("asset.created")
def _on_asset_created(session: Session, payload: dict[str, Any]) -> None:
    """When catalog publishes `asset.created` ({asset_id, ...}), make the upload's web copies."""
    asset_id = payload.get("asset_id")
    if isinstance(asset_id, str):
        service.request_asset_conversion(session, asset_id)


jobs.register_cleanup("rendering", service.cleanup)
