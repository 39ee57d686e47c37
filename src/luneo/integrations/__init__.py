"""Integrations with the platforms brands sell on (Shopify)."""
