"""Generic hand-off (issue 17, item 7): each ready pack goes to the brand's print-shop endpoint
over HTTPS (a local TLS receiver that verifies the HMAC signature), retried on 5xx, with a
status per pack; non-https URLs and private addresses are refused (SSRF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import ssl
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.integration.factories.manufacturing import run_jobs
from tests.integration.fulfilment.test_printful import Server, handoffs, paid_order

ACTOR = "fulfilment.handoff_send"
SECRET = "print-shop-shared-secret-0123"


def _self_signed(tmp_path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


class Receiver:
    """A print shop: verifies `X-Luneo-Signature`, answers 503 as many times as asked first."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.busy = 0

    async def receive(self, request: Request) -> JSONResponse:
        if request.method == "PUT":
            data = await request.body()
        else:
            form = await request.form()
            data = await form["pack"].read()  # type: ignore[union-attr]
        ts = request.headers["x-luneo-timestamp"]
        expected = "v1=" + hmac.new(SECRET.encode(), f"{ts}.".encode() + data, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers["x-luneo-signature"]):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if self.busy:
            self.busy -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        self.received.append(
            {
                "method": request.method,
                "sha256": hashlib.sha256(data).hexdigest(),
                "claimed": request.headers["x-luneo-pack-sha256"],
                "order": request.headers["x-luneo-order"],
                "key": request.headers["idempotency-key"],
                "zip": data[:2],
            }
        )
        return JSONResponse({"ok": True})


@pytest.fixture
def shop(settings, tmp_path, monkeypatch):
    from luneo.fulfilment import handoff
    from luneo.platform import config

    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(handoff, "TLS_VERIFY", ctx)
    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "true")
    config.get_settings.cache_clear()
    receiver = Receiver()
    app = Starlette(routes=[Route("/packs", receiver.receive, methods=["POST", "PUT"])])
    with Server(app, ssl_certfile=cert, ssl_keyfile=key) as server:
        receiver.url = f"{server.url}/packs"  # type: ignore[attr-defined]
        yield receiver
    config.get_settings.cache_clear()


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_ready_pack_is_sent_signed_and_retried(client, brand_a, cat_a, shop, method):
    r = client.put(
        "/api/v1/fulfilment/handoff",
        headers=brand_a.h(),
        json={"url": shop.url, "method": method, "secret": SECRET},
    )
    assert r.status_code == 200 and "secret" not in r.json(), r.text
    shop.busy = 1
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["retry", "success"]
    [got] = shop.received
    assert got["method"] == method and got["sha256"] == got["claimed"] and got["order"] == order_id
    assert got["zip"] == b"PK"
    [h] = handoffs(client, brand_a, order_id)
    assert (h["kind"], h["status"], h["attempts"], h["id"]) == ("https", "sent", 2, got["key"])


def test_target_rules_and_private_addresses_are_refused(client, brand_a, cat_a, shop, monkeypatch):
    from luneo.platform import config

    put = lambda url, **kw: client.put(  # noqa: E731
        "/api/v1/fulfilment/handoff", headers=brand_a.h(), json={"url": url, "secret": SECRET, **kw}
    )
    assert put("http://print.example/packs").json()["code"] == "fulfilment_url_not_allowed"
    assert put("https://user:pw@print.example/packs").status_code == 422
    assert put(shop.url).status_code == 200
    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "false")  # production rules: 127.0.0.1 refused
    config.get_settings.cache_clear()
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and "loopback" in h["error"] and not shop.received


def test_dns_answer_changing_after_the_check_cannot_reach_a_private_address(monkeypatch):
    """DNS rebinding: the name is public when checked, then 127.0.0.1. The hand-off connects to
    the checked address (pinned) and never resolves the name again."""
    import socket

    from luneo.fulfilment import handoff

    answers = iter([["93.184.216.34"]])
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers, ["127.0.0.1"])

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    connected: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        connected.append((str(address[0]), int(address[1])))
        raise OSError("test: no network")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    meta = {"order_id": "ord_1", "work_order_id": "wo_1", "sha256": "0" * 64, "handoff_id": "ffh_1"}
    with pytest.raises(OSError):
        handoff.send(
            "https://rebind.example/packs",
            "PUT",
            SECRET,
            b"PK",
            {**meta, "filename": "p.zip"},
            development=False,
            allow_private=False,
            resolver=resolver,
        )
    assert calls == ["rebind.example"]
    assert connected == [("93.184.216.34", 443)]


def test_private_answer_is_refused_before_connecting(monkeypatch):
    import socket

    from luneo.fulfilment import handoff

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    for addr in ("127.0.0.1", "10.0.0.5", "::ffff:127.0.0.1", "169.254.169.254", "100.64.0.1"):
        with pytest.raises(handoff.Refused):
            handoff.send(
                "https://rebind.example/x",
                "POST",
                SECRET,
                b"PK",
                {"order_id": "o", "work_order_id": "w", "sha256": "0", "handoff_id": "h", "filename": "p"},
                development=False,
                allow_private=False,
                resolver=lambda h, p, a=addr: [a],
            )
