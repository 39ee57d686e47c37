"""Job actor `shopify.webhook`: the work of one recorded webhook delivery (the route only enqueues)."""

from __future__ import annotations

from typing import Any

# pricing, sync, writeback: imported for their job actors and event subscribers
from luneo.integrations.shopify import pricing, service, sync, writeback  # noqa: F401
from luneo.platform.config import get_settings
from luneo.platform.jobs import JobContext, actor


@actor(service.WEBHOOK_ACTOR, time_limit_s=120, max_retries=5)
def handle_webhook(ctx: JobContext) -> dict[str, Any]:
    """Run the delivery's topic handler in the brand's transaction (idempotent on the delivery)."""
    with ctx.transaction() as s:
        return service.process_delivery(s, get_settings(), str(ctx.payload["delivery_id"]))
