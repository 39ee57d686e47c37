"""The `ai_run` job: slow AI operations (background removal, upscale ×4, remote generation).

Retryable provider errors (5xx, 429, timeouts) are retried by the job runtime; when the job fails
for good (last attempt, time limit on the last attempt, or an error retrying cannot fix) the
generation is marked failed and its credits are refunded. A periodic cleanup hook does the same
for generations whose job was failed by the runtime itself (a worker stuck past its time limit).
"""

from __future__ import annotations

import time
from typing import Any

from luneo.ai import service
from luneo.ai.models import AIGeneration
from luneo.ai.providers import ProviderError
from luneo.platform.jobs import JobContext, PermanentJobError, actor, register_cleanup

TIME_LIMIT_S = 180.0


@actor(service.JOB_ACTOR, time_limit_s=TIME_LIMIT_S, max_retries=2)
def ai_run(ctx: JobContext) -> dict[str, Any]:
    gen_id = str(ctx.payload["generation_id"])
    brand_id = ctx.brand_id
    if brand_id is None:
        raise PermanentJobError("ai_run needs a brand")
    with ctx.transaction() as s:
        row = s.get(AIGeneration, gen_id)
        if row is None:
            raise PermanentJobError(f"generation {gen_id} not found")
        if row.status in ("succeeded", "failed"):
            return {"generation_id": gen_id, "status": row.status}
        row.status = "processing"
    t0 = time.monotonic()
    try:
        outcome = service.execute(brand_id, gen_id)
    except ProviderError as exc:
        if exc.retryable and not ctx.is_last_attempt:
            with ctx.transaction() as s:
                row = s.get(AIGeneration, gen_id)
                if row is not None and row.status == "processing":
                    row.status, row.error = "pending", f"attempt {ctx.attempt}: {exc}"[:2000]
            raise
        code, message, _ = service.problem_for(exc)
        service.finish_failed(brand_id, gen_id, code, message, int((time.monotonic() - t0) * 1000))
        raise PermanentJobError(message) from None
    except Exception as exc:
        code, message, _ = service.problem_for(exc)
        service.finish_failed(brand_id, gen_id, code, message, int((time.monotonic() - t0) * 1000))
        raise PermanentJobError(message) from None
    except BaseException:  # the time limit: refund only when no attempt is left
        if ctx.is_last_attempt:
            service.finish_failed(
                brand_id,
                gen_id,
                "time_limit",
                f"time limit of {TIME_LIMIT_S:g}s exceeded",
                int((time.monotonic() - t0) * 1000),
            )
        raise
    service.finish_ok(brand_id, gen_id, outcome, int((time.monotonic() - t0) * 1000))
    return {"generation_id": gen_id, "status": "succeeded"}


register_cleanup("ai_generations_reconcile", service.reconcile_failed_jobs)
