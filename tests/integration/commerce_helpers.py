"""Helpers shared by the commerce tests: products with priced zones, snapshots, event recorders."""

from __future__ import annotations

import threading
from typing import Any

from luneo.platform import events

SHOPPER = "shopper-token-0123456789"


def priced_product(client, brand, sku: str = "ENGRAVE-1", price: int = 1000, currency: str = "EUR") -> str:
    """A product with a text zone (flat 250 + 15/char) and an optional back zone (flat 100)."""
    body = {
        "sku": sku,
        "name": "Engraved tag",
        "width_mm": 80,
        "height_mm": 40,
        "price_cents": price,
        "currency": currency,
        "status": "active",
        "zones": [
            {
                "key": "name",
                "kind": "text",
                "geometry": {"x_mm": 2, "y_mm": 2, "width_mm": 76, "height_mm": 20},
                "rules": {"price_flat_cents": 250, "price_per_char_cents": 15, "max_chars": 30},
            },
            {
                "key": "back",
                "kind": "text",
                "geometry": {"x_mm": 2, "y_mm": 24, "width_mm": 76, "height_mm": 14},
                "rules": {"price_flat_cents": 100, "max_chars": 30},
            },
        ],
    }
    r = client.post("/api/v1/products", json=body, headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()["id"]


def snapshot(
    client, brand, product_id: str, inputs: dict[str, Any], headers: dict[str, str] | None = None
) -> str:
    """A snapshot made by the brand's owner, or by whoever `headers` authenticate (a widget shopper)."""
    r = client.post(
        "/api/v1/snapshots", json={"product_id": product_id, "inputs": inputs}, headers=headers or brand.h()
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


class Recorder:
    """Counts events published to a name (thread-safe)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def of(self, name: str) -> list[dict[str, Any]]:
        return [p for n, p in self.items if n == name]


def record(monkeypatch, *names: str) -> Recorder:
    rec = Recorder()

    def make(name: str):
        def handler(session, payload):
            with rec.lock:
                rec.items.append((name, payload))

        return handler

    for name in names:
        monkeypatch.setitem(events._handlers, name, [*events._handlers.get(name, []), make(name)])
    return rec
