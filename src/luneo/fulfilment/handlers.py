"""Event subscribers of fulfilment (registered by `luneo.domains`).

- `work_order.status_changed` (manufacturing) with `to == "ready"` → the Printful submission of
  the order and/or the generic hand-off of the pack (see `service.on_work_order_ready`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.platform.events import subscribe

#: Manufacturing's event name (its payload is documented in manufacturing's service).
WORK_ORDER_STATUS_CHANGED = "work_order.status_changed"


@subscribe(WORK_ORDER_STATUS_CHANGED)
def on_work_order_status_changed(session: Session, payload: dict[str, Any]) -> None:
    from luneo.fulfilment import service
    from luneo.platform.tenancy import bind_system, bind_tenant, session_brand, unbind

    if payload.get("to") != "ready":
        return
    brand = session_brand(session)
    if brand not in (None, payload.get("brand_id")):
        return
    if brand is not None:
        service.on_work_order_ready(session, payload)
        return
    # A system transaction (e.g. a cross-brand event): read the configuration as the brand.
    was_system = bool(session.info.get("system"))
    bind_tenant(session, str(payload["brand_id"]))
    try:
        service.on_work_order_ready(session, payload)
        session.flush()
    finally:
        if was_system:
            bind_system(session)
        else:
            unbind(session)
