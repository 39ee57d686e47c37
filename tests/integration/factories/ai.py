"""Isolation factory for the AI routes: a finished generation (extract-colors on an uploaded image)."""

from __future__ import annotations

from tests.integration.demo import upload_png
from tests.integration.factories import factory


@factory("generation_id")
def generation_id(client, brand) -> str:
    asset = upload_png(client, brand, size=(64, 48))
    r = client.post("/api/v1/ai/extract-colors", json={"asset_id": asset["id"]}, headers=brand.h())
    assert r.status_code == 200, r.text
    return r.json()["id"]
