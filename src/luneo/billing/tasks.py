"""Billing jobs: the free plan's monthly credits."""

from __future__ import annotations

from typing import Any

from luneo.billing import service
from luneo.platform import jobs


@jobs.actor("billing_free_grants", time_limit_s=600, max_retries=3)
def billing_free_grants(ctx: jobs.JobContext) -> dict[str, Any]:
    """Grant this month's free-plan credits to every free brand that has not had them."""
    return {"granted": service.grant_free_monthly(ctx.db)}


jobs.register_periodic("billing_free_grants", every_s=3600)
