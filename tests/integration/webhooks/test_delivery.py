"""Outgoing webhooks: signed deliveries verified with the official verifier, the retry schedule,
disabling, rotation overlap, replay, ordering per order, the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from luneo.notifications.models import EmailMessage
from luneo.platform.models import Job
from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from luneo.webhooks.service import MAX_ATTEMPTS, SCHEDULE_S
from tests.integration.commerce_helpers import priced_product
from tests.integration.webhooks.conftest import create_endpoint, rows, run_webhook_jobs, webhook_jobs

CUSTOMER = {"email": "ada@example.com", "name": "Ada"}


def new_order(client, brand, pid: str, request_id: str | None = None) -> dict:
    headers = brand.h("sk", **({"X-Request-ID": request_id} if request_id else {}))
    r = client.post(
        "/api/v1/orders",
        headers=headers,
        json={"items": [{"product_id": pid, "quantity": 1}], "customer": CUSTOMER},
    )
    assert r.status_code == 201, r.text
    return r.json()


def pay(client, brand, order: dict) -> None:
    r = client.post(
        f"/api/v1/orders/{order['id']}/transition",
        headers=brand.h(),
        json={
            "to": "paid",
            "amount": order["total_cents"],
            "currency": order["currency"],
            "note": "transfer",
        },
    )
    assert r.status_code == 200, r.text


def verify(secret: str, received) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def test_signed_delivery_verifies_with_the_official_verifier(client, db, brand_a, receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    assert (
        ep["secret"].startswith("whsec_")
        and "secret" not in client.get(f"/api/v1/webhook-endpoints/{ep['id']}", headers=brand_a.h()).json()
    )
    order = new_order(client, brand_a, pid, request_id="req-webhook-0001")
    assert run_webhook_jobs(db) == ["success"]
    [got] = receiver.requests
    payload = verify(ep["secret"], got)
    assert payload["type"] == "order.created" and payload["version"] == 1
    assert payload["id"].startswith("evt_") and got.headers["webhook-id"] == payload["id"]
    assert (
        payload["data"]["order_id"] == order["id"] and payload["data"]["total_cents"] == order["total_cents"]
    )
    assert got.headers["X-Request-ID"] == "req-webhook-0001"
    assert got.headers["Content-Type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    log = client.get(f"/api/v1/webhook-endpoints/{ep['id']}/deliveries", headers=brand_a.h()).json()
    [d] = log["data"]
    assert (d["status"], d["attempt"], d["response_status"], d["response_body"]) == (
        "succeeded",
        1,
        200,
        '{"ok":true}',
    )
    assert d["request_id"] == "req-webhook-0001" and d["duration_ms"] >= 0
    # a type the endpoint did not subscribe to is not sent
    r = client.post(f"/api/v1/orders/{order['id']}/transition", headers=brand_a.h(), json={"to": "cancelled"})
    assert r.status_code == 200
    assert run_webhook_jobs(db) == [] and len(receiver.requests) == 1


def test_response_body_is_capped_to_1_kib_in_the_log(client, db, brand_a, receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    receiver.answer(200, b"x" * 200_000)
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.status == "succeeded" and d.response_body == "x" * 1024


def test_retry_schedule_then_disable_and_email(client, db, brand_a, receiver, clock):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    receiver.default = (500, {}, b"boom")
    new_order(client, brand_a, pid)
    [delivery] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert run_webhook_jobs(db, force=True, rounds=1) == ["success"]
        [delivery] = rows(db, WebhookDelivery, id=delivery.id)
        assert delivery.attempt == attempt and delivery.response_status == 500
        assert delivery.response_body == "boom" and delivery.error == "HTTP 500"
        if attempt < MAX_ATTEMPTS:
            assert delivery.status == "pending"
            # the next attempt is due after the Standard Webhooks delay (jitter: identity here)
            assert delivery.next_attempt_at == clock.now + timedelta(seconds=SCHEDULE_S[attempt])
            job = webhook_jobs(db)[-1]
            assert job.key.endswith(f":{attempt + 1}")
            due_in = (job.next_run_at - job.created_at).total_seconds()
            assert abs(due_in - SCHEDULE_S[attempt]) < 2
    assert [j.key.rsplit(":", 1)[1] for j in webhook_jobs(db)] == [str(i) for i in range(1, MAX_ATTEMPTS + 1)]
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert len(receiver.requests) == MAX_ATTEMPTS
    [endpoint] = rows(db, WebhookEndpoint, id=ep["id"])
    assert not endpoint.enabled and endpoint.failure_streak == MAX_ATTEMPTS
    assert "8 attempts failed" in (endpoint.disabled_reason or "")
    mails = rows(db, EmailMessage, template="webhook_endpoint_disabled")
    assert [m.to for m in mails] == [brand_a.owner_email]
    assert receiver.url in mails[0].context["url"]
    # a disabled endpoint receives nothing new
    new_order(client, brand_a, pid)
    assert run_webhook_jobs(db, force=True) == [] and len(receiver.requests) == MAX_ATTEMPTS
    # enabling it again clears the reason and the streak
    r = client.patch(f"/api/v1/webhook-endpoints/{ep['id']}", json={"enabled": True}, headers=brand_a.h())
    assert r.status_code == 200 and r.json()["disabled_reason"] is None and r.json()["failure_streak"] == 0


def test_jitter_spreads_the_retry_delay(client, db, brand_a, receiver, clock):
    from luneo.webhooks import service

    service.configure(jitter=lambda d: d * 1.1)
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    receiver.default = (503, {}, b"")
    new_order(client, brand_a, pid)
    run_webhook_jobs(db, rounds=1)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert d.next_attempt_at == clock.now + timedelta(seconds=5 * 1.1)
    # the default jitter stays within ±10 %
    samples = [service.default_jitter(300) for _ in range(200)]
    assert all(270 <= s <= 330 for s in samples) and len(set(samples)) > 1


def test_rotation_overlap_signs_with_both_secrets_then_only_the_new(client, db, brand_a, receiver, clock):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    old = ep["secret"]
    r = client.post(f"/api/v1/webhook-endpoints/{ep['id']}/rotate-secret", headers=brand_a.h())
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert r.json()["previous_secret_expires_at"] is not None
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, got)["type"] == "order.created"
    assert verify(new, got)["type"] == "order.created"
    clock.advance(24 * 3600 + 1)  # the overlap is over
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    assert verify(new, got)["type"] == "order.created"
    with pytest.raises(WebhookVerificationError):
        verify(old, got)


def test_rotation_without_overlap_drops_the_old_secret_at_once(client, db, brand_a, receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    r = client.post(
        f"/api/v1/webhook-endpoints/{ep['id']}/rotate-secret", json={"overlap_s": 0}, headers=brand_a.h()
    )
    new = r.json()["secret"]
    new_order(client, brand_a, pid)
    run_webhook_jobs(db)
    got = receiver.requests[-1]
    assert verify(new, got)
    with pytest.raises(WebhookVerificationError):
        verify(ep["secret"], got)


def _fail_for_good(client, db, brand, receiver, pid, n: int) -> list[dict]:
    receiver.default = (500, {}, b"down")
    orders = [new_order(client, brand, pid) for _ in range(n)]
    run_webhook_jobs(db, force=True, rounds=MAX_ATTEMPTS * n + 2)
    return orders


def test_replay_one_delivery_and_all_failed_since(client, db, brand_a, receiver, clock):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    before = clock.now - timedelta(seconds=1)
    _fail_for_good(client, db, brand_a, receiver, pid, 3)
    failed = rows(db, WebhookDelivery, endpoint_id=ep["id"], status="failed")
    assert len(failed) == 3
    url = f"/api/v1/webhook-deliveries/{failed[0].id}/replay"
    r = client.post(url, headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "webhook_endpoint_disabled"
    client.patch(f"/api/v1/webhook-endpoints/{ep['id']}", json={"enabled": True}, headers=brand_a.h())
    receiver.default = (200, {}, b"ok")
    receiver.requests.clear()
    r = client.post(url, headers=brand_a.h())
    assert r.status_code == 202 and r.json()["replay_of"] == failed[0].id, r.text
    run_webhook_jobs(db)
    [got] = receiver.requests
    assert got.headers["webhook-id"] == failed[0].event_id  # same message id: receivers can dedupe
    verify(ep["secret"], got)
    # all failed since a date: the two others (the first was replayed already), in event order
    r = client.post(
        f"/api/v1/webhook-endpoints/{ep['id']}/replay-failed",
        json={"since": before.isoformat()},
        headers=brand_a.h(),
    )
    assert r.status_code == 202 and r.json()["replayed"] == 2, r.text
    run_webhook_jobs(db)
    assert [g.headers["webhook-id"] for g in receiver.requests[1:]] == [f.event_id for f in failed[1:]]
    again = client.post(
        f"/api/v1/webhook-endpoints/{ep['id']}/replay-failed",
        json={"since": before.isoformat()},
        headers=brand_a.h(),
    )
    assert again.json()["replayed"] == 0
    later = client.post(
        f"/api/v1/webhook-endpoints/{ep['id']}/replay-failed",
        json={"since": (clock.now + timedelta(days=1)).isoformat()},
        headers=brand_a.h(),
    )
    assert later.json()["replayed"] == 0


def test_one_orders_events_go_in_order_per_endpoint(client, db, brand_a, receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    receiver.answer(500, b"not yet")  # order.created fails once
    order = new_order(client, brand_a, pid)
    pay(client, brand_a, order)
    created, paid = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert (created.event_type, created.status) == ("order.created", "pending")
    assert (paid.event_type, paid.status) == ("order.paid", "blocked")
    run_webhook_jobs(db)  # the first attempt of order.created fails; order.paid must wait
    assert receiver.types() == ["order.created"]
    assert [d.status for d in rows(db, WebhookDelivery, endpoint_id=ep["id"])] == ["pending", "blocked"]
    run_webhook_jobs(db, force=True)  # the retry succeeds, then order.paid goes
    assert receiver.types() == ["order.created", "order.created", "order.paid"]
    assert [d.status for d in rows(db, WebhookDelivery, endpoint_id=ep["id"])] == ["succeeded", "succeeded"]


def test_exhausted_delivery_releases_the_next_of_the_same_order(
    client, db, brand_a, receiver, other_receiver
):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    other = create_endpoint(client, brand_a, other_receiver.url)
    receiver.answer(500, b"", times=MAX_ATTEMPTS)
    order = new_order(client, brand_a, pid)
    pay(client, brand_a, order)
    run_webhook_jobs(db, force=True, rounds=MAX_ATTEMPTS + 4)
    # the other endpoint's chain is independent
    assert other_receiver.types() == ["order.created", "order.paid"]
    # on the failing endpoint, order.paid was released once order.created failed for good, and the
    # endpoint being disabled then, it is recorded failed (replayable), never sent out of order
    statuses = [(d.event_type, d.status) for d in rows(db, WebhookDelivery, endpoint_id=ep["id"])]
    assert statuses == [("order.created", "failed"), ("order.paid", "failed")]
    assert receiver.types() == ["order.created"] * MAX_ATTEMPTS
    assert all(d.status == "succeeded" for d in rows(db, WebhookDelivery, endpoint_id=other["id"]))


def test_a_rolled_back_change_emits_nothing(client, db, brand_a, receiver):
    from luneo.commerce import public as commerce
    from luneo.platform.tenancy import bind_tenant

    pid = priced_product(client, brand_a)
    create_endpoint(client, brand_a, receiver.url)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.transaction() as s:
        bind_tenant(s, brand_a.id)
        commerce.create_order(
            s, brand_a.id, [commerce.LineRequest(product_id=pid, quantity=1)], commerce.Customer(**CUSTOMER)
        )
        assert len(s.query(WebhookEvent).all()) == 1  # written in the change's transaction…
        raise Boom
    assert rows(db, WebhookEvent) == [] and rows(db, WebhookDelivery) == []  # …and gone with it
    assert webhook_jobs(db) == [] and run_webhook_jobs(db) == [] and receiver.requests == []
    new_order(client, brand_a, pid)  # committed: emitted
    assert len(rows(db, WebhookEvent)) == 1 and run_webhook_jobs(db) == ["success"]
    assert len(rows(db, Job, actor="deliver_webhook")) == 1


def test_endpoint_crud_and_validation(client, brand_a, receiver):
    ep = create_endpoint(client, brand_a, receiver.url, description="ERP")
    r = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["order.exploded"]},
        headers=brand_a.h(),
    )
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/webhook-endpoints/{ep['id']}",
        json={"event_types": ["pack.ready", "credits.low_balance"], "description": "print shop"},
        headers=brand_a.h(),
    )
    assert r.status_code == 200 and r.json()["event_types"] == ["pack.ready", "credits.low_balance"]
    listed = client.get("/api/v1/webhook-endpoints", headers=brand_a.h()).json()["data"]
    assert [e["id"] for e in listed] == [ep["id"]] and "secret" not in listed[0]
    assert client.get("/api/v1/webhook-endpoints", headers=brand_a.h("pk")).status_code == 403
    assert client.delete(f"/api/v1/webhook-endpoints/{ep['id']}", headers=brand_a.h()).status_code == 204
    assert client.get(f"/api/v1/webhook-endpoints/{ep['id']}", headers=brand_a.h()).status_code == 404


def test_another_brands_endpoint_and_deliveries_answer_404(client, db, brand_a, brand_b, receiver):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    new_order(client, brand_a, pid)
    [d] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    for method, path, body in (
        ("GET", f"/api/v1/webhook-endpoints/{ep['id']}", None),
        ("PATCH", f"/api/v1/webhook-endpoints/{ep['id']}", {"enabled": False}),
        ("DELETE", f"/api/v1/webhook-endpoints/{ep['id']}", None),
        ("POST", f"/api/v1/webhook-endpoints/{ep['id']}/rotate-secret", None),
        ("GET", f"/api/v1/webhook-endpoints/{ep['id']}/deliveries", None),
        ("POST", f"/api/v1/webhook-deliveries/{d.id}/replay", None),
        ("POST", f"/api/v1/webhook-endpoints/{ep['id']}/replay-failed", {"since": "2020-01-01T00:00:00Z"}),
    ):
        r = client.request(method, path, json=body, headers=brand_b.h())
        assert r.status_code == 404 and r.json()["code"] == "not_found", (method, path, r.text)
    assert client.get(f"/api/v1/webhook-endpoints/{ep['id']}", headers=brand_a.h()).json()["enabled"] is True


def test_a_webhook_problem_never_fails_the_change(client, db, brand_a, receiver, monkeypatch):
    import luneo.webhooks.handlers as handlers

    def broken(*_args, **_kwargs):
        raise RuntimeError("webhook catalogue exploded")

    pid = priced_product(client, brand_a)
    create_endpoint(client, brand_a, receiver.url)
    monkeypatch.setattr(handlers, "translate", broken)
    order = new_order(client, brand_a, pid)  # 201: the order is written
    assert client.get(f"/api/v1/orders/{order['id']}", headers=brand_a.h()).status_code == 200
    assert rows(db, WebhookEvent) == [] and webhook_jobs(db) == []
