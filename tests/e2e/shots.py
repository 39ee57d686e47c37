"""Where e2e tests save screenshots: `LUNEO_E2E_SHOTS` (e.g. `docs/screenshots` when refreshing the
committed pictures on purpose), else a temporary folder, so a test run never rewrites the repo."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SHOTS = Path(os.environ.get("LUNEO_E2E_SHOTS") or Path(tempfile.gettempdir()) / "luneo-e2e-shots")
