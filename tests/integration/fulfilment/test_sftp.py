"""SFTP hand-off (issue 17, item 7): each ready pack is uploaded to the print shop's SFTP server
(a local paramiko server, `sftp_server`) atomically (`name.part`, then renamed), only after the
server's host key matched the pinned fingerprint; wrong key or password fail with the error on
the hand-off; transient errors retry through the job; private addresses are refused (SSRF)."""

from __future__ import annotations

import hashlib
from typing import Any

import paramiko
import pytest

from luneo.fulfilment import sftp
from tests.integration.factories.manufacturing import run_jobs
from tests.integration.fulfilment.sftp_server import LocalSftpServer
from tests.integration.fulfilment.test_printful import handoffs, paid_order

ACTOR = "fulfilment.handoff_send"
USER, PASSWORD = "printshop", "correct horse battery staple"


@pytest.fixture
def shop(settings, tmp_path, monkeypatch):
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "true")
    config.get_settings.cache_clear()
    (tmp_path / "srv" / "incoming").mkdir(parents=True)
    with LocalSftpServer(tmp_path / "srv", USER, PASSWORD) as server:
        yield server
    config.get_settings.cache_clear()


def configure(client, brand, shop: LocalSftpServer, **overrides: Any):
    body = {
        "host": "127.0.0.1",
        "port": shop.port,
        "username": USER,
        "password": PASSWORD,
        "directory": "/incoming",
        "host_key": sftp.fingerprint(shop.host_key),
        **overrides,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return client.put("/api/v1/fulfilment/handoff", headers=brand.h(), json={"kind": "sftp", "sftp": body})


def _uploaded(shop: LocalSftpServer) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (shop.root / "incoming").iterdir()}


def test_pack_is_uploaded_atomically_with_its_bytes(client, brand_a, cat_a, shop):
    r = configure(client, brand_a, shop)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["kind"] == "sftp" and out["sftp"]["has_password"] is True
    assert "password" not in out["sftp"] and PASSWORD not in r.text
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert (h["kind"], h["status"], h["attempts"], h["error"]) == ("sftp", "sent", 1, None)
    files = _uploaded(shop)
    [(name, data)] = files.items()
    assert name.endswith(".zip") and data[:2] == b"PK"
    sha = h["id"] and hashlib.sha256(data).hexdigest()
    r = client.get(f"/api/v1/orders/{order_id}/fulfilment", headers=brand_a.h())
    assert r.status_code == 200
    assert shop.renames == [(f"/incoming/{name}.part", f"/incoming/{name}")]
    assert run_jobs(ACTOR) == []  # nothing left to send
    # the uploaded bytes are the pack's (the hand-off key carries the pack's SHA-256)
    from luneo.fulfilment.models import Handoff
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction() as s:
        bind_system(s)
        assert s.get(Handoff, h["id"]).key.endswith(":" + sha)


def test_wrong_host_key_is_refused_before_any_credential(client, brand_a, cat_a, shop):
    other = sftp.fingerprint(paramiko.ECDSAKey.generate())
    assert configure(client, brand_a, shop, host_key=other).status_code == 200
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]  # a permanent failure: written, not retried
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and "host key mismatch" in h["error"]
    assert shop.auth_attempts == 0 and _uploaded(shop) == {}


def test_wrong_password_fails_then_retry_after_fixing_it_sends(client, brand_a, cat_a, shop):
    assert configure(client, brand_a, shop, password="wrong password").status_code == 200
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and "authentication failed" in h["error"] and _uploaded(shop) == {}
    assert configure(client, brand_a, shop).status_code == 200
    r = client.post(f"/api/v1/orders/{order_id}/fulfilment/retry", headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert run_jobs(ACTOR) == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert (h["status"], h["attempts"]) == ("sent", 2) and len(_uploaded(shop)) == 1


def test_transient_server_error_is_retried_by_the_job(client, brand_a, cat_a, shop):
    assert configure(client, brand_a, shop).status_code == 200
    shop.fail_opens = 1
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["retry", "success"]
    [h] = handoffs(client, brand_a, order_id)
    assert (h["status"], h["attempts"]) == ("sent", 2) and len(_uploaded(shop)) == 1


def test_private_key_authentication(client, brand_a, cat_a, settings, tmp_path, monkeypatch):
    import io

    from luneo.platform import config

    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "true")
    config.get_settings.cache_clear()
    key = paramiko.ECDSAKey.generate()
    text = io.StringIO()
    key.write_private_key(text)
    (tmp_path / "incoming").mkdir()
    with LocalSftpServer(tmp_path, USER, client_key=key) as shop:
        r = configure(client, brand_a, shop, password=None, private_key=text.getvalue())
        assert r.status_code == 200 and r.json()["sftp"]["has_private_key"] is True, r.text
        order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
        assert set(run_jobs("export_pack")) == {"success"}
        assert run_jobs(ACTOR) == ["success"]
        [h] = handoffs(client, brand_a, order_id)
        assert h["status"] == "sent" and len(_uploaded(shop)) == 1
    config.get_settings.cache_clear()


def test_configuration_is_validated_and_private_hosts_refused(client, brand_a, shop, monkeypatch):
    from luneo.platform import config

    r = configure(client, brand_a, shop, host_key="SHA256:not-a-fingerprint-at-all-0123456789abcdefgh")
    assert r.status_code == 422 and r.json()["code"] == "fulfilment_target_invalid"
    assert r.json()["field"] == "host_key"
    r = configure(client, brand_a, shop, password=None)
    assert (r.status_code, r.json().get("field")) == (422, "password")
    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "false")
    config.get_settings.cache_clear()
    r = configure(client, brand_a, shop)
    assert r.status_code == 422 and r.json()["code"] == "fulfilment_url_not_allowed"
    assert r.json()["field"] == "host" and "loopback" in r.json()["detail"]


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(monkeypatch):
    import socket

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    server = sftp.Server("files.example", 22, USER, "SHA256:" + "A" * 43, ".", password=PASSWORD)
    for addr in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"):
        with pytest.raises(sftp.Permanent, match="refused"):
            sftp.upload(server, "p.zip", b"PK", allow_private=False, resolver=lambda h, p, a=addr: [a])
    # with allow_private, link-local (cloud metadata) stays refused
    with pytest.raises(sftp.Permanent, match="refused"):
        sftp.upload(server, "p.zip", b"PK", allow_private=True, resolver=lambda h, p: ["169.254.169.254"])


def test_another_brand_sees_nothing(client, brand_a, brand_b, cat_a, shop):
    assert configure(client, brand_a, shop).status_code == 200
    assert client.get("/api/v1/fulfilment/handoff", headers=brand_b.h()).status_code == 404
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert client.get(f"/api/v1/orders/{order_id}/fulfilment", headers=brand_b.h()).status_code == 404
    assert client.post(f"/api/v1/orders/{order_id}/fulfilment/retry", headers=brand_b.h()).status_code == 404
