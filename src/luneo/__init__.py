"""Luneo: multi-tenant product personalization — validate, preview, snapshot, sell, produce."""

__version__ = "0.1.0"
