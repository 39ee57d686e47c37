"""PayPal Orders v2 over its REST API (httpx): OAuth2 token, create / capture orders, refunds,
and webhook verification through `POST /v1/notifications/verify-webhook-signature`."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx

from luneo.payments.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    ProviderError,
    ProviderEvent,
    SignatureError,
    from_minor,
    header,
    to_minor,
)
from luneo.platform import http as outgoing

_TRANSMISSION_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


def money(amount: int, currency: str) -> dict[str, str]:
    """PayPal's money object from minor units."""
    return {"currency_code": currency.upper(), "value": from_minor(amount, currency)}


class PayPalProvider:
    """PayPal REST client; `api_base` is `LUNEO_PAYPAL_API_BASE` (sandbox by default)."""

    name = "paypal"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        api_base: str,
        webhook_id: str | None,
        timeout_s: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.http = outgoing.client(base_url=api_base.rstrip("/"), timeout=timeout_s, transport=transport)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # --- plumbing -------------------------------------------------------------------------

    def access_token(self) -> str:
        """A cached OAuth2 client-credentials token (renewed a minute before it expires)."""
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                r = self.http.post(
                    "/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise ProviderError(f"PayPal token request failed: {exc}") from exc
            if r.status_code != 200:
                raise ProviderError(f"PayPal token request failed ({r.status_code})", status=r.status_code)
            body = r.json()
            ttl = max(int(body.get("expires_in", 0)) - 60, 0)
            self._token = (body["access_token"], time.monotonic() + ttl)
            return self._token[0]

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        request_id: str | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.access_token()}",
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        }
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        try:
            r = self.http.request(
                method,
                path,
                headers=headers,
                content=content
                if content is not None
                else (json.dumps(body).encode() if body is not None else None),
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"PayPal {method} {path} failed: {exc}") from exc
        if r.status_code == 401:
            with self._lock:
                self._token = None
        if r.status_code >= 400:
            try:
                err = r.json()
            except ValueError:
                err = {}
            raise ProviderError(
                f"PayPal {method} {path} → {r.status_code}: {err.get('message') or r.text[:200]}",
                status=r.status_code,
                code=err.get("name"),
            )
        return r.json() if r.content else {}

    # --- provider interface ---------------------------------------------------------------

    def create_checkout(
        self, request: CheckoutRequest, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        cur = request.currency
        items = []
        for item in request.line_items:
            entry: dict[str, Any] = {
                "name": item.name[:127],
                "quantity": str(item.quantity),
                "unit_amount": money(item.unit_amount, cur),
            }
            if item.image_url:
                entry["image_url"] = item.image_url
            items.append(entry)
        total = request.amount_total
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.reference[:256],
                    "custom_id": request.reference[:127],
                    "items": items,
                    "amount": {**money(total, cur), "breakdown": {"item_total": money(total, cur)}},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": request.success_url,
                        "cancel_url": request.cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        if request.customer_email:
            body["payment_source"]["paypal"]["email_address"] = request.customer_email  # type: ignore[index]
        raw = self._request(
            "POST", "/v2/checkout/orders", body, request_id=idempotency_key or str(uuid.uuid4())
        )
        url = next(
            (link["href"] for link in raw.get("links", []) if link.get("rel") in ("approve", "payer-action")),
            "",
        )
        return CheckoutSession(
            id=raw["id"], url=url, provider=self.name, amount_total=total, currency=cur, raw=raw
        )

    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """An order the PayPal JS SDK approves client-side; its id is the client secret it needs."""
        unit: dict[str, Any] = {"amount": money(amount, currency)}
        if metadata.get("reference"):
            unit["custom_id"] = metadata["reference"][:127]
        raw = self._request(
            "POST",
            "/v2/checkout/orders",
            {"intent": "CAPTURE", "purchase_units": [unit]},
            request_id=idempotency_key or str(uuid.uuid4()),
        )
        return {"id": raw["id"], "client_secret": raw["id"], "status": raw.get("status"), "raw": raw}

    def capture(self, order_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Capture an approved order: `{id (capture id), status, amount, currency, order_id, raw}`."""
        raw = self._request(
            "POST",
            f"/v2/checkout/orders/{order_id}/capture",
            {},
            request_id=idempotency_key or f"capture-{order_id}",
        )
        captures = [
            c for pu in raw.get("purchase_units", []) for c in pu.get("payments", {}).get("captures", [])
        ]
        if not captures:
            raise ProviderError(f"PayPal capture of {order_id} returned no capture")
        cap = captures[0]
        cur = cap["amount"]["currency_code"]
        return {
            "id": cap["id"],
            "status": cap.get("status"),
            "amount": to_minor(cap["amount"]["value"], cur),
            "currency": cur,
            "order_id": raw.get("id", order_id),
            "raw": raw,
        }

    def refund(
        self,
        payment_ref: str,
        amount: int | None = None,
        *,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if amount is not None:
            if currency is None:
                currency = self._request("GET", f"/v2/payments/captures/{payment_ref}")["amount"][
                    "currency_code"
                ]
            body["amount"] = money(amount, currency)
        raw = self._request(
            "POST",
            f"/v2/payments/captures/{payment_ref}/refund",
            body,
            request_id=idempotency_key or str(uuid.uuid4()),
        )
        value = raw.get("amount") or {}
        refunded = to_minor(value["value"], value["currency_code"]) if value.get("value") else amount
        return {"id": raw["id"], "status": raw.get("status"), "amount": refunded, "raw": raw}

    def verify_webhook(self, headers: Any, raw_body: bytes) -> ProviderEvent:
        """Ask PayPal whether the transmission is genuine (`verification_status == "SUCCESS"`)."""
        if not self.webhook_id:
            raise SignatureError("LUNEO_PAYPAL_WEBHOOK_ID is not set")
        fields = {k: header(headers, h) for k, h in _TRANSMISSION_HEADERS.items()}
        missing = [h for k, h in _TRANSMISSION_HEADERS.items() if not fields[k]]
        if missing:
            raise SignatureError(f"Missing PayPal transmission headers: {', '.join(missing)}")
        try:
            event = json.loads(raw_body)
        except ValueError:
            raise SignatureError("The body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise SignatureError("The body is not a PayPal event")
        # The event goes back byte for byte (re-serialising it can break PayPal's check).
        prefix = json.dumps({**fields, "webhook_id": self.webhook_id})[:-1]
        content = prefix.encode() + b', "webhook_event": ' + raw_body.strip() + b"}"
        try:
            result = self._request("POST", "/v1/notifications/verify-webhook-signature", content=content)
        except ProviderError as exc:
            raise SignatureError(f"PayPal could not verify the webhook: {exc}") from exc
        if result.get("verification_status") != "SUCCESS":
            raise SignatureError("PayPal rejected the webhook signature")
        resource: dict[str, Any] = event["resource"] if isinstance(event.get("resource"), dict) else {}
        return ProviderEvent(
            id=event["id"],
            type=str(event.get("event_type", "")),
            data=resource,
            created=_created(event.get("create_time")),
            provider=self.name,
            raw=event,
        )


def _created(value: Any) -> int:
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0
