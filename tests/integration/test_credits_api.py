"""Credits routes: balance (cached), packs, ledger pagination and filters, costs, buying, metered routes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import APIRouter
from sqlalchemy import update

import luneo.billing.models
import luneo.credits.models
from luneo.credits import service
from luneo.credits.metering import Usage, meter
from luneo.platform.auth import Tenant, guard
from luneo.platform.clock import utcnow
from luneo.platform.errors import Problem
from luneo.platform.events import publish
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy.models import User
from tests.integration.factories.credits import assert_ledger_consistent


def _debit(db, brand_id: str, n: int, ref: str, op: str = "ai.generate") -> None:
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        service.debit(s, brand_id, n, op, ref, "usr_x")


def _make_admin(db, user_id: str) -> None:
    with db.transaction() as s:
        bind_system(s)
        s.execute(update(User).where(User.id == user_id).values(is_platform_admin=True))


def test_balance_route_and_cache_invalidation(client, db, brand_a):
    r = client.get("/api/v1/credits/balance", headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert r.json() | {} == {
        "balance": 50,
        "low_balance": False,
        "last_topup": 50,
        "packs_url": "/api/v1/credits/packs",
        "buy_url": "/api/v1/credits/buy",
        "transactions_url": "/api/v1/credits/transactions",
    }
    _debit(db, brand_a.id, 45, "u1")  # any change invalidates the cached view
    r = client.get("/api/v1/credits/balance", headers=brand_a.h("sk"))
    assert (r.json()["balance"], r.json()["low_balance"]) == (5, True)
    assert client.get("/api/v1/credits/balance", headers=brand_a.h("pk")).status_code == 403
    assert_ledger_consistent(db)


def test_balance_cache_serves_for_5s_when_unchanged(client, db, brand_a):
    client.get("/api/v1/credits/balance", headers=brand_a.h())
    with db.transaction() as s:  # a write behind the service's back is not seen until the TTL expires
        bind_system(s)
        s.execute(update(luneo.credits.models.CreditAccount).values(low_balance_flag=True))
    assert client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["low_balance"] is False
    from luneo.credits import cache

    cache.invalidate(brand_a.id)
    assert client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["low_balance"] is True


def test_packs_list_and_admin_edit(client, db, brand_a):
    r = client.get("/api/v1/credits/packs", headers=brand_a.h())
    assert r.status_code == 200
    assert [(p["id"], p["credits"], p["price_cents"], p["currency"]) for p in r.json()["data"]] == [
        ("pack_100", 100, 1900, "EUR"),
        ("pack_500", 500, 7900, "EUR"),
        ("pack_1000", 1000, 13900, "EUR"),
    ]
    body = {"credits": 2000, "price_cents": 24900, "currency": "eur", "active": True}
    r = client.put("/api/v1/credits/packs/pack_2000", json=body, headers=brand_a.h())
    assert r.status_code == 403 and r.json()["code"] == "platform_admin_required"
    assert (
        client.put("/api/v1/credits/packs/pack_2000", json=body, headers=brand_a.h("sk")).status_code == 403
    )
    _make_admin(db, brand_a.owner_id)
    r = client.put("/api/v1/credits/packs/pack_2000", json=body, headers=brand_a.h())
    assert r.status_code == 200 and r.json()["currency"] == "EUR"
    r = client.put(
        "/api/v1/credits/packs/pack_100", json={**body, "credits": 100, "active": False}, headers=brand_a.h()
    )
    assert r.status_code == 200
    ids = [p["id"] for p in client.get("/api/v1/credits/packs", headers=brand_a.h()).json()["data"]]
    assert ids == ["pack_500", "pack_1000", "pack_2000"]
    assert client.put("/api/v1/credits/packs/bad id!", json=body, headers=brand_a.h()).status_code == 422
    assert (
        client.put("/api/v1/credits/packs/p", json={**body, "credits": 0}, headers=brand_a.h()).status_code
        == 422
    )
    assert (
        client.put("/api/v1/credits/packs/p", json={**body, "x": 1}, headers=brand_a.h()).status_code == 422
    )


def test_costs_list_and_admin_override(client, db, brand_a):
    r = client.get("/api/v1/credits/costs", headers=brand_a.h())
    costs = {c["operation"]: c for c in r.json()["data"]}
    assert {k: v["credits"] for k, v in costs.items()} == {
        "ai.background_removal": 2,
        "ai.chat": 1,
        "ai.extract_colors": 1,
        "ai.generate": 5,
        "ai.smart_crop": 1,
        "ai.text_to_design": 3,
        "ai.upscale": 2,
        "render.highres": 8,
    }
    assert (
        client.put("/api/v1/credits/costs/ai.generate", json={"credits": 6}, headers=brand_a.h()).status_code
        == 403
    )
    _make_admin(db, brand_a.owner_id)
    r = client.put("/api/v1/credits/costs/ai.generate", json={"credits": 6}, headers=brand_a.h())
    assert r.status_code == 200 and r.json() == {
        "operation": "ai.generate",
        "credits": 6,
        "default": 5,
        "overridden": True,
    }
    assert (
        client.put("/api/v1/credits/costs/Bad Op", json={"credits": 6}, headers=brand_a.h()).status_code
        == 422
    )
    assert (
        client.put("/api/v1/credits/costs/ai.x", json={"credits": -1}, headers=brand_a.h()).status_code == 422
    )
    costs = {
        c["operation"]: c for c in client.get("/api/v1/credits/costs", headers=brand_a.h()).json()["data"]
    }
    assert costs["ai.generate"]["credits"] == 6 and costs["ai.chat"]["overridden"] is False


def test_transactions_pagination_and_filters(client, db, brand_a, brand_b):
    for i in range(7):
        _debit(db, brand_a.id, 1, f"u{i}", op="ai.chat" if i % 2 else "ai.upscale")
    _debit(db, brand_b.id, 1, "b1")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/credits/transactions", params=params, headers=brand_a.h())
        assert r.status_code == 200, r.text
        seen += r.json()["data"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 8 and seen[-1]["type"] == "grant"
    assert [t["id"] for t in seen] == sorted((t["id"] for t in seen), reverse=True)
    assert seen[0]["balance_after"] == 43 and seen[0]["reference"] == "u6" and seen[0]["metadata"] == {}
    r = client.get(
        "/api/v1/credits/transactions", params={"type": "usage", "operation": "ai.chat"}, headers=brand_a.h()
    )
    assert [t["reference"] for t in r.json()["data"]] == ["u5", "u3", "u1"]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/v1/credits/transactions", params={"from": future}, headers=brand_a.h()).json()[
            "data"
        ]
        == []
    )
    assert (
        len(
            client.get(
                "/api/v1/credits/transactions", params={"from": past, "to": future}, headers=brand_a.h()
            ).json()["data"]
        )
        == 8
    )
    assert (
        client.get("/api/v1/credits/transactions", params={"type": "nope"}, headers=brand_a.h()).status_code
        == 422
    )
    assert (
        client.get("/api/v1/credits/transactions", params={"cursor": "!!"}, headers=brand_a.h()).status_code
        == 422
    )
    other = client.get("/api/v1/credits/transactions", headers=brand_b.h()).json()["data"]
    assert {t["reference"] for t in other} == {"b1", f"grant:signup:{brand_b.id}"}
    assert_ledger_consistent(db)


def test_buy_starts_a_credits_checkout_and_webhook_credits_once(client, db, brand_a, monkeypatch):
    from luneo.payments import public as payments

    captured = {}

    class FakeCheckout:
        id, url = "cs_test_1", "https://pay.example/cs_test_1"

    def fake_start(session, brand_id, request):
        captured.update(brand_id=brand_id, request=request)
        return FakeCheckout()

    monkeypatch.setattr(payments, "start_checkout", fake_start)
    r = client.post("/api/v1/credits/buy", json={"pack_id": "pack_500"}, headers=brand_a.h())
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["checkout_url"], out["session_id"]) == ("https://pay.example/cs_test_1", "cs_test_1")
    req = captured["request"]
    assert (req.kind, req.brand_id, req.currency, req.reference) == (
        "credits",
        brand_a.id,
        "EUR",
        out["reference"],
    )
    assert req.metadata["kind"] == "credits" and req.metadata["pack_id"] == "pack_500"
    assert req.metadata["brand_id"] == brand_a.id and req.amount_total == 7900
    assert req.customer_email == brand_a.owner_email
    for _ in range(3):
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            publish(
                s,
                "payment.checkout_completed",
                {
                    "provider": "stripe",
                    "event_id": "evt_x",
                    "reference": out["reference"],
                    "kind": "credits",
                    "brand_id": brand_a.id,
                    "metadata": dict(req.metadata),
                    "amount": 7900,
                    "currency": "EUR",
                    "payment_ref": "pi_9",
                    "raw_type": "checkout.session.completed",
                    "payment_status": "paid",
                },
            )
    assert client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["balance"] == 550
    assert (
        client.post("/api/v1/credits/buy", json={"pack_id": "nope"}, headers=brand_a.h()).status_code == 422
    )
    assert (
        client.post(
            "/api/v1/credits/buy", json={"pack_id": "pack_500", "price": 1}, headers=brand_a.h()
        ).status_code
        == 422
    )
    assert_ledger_consistent(db)


def test_buy_through_the_payments_domain(client, db, brand_a):
    r = client.post("/api/v1/credits/buy", json={"pack_id": "pack_100"}, headers=brand_a.h())
    assert r.status_code == 201, r.text
    assert r.json()["checkout_url"].startswith("http") and r.json()["session_id"]


@pytest.fixture
def metered_app(app):
    router = APIRouter()

    @router.post("/api/v1/_test/generate")
    def generate(
        fail: bool = False, usage: Usage = meter("ai.generate", "ai:use"), t: Tenant = guard("ai:use")
    ) -> dict:
        if fail:
            raise Problem(502, "ai_provider_error", "The AI provider failed.")
        return {"usage": usage.id, "cost": usage.cost, "balance_after": usage.balance_after}

    app.include_router(router)
    return app


def test_metered_route_charges_refunds_and_answers_402(metered_app, client, db, brand_a):
    r = client.post("/api/v1/_test/generate", headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert r.json()["cost"] == 5 and r.json()["balance_after"] == 45
    r = client.post("/api/v1/_test/generate", params={"fail": True}, headers=brand_a.h())
    assert r.status_code == 502
    assert client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["balance"] == 45
    assert client.post("/api/v1/_test/generate", headers=brand_a.h("pk")).status_code == 403  # no charge
    _debit(db, brand_a.id, 43, "drain")
    r = client.post("/api/v1/_test/generate", headers=brand_a.h())
    assert r.status_code == 402
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "insufficient_credits"
    assert (body["balance"], body["cost"], body["operation"], body["buy_url"]) == (
        2,
        5,
        "ai.generate",
        "/api/v1/credits/packs",
    )
    types = [
        t["type"] for t in client.get("/api/v1/credits/transactions", headers=brand_a.h()).json()["data"]
    ]
    assert types == ["usage", "refund", "usage", "usage", "grant"]
    assert_ledger_consistent(db)
