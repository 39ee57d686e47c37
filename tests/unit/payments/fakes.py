"""Local HTTP servers speaking Stripe's and PayPal's documented shapes, recording what we send."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "stripe"
FIXTURES: dict[str, Any] = json.loads((VECTORS / "fixtures3.json").read_text())["resources"]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None


class _Server:
    def __init__(self, respond: Any) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                ctype = self.headers.get("content-type", "")
                if "x-www-form-urlencoded" in ctype:
                    rec.form = dict(parse_qsl(body.decode(), keep_blank_values=True))
                elif body and "json" in ctype:
                    rec.json = json.loads(body)
                with server.lock:
                    server.requests.append(rec)
                status, payload = respond(rec)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_test")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


@contextmanager
def _serve(respond: Any) -> Iterator[_Server]:
    server = _Server(respond)
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def _stripe_md(form: dict[str, str], prefix: str = "metadata") -> dict[str, str]:
    out = {}
    for key, value in form.items():
        m = re.fullmatch(re.escape(prefix) + r"\[([^\]]+)\]", key)
        if m:
            out[m.group(1)] = value
    return out


def stripe_respond(rec: Recorded) -> tuple[int, Any]:
    """Answers like api.stripe.com, objects based on stripe/openapi fixtures3.json."""
    n = len(rec.form) + len(rec.body)
    f = rec.form
    if rec.headers.get("authorization", "") != "Bearer sk_test_local":
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
    if rec.method == "POST" and rec.path == "/v1/checkout/sessions":
        obj = copy.deepcopy(FIXTURES["checkout.session"])
        total, i = 0, 0
        while f"line_items[{i}][quantity]" in f:
            total += int(f[f"line_items[{i}][price_data][unit_amount]"]) * int(
                f[f"line_items[{i}][quantity]"]
            )
            i += 1
        sid = f"cs_test_a1{n:08d}"
        obj.update(
            id=sid,
            url=f"https://checkout.stripe.com/c/pay/{sid}",
            amount_total=total,
            amount_subtotal=total,
            currency=f.get("line_items[0][price_data][currency]"),
            mode=f.get("mode"),
            client_reference_id=f.get("client_reference_id"),
            metadata=_stripe_md(f),
            success_url=f.get("success_url"),
            cancel_url=f.get("cancel_url"),
            status="open",
            payment_status="unpaid",
        )
        return 200, obj
    if rec.method == "POST" and rec.path == "/v1/payment_intents":
        obj = copy.deepcopy(FIXTURES["payment_intent"])
        pid = f"pi_test_{n:08d}"
        obj.update(
            id=pid,
            client_secret=f"{pid}_secret_abc",
            amount=int(f["amount"]),
            currency=f["currency"],
            metadata=_stripe_md(f),
            status="requires_payment_method",
        )
        return 200, obj
    if rec.method == "POST" and rec.path == "/v1/refunds":
        obj = copy.deepcopy(FIXTURES["refund"])
        obj.update(
            id=f"re_test_{n:08d}",
            amount=int(f.get("amount", 1099)),
            payment_intent=f.get("payment_intent"),
            charge=f.get("charge", obj["charge"]),
            status="succeeded",
        )
        return 200, obj
    return 404, {
        "error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({rec.path})"}
    }


@contextmanager
def stripe_server() -> Iterator[_Server]:
    with _serve(stripe_respond) as server:
        yield server


PAYPAL_ID, PAYPAL_SECRET, PAYPAL_TOKEN = "client-id-test", "client-secret-test", "A21AAFakeAccessToken"


class PayPalState:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.verify_ok = True


def _paypal_respond(state: PayPalState, rec: Recorded) -> tuple[int, Any]:
    """Answers like api-m.sandbox.paypal.com (Orders v2, Payments v2, Notifications v1)."""
    if rec.path == "/v1/oauth2/token":
        expected = "Basic " + base64.b64encode(f"{PAYPAL_ID}:{PAYPAL_SECRET}".encode()).decode()
        if rec.headers.get("authorization") != expected or rec.body != b"grant_type=client_credentials":
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": PAYPAL_TOKEN,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": 31668,
            "nonce": "2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg",
        }
    if rec.headers.get("authorization") != f"Bearer {PAYPAL_TOKEN}":
        return 401, {
            "name": "AUTHENTICATION_FAILURE",
            "message": "Authentication failed due to invalid credentials.",
        }
    if rec.method == "POST" and rec.path == "/v2/checkout/orders":
        oid = f"5O190127TN3647{len(state.orders):02d}T"
        pu = rec.json["purchase_units"][0]
        state.orders[oid] = {"request": rec.json, "captured": None}
        return 201, {
            "id": oid,
            "status": "PAYER_ACTION_REQUIRED",
            "payment_source": {"paypal": {}},
            "purchase_units": [{"reference_id": pu.get("reference_id", "default"), "amount": pu["amount"]}],
            "links": [
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/checkout/orders/{oid}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={oid}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
        }
    m = re.fullmatch(r"/v2/checkout/orders/([^/]+)/capture", rec.path)
    if rec.method == "POST" and m:
        oid = m.group(1)
        order = state.orders.get(oid)
        if order is None:
            return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}
        pu = order["request"]["purchase_units"][0]
        capture = {
            "id": f"3C679366HH9089{oid[-3:-1]}F",
            "status": "COMPLETED",
            "amount": pu["amount"],
            "custom_id": pu.get("custom_id"),
            "final_capture": True,
            "links": [
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/checkout/orders/{oid}",
                    "rel": "up",
                    "method": "GET",
                }
            ],
        }
        order["captured"] = capture
        return 201, {
            "id": oid,
            "status": "COMPLETED",
            "purchase_units": [
                {"reference_id": pu.get("reference_id", "default"), "payments": {"captures": [capture]}}
            ],
        }
    m = re.fullmatch(r"/v2/payments/captures/([^/]+)(/refund)?", rec.path)
    if m:
        cid = m.group(1)
        capture = next(
            (o["captured"] for o in state.orders.values() if o["captured"] and o["captured"]["id"] == cid),
            None,
        )
        if capture is None:
            return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}
        if rec.method == "GET":
            return 200, capture
        amount = (rec.json or {}).get("amount") or capture["amount"]
        return 201, {
            "id": "1JU08902781691411",
            "status": "COMPLETED",
            "amount": amount,
            "links": [
                {
                    "href": "https://api-m.sandbox.paypal.com/v2/payments/refunds/1JU08902781691411",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/payments/captures/{cid}",
                    "rel": "up",
                    "method": "GET",
                },
            ],
        }
    if rec.method == "POST" and rec.path == "/v1/notifications/verify-webhook-signature":
        ok = state.verify_ok and rec.json.get("transmission_sig") == "good-signature"
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}
    return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}


@contextmanager
def paypal_server() -> Iterator[tuple[_Server, PayPalState]]:
    state = PayPalState()
    with _serve(lambda rec: _paypal_respond(state, rec)) as server:
        yield server, state


def paypal_headers(sig: str = "good-signature") -> dict[str, str]:
    return {
        "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "PAYPAL-TRANSMISSION-TIME": "2016-02-18T20:01:35Z",
        "PAYPAL-TRANSMISSION-SIG": sig,
        "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "Content-Type": "application/json",
    }
