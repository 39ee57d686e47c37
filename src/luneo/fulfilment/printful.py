"""A small client of Printful's API v2 (the calls the hand-off makes) and its webhook signature.

- `POST /v2/orders` (draft order: `external_id`, `recipient`, `order_items` of source `catalog`
  with `catalog_variant_id`, `quantity` and `placements[{placement, technique, layers[{type:
  "file", url}]}]`), `GET /v2/orders/{id}` (the id, or `@<external_id>`),
  `POST /v2/orders/{id}/confirmation`, `POST /v2/webhooks`. Answers are `{"data": …}`; errors
  are problem documents (`status`, `title`, `detail`).
- Authentication: `Authorization: Bearer <token>`, `X-PF-Store-Id` for account-level tokens.
- 429 and 5xx are retried in the call after `Retry-After` (seconds or an HTTP date; capped),
  or a short exponential pause; when the tries are spent the error is `transient` and the job
  retries later. Other 4xx are permanent (shown to the brand on the hand-off row).
- Webhooks v2 carry `X-PF-Webhook-Signature`: hex HMAC-SHA256 of the raw body keyed with the
  webhook's `secret_key` (itself hex: the key is its bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from luneo.platform.clock import utcnow

#: The API origin (the tests point it at a local server speaking the same API).
BASE_URL_ENV = "LUNEO_PRINTFUL_API_BASE"
DEFAULT_BASE_URL = "https://api.printful.com"
TIMEOUT_S = 20.0
MAX_TRIES = 4
MAX_WAIT_S = 30.0


def base_url() -> str:
    return os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL).rstrip("/")


class PrintfulError(Exception):
    """A failed API call: `status` (0 for a network error), `transient` when a retry may help."""

    def __init__(self, status: int, detail: str, *, transient: bool, retry_after_s: float | None = None):
        super().__init__(f"Printful {status or 'network'}: {detail}")
        self.status = status
        self.detail = detail
        self.transient = transient
        self.retry_after_s = retry_after_s


def retry_after_s(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        inner = body.get("error")
        err: dict[str, Any] = inner if isinstance(inner, dict) else body
        return str(err.get("detail") or err.get("message") or err.get("title") or body)[:300]
    return str(body)[:300]


class PrintfulClient:
    def __init__(
        self,
        token: str,
        store_id: str | None = None,
        *,
        base: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}", "User-Agent": "Luneo fulfilment"}
        if store_id:
            headers["X-PF-Store-Id"] = str(store_id)
        self._http = httpx.Client(
            base_url=base or base_url(), headers=headers, timeout=TIMEOUT_S, transport=transport
        )
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrintfulClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One call, 429/5xx/network errors retried in place up to `MAX_TRIES`; raises
        `PrintfulError` for any answer ≥ 400 except 404 on a GET (returned to the caller)."""
        for attempt in range(1, MAX_TRIES + 1):
            try:
                response = self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                error = PrintfulError(0, str(exc) or type(exc).__name__, transient=True)
                wait = min(MAX_WAIT_S, 0.5 * 2 ** (attempt - 1))
            else:
                status = response.status_code
                if status < 400 or (status == 404 and method == "GET"):
                    return response
                if status != 429 and status < 500:
                    raise PrintfulError(status, _detail(response), transient=False)
                after = retry_after_s(response.headers.get("Retry-After"))
                error = PrintfulError(status, _detail(response), transient=True, retry_after_s=after)
                wait = min(MAX_WAIT_S, after if after is not None else 0.5 * 2 ** (attempt - 1))
            if attempt == MAX_TRIES:
                raise error
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def create_order(self, order: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "/v2/orders", order).json()["data"])

    def get_order(self, ref: str) -> dict[str, Any] | None:
        """The order by Printful id or `@<external id>`; None when Printful has none."""
        response = self.request("GET", f"/v2/orders/{ref}")
        return None if response.status_code == 404 else dict(response.json()["data"])

    def confirm_order(self, order_id: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/v2/orders/{order_id}/confirmation").json()["data"])

    def register_webhook(self, url: str, events: list[str]) -> dict[str, Any]:
        """Register (replace) the store's webhook configuration; the answer has `secret_key`."""
        body = {"default_url": url, "events": [{"type": e} for e in events]}
        return dict(self.request("POST", "/v2/webhooks", body).json()["data"])


def signature(secret_key_hex: str, raw: bytes) -> str:
    """The `X-PF-Webhook-Signature` Printful sends for `raw` under the webhook's secret key."""
    return hmac.new(bytes.fromhex(secret_key_hex), raw, hashlib.sha256).hexdigest()


def verify(secret_key_hex: str, raw: bytes, header: str | None) -> bool:
    if not header:
        return False
    try:
        expected = signature(secret_key_hex, raw)
    except ValueError:  # a secret that is not hex cannot sign anything
        return False
    return hmac.compare_digest(expected, header.strip().lower())
