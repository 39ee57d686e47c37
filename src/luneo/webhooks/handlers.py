"""Event subscribers: domain events on the platform bus → webhook events in the outbox.

Each subscriber runs inside the transaction of the change (see `luneo.platform.events`), so the
webhook event commits or rolls back with it. A webhook problem is logged and never fails the
change: the work runs in a savepoint.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm import Session

from luneo.platform.events import subscribe
from luneo.webhooks import service
from luneo.webhooks.events import BUS_EVENTS, translate

log = structlog.get_logger("luneo.webhooks")


def _make(bus_event: str) -> Any:
    def on_event(session: Session, payload: dict[str, Any]) -> None:
        brand_id = payload.get("brand_id")
        if not brand_id:
            return
        try:
            with session.begin_nested(), service.brand_scope(session, str(brand_id)):
                for outgoing in translate(session, bus_event, payload):
                    service.emit(session, str(brand_id), outgoing)
        except Exception as exc:
            log.exception("webhook_emit_failed", bus_event=bus_event, brand_id=brand_id, error=str(exc))

    on_event.__name__ = on_event.__qualname__ = f"on_{bus_event.replace('.', '_')}"
    return on_event


for _name in BUS_EVENTS:
    subscribe(_name)(_make(_name))
