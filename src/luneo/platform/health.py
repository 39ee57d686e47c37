"""Liveness (`/healthz`) and readiness (`/readyz`: database, Redis, storage)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.errors import Problem
from luneo.platform.metrics import render_metrics
from luneo.platform.security import constant_time_equals

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _check(fn: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        fn()
        return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 2)}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _storage_ready() -> None:
    """S3: the bucket exists and these credentials may use it (`HeadBucket`); local disk: a read."""
    from luneo.platform.storage import S3Storage, get_storage

    storage = get_storage()
    if isinstance(storage, S3Storage):
        storage.client.head_bucket(Bucket=storage.bucket)
    else:
        storage.exists("healthcheck/none")


@router.get("/readyz")
def readyz() -> JSONResponse:
    """Every dependency answers: 200, else 503 with which one failed (`checks.<name>.ok`):
    the database, Redis (when configured) and storage (for S3, the bucket exists)."""
    settings = get_settings()

    def db() -> None:
        with get_db().engine.connect() as conn:
            conn.execute(text("select 1"))

    checks = {"database": _check(db)}
    if settings.redis_url:
        import redis

        url = settings.redis_url
        checks["redis"] = _check(
            lambda: redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
        )
    checks["storage"] = _check(_storage_ready)
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition; with `LUNEO_METRICS_TOKEN` set, only for `Authorization: Bearer <token>`."""
    expected = get_settings().metrics_token
    if expected is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not constant_time_equals(given.strip(), expected.get_secret_value()):
            raise Problem(
                401,
                "unauthorized",
                "Send `Authorization: Bearer <LUNEO_METRICS_TOKEN>`.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    data, ctype = render_metrics()
    return Response(content=data, media_type=ctype)
