"""Admin GraphQL over Shopify's SDK (`ShopifyApp.admin_graphql_request`), cost-aware.

Shopify rate-limits the Admin GraphQL API with a leaky bucket of query cost points: every answer
carries `extensions.cost` (`requestedQueryCost`, `actualQueryCost` and `throttleStatus`:
`maximumAvailable`, `currentlyAvailable`, `restoreRate` points per second). The client keeps the
last throttle status and, before a query whose expected cost (what the same operation cost last
time, else `DEFAULT_COST`) exceeds what the bucket holds now, waits until it has restored enough.
A `THROTTLED` answer is retried after `(requested - available) / restoreRate` seconds, at most
`max_throttle_retries` times. `sleep` and `clock` are injectable (tests record the waits).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luneo.integrations.shopify import client
from luneo.platform.config import Settings

DEFAULT_COST = 50
MAX_THROTTLE_RETRIES = 5
MAX_WAIT_S = 60.0
_OPERATION_RE = re.compile(r"\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)")


class AdminApiError(Exception):
    """The Admin API refused or failed a request (jobs retry it; pages show the message)."""

    def __init__(self, message: str, *, code: str = "admin_api_error", errors: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.errors = errors


class AdminApiUnavailable(ConnectionError):
    """Shopify could not be reached (a transient error: jobs retry it with the I/O backoff)."""


@dataclass
class ThrottleStatus:
    """The bucket as Shopify last reported it, and when (`clock` seconds)."""

    maximum: float
    available: float
    restore_rate: float
    at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.at) * self.restore_rate)


def operation_name(query: str) -> str:
    """The operation's name (`query ProductsPage(...)` → `ProductsPage`), '' for an anonymous one."""
    m = _OPERATION_RE.search(query)
    return m.group(1) if m else ""


class AdminGraphQL:
    """One shop's Admin GraphQL API with an access token (from `service.access_token`)."""

    def __init__(
        self,
        settings: Settings,
        shop_domain: str,
        token: str | Callable[[], str],
        *,
        api_version: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_throttle_retries: int = MAX_THROTTLE_RETRIES,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self._settings = settings
        self._shop = shop_domain.removesuffix(".myshopify.com")
        self._token = token
        self._api_version = api_version or settings.shopify_api_version
        self._sleep = sleep
        self._clock = clock
        self._max_retries = max_throttle_retries
        self._max_wait_s = max_wait_s
        self.throttle: ThrottleStatus | None = None
        self.costs: dict[str, int] = {}  # operation → last requested cost
        self.waits: list[float] = []  # every wait, in seconds (throttling is observable)

    def _access_token(self) -> str:
        return self._token() if callable(self._token) else self._token

    def _wait(self, seconds: float) -> None:
        """Sleep `seconds` (whole ms, rounded up); a wait longer than `max_wait_s` (a page cannot
        wait as long as a job) is refused as throttled instead."""
        seconds = math.ceil(max(0.0, seconds) * 1000) / 1000
        if seconds > self._max_wait_s:
            raise AdminApiError(f"Shopify's rate limit needs a {seconds:.1f} s wait.", code="throttled")
        if seconds > 0:
            self.waits.append(seconds)
            self._sleep(seconds)

    def _note_cost(self, operation: str, extensions: dict[str, Any] | None) -> dict[str, Any]:
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        if status:
            self.throttle = ThrottleStatus(
                maximum=float(status.get("maximumAvailable") or 0),
                available=float(status.get("currentlyAvailable") or 0),
                restore_rate=float(status.get("restoreRate") or 0),
                at=self._clock(),
            )
        if operation and cost.get("requestedQueryCost") is not None:
            self.costs[operation] = int(cost["requestedQueryCost"])
        return dict(cost)

    def _wait_for_budget(self, expected: int) -> None:
        t = self.throttle
        if t is None or t.restore_rate <= 0:
            return
        available = t.available_at(self._clock())
        if expected > available:
            self._wait((min(expected, t.maximum) - available) / t.restore_rate)

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, expected_cost: int | None = None
    ) -> dict[str, Any]:
        """The query's `data`; waits for the bucket, retries `THROTTLED`; `AdminApiError` otherwise."""
        operation = operation_name(query)
        app = client.app_for(self._settings)
        attempts = 0
        while True:
            self._wait_for_budget(expected_cost or self.costs.get(operation, DEFAULT_COST))
            with client.http_client(self._settings) as http:
                result = app.admin_graphql_request(
                    query,
                    shop=self._shop,
                    access_token=self._access_token(),
                    api_version=self._api_version,
                    variables=variables,
                    max_retries=0,  # waits are ours (injectable), not the SDK's sleep
                    http_client=http,
                )
            status = result.response.status
            try:
                body = json.loads(result.response.body or "{}")
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            cost = self._note_cost(operation, body.get("extensions") or result.extensions)
            if result.ok:
                return dict(result.data or {})
            errors = body.get("errors") or []
            throttled = status == 429 or any(
                isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
                for e in (errors if isinstance(errors, list) else [])
            )
            if throttled and attempts < self._max_retries:
                attempts += 1
                self._wait(self._throttle_wait(cost, result.response.headers))
                continue
            if status == 0:
                raise AdminApiUnavailable(f"Shopify could not be reached ({result.log.code}).")
            code = "throttled" if throttled else result.log.code
            raise AdminApiError(
                f"Shopify Admin API: {code} ({operation or 'query'}).", code=code, errors=errors
            )

    def _throttle_wait(self, cost: dict[str, Any], headers: dict[str, str]) -> float:
        """Seconds until the bucket holds the refused query's cost (documented restore rate)."""
        t = self.throttle
        requested = cost.get("requestedQueryCost")
        if t is not None and t.restore_rate > 0 and requested is not None:
            return max(
                1.0 / t.restore_rate, (min(float(requested), t.maximum) - t.available) / t.restore_rate
            )
        retry_after = {k.lower(): v for k, v in headers.items()}.get("retry-after", "1")
        try:
            return float(retry_after)
        except ValueError:
            return 1.0


def check_user_errors(payload: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """A mutation's payload, or `AdminApiError` listing its `userErrors`."""
    payload = payload or {}
    errors = payload.get("userErrors") or []
    if errors:
        text = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        raise AdminApiError(f"{what}: {text}", code="user_errors", errors=errors)
    return payload


__all__ = [
    "AdminApiError",
    "AdminApiUnavailable",
    "AdminGraphQL",
    "ThrottleStatus",
    "check_user_errors",
    "operation_name",
]
