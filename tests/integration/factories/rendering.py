"""Isolation factories for rendering routes."""

from __future__ import annotations

from tests.integration.demo import seed_catalog
from tests.integration.factories import factory

_INPUTS = {"arc_text": {"text": "Iso"}, "initial": {"text": "I"}}


@factory("render_id")
def make_render(client, brand) -> str:
    pid = seed_catalog(brand)["DEMO-PENDANT"]
    r = client.post("/api/v1/specs", json={"product_id": pid, "inputs": _INPUTS}, headers=brand.h())
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/renders/preview", json={"spec_hash": r.json()["spec_hash"], "width": 128}, headers=brand.h()
    )
    assert r.status_code in (200, 202), r.text
    return r.json()["render_id"]
