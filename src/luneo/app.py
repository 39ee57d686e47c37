"""FastAPI application factory: routers of every domain, the middleware stack, lifespan."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from luneo import __version__, domains
from luneo.platform.auth import register_credential_store, register_dependent_cache
from luneo.platform.config import Settings, check_production_settings, get_settings
from luneo.platform.database import get_db
from luneo.platform.error_reporting import init_sentry
from luneo.platform.errors import install_error_handlers
from luneo.platform.health import router as health_router
from luneo.platform.idempotency import DatabaseIdempotencyStore, IdempotencyMiddleware, RedisIdempotencyStore
from luneo.platform.jsonbody import JsonUnicodeMiddleware
from luneo.platform.logging import configure_logging
from luneo.platform.middleware import (
    BodyLimitMiddleware,
    DynamicCorsMiddleware,
    ProxyHeadersMiddleware,
    RequestContextMiddleware,
)
from luneo.platform.openapi import install_openapi
from luneo.platform.ratelimit import RateLimitMiddleware
from luneo.platform.tenancy import bind_system
from luneo.tenancy.credentials import TenancyCredentialStore

API_PREFIX = "/api/v1"


class _OriginCache:
    """Origins any brand allows for CORS preflights: refreshed every 10 s, and at once in this
    process when a brand's or a key's origins change (`clear_auth_caches`)."""

    def __init__(self) -> None:
        self._origins: frozenset[str] = frozenset()
        self._at = float("-inf")
        self._generation = 0  # bumped by `invalidate`: a load that overlapped it is not trusted
        self._lock = threading.Lock()
        register_dependent_cache(self)

    def invalidate(self) -> None:
        """Reload on the next preflight."""
        self._generation += 1
        self._at = float("-inf")

    def __call__(self, origin: str) -> bool:
        if time.monotonic() - self._at > 10:
            with self._lock:
                if time.monotonic() - self._at > 10:
                    generation = self._generation
                    self._origins = self._load()
                    if generation == self._generation:
                        self._at = time.monotonic()
        return origin in self._origins

    def _load(self) -> frozenset[str]:
        from luneo.tenancy.models import ApiKey, Brand

        origins: set[str] = set()
        try:
            with get_db().transaction(write=False) as s:
                bind_system(s)
                for (values,) in s.execute(select(Brand.allowed_origins)):
                    origins.update(values or [])
                for (values,) in s.execute(select(ApiKey.allowed_origins).where(ApiKey.revoked_at.is_(None))):
                    origins.update(values or [])
        except Exception:
            return frozenset()
        return frozenset(origins)


# Route matching scans the mounted routers in order (every route of a router that does not match):
# the routers of the widget's per-keystroke calls go first, so they do not pay for scanning every
# operator route. No path of theirs overlaps another router's (tests/integration/test_hot_path.py).
SHOPPER_PATHS = ("/widget/", "/personalization/", "/specs", "/renders/", "/snapshots", "/cart")


def _shopper_routes_first(app: FastAPI) -> None:
    def rank(route: Any) -> int:
        routes = getattr(getattr(route, "original_router", None), "routes", None)
        if routes is None or any(getattr(r, "path", "") == "/healthz" for r in routes):
            return 0  # docs and probes stay first
        return 1 if any(getattr(r, "path", "").startswith(SHOPPER_PATHS) for r in routes) else 2

    app.router.routes.sort(key=rank)  # stable: each group keeps its mounting order


def create_app(settings: Settings | None = None, *, start_workers: bool | None = None) -> FastAPI:
    """Build the ASGI app. `start_workers` runs in-process job threads (embedded mode).

    Raises `InsecureConfiguration` when `LUNEO_ENV=production` and a setting is unsafe.
    """
    settings = settings or get_settings()
    check_production_settings(settings)
    configure_logging(settings.log_level, settings.log_json)
    init_sentry(settings)  # when LUNEO_SENTRY_DSN is set
    run_workers = (
        settings.run_worker_in_process and not settings.redis_url if start_workers is None else start_workers
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime: Any = None
        if run_workers:
            from luneo.platform import jobs

            runtime = jobs.start_in_process_runtime(get_db())
        if settings.env != "test":  # (the test suite builds an app per test: nothing frozen there)
            # Everything loaded at start-up leaves the cyclic collector's view, so its full
            # collections stop pausing every request (bench_load.py: /healthz p99 180 → 8 ms).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if runtime is not None:
                from luneo.platform import jobs

                jobs.stop_in_process_runtime()

    load_domain_modules()  # models, job actors and event subscribers of every domain
    register_credential_store(TenancyCredentialStore())  # how `platform.auth` looks credentials up
    app = FastAPI(
        title="Luneo API",
        version=__version__,
        description="Product personalization: validate, preview, snapshot, sell and produce.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)  # problem+json answers and the bearer scheme in /api/v1/openapi.json
    app.include_router(health_router)
    for router in domains.api_routers():  # included directly (one level): route matching stays cheap
        app.include_router(router, prefix=API_PREFIX)
    for router in domains.root_routers():  # signed file downloads, hosted pages
        app.include_router(router)
    for install in domains.app_hooks():  # e.g. the dashboard's HTML error pages
        install(app)
    _shopper_routes_first(app)

    store: Any = (
        RedisIdempotencyStore(
            settings.redis_url,
            settings.idempotency_ttl_s,
            lock_timeout_s=settings.idempotency_lock_timeout_s,
        )
        if settings.redis_url
        else DatabaseIdempotencyStore(
            get_db(), settings.idempotency_ttl_s, lock_timeout_s=settings.idempotency_lock_timeout_s
        )
    )
    # Added innermost first: request context is the outermost layer.
    app.add_middleware(IdempotencyMiddleware, store=store, settings=settings)
    # JSON bodies with a lone surrogate: one 422 for every route (after rate limits, before handlers).
    app.add_middleware(JsonUnicodeMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        per_key=settings.rate_limit_key,
        per_ip=settings.rate_limit_ip,
        per_login=settings.rate_limit_login,
        redis_url=settings.redis_url,
    )
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, max_json_bytes=settings.max_json_body_bytes
    )
    app.add_middleware(DynamicCorsMiddleware, origins_provider=_OriginCache())
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxy_networks)
    return app


def load_domain_modules() -> None:
    """Import every domain's models, event subscribers and job actors (see `luneo.domains`)."""
    domains.load_domain_modules()
