"""Luneo's Shopify app: install and auth by request origin, app proxy, webhooks and compliance."""
