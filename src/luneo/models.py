"""Imports every domain's models (and event subscribers) so `Base.metadata` knows all tables.

The modules come from the domain registry (`luneo.domains`); Alembic and the tests import this.
"""

from __future__ import annotations

from luneo import domains
from luneo.platform.database import Base

domains.load_models()

metadata = Base.metadata
