"""Manufacturing: isolation factories, plus helpers for the manufacturing tests (snapshots, events, jobs)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

PENDANT = {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}}
CARD = {"name": {"text": "Marie Curie"}, "title": {"text": "Physicist"}}


def snapshot(client: Any, brand: Any, product_id: str, inputs: dict[str, Any]) -> str:
    r = client.post("/api/v1/snapshots", json={"product_id": product_id, "inputs": inputs}, headers=brand.h())
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def publish(event: str, payload: dict[str, Any]) -> None:
    """Publish as commerce would: in a system transaction."""
    from luneo.platform.database import get_db
    from luneo.platform.events import publish as pub
    from luneo.platform.tenancy import bind_system

    with get_db().transaction() as s:
        bind_system(s)
        pub(s, event, payload)


def paid_payload(brand: Any, order_id: str, items: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "brand_id": brand.id,
        "number": f"N-{order_id[-4:]}",
        "items": [
            {"order_item_id": i, "product_id": "prd_x", "snapshot_id": s, "quantity": q} for i, s, q in items
        ],
        "customer": {"email": "shopper@example.com", "name": "Shop Per"},
    }


def run_jobs(actor: str = "export_pack") -> list[str]:
    """Run every pending job of `actor` now (no worker in tests); returns the outcomes."""
    from luneo.platform import jobs
    from luneo.platform.clock import utcnow
    from luneo.platform.database import get_db
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    db = get_db()
    outcomes: list[str] = []
    while True:
        with db.transaction() as s:
            bind_system(s)
            ids = list(
                s.execute(sa.select(Job.id).where(Job.actor == actor, Job.status == "pending")).scalars()
            )
            if ids:
                s.execute(
                    sa.update(Job).where(Job.id.in_(ids)).values(next_run_at=utcnow() - timedelta(seconds=1))
                )
        if not ids:
            return outcomes
        for job_id in ids:
            outcomes.append(jobs.execute(db, job_id, worker_id="test", watchdog=False))


def set_production_email(brand: Any, email: str = "prod@example.com") -> None:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_system(s)
        s.execute(sa.update(Brand).where(Brand.id == brand.id).values(production_email=email))


def emails(template: str = "production_error") -> list[Any]:
    from luneo.notifications.models import EmailMessage
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        rows = list(s.execute(sa.select(EmailMessage).where(EmailMessage.template == template)).scalars())
        for r in rows:
            s.expunge(r)
        return rows


def fetch(client: Any, url: str) -> Any:
    """GET a signed storage URL through the app (path + query only)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# --------------------------------------------------------------------------- isolation factories

from tests.integration.demo import seed_catalog  # noqa: E402
from tests.integration.factories import FACTORIES, body, factory  # noqa: E402

_PRIOR_ORDER_FACTORY = FACTORIES.get("order_id")


def _pendant_snapshot(client: Any, brand: Any) -> str:
    return snapshot(
        client,
        brand,
        seed_catalog(brand)["DEMO-PENDANT"],
        {"arc_text": {"text": "Iso"}, "initial": {"text": "I"}},
    )


@factory("work_order_id")
def make_work_order(client: Any, brand: Any) -> str:
    r = client.post(
        "/api/v1/manufacturing/work-orders",
        headers=brand.h(),
        json={"snapshot_id": _pendant_snapshot(client, brand), "quantity": 2},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@factory("job_or_pack_id")
def make_pack(client: Any, brand: Any) -> str:
    r = client.post(
        "/api/v1/manufacturing/export-pack",
        headers=brand.h(),
        json={"snapshot_id": _pendant_snapshot(client, brand)},
    )
    assert r.status_code in (200, 202), r.text
    return str(r.json()["pack_id"])


@factory("order_id")
def make_order_with_work_orders(client: Any, brand: Any) -> str:
    """An order id with work orders in `brand` (a real commerce order when commerce registered a
    factory first, else a plain id), created as `order.paid` would."""
    from luneo.platform.ids import new_id

    order_id = _PRIOR_ORDER_FACTORY(client, brand) if _PRIOR_ORDER_FACTORY else new_id("ord")
    r = client.post(
        "/api/v1/manufacturing/work-orders/from-order",
        headers=brand.h(),
        json={
            "order_id": order_id,
            "number": "ISO-1",
            "items": [
                {
                    "order_item_id": new_id("oi"),
                    "snapshot_id": _pendant_snapshot(client, brand),
                    "quantity": 1,
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    return order_id


@body("PATCH", "/api/v1/manufacturing/work-orders/{work_order_id}")
def _patch_body(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"notes": "hijack", "assignee": "mallory"}


@body("POST", "/api/v1/manufacturing/work-orders/{work_order_id}/transition")
def _transition_body(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"to": "cancelled", "note": "hijack"}


@body("POST", "/api/v1/manufacturing/work-orders/{work_order_id}/export")
def _export_body(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"kerf_mm": 0.1}


@body("POST", "/api/v1/manufacturing/work-orders/{work_order_id}/snapshot")
def _attach_body(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"snapshot_id": _pendant_snapshot(client, brand)}


@body("POST", "/api/v1/manufacturing/work-orders/{work_order_id}/override-checks")
def _override_body(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"note": "hijack"}
