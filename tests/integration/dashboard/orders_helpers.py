"""Orders and work orders for the dashboard tests: paid through the dev provider, as a shop would."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.commerce_helpers import priced_product, snapshot

CUSTOMER = {"email": "ada@example.com", "name": "Ada"}


def place_order(client: Any, brand: Any, pid: str, text: str = "Zoé", email: str = "ada@example.com") -> dict:
    """A pending order of one personalized item (its snapshot made by the brand)."""
    snap = snapshot(client, brand, pid, {"name": {"text": text}})
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [{"product_id": pid, "quantity": 2, "snapshot_id": snap}],
            "customer": {**CUSTOMER, "email": email},
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def pay(client: Any, brand: Any, order_id: str) -> str:
    """Pay the order on the dev provider's page; returns the payment id."""
    r = client.post(
        f"/api/v1/orders/{order_id}/checkout",
        headers=brand.h("sk"),
        json={"success_url": f"{brand.origin}/thanks", "cancel_url": f"{brand.origin}/cart"},
    )
    assert r.status_code == 201, r.text
    co = r.json()
    r = client.post(f"{urlparse(co['checkout_url']).path}/pay", follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(co["payment_id"])


def paid_order(client: Any, brand: Any, pid: str | None = None, **kw: Any) -> tuple[dict, str]:
    pid = pid or priced_product(client, brand)
    order = place_order(client, brand, pid, **kw)
    return order, pay(client, brand, order["id"])


def member(brand: Any, role: str) -> str:
    """A member of `brand` with `role`; returns their email (password: correct horse battery)."""
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=f"{role}@{brand.slug}.example", password="correct horse battery")
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role=role)
        return str(user.email)


def count_queries() -> Any:
    """A context manager counting SQL statements on the app's engine."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting() -> Any:
        engine = get_db().engine
        seen: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting()
