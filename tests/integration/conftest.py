"""Fixtures shared by the integration tests (the rest live in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.integration.demo import seed_catalog


@pytest.fixture
def cat_a(brand_a):
    """The demo catalog seeded into brand A: {sku: product_id}."""
    return seed_catalog(brand_a)
