"""Roles, API-key scopes and the permissions each grants."""

from __future__ import annotations

READ_ALL = frozenset(
    {
        "brand:read",
        "catalog:read",
        "designs:read",
        "renders:read",
        "orders:read",
        "production:read",
        "analytics:read",
    }
)
EDIT = frozenset(
    {
        "catalog:write",
        "designs:write",
        "designs:validate",
        "designs:snapshot",
        "renders:preview",
        "renders:write",
        "ai:use",
        "credits:read",
        "cart:use",
    }
)
PRODUCTION = frozenset(
    {"production:read", "production:write", "catalog:read", "designs:read", "renders:read", "orders:read"}
)
COMMERCE = frozenset({"orders:write", "payments:write", "cart:use"})
BILLING = frozenset({"billing:read", "billing:manage", "credits:read", "credits:buy"})
# payments:offline — record money received outside any provider (marks an order paid): people only.
ADMIN_ONLY = frozenset(
    {
        "members:manage",
        "keys:manage",
        "brand:manage",
        "webhooks:manage",
        "integrations:manage",
        "payments:offline",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": READ_ALL | EDIT | PRODUCTION | COMMERCE | BILLING | ADMIN_ONLY,
    "admin": READ_ALL | EDIT | PRODUCTION | COMMERCE | BILLING | ADMIN_ONLY,
    "editor": READ_ALL | EDIT,
    "production": PRODUCTION,
    "viewer": READ_ALL,
}

# Publishable keys (the widget in a shopper's browser): read the catalog, validate, preview,
# snapshot, save designs and use a cart — never orders, billing or admin.
PUBLISHABLE_SCOPES: frozenset[str] = frozenset(
    {"catalog:read", "designs:validate", "renders:preview", "designs:snapshot", "cart:use", "widget"}
)
# Secret keys (a brand's servers): everything an admin can, except managing people and keys.
SECRET_SCOPES: frozenset[str] = READ_ALL | EDIT | PRODUCTION | COMMERCE | BILLING | {"webhooks:manage"}
