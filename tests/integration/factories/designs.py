"""Isolation factories for designs routes."""

from __future__ import annotations

from tests.integration.demo import seed_catalog
from tests.integration.factories import factory

_INPUTS = {"arc_text": {"text": "Iso"}, "initial": {"text": "I"}}


def _product(client, brand) -> str:
    return seed_catalog(brand)["DEMO-PENDANT"]


@factory("spec_hash")
def make_spec(client, brand) -> str:
    r = client.post(
        "/api/v1/specs", json={"product_id": _product(client, brand), "inputs": _INPUTS}, headers=brand.h()
    )
    assert r.status_code == 201, r.text
    return r.json()["spec_hash"]


@factory("snapshot_id")
def make_snapshot(client, brand) -> str:
    r = client.post(
        "/api/v1/snapshots",
        json={"product_id": _product(client, brand), "inputs": _INPUTS},
        headers=brand.h(),
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


@factory("design_id")
def make_design(client, brand) -> str:
    r = client.post(
        "/api/v1/designs",
        json={"name": "iso", "product_id": _product(client, brand), "inputs": _INPUTS},
        headers=brand.h(),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]
