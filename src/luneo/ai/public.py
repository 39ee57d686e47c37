"""What other domains may use of the AI domain: the shopper photo tools (widget).

Other domains import `luneo.ai.public`, never `luneo.ai.service`, `.models` or other internals
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from luneo.ai import tasks as _tasks  # noqa: F401  (registers the `ai_run` actor wherever tools enqueue it)
from luneo.ai.schemas import GenerationOut
from luneo.ai.shopper_tools import (
    DEFAULT_DAILY_LIMIT,
    MAX_DAILY_LIMIT,
    SETTING_DAILY_LIMIT,
    SETTING_TOOLS,
    TOOLS,
    ShopperTool,
    ShopperToolsConfig,
    brand_config,
    remaining_today,
    seconds_to_reset,
)
from luneo.ai.shopper_tools import get as get_shopper_generation
from luneo.ai.shopper_tools import run as run_shopper_tool

__all__ = [
    "DEFAULT_DAILY_LIMIT",
    "MAX_DAILY_LIMIT",
    "SETTING_DAILY_LIMIT",
    "SETTING_TOOLS",
    "TOOLS",
    "GenerationOut",
    "ShopperTool",
    "ShopperToolsConfig",
    "brand_config",
    "get_shopper_generation",
    "remaining_today",
    "run_shopper_tool",
    "seconds_to_reset",
]
