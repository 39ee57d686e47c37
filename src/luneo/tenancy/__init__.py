"""Tenancy and identity: brands, users, memberships, API keys, sessions."""
