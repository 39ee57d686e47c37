"""Job actors: the Printful submission of an order and the generic hand-off of one pack."""

from __future__ import annotations

from typing import Any

from luneo.fulfilment import printful, service
from luneo.platform.config import get_settings
from luneo.platform.jobs import JobContext, PermanentJobError, actor


@actor(service.PRINTFUL_ACTOR, time_limit_s=300, max_retries=6, backoff_base_s=30.0)
def printful_submit(ctx: JobContext) -> dict[str, Any]:
    """Create and confirm the Printful order (idempotent); failures are written on the hand-off."""
    order_id = str(ctx.payload["order_id"])
    brand_id = str(ctx.brand_id)
    settings = get_settings()
    try:
        with ctx.transaction() as s:
            outcome = service.submit_printful(s, brand_id, order_id, service.default_client(settings))
    except printful.PrintfulError as exc:
        final = not exc.transient or ctx.is_last_attempt
        service.record_printful_failure(ctx.db, brand_id, order_id, str(exc), final=final)
        if not exc.transient:
            raise PermanentJobError(str(exc)) from None
        raise
    return {"status": outcome.status, "detail": outcome.detail}


@actor(service.HANDOFF_ACTOR, time_limit_s=300, max_retries=6, backoff_base_s=30.0)
def handoff_send(ctx: JobContext) -> dict[str, Any]:
    """Send one pack to the brand's print-shop endpoint; 429/5xx/network errors retry."""
    handoff_id = str(ctx.payload["handoff_id"])
    try:
        with ctx.transaction() as s:
            outcome = service.send_pack(s, get_settings(), handoff_id)
    except Exception as exc:
        from luneo.fulfilment.models import Handoff
        from luneo.platform.tenancy import bind_tenant

        with ctx.db.transaction() as s:
            bind_tenant(s, str(ctx.brand_id))
            row = s.get(Handoff, handoff_id)
            if row is not None:
                row.attempts += 1
                row.error = f"{type(exc).__name__}: {exc}"[:2000]
                if ctx.is_last_attempt:
                    row.status = "failed"
        raise
    return {"status": outcome.status, "detail": outcome.detail}
