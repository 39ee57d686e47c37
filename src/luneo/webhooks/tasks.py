"""Job actor `deliver_webhook`: one attempt of one delivery (the next attempt is its own job)."""

from __future__ import annotations

from typing import Any

from luneo.platform.jobs import JobContext, PermanentJobError, actor
from luneo.webhooks import service


@actor(service.DELIVER_ACTOR, time_limit_s=60, max_retries=2)
def deliver_webhook(ctx: JobContext) -> dict[str, Any]:
    """POST the event to the endpoint and record the attempt; failures are scheduled by the
    delivery itself (Standard Webhooks schedule), so this job only retries on its own crash."""
    if not ctx.brand_id:
        raise PermanentJobError("a webhook delivery job needs its brand")
    return service.deliver(
        ctx.db,
        ctx.db.settings,
        ctx.brand_id,
        str(ctx.payload["delivery_id"]),
        int(ctx.payload["attempt"]),
    )
