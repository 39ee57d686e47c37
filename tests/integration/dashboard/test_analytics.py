"""Dashboard: analytics — the widget funnel (sessions per step, then paid orders) per product and
date range as an accessible SVG chart with a data table, revenue and orders per day, roles,
isolation and query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_tenant
from tests.integration.commerce_helpers import priced_product

from .helpers import sign_in
from .orders_helpers import count_queries, member, paid_order

STEPS = ["widget_loaded", "preview_requested", "preview_ready", "snapshot_created", "add_to_cart_clicked"]


def _events(client: Any, brand: Any, product_id: str, sessions: dict[str, int]) -> None:
    """`sessions[name]` widget sessions send `name` (each twice: the funnel counts sessions)."""
    events = []
    for name, n in sessions.items():
        for i in range(n):
            for _ in range(2):
                events.append(
                    {
                        "name": name,
                        "product_id": product_id,
                        "session_id": f"sess_{product_id[-6:]}_{i:04d}",
                        "at": datetime.now(UTC).isoformat(),
                    }
                )
    for start in range(0, len(events), 50):
        r = client.post(
            "/api/v1/widget/events", json={"events": events[start : start + 50]}, headers=brand.h("pk")
        )
        assert r.status_code == 202 and r.json()["accepted"] == len(events[start : start + 50]), r.text


def _old_event(brand_id: str, product_id: str, days_ago: int, n: int) -> None:
    from luneo.analytics.models import AnalyticsEvent

    now = datetime.now(UTC)
    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        for i in range(n):
            s.add(
                AnalyticsEvent(
                    brand_id=brand_id,
                    name="widget_loaded",
                    product_id=product_id,
                    session_id=f"old_{i:06d}",
                    occurred_at=now - timedelta(days=days_ago),
                    received_at=now - timedelta(days=days_ago),
                    day=(now - timedelta(days=days_ago)).date(),
                )
            )


def _step_counts(html: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r'data-step="(\w+)" data-count="(\d+)"', html)}


def test_funnel_numbers_match_the_seeded_events_and_paid_orders(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    other = priced_product(client, brand_a, sku="MUG-2")
    _events(client, brand_a, pid, dict(zip(STEPS, [10, 8, 6, 4, 3], strict=True)) | {"validation_failed": 2})
    _events(client, brand_a, other, {"widget_loaded": 5, "preview_requested": 1})
    _order, _ = paid_order(client, brand_a, pid)
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/analytics")
    assert page.status_code == 200
    counts = _step_counts(page.text)
    assert counts == {
        "loaded": 15,
        "validated": 9,
        "preview": 6,
        "snapshot": 4,
        "add_to_cart": 3,
        "order": 1,
    }
    assert 'role="img"' in page.text and '<title id="funnel-svg-title">' in page.text
    assert '<desc id="funnel-svg-desc">' in page.text and '<table class="funnel-table">' in page.text
    assert "2 sessions had a design that failed validation." in page.text
    assert f'data-product="{pid}"' in page.text and f'data-product="{other}"' in page.text
    one = client.get(f"/dashboard/analytics?product_id={pid}")
    assert _step_counts(one.text) == {
        "loaded": 10,
        "validated": 8,
        "preview": 6,
        "snapshot": 4,
        "add_to_cart": 3,
        "order": 1,
    }
    assert "60.0 %" in one.text  # preview: 6 of 10 sessions
    assert _step_counts(client.get(f"/dashboard/analytics?product_id={other}").text)["order"] == 0


def test_revenue_per_day_matches_the_paid_orders(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    first, _ = paid_order(client, brand_a, pid)
    second, _ = paid_order(client, brand_a, pid, text="Bob")
    from tests.integration.dashboard.orders_helpers import place_order

    place_order(client, brand_a, pid)  # pending: not revenue
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/analytics")
    total = first["total_cents"] + second["total_cents"]
    assert f'data-total="{total}"' in page.text and 'data-orders="2"' in page.text
    today = datetime.now(UTC).date().isoformat()
    row = re.search(rf'<tr data-day="{today}" data-currency="EUR">(.*?)</tr>', page.text, re.S)
    assert row and ">2<" in row.group(1)
    assert re.search(rf'data-day="{today}" data-value="{total}"', page.text)
    assert 'role="img" aria-labelledby="revenue-svg-title revenue-svg-desc"' in page.text
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    past = client.get(f"/dashboard/analytics?date_from={yesterday}&date_to={yesterday}")
    assert 'data-total="0"' in past.text and "No paid order in this range." in past.text


def test_date_filters_pick_the_days(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    _old_event(brand_a.id, pid, 10, 3)
    _events(client, brand_a, pid, {"widget_loaded": 2})
    sign_in(client, brand_a.owner_email)
    assert _step_counts(client.get("/dashboard/analytics").text)["loaded"] == 5
    day = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    only_old = client.get(f"/dashboard/analytics?date_from={day}&date_to={day}")
    assert only_old.status_code == 200 and _step_counts(only_old.text)["loaded"] == 3
    since = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    assert _step_counts(client.get(f"/dashboard/analytics?date_from={since}").text)["loaded"] == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=yesterday", "Use a date like 2026-01-31."),
        ("date_to=2026-13-01", "Use a date like 2026-01-31."),
        ("date_from=2026-02-02&date_to=2026-02-01", "`from` is after `to`."),
        ("date_from=2020-01-01&date_to=2026-01-01", "The range spans more than 366 days."),
    ],
)
def test_invalid_filters_are_422_messages(client: Any, brand_a: Any, query: str, message: str) -> None:
    sign_in(client, brand_a.owner_email)
    r = client.get(f"/dashboard/analytics?{query}")
    assert r.status_code == 422 and message in r.text and 'aria-invalid="true"' in r.text


def test_another_brands_product_is_404(client: Any, brand_a: Any, brand_b: Any) -> None:
    pid_b = priced_product(client, brand_b)
    sign_in(client, brand_a.owner_email)
    assert client.get(f"/dashboard/analytics?product_id={pid_b}").status_code == 404
    assert client.get("/dashboard/analytics?product_id=prd_nope").status_code == 404


def test_a_production_member_gets_403_and_no_nav(client: Any, brand_a: Any) -> None:
    email = member(brand_a, "production")
    sign_in(client, email)
    assert client.get("/dashboard/analytics").status_code == 403
    assert 'href="/dashboard/analytics"' not in client.get("/dashboard/production").text


def test_a_viewer_reads_analytics(client: Any, brand_a: Any) -> None:
    sign_in(client, member(brand_a, "viewer"))
    r = client.get("/dashboard/analytics")
    assert r.status_code == 200 and 'href="/dashboard/analytics"' in r.text


def test_the_query_count_does_not_grow_with_events_orders_or_products(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    sign_in(client, brand_a.owner_email)
    client.get("/dashboard/analytics")
    with count_queries() as few:
        assert client.get("/dashboard/analytics").status_code == 200
    for i in range(3):
        other = priced_product(client, brand_a, sku=f"SKU-{i}")
        _events(client, brand_a, other, {"widget_loaded": 10, "add_to_cart_clicked": 3})
        paid_order(client, brand_a, other)
    _events(client, brand_a, pid, {"widget_loaded": 30})
    client.get("/dashboard/analytics")  # warm, as before the first count
    with count_queries() as many:
        assert client.get("/dashboard/analytics").status_code == 200
    assert len(many) == len(few) and len(many) <= 15, many
