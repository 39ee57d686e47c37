"""Imports every domain's models so `Base.metadata` knows all tables (Alembic, tests)."""

from __future__ import annotations

import importlib

from luneo.platform.database import Base

MODEL_MODULES = [
    "luneo.platform.models",
    "luneo.tenancy.models",
    "luneo.notifications.models",
    "luneo.catalog.models",
    "luneo.designs.models",
    "luneo.rendering.models",
    "luneo.commerce.models",
    "luneo.payments.models",
    "luneo.manufacturing.models",
    "luneo.credits.models",
    "luneo.billing.models",
    "luneo.ai.models",
]

for _name in MODEL_MODULES:
    importlib.import_module(_name)

metadata = Base.metadata
