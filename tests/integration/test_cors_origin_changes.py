"""A brand that adds an allowed origin can use its widget there at once: the CORS preflight
(sent without credentials, answered from a per-process origin cache) sees the new origin as soon
as the change is committed, not after the cache's refresh period."""

from __future__ import annotations


def _preflight(client, origin: str):
    return client.options(
        "/api/v1/widget/config/prd_x",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )


def test_a_new_allowed_origin_passes_the_preflight_at_once(client, brand_a):
    shop = "https://new-shop.example"
    assert "access-control-allow-origin" not in _preflight(client, shop).headers  # the cache is warm
    r = client.patch("/api/v1/brand", json={"allowed_origins": [brand_a.origin, shop]}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    pre = _preflight(client, shop)
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == shop
    # and removing it is honoured at once too
    r = client.patch("/api/v1/brand", json={"allowed_origins": [brand_a.origin]}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert "access-control-allow-origin" not in _preflight(client, shop).headers
