"""Outgoing webhooks never reach internal addresses: https only (http in development), every
delivery re-resolves the name (injected resolver here) and refuses loopback, private, link-local
and metadata addresses, and redirects are not followed."""

from __future__ import annotations

import pytest

from luneo.platform.config import production_problems
from luneo.platform.domain_errors import DomainError
from luneo.platform.tenancy import bind_tenant
from luneo.webhooks import service
from luneo.webhooks.models import WebhookDelivery
from tests.integration.commerce_helpers import priced_product
from tests.integration.webhooks.conftest import create_endpoint, rows, run_webhook_jobs
from tests.integration.webhooks.test_delivery import new_order


@pytest.fixture
def resolver():
    """Injected DNS: names map to the addresses a test chooses."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        return list(table.get(host, []))

    previous = service.configure(resolver=resolve)
    yield table
    service.set_config(previous)


def test_https_is_required_outside_development(db, settings, brand_a):
    prod = settings.model_copy(update={"env": "production"})
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        with pytest.raises(DomainError) as exc:
            service.create_endpoint(
                s, prod, brand_id=brand_a.id, url="http://hooks.example.com/in", event_types=["order.paid"]
            )
        assert exc.value.code == "webhook_url_not_allowed" and "https" in str(exc.value)
        ep, _ = service.create_endpoint(
            s, prod, brand_id=brand_a.id, url="https://hooks.example.com/in", event_types=["order.paid"]
        )
        assert ep.url == "https://hooks.example.com/in"


def test_allow_private_is_refused_in_production(settings):
    prod = settings.model_copy(update={"env": "production", "webhooks_allow_private": True})
    assert any("LUNEO_WEBHOOKS_ALLOW_PRIVATE" in p for p in production_problems(prod))
    off = prod.model_copy(update={"webhooks_allow_private": False})
    assert not any("WEBHOOKS" in p for p in production_problems(off))


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest",
        "http://[::ffff:169.254.169.254]/x",
        "http://0.0.0.0:8080/x",
        "http://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
    ],
)
def test_metadata_and_odd_urls_are_refused_at_registration(client, brand_a, url):
    r = client.post(
        "/api/v1/webhook-endpoints", json={"url": url, "event_types": ["order.paid"]}, headers=brand_a.h()
    )
    assert r.status_code == 422 and r.json()["code"] == "webhook_url_not_allowed", r.text


def test_a_name_resolving_to_loopback_is_refused_at_delivery(
    client, db, settings, brand_a, receiver, resolver
):
    settings.webhooks_allow_private = False  # production behaviour
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, f"http://hooks.example.com:{receiver.port}/hooks")
    resolver["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding to this machine
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.status == "pending" and d.attempt == 1 and d.response_status is None
    assert d.error.startswith("refused:") and "loopback" in d.error
    assert receiver.requests == []
    # one private address among public ones refuses the name too
    resolver["hooks.example.com"] = ["93.184.216.34", "10.0.0.7"]
    run_webhook_jobs(db, force=True, rounds=1)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.attempt == 2 and "private" in d.error and receiver.requests == []


def test_a_name_resolving_to_the_metadata_address_is_refused_even_in_local_mode(
    client, db, brand_a, resolver
):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, "http://metadata.example.com/latest")
    resolver["metadata.example.com"] = ["169.254.169.254"]
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.error.startswith("refused:") and "169.254.169.254" in d.error


def test_the_resolved_address_is_pinned(client, db, brand_a, receiver, resolver):
    """The connection goes to the address that was checked; the name stays in Host."""
    pid = priced_product(client, brand_a)
    create_endpoint(client, brand_a, f"http://pinned.example.com:{receiver.port}/hooks")
    resolver["pinned.example.com"] = ["127.0.0.1"]  # allowed in local mode
    new_order(client, brand_a, pid)
    assert run_webhook_jobs(db) == ["success"]
    [got] = receiver.requests
    assert got.headers["Host"] == f"pinned.example.com:{receiver.port}"


def test_a_redirect_to_a_private_address_is_not_followed(client, db, brand_a, receiver, other_receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    receiver.default = (302, {"Location": f"http://127.0.0.2:{other_receiver.port}/steal"}, b"")
    receiver.answer(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    run_webhook_jobs(db, force=True, rounds=1)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.status == "pending" and d.attempt == 2 and d.response_status == 302 and d.error == "HTTP 302"
    assert len(receiver.requests) == 2 and other_receiver.requests == []


def test_a_slow_receiver_is_cut_at_the_time_cap(client, db, brand_a, resolver):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    service.configure(timeout_s=0.5)
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, f"http://127.0.0.1:{port}/never-answers")
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.status == "pending" and d.response_status is None and "timed out" in (d.error or "").lower()
    listener.close()
    for s in accepted:
        s.close()
