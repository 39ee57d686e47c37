"""Events the catalog publishes (`luneo.platform.events`), for other domains to react."""

from __future__ import annotations

#: A product or its zones changed (fields, zone rules and prices…), published in the change's
#: transaction: `{"brand_id", "product_id", "version"}`.
PRODUCT_CHANGED = "catalog.product_changed"
