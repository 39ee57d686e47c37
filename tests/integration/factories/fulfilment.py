"""Isolation bodies for fulfilment routes (their path parameters reuse catalog's and commerce's
factories: `product_id`, `order_id`)."""

from __future__ import annotations

from tests.integration.factories import body


@body("PUT", "/api/v1/fulfilment/printful/mappings/{product_id}")
def printful_mapping(client, brand, ids):
    return {"catalog_variant_id": 4012, "placement": "front", "technique": "dtg"}
