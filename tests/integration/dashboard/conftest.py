"""Dashboard tests run on SQLite; on PostgreSQL only those that involve another brand.

The dashboard is pages over the domains' public functions, whose own tests run on both backends;
what PostgreSQL adds for pages is row-level security and the tenant guard, which the tests that
use `brand_b` (another brand's ids answer 404) exercise. This halves the dashboard's share of the
CI time. `LUNEO_TEST_DASHBOARD_ALL_BACKENDS=1` runs every dashboard test on both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("LUNEO_TEST_DASHBOARD_ALL_BACKENDS") == "1":
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        on_pg = "[postgres" in item.nodeid
        ours = HERE in Path(str(item.path)).parents
        if ours and on_pg and "brand_b" not in getattr(item, "fixturenames", ()):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
