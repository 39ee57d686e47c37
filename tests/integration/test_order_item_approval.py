"""Issue 13 item 8: the shopper's approval of a design (when, which spec_hash) is shown to the brand
on the order item it was bought as — read in one query for all the order's items."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tests.integration.demo import pk
from tests.integration.test_design_approval import CUSTOMER, add_to_cart, fresh_storage, pendant, snapshot

__all__ = ["fresh_storage"]

SHOPPER = "shopper-cccc-order-approval-0123456789"


@contextmanager
def approval_queries() -> Iterator[list[str]]:
    """The SQL statements that read `snapshot_approvals` while the block runs."""
    seen: list[str] = []

    def spy(_conn, _cursor, statement, _params, _context, _many) -> None:
        if "snapshot_approvals" in statement:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", spy)


def test_the_order_item_shows_the_shoppers_approval(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    approved = snapshot(client, brand_a, SHOPPER, pid, pendant("Mila", "M"))
    unapproved = snapshot(client, brand_a, SHOPPER, pid, pendant("Theo", "T"))
    extra = snapshot(client, brand_a, SHOPPER, pid, pendant("Lou", "L"))
    r = client.post(f"/api/v1/snapshots/{approved['id']}/approve", headers=pk(brand_a, SHOPPER))
    assert r.status_code == 200, r.text
    approval = r.json()
    r = client.post(f"/api/v1/snapshots/{extra['id']}/approve", headers=pk(brand_a, SHOPPER))
    assert r.status_code == 200, r.text
    for snap in (approved, unapproved, extra):
        assert add_to_cart(client, brand_a, SHOPPER, pid, snap["id"]).status_code == 201

    co = client.post(
        "/api/v1/cart/checkout",
        headers=pk(brand_a, SHOPPER),
        json={"customer": CUSTOMER, "success_url": "https://alpha.example/ok"},
    )
    assert co.status_code == 201, co.text
    session_id, order_id = co.json()["session_id"], co.json()["order_id"]
    assert client.post(f"/checkout/dev/{session_id}/pay", follow_redirects=False).status_code == 303

    with approval_queries() as queries:
        order = client.get(f"/api/v1/orders/{order_id}", headers=brand_a.h())
    assert order.status_code == 200, order.text
    assert len(queries) == 1, queries  # one query for the three items, not one per item
    body = order.json()
    assert body["status"] == "paid"
    items = {i["snapshot"]["id"]: i for i in body["items"]}
    assert items[approved["id"]]["approval"] == {
        "approved_at": approval["approved_at"],
        "spec_hash": approved["spec_hash"],
        "approved_by": approval["approved_by"],
    }
    assert items[approved["id"]]["approval"]["spec_hash"] == items[approved["id"]]["snapshot"]["spec_hash"]
    assert items[extra["id"]]["approval"]["spec_hash"] == extra["spec_hash"]
    assert items[unapproved["id"]]["approval"] is None


def test_another_shoppers_approval_of_the_same_design_is_not_this_orders(client, brand_a, cat_a):
    """Snapshots are shared by everyone who makes the same design: only the buyer's approval counts."""
    pid = cat_a["DEMO-PENDANT"]
    other = "shopper-dddd-order-approval-0123456789"
    mine = snapshot(client, brand_a, SHOPPER, pid, pendant("Ivy", "I"))
    theirs = snapshot(client, brand_a, other, pid, pendant("Ivy", "I"))
    assert theirs["id"] == mine["id"]
    assert (
        client.post(f"/api/v1/snapshots/{mine['id']}/approve", headers=pk(brand_a, other)).status_code == 200
    )
    assert add_to_cart(client, brand_a, SHOPPER, pid, mine["id"]).status_code == 201
    r = client.post(
        "/api/v1/orders/from-cart",
        headers=brand_a.h("sk", **{"X-Shopper-Token": SHOPPER}),
        json={"customer": CUSTOMER},
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["approval"] is None
    got = client.get(f"/api/v1/orders/{r.json()['id']}", headers=brand_a.h()).json()
    assert got["items"][0]["approval"] is None
