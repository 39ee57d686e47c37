"""Analytics (issue 13 item 14): the widget's batched events, stored per brand, and the funnel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.integration.demo import seed_catalog

SHOPPER = "analytics-shopper-token-0123456789"
SESSION = "sess_0123456789abcdef"


def pk(brand: Any) -> dict[str, str]:
    return brand.h("pk", **{"X-Shopper-Token": SHOPPER})


def ev(name: str, product_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "product_id": product_id,
        "session_id": SESSION,
        "at": datetime.now(UTC).isoformat(),
        **extra,
    }


def send(client: Any, brand: Any, events: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/widget/events", json={"events": events}, headers=pk(brand))


def funnel(client: Any, headers: dict[str, str], **params: str) -> Any:
    return client.get("/api/v1/analytics/funnel", params=params, headers=headers)


def test_a_batch_is_stored_and_counted_in_the_funnel(client, brand_a, db):
    cat = seed_catalog(brand_a)
    pendant, mug = cat["DEMO-PENDANT"], cat["DEMO-MUG"]
    batch = [
        ev("widget_loaded", pendant),
        ev("widget_loaded", pendant),
        ev("preview_requested", pendant),
        ev("preview_ready", pendant, duration_ms=180),
        ev("add_to_cart_clicked", pendant),
        ev("widget_loaded", mug),
        ev("3d_opened", mug),
    ]
    r = send(client, brand_a, batch)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 7, "rejected": []}

    out = funnel(client, brand_a.h("sk"))
    assert out.status_code == 200, out.text
    f = out.json()
    today = datetime.now(UTC).date().isoformat()
    assert f["to"] == today and f["events"][0] == "widget_loaded"
    rows = {row["product_id"]: row for row in f["rows"]}
    assert rows[pendant]["day"] == today
    assert (
        rows[pendant]["counts"]["widget_loaded"] == 2 and rows[pendant]["counts"]["add_to_cart_clicked"] == 1
    )
    assert rows[pendant]["conversion"] == 0.5
    assert rows[mug]["counts"]["3d_opened"] == 1 and rows[mug]["conversion"] == 0.0
    assert f["totals"]["counts"]["widget_loaded"] == 3 and f["totals"]["conversion"] == round(1 / 3, 4)
    only = funnel(client, brand_a.h(), product_id=mug).json()  # the owner's token reads it too
    assert [row["product_id"] for row in only["rows"]] == [mug]

    from luneo.analytics.models import AnalyticsEvent
    from luneo.catalog.public import shoppers
    from luneo.platform.tenancy import bind_tenant

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        stored = s.execute(select(AnalyticsEvent)).scalars().all()
        assert len(stored) == 7
        assert {e.shopper_id for e in stored} == {shoppers.public_id(SHOPPER)}  # never the token
        assert {e.duration_ms for e in stored if e.name == "preview_ready"} == {180}


def test_funnel_buckets_per_day_and_filters_the_range(client, brand_a, db):
    from luneo.analytics import public as analytics
    from luneo.analytics.models import AnalyticsEvent
    from luneo.platform.tenancy import bind_tenant

    cat = seed_catalog(brand_a)
    pid = cat["DEMO-SIGN"]
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    days = [date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 5)]
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        for i, day in enumerate(days):
            for name in ("widget_loaded", "add_to_cart_clicked") if i == 0 else ("widget_loaded",):
                s.add(
                    AnalyticsEvent(
                        name=name,
                        product_id=pid,
                        session_id=SESSION,
                        occurred_at=at,
                        received_at=at,
                        day=day,
                    )
                )
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        f = analytics.funnel(s, brand_a.id, date(2026, 3, 1), date(2026, 3, 2))
    assert [(r.day, r.counts["widget_loaded"], r.conversion) for r in f.rows] == [
        (date(2026, 3, 1), 2, 0.5),
        (date(2026, 3, 2), 1, 0.0),
    ]
    http = funnel(client, brand_a.h("sk"), **{"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert [r["day"] for r in http["rows"]] == ["2026-03-01", "2026-03-02", "2026-03-05"]
    assert http["from"] == "2026-03-01" and http["totals"]["counts"]["widget_loaded"] == 4


def test_bad_batches_are_refused(client, brand_a):
    cat = seed_catalog(brand_a)
    pid = cat["DEMO-PENDANT"]
    unknown = send(client, brand_a, [ev("widget_loaded", pid), ev("page_scrolled", pid)])
    assert unknown.status_code == 422 and unknown.headers["content-type"] == "application/problem+json"
    extra = send(client, brand_a, [ev("widget_loaded", pid, email="ann@example.com")])
    assert extra.status_code == 422  # no free-form properties: no personal data
    assert send(client, brand_a, [ev("widget_loaded", pid, session_id="a b")]).status_code == 422
    assert send(client, brand_a, [ev("preview_ready", pid, duration_ms=-1)]).status_code == 422
    assert (
        send(client, brand_a, [ev("preview_ready", pid, at="2026-11-29T10:00:00")]).status_code == 422
    )  # naive
    assert send(client, brand_a, []).status_code == 422
    oversize = send(client, brand_a, [ev("widget_loaded", pid) for _ in range(51)])
    assert oversize.status_code == 422
    huge = client.post(
        "/api/v1/widget/events",
        content=b'{"events": [' + b" " * 40_000 + b"]}",
        headers={**pk(brand_a), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    assert funnel(client, brand_a.h("sk")).json()["rows"] == []  # nothing of those was stored
    assert send(client, brand_a, [ev("widget_loaded", pid) for _ in range(50)]).json()["accepted"] == 50


def test_old_or_future_client_timestamps_are_dropped(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    now = datetime.now(UTC)
    r = send(
        client,
        brand_a,
        [
            ev("widget_loaded", pid, at=(now - timedelta(days=3)).isoformat()),
            ev("widget_loaded", pid, at=(now + timedelta(hours=1)).isoformat()),
            ev("widget_loaded", pid, at=(now - timedelta(hours=1)).isoformat()),
        ],
    )
    assert r.status_code == 202
    assert r.json() == {
        "accepted": 1,
        "rejected": [
            {"index": 0, "code": "timestamp_out_of_range"},
            {"index": 1, "code": "timestamp_out_of_range"},
        ],
    }


def test_another_brands_product_is_dropped_and_funnels_are_isolated(client, brand_a, brand_b):
    cat_a = seed_catalog(brand_a)
    cat_b = seed_catalog(brand_b)
    foreign = cat_a["DEMO-PENDANT"]
    r = send(
        client,
        brand_b,
        [
            ev("widget_loaded", foreign),
            ev("widget_loaded", cat_b["DEMO-MUG"]),
            ev("widget_loaded", "prd_nope"),
        ],
    )
    assert r.status_code == 202, r.text
    assert r.json() == {
        "accepted": 1,
        "rejected": [{"index": 0, "code": "unknown_product"}, {"index": 2, "code": "unknown_product"}],
    }
    assert send(client, brand_a, [ev("add_to_cart_clicked", foreign)]).json()["accepted"] == 1

    fa = funnel(client, brand_a.h("sk")).json()
    fb = funnel(client, brand_b.h("sk")).json()
    assert [row["product_id"] for row in fa["rows"]] == [foreign]
    assert [row["product_id"] for row in fb["rows"]] == [cat_b["DEMO-MUG"]]
    assert fb["totals"]["counts"]["add_to_cart_clicked"] == 0
    # B asking for A's product sees nothing of it.
    assert funnel(client, brand_b.h("sk"), product_id=foreign).json()["rows"] == []
    # The publishable key sends events but cannot read the funnel; a secret key cannot send events.
    assert funnel(client, pk(brand_a)).status_code == 403
    sk_send = client.post(
        "/api/v1/widget/events", json={"events": [ev("widget_loaded", foreign)]}, headers=brand_a.h("sk")
    )
    assert sk_send.status_code == 403


def test_funnel_range_is_checked(client, brand_a):
    h = brand_a.h("sk")
    r = funnel(client, h, **{"from": "2026-03-05", "to": "2026-03-01"})
    assert r.status_code == 422 and r.json()["code"] == "funnel_range_invalid"
    assert (
        funnel(client, h, **{"from": "2024-01-01", "to": "2026-01-01"}).json()["code"]
        == "funnel_range_invalid"
    )
    assert funnel(client, h, **{"from": "yesterday"}).status_code == 422


def test_events_are_rate_limited_like_other_widget_routes(settings, monkeypatch, brand_a):
    from fastapi.testclient import TestClient

    from luneo.app import create_app
    from luneo.platform import config

    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    monkeypatch.setenv("LUNEO_RATE_LIMIT_KEY", "2/minute")
    config.get_settings.cache_clear()
    with TestClient(create_app(config.get_settings(), start_workers=False)) as c:
        codes = [send(c, brand_a, [ev("widget_loaded", pid)]).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_rls_walls_analytics_events_on_postgres(client, brand_a, brand_b, db):
    from luneo.platform.tenancy import bind_tenant

    pa = seed_catalog(brand_a)["DEMO-PENDANT"]
    pb = seed_catalog(brand_b)["DEMO-PENDANT"]
    assert send(client, brand_a, [ev("widget_loaded", pa)]).json()["accepted"] == 1
    assert send(client, brand_b, [ev("widget_loaded", pb)]).json()["accepted"] == 1
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        # Raw SQL skips the ORM guard: only row-level security stands between A and B.
        seen = set(s.execute(text("select product_id from analytics_events")).scalars())
        by_brand = s.execute(
            text("select count(*) from analytics_events where brand_id = :b"), {"b": brand_b.id}
        ).scalar_one()
    assert seen == {pa} and by_brand == 0
    with db.engine.connect() as conn:  # bound to no brand: no tenant row at all
        assert conn.execute(text("select count(*) from analytics_events")).scalar_one() == 0
